// The board's serial line, as the thread that runs the interpreter sees it.
//
// Output: what the VM prints, and the bridge's own protocol bytes, go to the
// pty master fd, written directly (non-blocking) so that this works the same
// while the VM runs and the event loop is stopped.
// Input: the supervisor thread reads the pty and posts each chunk to us on a
// MessagePort; we take chunks off it synchronously while Python runs.
//
// Ctrl-C while Python runs. The VM runs synchronously, so no event can fire
// meanwhile. But the VM calls back into JavaScript whenever it prints a
// character and whenever it reads the clock (time.sleep/ticks_ms busy-wait on
// Date.now()). At those points we look for host input: a Ctrl-C schedules a
// KeyboardInterrupt when the running code has interrupts enabled (exactly
// what a board's UART/USB interrupt handler does); other bytes wait in the
// input FIFO. Code that neither prints nor reads the clock cannot be
// interrupted (the supervisor's command time limit stops it).

import fs from 'node:fs';
import { receiveMessageOnPort } from 'node:worker_threads';

export const CTRL_A = 0x01, CTRL_B = 0x02, CTRL_C = 0x03, CTRL_D = 0x04, CTRL_E = 0x05;
// While Python code runs we look for host input at most this often (ms).
const POLL_MS = 20;
// Output the host has not read yet: above this a running program waits for
// the host; if the host reads nothing for OUTPUT_STALL_MS, it is dropped.
const OUTPUT_HIGH_WATER = 64 << 10;
const OUTPUT_STALL_MS = 500;

// How long `mpremote mount`'s protocol waits for a host byte before it takes the host for gone.
const MOUNT_STALL_MS = 2000;

export class Serial {
    // fd: the pty master. port: the MessagePort carrying the host's bytes.
    // now: the real Date.now (hookClock() replaces the global one).
    // status(kind): tells the supervisor 'wait' (blocked on host input) and 'run' (running again).
    constructor({ fd, port, now, log, status }) {
        Object.assign(this, { fd, port, now, log, status });
        this.keyboard = null;   // the Interpreter: interruptEnabled(), interrupt()
        this.busy = false;      // the VM is running code
        this.lastPoll = 0;
        this.sleeper = new Int32Array(new SharedArrayBuffer(4));
        // output
        this.chunks = [];
        this.size = 0;
        this.lastVmByte = 0;
        this.mute = false;      // drop VM output (while we set up a fresh interpreter)
        this.skip = null;       // bytes expected next from the VM that we drop (e.g. "OK")
        this.skipPos = 0;
        this.capture = null;    // when an array, VM output is also copied here
        this.holdAll = false;   // during a run: keep everything after the first \x04
        this.lastFlush = 0;
        this.pending = [];      // bytes not yet accepted by the pty (its buffer is full)
        this.pendingSize = 0;
        this.retry = null;
        // input: a FIFO of Buffers plus a read position
        this.bufs = [];
        this.pos = 0;
    }

    // Time-based look at the host while the VM busy-waits on the clock.
    hookClock() {
        Date.now = () => {
            const t = this.now();
            if (this.busy && t - this.lastPoll >= POLL_MS) {
                this.poll(t);
                if (!this.holdAll) this.flush(); // let output printed before a sleep out
            }
            return t;
        };
    }

    begin() {
        this.busy = true;
        this.holdAll = false;
        this.lastPoll = this.now();
    }

    end() { this.busy = false; }

    // -- output ---------------------------------------------------------------

    // Protocol bytes from the bridge itself: sent as they are.
    raw(data) {
        const b = Buffer.from(data, 'latin1');
        this.chunks.push(b);
        this.size += b.length;
    }

    // Drop `bytes` if the VM prints them next (e.g. its "OK" when the bridge said it).
    skipNext(bytes) {
        this.skip = Buffer.from(bytes, 'latin1');
        this.skipPos = 0;
    }

    // One byte printed by the VM.
    vm(c) {
        if (this.mute) return;
        if (this.skip) {
            if (c === this.skip[this.skipPos]) {
                if (++this.skipPos === this.skip.length) this.skip = null;
                return;
            }
            this.skip = null;
        }
        if (this.capture) this.capture.push(c);
        // Binary output (mpremote mount's protocol, _vboard.BinaryOut) goes out as it is.
        const binary = this.mountSession && (c === 0x0a || c === CTRL_D) && this.busy && this.keyboard.binaryOutput();
        // A board's stdout is "cooked": print() ends lines with \r\n. This
        // build writes a bare \n, so add the \r (the REPL's own \r\n pass).
        if (c === 0x0a && this.lastVmByte !== 0x0d && !binary) this.push(0x0d);
        this.push(c, binary);
        this.lastVmByte = c;
    }

    push(c, binary = false) {
        this.chunks.push(Buffer.of(c));
        this.size += 1;
        if (this.busy) {
            // In raw mode the first \x04 ends the program's normal output.
            // Keep that and what follows until the run is over and the
            // filesystem is synced, so a host that saw the end of a command
            // (mpremote cp) also sees its files in the --fs folder.
            if (c === CTRL_D && !binary) this.holdAll = true;
            const now = this.now();
            if (now - this.lastPoll >= POLL_MS) this.poll(now);
            if (!this.holdAll && (now - this.lastFlush >= POLL_MS || this.size >= 4096)) this.flush();
        }
    }

