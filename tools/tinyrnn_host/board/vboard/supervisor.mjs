// The virtual board's process: holds the pty, runs the board (board.mjs) in a
// worker thread, and watches it.
//
// The main thread never runs Python, so it stays free to:
//   - read the pty (libuv data events) and pass the host's bytes to the board,
//   - stop the process when the launcher dies, closes our stdin, or the
//     board's lifetime (--time-limit) is over,
//   - stop a command that runs longer than --command-limit seconds (the VM
//     runs synchronously: a loop that neither prints nor reads the clock, or
//     a VM spinning after an error, can be stopped only by ending its thread),
//     tell the host why, and start the board again, as a watchdog would.
//
// On stdout we print status lines for the launcher ("BANNER <text>", "READY");
// the board's serial traffic only ever goes through the pty.

import fs from 'node:fs';
import tty from 'node:tty';
import { MessageChannel, Worker } from 'node:worker_threads';

const WATCH_MS = 50;
// Host bytes kept from the start of each run, handed to the restarted board
// if the run must be stopped: what the host sent to a board that could not
// read it (mpremote's Ctrl-C and Ctrl-A to get a raw REPL) reaches the new one.
const REPLAY_MAX = 4096;

const log = (msg) => process.stderr.write(`vboard: ${msg}\n`);

// The pty master must be non-blocking (the launcher sets O_NONBLOCK): libuv
// leaves a pty master blocking, and the board writes it directly while the VM runs.
function checkNonBlocking(fd) {
    try {
        const flags = /flags:\s*([0-7]+)/.exec(fs.readFileSync(`/proc/self/fdinfo/${fd}`, 'latin1'));
        if (flags && !(parseInt(flags[1], 8) & fs.constants.O_NONBLOCK)) {
            throw new Error(`fd ${fd} must be in non-blocking mode (O_NONBLOCK)`);
        }
    } catch (e) {
        if (e.code !== 'ENOENT') throw e; // no /proc: cannot check
    }
}

// Stop when the launcher dies or closes our stdin, or at the end of the board's lifetime.
function watchLauncher(timeLimit) {
    const ppid = process.ppid;
    const deadline = timeLimit > 0 ? Date.now() + timeLimit * 1000 : 0;
    setInterval(() => {
        let why = null;
        if (process.ppid !== ppid) why = 'launcher is gone';
        else if (deadline && Date.now() > deadline) why = 'time limit reached';
        if (why) {
            log(`${why}, stopping`);
            process.exit(0);
        }
    }, 200);
    process.stdin.on('end', () => process.exit(0));
    process.stdin.on('error', () => process.exit(0));
    process.stdin.resume();
}

class Supervisor {
    constructor(opts) {
        this.opts = opts;
        this.worker = null;
        this.toBoard = null;    // MessagePort to the board: the host's bytes
        this.held = [];         // host bytes that came while no board was there
        this.sinceRun = [];     // host bytes that came since the current run started
        this.running = null;    // { what, source, mode, since } while the VM runs code
        this.announced = false;
    }

    start(restart = null) {
        const { port1, port2 } = new MessageChannel();
        const { fd, fs: flash, heap } = this.opts;
        const worker = new Worker(new URL('./board.mjs', import.meta.url), {
            workerData: { opts: { fd, fs: flash, heap }, port: port2, restart },
            transferList: [port2],
        });
        worker.on('message', (m) => this.status(m));
        worker.on('error', (e) => {
            log(`internal error: ${e.stack || e}`);
            process.exit(70);
        });
        worker.on('exit', (code) => {
            if (worker !== this.worker) return; // stopped by us
            log(`the board stopped (code ${code})`);
            process.exit(code || 70);
        });
        this.worker = worker;
        this.toBoard = port1;
        for (const d of this.held) port1.postMessage(d);
        this.held = [];
    }

    input(d) {
        if (this.running && this.sinceRun.reduce((n, b) => n + b.length, 0) < REPLAY_MAX) this.sinceRun.push(d);
        if (this.toBoard) this.toBoard.postMessage(d);
        else this.held.push(d);
    }

    status(m) {
        if (m.kind === 'ready') {
            if (!this.announced) process.stdout.write(`BANNER ${m.banner}\nREADY\n`);
            this.announced = true;
        } else if (m.kind === 'run') {
            // A new run names itself; a program that waited for the host runs on.
            if (m.what) this.sinceRun = [];
            if (m.what || this.running) this.running = { ...(m.what ? m : this.running), since: Date.now() };
        } else if (m.kind === 'wait') {
            if (this.running) this.running.since = 0; // waiting for the host is not running
        } else if (m.kind === 'idle') {
            this.running = null;
            this.sinceRun = [];
        }
    }

    watch() {
        setInterval(() => {
            const r = this.running;
            if (r && r.since && Date.now() - r.since > this.opts.commandLimit * 1000) this.overrun(r);
        }, WATCH_MS);
    }

    // The board ran one thing too long: end its thread, say so on the serial
    // line as the REPL would end that command, and start the board again in
    // the REPL mode it was in (without boot.py / main.py, which may be what hung).
    async overrun(r) {
        this.running = null;
        const worker = this.worker;
        this.worker = null;
        this.toBoard = null;
        await worker.terminate();
        const msg = `vboard: ${r.what} ran past the ${this.opts.commandLimit} s time limit (--command-limit) ` +
            'and was stopped; the board restarted (machine.reset_cause() == machine.WDT_RESET) with its ' +
            'files as they were before it';
        log(msg.slice('vboard: '.length));
        const rawCommand = r.source === 'command' && r.mode === 'raw';
        // A raw REPL command ends with: output, \x04, the error, \x04, the prompt.
        writeAll(this.opts.fd, rawCommand ? `\x04${msg}\r\n\x04>` : `\r\n${msg}\r\n`);
        this.held = [...this.sinceRun, ...this.held];
        this.sinceRun = [];
        this.start({ mode: r.mode, banner: !rawCommand });
    }
}

// Write to the non-blocking pty master, waiting for room.
function writeAll(fd, text) {
    const data = Buffer.from(text, 'latin1');
    const sleeper = new Int32Array(new SharedArrayBuffer(4));
    for (let off = 0, tries = 0; off < data.length && tries < 1000;) {
        try {
            off += fs.writeSync(fd, data, off, data.length - off);
        } catch (e) {
            if (e.code !== 'EAGAIN') { log(`pty write failed: ${e.message}`); return; }
            tries += 1;
            Atomics.wait(sleeper, 0, 0, 1);
        }
    }
}

// opts: { fd, slave, fs, heap, timeLimit, commandLimit } (bridge.mjs).
export function supervise(opts) {
    checkNonBlocking(opts.fd);
    // Keep the slave side open: a pty master reads EIO while no process has
    // the slave open, e.g. between two mpremote runs.
    fs.openSync(opts.slave, fs.constants.O_RDWR | fs.constants.O_NOCTTY);
    watchLauncher(opts.timeLimit);
    const sup = new Supervisor(opts);
    // tty.ReadStream reads the master fd through libuv (data events).
    const serial = new tty.ReadStream(opts.fd);
    serial.on('error', (e) => log(`pty error: ${e.message}`));
    serial.on('data', (d) => sup.input(d));
    sup.start();
    sup.watch();
}
