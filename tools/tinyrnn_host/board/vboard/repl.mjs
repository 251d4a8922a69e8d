// The REPL protocol: host bytes into the VM's own REPL (pyexec), with the
// state of pyexec mirrored here (friendly or raw REPL), and raw-paste mode
// done by the bridge.
//
// Friendly REPL (banner, `>>> `), paste mode (Ctrl-E), raw REPL (Ctrl-A ...
// Ctrl-D: `OK`, output, `\x04`, errors, `\x04`, `>`), Ctrl-B back to friendly
// all come from the VM. Raw-paste (`\x05A\x01`, which mpremote tries first) is
// ours: this build's own raw-paste reads stdin with a stub that returns at
// once, so we collect the code with a board's flow control and hand it to the
// VM's plain raw REPL in one go.

import { CTRL_A, CTRL_B, CTRL_C, CTRL_D, CTRL_E } from './serial.mjs';

export const RAW_BANNER = 'raw REPL; CTRL-B to exit\r\n';
// Raw-paste flow-control window, as on a board whose stdin buffer is 256 bytes
// (MICROPY_REPL_STDIN_BUFFER_MAX): the board advertises half the buffer.
const PASTE_WINDOW = 128;
const LINE_KEPT = 4096;   // bytes of a command kept to say what ran
// `mpremote mount` first sends the code of its remote filesystem (transport_serial.py
// fs_hook_code), whose protocol needs a binary-clean stdout: this build's stdout
// cannot tell print() from sys.stdout.buffer, and the bridge turns each \n into \r\n
// (see Serial.vm). Sent by raw-paste (as mpremote does), its stdout is swapped for
// _vboard.BinaryOut, whose bytes the bridge passes as they are; typed into the plain
// raw REPL it cannot be changed any more, and the board refuses it at once.
// Its marks, all within the first LINE_KEPT bytes of that code (RemoteFS starts near byte 3800):
const MOUNT_HOOK = ['class RemoteCommand', 'class RemoteFS', '0x18'];
const MOUNT_STDOUT = 'self.fout = sys.stdout.buffer';
const MOUNT_BINARY_STDOUT = "self.fout = __import__('_vboard').BinaryOut()";
export const MOUNT_REFUSED = 'OSError: vboard: `mpremote mount` needs raw-paste mode on the WebAssembly ' +
    'virtual board (its serial line is not binary-clean otherwise); use mpremote as it is, or copy the files ' +
    'with `mpremote cp -r DIR :`\r\n';

function pyBytesLiteral(buf) {
    let s = "b'";
    for (const b of buf) s += '\\x' + b.toString(16).padStart(2, '0');
    return s + "'";
}

// A command as error messages name it: its first line and how many follow.
export function describe(bytes) {
    const lines = Buffer.from(bytes).toString('latin1').split(/\r\n|\r|\n/).map((l) => l.trim()).filter(Boolean);
    if (!lines.length) return 'an empty command';
    const first = lines[0].length > 60 ? lines[0].slice(0, 57) + '...' : lines[0];
    return lines.length > 1 ? `"${first}" (and ${lines.length - 1} more lines)` : `"${first}"`;
}

export class Repl {
    // board.run(what, fn) runs VM code with the serial line busy and the flash synced around it.
    constructor({ serial, interp, board, log }) {
        Object.assign(this, { serial, interp, board, log });
        this.mode = 'friendly';   // 'friendly' or 'raw' REPL
        this.reset();
    }

    // A fresh interpreter's REPL: nothing typed yet.
    reset() {
        this.rawLineEmpty = true; // raw REPL: nothing typed since the last prompt
        this.escape = [];         // raw REPL: bytes of a possible "\x05A\x01"
        this.paste = null;        // raw-paste transfer in progress: { data: [], remain }
        this.line = [];           // the command being typed, to name it if it must be stopped
    }

    // Would feeding byte c make the REPL run code (so the filesystem may change)?
    runsCode(c) {
        if (this.mode === 'raw') return c === CTRL_D;
        return c === 0x0d || c === 0x0a || c === CTRL_D;
    }