    flush() {
        this.lastFlush = this.now();
        if (this.size) {
            const data = Buffer.concat(this.chunks);
            this.chunks = [];
            this.size = 0;
            this.pending.push(data);
            this.pendingSize += data.length;
        }
        this.write();
    }

    write() {
        this.tryWrite();
        // A running program that prints faster than the host reads waits, as
        // on a board whose USB/UART transmit buffer is full; if the host does
        // not read at all for a while, the output is dropped (no host).
        if (this.busy && this.pendingSize > OUTPUT_HIGH_WATER) this.waitForHost();
        if (this.pending.length && !this.retry) {
            this.retry = setTimeout(() => { this.retry = null; this.write(); }, 1);
        }
    }

    // Write what the pty accepts. Returns the number of bytes written.
    tryWrite() {
        let total = 0;
        while (this.pending.length) {
            const b = this.pending[0];
            let n = 0;
            try {
                n = fs.writeSync(this.fd, b, 0, b.length);
            } catch (e) {
                if (e.code === 'EAGAIN') break;
                this.log(`pty write failed: ${e.message}`);
                this.drop();
                break;
            }
            total += n;
            this.pendingSize -= n;
            if (n < b.length) { this.pending[0] = b.subarray(n); break; }
            this.pending.shift();
        }
        return total;
    }

    waitForHost() {
        let progress = this.now();
        while (this.pendingSize > OUTPUT_HIGH_WATER) {
            Atomics.wait(this.sleeper, 0, 0, 1); // sleep 1 ms
            const now = this.now();
            if (now - this.lastPoll >= POLL_MS) this.poll(now);
            if (this.tryWrite() > 0) progress = now;
            else if (now - progress > OUTPUT_STALL_MS) { this.drop(); break; }
        }
    }

    drop() {
        this.pending = [];
        this.pendingSize = 0;
    }

    // Forget output not yet flushed (nobody is listening yet).
    discardOutput() {
        this.chunks = [];
        this.size = 0;
    }

    // -- input ----------------------------------------------------------------

    take(b) { if (b.length) this.bufs.push(Buffer.from(b.buffer, b.byteOffset, b.length)); }

    unshift(b) {
        if (!b.length) return;
        if (this.pos) { this.bufs[0] = this.bufs[0].subarray(this.pos); this.pos = 0; }
        this.bufs.unshift(b);
    }

    empty() { return this.bufs.length === 0; }

    shift() {
        const b = this.bufs[0];
        const c = b[this.pos++];
        if (this.pos >= b.length) { this.bufs.shift(); this.pos = 0; }
        return c;
    }

    // What the host sent and the board has not read is lost at a hard reset.
    discardInput() {
        while (receiveMessageOnPort(this.port)) { /* drop */ }
        this.bufs = [];
        this.pos = 0;
    }

    // Take what the host has sent. Returns true if it held a Ctrl-C that
    // became a KeyboardInterrupt.
    poll(now) {
        this.lastPoll = now;
        let interrupted = false;
        for (let m = receiveMessageOnPort(this.port); m; m = receiveMessageOnPort(this.port)) {
            const keep = [];
            for (const c of m.message) {
                if (c === CTRL_C && this.keyboard.interruptEnabled()) {
                    this.keyboard.interrupt();
                    interrupted = true;
                } else {
                    keep.push(c);
                }
            }
            this.take(Buffer.from(keep));
        }
        return interrupted;
    }

    // The VM's stdin (sys.stdin, and input() via board_vboard.py), called for
    // each byte it reads: blocks until the host sends one, as on a board. A
    // Ctrl-C ends the read (EOF) with a KeyboardInterrupt pending, which the
    // VM raises at its next check.
    //
    // In `mpremote mount`'s protocol (mountSession, Ctrl-C off) the host answers at
    // once; one that has not sent a byte for MOUNT_STALL_MS is gone (mpremote cut by
    // Ctrl-C): the read ends with a KeyboardInterrupt, so the command ends and the
    // board answers the next host instead of reading its bytes as protocol data.
    stdinByte() {
        let waiting = false;
        const since = this.now();
        const resume = () => { if (waiting) this.status('run'); };
        for (;;) {
            if (!this.empty()) {
                const c = this.shift();
                resume();
                if (c === CTRL_C && this.keyboard.interruptEnabled()) {
                    this.keyboard.interrupt();
                    return null;
                }
                return c;
            }
            if (!this.holdAll) this.flush(); // e.g. the prompt of input()
            if (this.poll(this.now())) { resume(); return null; }
            if (this.empty()) {
                if (this.mountSession && this.now() - since > MOUNT_STALL_MS && !this.keyboard.interruptEnabled()) {
                    this.log('mpremote mount: the host stopped answering; the command is interrupted');
                    this.keyboard.interrupt();
                    resume();
                    return null;
                }
                if (!waiting) { waiting = true; this.status('wait'); }
                Atomics.wait(this.sleeper, 0, 0, 5);
            }
        }
    }
}
