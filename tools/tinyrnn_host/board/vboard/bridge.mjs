// Virtual board: the pinned MicroPython WebAssembly build behind a pseudo-terminal.
//
//   node bridge.mjs --fd N --slave /dev/pts/M --fs DIR [--heap BYTES]
//                   [--time-limit S] [--command-limit S]
//
// Normally started by the Python launcher (vboard/__init__.py), which opens
// the pty and hands us its master side as fd N. Whatever talks to the slave
// side (mpremote, pyserial, a terminal program) sees a MicroPython board:
// friendly REPL, raw REPL, raw-paste mode, soft and hard resets running
// boot.py and main.py, a filesystem that survives them. See docs/virtual-board.md.
//
// The parts, each a file beside this one:
//   supervisor.mjs   this process: the pty, the watchdogs, the command time limit
//   board.mjs        the board (a worker thread): power-on, resets, the input loop
//   serial.mjs       the serial line as the board sees it: output, input, Ctrl-C
//   repl.mjs         the REPL protocol: friendly/raw REPL mirror, raw-paste
//   interpreter.mjs  one MicroPython instance and the board's own modules
//                    (board_vboard.py, board_machine.py: machine.reset() ...)
//   flash.mjs        the --fs folder kept in step with the interpreter's files
//   errno.mjs        board errno numbers instead of Emscripten's

import path from 'node:path';
import { supervise } from './supervisor.mjs';

const USAGE = 'usage: bridge.mjs --fd N --slave PATH --fs DIR [--heap BYTES] [--time-limit S] [--command-limit S]';

function parseArgs(argv) {
    const opts = { heap: 131072, timeLimit: 0, commandLimit: 600, fd: -1, slave: null, fs: null };
    for (let i = 0; i < argv.length; i++) {
        const a = argv[i], v = argv[i + 1];
        if (a === '--fd') { opts.fd = parseInt(v, 10); i++; }
        else if (a === '--slave') { opts.slave = v; i++; }
        else if (a === '--heap') { opts.heap = parseInt(v, 10); i++; }
        else if (a === '--fs') { opts.fs = path.resolve(v); i++; }
        else if (a === '--time-limit') { opts.timeLimit = parseFloat(v); i++; }
        else if (a === '--command-limit') { opts.commandLimit = parseFloat(v); i++; }
        else throw new Error(`unknown argument ${a}\n${USAGE}`);
    }
    if (!(opts.fd >= 0) || !opts.slave || !opts.fs) throw new Error(USAGE);
    if (!(opts.heap >= 4096)) throw new Error('--heap must be at least 4096 bytes');
    if (!(opts.commandLimit > 0)) throw new Error('--command-limit must be a positive number of seconds');
    return opts;
}

supervise(parseArgs(process.argv.slice(2)));