    // Feed one byte to the VM's REPL. Returns true if the board must soft-reboot.
    // paste: the code came by raw-paste (which answers no "OK").
    feed(c, paste = false) {
        const { serial, interp } = this;
        if (!paste && this.mode === 'raw' && c === CTRL_D && this.isMountHook()) return this.refuseMount();
        const executes = this.runsCode(c);
        if (!executes && this.line.length < LINE_KEPT) this.line.push(c);
        let captured = null;
        if (this.mode === 'friendly' && c === CTRL_A) serial.capture = captured = [];
        if (this.mode === 'raw' && c === CTRL_D) {
            // The board's "OK" (command received) goes out before the code runs.
            serial.skipNext('OK');
            if (!paste) { serial.raw('OK'); serial.flush(); }
        }
        let ret;
        try {
            if (executes) {
                ret = this.board.run({ what: describe(this.line), source: 'command', mode: this.mode },
                                     () => interp.processChar(c));
            } else {
                serial.begin();
                try { ret = interp.processChar(c); } finally { serial.end(); }
            }
        } catch (e) {
            // The interpreter itself failed (a JavaScript error out of the
            // WebAssembly code). Treat it like a board that crashed and reset.
            this.log(`interpreter crashed: ${e.stack || e}`);
            const msg = `vboard: the interpreter crashed (${String(e.message || e).split('\n')[0]}); soft reboot\r\n`;
            // In the raw REPL, end the command with an error so the host stops waiting.
            serial.raw(this.mode === 'raw' && executes ? `\x04${msg}\x04` : `\r\n${msg}`);
            return true;
        } finally {
            serial.capture = null;
        }
        if (executes) this.line = [];

        // Mirror the REPL mode (pyexec's state is internal to the VM).
        if (this.mode === 'raw') {
            if (c === CTRL_B) this.mode = 'friendly';
            this.rawLineEmpty = c === CTRL_A || c === CTRL_C || c === CTRL_D;
            if (c === CTRL_A || c === CTRL_C) this.line = [];
        } else if (captured && Buffer.from(captured).toString('latin1').endsWith(RAW_BANNER + '>')) {
            this.mode = 'raw';
            this.rawLineEmpty = true;
            this.line = [];
        }
        return ret !== 0;
    }

    isMountHook(code = this.line) {
        const text = Buffer.from(code).toString('latin1');
        return MOUNT_HOOK.every((s) => text.includes(s));
    }

    // End the command as a failed one without running it: the raw REPL's
    // OK, no output, \x04, the error, \x04, the prompt. Ctrl-C drops the code typed so far.
    refuseMount() {
        const { serial, interp } = this;
        serial.mute = true;
        try { interp.processChar(CTRL_C); } finally { serial.mute = false; }
        serial.raw('OK\x04' + MOUNT_REFUSED + '\x04>');
        serial.flush();
        this.line = [];
        this.rawLineEmpty = true;
        return false;
    }

    startPaste() {
        this.serial.raw('R\x01' + String.fromCharCode(PASTE_WINDOW & 0xff, PASTE_WINDOW >> 8) + '\x01');
        this.paste = { data: [], remain: PASTE_WINDOW };
    }

    pasteByte(c) {
        const { serial, paste } = this;
        if (c === CTRL_C) {
            // Host aborts: acknowledge, then report a KeyboardInterrupt as a board does.
            this.paste = null;
            serial.raw('\x04\x04KeyboardInterrupt: \r\n\x04>');
            return false;
        }
        if (c !== CTRL_D) {
            paste.data.push(c);
            if (--paste.remain === 0) {
                serial.raw('\x01'); // one more window is free
                paste.remain = PASTE_WINDOW;
            }
            return false;
        }
        serial.raw('\x04'); // end of data acknowledged
        let code = Buffer.from(paste.data);
        this.paste = null;
        if (this.isMountHook(code)) {
            code = Buffer.from(code.toString('latin1').replace(MOUNT_STDOUT, MOUNT_BINARY_STDOUT), 'latin1');
            this.serial.mountSession = true;    // until the next fresh interpreter
        }
        if (code.length === 0) {
            code = Buffer.from('\n'); // an empty line would mean "soft reboot" to raw mode
        } else if (code.includes(CTRL_A) || code.includes(CTRL_B)) {
            // These bytes are commands to the raw REPL; pass such code through exec().
            code = Buffer.from('exec(' + pyBytesLiteral(code) + ')\n', 'latin1');
        }
        this.line = [...paste.data.slice(0, LINE_KEPT)];
        for (const b of code) this.interp.processChar(b);
        return this.feed(CTRL_D, true);
    }

    // Handle one byte from the host. Returns true if the board must soft-reboot.
    handleByte(c) {
        if (this.paste) return this.pasteByte(c);
        if (this.mode === 'raw' && (this.escape.length || (c === CTRL_E && this.rawLineEmpty))) {
            // "\x05A\x01" at the start of a raw REPL line requests raw-paste mode.
            this.escape.push(c);
            const want = [CTRL_E, 0x41, CTRL_A];
            if (this.escape.every((b, i) => b === want[i])) {
                if (this.escape.length === want.length) {
                    this.escape = [];
                    this.startPaste();
                }
                return false;
            }
            const held = this.escape;
            this.escape = [];
            for (let i = 0; i < held.length; i++) {
                if (this.feed(held[i])) {
                    // Soft reboot: whatever followed is for the new interpreter.
                    this.serial.unshift(Buffer.from(held.slice(i + 1)));
                    return true;
                }
            }
            return false;
        }
        return this.feed(c);
    }
}
