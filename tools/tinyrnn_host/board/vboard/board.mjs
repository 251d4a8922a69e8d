// The virtual board proper: runs in a worker thread that the supervisor
// (supervisor.mjs) starts, and starts again when a command overruns its time
// limit. It wires the serial line, the flash, the interpreter and the REPL,
// and does what a board does at power-on and at its resets:
//
//   power-on, hard reset (machine.reset(), `mpremote reset`):
//       fresh interpreter, friendly REPL, boot.py, main.py, banner, `>>> `
//   soft reset (Ctrl-D on an empty line, sys.exit(), machine.soft_reset()):
//       `MPY: soft reboot`, fresh interpreter in the same REPL mode, boot.py,
//       and main.py only in the friendly REPL (as MicroPython's ports do)
//   restart after the time limit: fresh interpreter, same REPL mode, no scripts
//
// Messages to the supervisor: {kind: 'ready', banner}, {kind: 'run', what, source, mode}
// when the VM starts running code, {kind: 'idle'} when it is done, and
// 'wait' / 'run' while a program blocks on host input.

import { isMainThread, parentPort, workerData } from 'node:worker_threads';
import { installBoardErrno } from './errno.mjs';
import { Flash } from './flash.mjs';
import { Interpreter, CAUSE } from './interpreter.mjs';
import { Repl, RAW_BANNER } from './repl.mjs';
import { Serial, CTRL_A } from './serial.mjs';

class Board {
    constructor(opts, port) {
        const now = Date.now.bind(Date);
        const log = (msg) => process.stderr.write(`vboard: ${msg}\n`);
        const status = (kind) => parentPort.postMessage({ kind });
        this.log = log;
        this.serial = new Serial({ fd: opts.fd, port, now, log, status });
        this.flash = new Flash(opts.fs, log, now);
        this.interp = new Interpreter({ heap: opts.heap, serial: this.serial, flash: this.flash });
        this.repl = new Repl({ serial: this.serial, interp: this.interp, board: this, log });
        this.serial.keyboard = this.interp;
        this.draining = Promise.resolve();
        this.port = port;
    }

    // Run VM code (fn) as the board: the flash synced around it, the serial
    // line busy (Ctrl-C, output flow), the supervisor told what runs.
    run(what, fn) {
        const { serial, flash, interp } = this;
        serial.flush(); // e.g. the REPL's echo of the line about to run
        flash.sync(interp.FS, 'toBoard');
        parentPort.postMessage({ kind: 'run', ...what });
        serial.begin();
        try {
            return fn();
        } finally {
            serial.end();
            flash.sync(interp.FS, 'toHost');
            parentPort.postMessage({ kind: 'idle' });
        }
    }

    // A fresh interpreter that comes up as a board does. cause: machine.reset_cause();
    // scripts: run boot.py (and main.py in the friendly REPL); afterReboot: a
    // reboot line was printed (no blank line before the banner).
    async start({ mode, cause, scripts, banner = true, afterReboot = true }) {
        const { serial, interp, repl } = this;
        await interp.create(cause);
        repl.mode = mode;
        repl.reset();
        if (scripts && this.runScripts(mode)) return this.restart();
        if (mode === 'raw') {
            // Into the raw REPL as a board after a soft reboot: only its banner.
            serial.mute = true;
            interp.replInit();
            interp.processChar(CTRL_A);
            serial.mute = false;
            if (banner) serial.raw(RAW_BANNER + '>');
        } else {
            if (afterReboot) serial.skipNext('\r\n');
            interp.replInit(); // prints "MicroPython v... on ...; JS with Emscripten\r\n...>>> "
        }
        return false;
    }

    // boot.py, then main.py in the friendly REPL. Returns true if one asked for a reset.
    runScripts(mode) {
        const names = mode === 'raw' ? ['boot.py'] : ['boot.py', 'main.py'];
        for (const name of names) {
            const what = { what: name, source: 'script', mode };
            if (this.run(what, () => this.interp.runFile(name))) return true;
        }
        return false;
    }

    // The running code asked for a reset: machine.reset() (hard) or a soft reboot.
    async restart() {
        const { serial, flash, interp, repl } = this;
        flash.sync(interp.FS, 'toHost', true);
        if (interp.resetAsked()) {
            // A board that resets loses what was on the wire (both ways) and
            // comes up in the friendly REPL.
            serial.discardInput();
            serial.discardOutput();
            return this.start({ mode: 'friendly', cause: CAUSE.HARD, scripts: true });
        }
        // A board prints this, runs its boot scripts and comes back in the REPL
        // mode it was in. mpremote waits for "soft reboot\r\n".
        serial.raw('MPY: soft reboot\r\n');
        serial.flush();
        return this.start({ mode: repl.mode, cause: CAUSE.SOFT, scripts: true });
    }

    // Process queued input until it is empty. Runs are chained (schedule), so
    // input arriving during a reboot waits for the new interpreter.
    async drain() {
        const { serial, repl } = this;
        while (!serial.empty()) {
            if (repl.handleByte(serial.shift())) await this.restart();
        }
        serial.flush();
    }

    schedule(job) {
        this.draining = this.draining.then(job).catch((e) => {
            this.log(`internal error: ${e.stack || e}`);
            process.exit(70);
        });
    }

    async powerOn(restart) {
        const { serial, interp } = this;
        installBoardErrno();
        serial.hookClock();
        if (restart) {
            // After the supervisor stopped a command: same REPL mode, nothing run.
            await this.start({ mode: restart.mode, cause: CAUSE.WDT, scripts: false,
                               banner: restart.banner });
        } else {
            await interp.create(CAUSE.PWRON);
        }
        this.port.on('message', (d) => {
            this.serial.take(d);
            this.schedule(() => this.drain());
        });
        parentPort.postMessage({ kind: 'ready', banner: interp.banner() });
        if (!restart) {
            // Nobody listens yet at power-on; then boot.py, main.py and the REPL, as a board.
            serial.discardOutput();
            this.schedule(async () => {
                if (this.runScripts('friendly')) await this.restart();
                else { serial.skipNext('\r\n'); interp.replInit(); }
                await this.drain(); // what the host sent while main.py ran
            });
        }
    }
}

if (!isMainThread) new Board(workerData.opts, workerData.port).powerOn(workerData.restart);
