// One MicroPython interpreter of the virtual board, and what makes it a board's.
//
// Every (re)start of the board is a fresh loadMicroPython() instance: its
// MEMFS loaded from the flash folder, the board's own modules installed
// (_vboard and machine, board_*.py beside this file), then boot.py and
// main.py run as a board runs them. The REPL bytes go through processChar().

import fs from 'node:fs';
import { loadMicroPython } from '../wasm.mjs';

const MODULE_DIR = '/proc/vboard';     // hidden from the board's files (flash.mjs SYSTEM_DIRS)
const BOARD_MODULES = { '_vboard.py': 'board_vboard.py', 'machine.py': 'board_machine.py',
                        '_vboard_flash.py': 'board_flash.py' };
const CTRL_C = 0x03;
const BINARY_OUT = -2;      // the interrupt char while _vboard.BinaryOut writes (board_vboard.py)

// machine.reset_cause() values (board_machine.py).
export const CAUSE = { PWRON: 1, HARD: 2, WDT: 3, SOFT: 5 };

// The result of run_file() in board_vboard.py.
const FORCED_EXIT = 2;

function readBoardModules() {
    const sources = {};
    for (const [name, file] of Object.entries(BOARD_MODULES)) {
        sources[name] = fs.readFileSync(new URL(file, import.meta.url));
    }
    return sources;
}

export class Interpreter {
    constructor({ heap, serial, flash }) {
        this.heap = heap;
        this.serial = serial;
        this.flash = flash;
        this.vm = null;
        this.modules = readBoardModules();
    }

    get FS() { return this.vm.FS; }

    // A fresh interpreter, loaded from the flash, with the board's modules; prints nothing.
    async create(cause) {
        const serial = this.serial;
        serial.mute = true;
        this.vm = await loadMicroPython({
            heapsize: this.heap,
            linebuffer: false,
            stdout: (d) => { for (const c of d) serial.vm(c); },
            stderr: (d) => { for (const c of d) serial.vm(c); },
            stdin: () => serial.stdinByte(),
        });
        this.flash.load(this.vm.FS);
        this.FS.mkdirTree(MODULE_DIR);
        for (const [name, src] of Object.entries(this.modules)) this.FS.writeFile(`${MODULE_DIR}/${name}`, src);
        this.vm.runPython(
            'def _vboard_install():\n' +
            '    import sys\n' +
            `    sys.path.insert(0, '${MODULE_DIR}')\n` +
            '    try:\n' +
            '        import _vboard, _vboard_flash, machine\n' +
            '    finally:\n' +
            '        sys.path.pop(0)\n' +
            `    _vboard.install(${Number(cause)})\n` +
            '_vboard_install()\n' +
            'del _vboard_install\n');
        serial.lastVmByte = 0;
        serial.mountSession = false;
        serial.mute = false;
    }

    // The banner a board prints at its friendly REPL ("MicroPython v1.27.0 on ...; JS with Emscripten").
    banner() {
        const sys = this.vm.pyimport('sys');
        return `${String(sys.version).split('; ').slice(1).join('; ')}; ${sys.implementation._machine}`;
    }

    // Run boot.py or main.py from the flash. Returns true if it asked for a reset (SystemExit).
    runFile(name) {
        return this.vm.pyimport('_vboard').run_file(name) === FORCED_EXIT;
    }

    // Did machine.reset() ask for a hard reset?
    resetAsked() {
        return Boolean(this.vm.pyimport('_vboard').reset_asked);
    }

    replInit() { this.vm.replInit(); }

    // Feed one byte to the VM's REPL (pyexec). Returns non-zero if the board must soft-reboot.
    processChar(c) { return this.vm.replProcessChar(c); }

    // Ctrl-C handling, as a board's serial interrupt: only while running code has it enabled.
    interruptEnabled() {
        return this.vm !== null && this.vm._module.ccall('mp_hal_get_interrupt_char', 'number', [], []) === CTRL_C;
    }

    // Is the VM writing binary data (_vboard.BinaryOut marks it with kbd_intr(-2))?
    binaryOutput() {
        return this.vm !== null && this.vm._module.ccall('mp_hal_get_interrupt_char', 'number', [], []) === BINARY_OUT;
    }

    interrupt() { this.vm._module.ccall('mp_sched_keyboard_interrupt', null, [], []); }
}

