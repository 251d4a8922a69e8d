// Virtual board: the pinned MicroPython WebAssembly build behind a pseudo-terminal.
//
//   node bridge.mjs --fd N --slave /dev/pts/M --fs DIR [--heap BYTES] [--time-limit S]
//
// Normally started by the Python launcher (vboard/__init__.py), which
// opens the pty and hands us its master side as fd N. Whatever talks to the
// slave side (mpremote, pyserial, a terminal program) sees a MicroPython
// board: friendly REPL, raw REPL, raw-paste mode, soft reboot, a filesystem
// that survives soft reboots. See docs/virtual-board.md.
//
// On stdout we print status lines for the launcher ("BANNER <text>", "READY");
// the board's serial traffic only ever goes through the pty.

import fs from 'node:fs';
import path from 'node:path';
import tty from 'node:tty';
import { Worker } from 'node:worker_threads';
import { loadMicroPython } from '../wasm.mjs';

const CTRL_A = 0x01, CTRL_B = 0x02, CTRL_C = 0x03, CTRL_D = 0x04, CTRL_E = 0x05;
const RAW_BANNER = 'raw REPL; CTRL-B to exit\r\n';
// Raw-paste flow-control window, as on a board whose stdin buffer is 256 bytes
// (MICROPY_REPL_STDIN_BUFFER_MAX): the board advertises half the buffer.
const PASTE_WINDOW = 128;
// While Python code runs we look at the pty for Ctrl-C at most this often (ms).
const POLL_MS = 20;
// Output the host has not read yet: above this a running program waits for
// the host; if the host reads nothing for OUTPUT_STALL_MS, it is dropped.
const OUTPUT_HIGH_WATER = 64 << 10;
const OUTPUT_STALL_MS = 500;

// ---------------------------------------------------------------------------
// Command line

function parseArgs(argv) {
    const opts = { heap: 131072, timeLimit: 0, fd: -1, slave: null, fs: null };
    for (let i = 0; i < argv.length; i++) {
        const a = argv[i], v = argv[i + 1];
        if (a === '--fd') { opts.fd = parseInt(v, 10); i++; }
        else if (a === '--slave') { opts.slave = v; i++; }
        else if (a === '--heap') { opts.heap = parseInt(v, 10); i++; }
        else if (a === '--fs') { opts.fs = path.resolve(v); i++; }
        else if (a === '--time-limit') { opts.timeLimit = parseFloat(v); i++; }
        else throw new Error(`unknown argument ${a}`);
    }
    if (!(opts.fd >= 0) || !opts.slave || !opts.fs) {
        throw new Error('usage: bridge.mjs --fd N --slave PATH --fs DIR [--heap BYTES] [--time-limit S]');
    }
    if (!(opts.heap >= 4096)) throw new Error(`--heap must be at least 4096 bytes`);
    return opts;
}

const opts = parseArgs(process.argv.slice(2));
const log = (msg) => process.stderr.write(`vboard: ${msg}\n`);

// ---------------------------------------------------------------------------
// Watchdog: a worker thread, so it still works while the main thread is busy
// running Python (a `while True: pass` blocks our event loop for good). It
// kills the process when the launcher dies or the time limit is reached.

const watchdog = new Worker(`
    const { workerData } = require('node:worker_threads');
    const fs = require('node:fs');
    const { ppid, deadline } = workerData;
    setInterval(() => {
        let why = null;
        if (process.ppid !== ppid) why = 'launcher is gone';
        else if (deadline && Date.now() > deadline) why = 'time limit reached';
        if (why) {
            fs.writeSync(2, 'vboard: ' + why + ', stopping\\n');
            process.kill(process.pid, 'SIGKILL');
        }
    }, 200);
`, { eval: true, workerData: {
    ppid: process.ppid,
    deadline: opts.timeLimit > 0 ? Date.now() + opts.timeLimit * 1000 : 0,
} });
watchdog.unref();

// Also stop when the launcher closes our stdin (it dies or asks us to stop).
process.stdin.on('end', () => process.exit(0));
process.stdin.on('error', () => process.exit(0));
process.stdin.resume();

// ---------------------------------------------------------------------------
// The pty. tty.ReadStream reads the master fd through libuv (data events);
// we write to the fd ourselves (see out.write). We also keep the slave side
// open: a pty master reads EIO while no process has the slave open, e.g.
// between two mpremote runs.

const masterFd = opts.fd;
// The fd must be non-blocking (the launcher sets O_NONBLOCK): libuv leaves a
// pty master blocking, and we read and write it directly while the VM runs.
try {
    const flags = /flags:\s*([0-7]+)/.exec(fs.readFileSync(`/proc/self/fdinfo/${masterFd}`, 'latin1'));
    if (flags && !(parseInt(flags[1], 8) & fs.constants.O_NONBLOCK)) {
        throw new Error(`fd ${masterFd} must be in non-blocking mode (O_NONBLOCK)`);
    }
} catch (e) {
    if (e.code !== 'ENOENT') throw e; // no /proc: cannot check
}
const slaveKeepAlive = fs.openSync(opts.slave, fs.constants.O_RDWR | fs.constants.O_NOCTTY);
const serial = new tty.ReadStream(masterFd);
serial.on('error', (e) => log(`pty error: ${e.message}`));

// ---------------------------------------------------------------------------
// Output to the host

const out = {
    chunks: [],
    size: 0,
    lastVmByte: 0,
    mute: false,        // drop VM output (while we set up a fresh interpreter)
    skip: null,         // bytes expected next from the VM that we drop (e.g. "OK")
    skipPos: 0,
    capture: null,      // when an array, VM output is also copied here
    holdAll: false,     // during a run: keep everything after the first \x04
    lastFlush: 0,

    // Protocol bytes from the bridge itself: sent as they are.
    raw(data) {
        const b = Buffer.from(data, 'latin1');
        this.chunks.push(b);
        this.size += b.length;
    },

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
        // A board's stdout is "cooked": print() ends lines with \r\n. This
        // build writes a bare \n, so add the \r (the REPL's own \r\n pass).
        if (c === 0x0a && this.lastVmByte !== 0x0d) this.push(0x0d);
        this.push(c);
        this.lastVmByte = c;
    },

    push(c) {
        this.chunks.push(Buffer.of(c));
        this.size += 1;
        if (vmBusy) {
            // In raw mode the first \x04 ends the program's normal output.
            // Keep that and what follows until the run is over and the
            // filesystem is synced, so a host that saw the end of a command
            // (mpremote cp) also sees its files in the --fs folder.
            if (c === CTRL_D) this.holdAll = true;
            const now = realDateNow();
            if (now - lastPoll >= POLL_MS) pollInput(now);
            if (!this.holdAll && (now - this.lastFlush >= POLL_MS || this.size >= 4096)) this.flush();
        }
    },

    flush() {
        this.lastFlush = realDateNow();
        if (this.size) {
            const data = Buffer.concat(this.chunks);
            this.chunks = [];
            this.size = 0;
            this.pending.push(data);
            this.pendingSize += data.length;
        }
        this.write();
    },

    // Bytes not yet accepted by the pty (its buffer is full until the host reads).
    pending: [],
    pendingSize: 0,
    retry: null,

    write() {
        this.tryWrite();
        // A running program that prints faster than the host reads waits, as
        // on a board whose USB/UART transmit buffer is full; if the host does
        // not read at all for a while, the output is dropped (no host).
        if (vmBusy && this.pendingSize > OUTPUT_HIGH_WATER) this.waitForHost();
        if (this.pending.length && !this.retry) {
            this.retry = setTimeout(() => { this.retry = null; this.write(); }, 1);
        }
    },

    // Write what the pty accepts, directly to the (non-blocking) master fd:
    // this works the same while the VM runs, when the event loop is stopped.
    // Returns the number of bytes written.
    tryWrite() {
        let total = 0;
        while (this.pending.length) {
            const b = this.pending[0];
            let n = 0;
            try {
                n = fs.writeSync(masterFd, b, 0, b.length);
            } catch (e) {
                if (e.code === 'EAGAIN') break;
                log(`pty write failed: ${e.message}`);
                this.drop();
                break;
            }
            total += n;
            this.pendingSize -= n;
            if (n < b.length) { this.pending[0] = b.subarray(n); break; }
            this.pending.shift();
        }
        return total;
    },

    waitForHost() {
        let progress = realDateNow();
        while (this.pendingSize > OUTPUT_HIGH_WATER) {
            Atomics.wait(sleeper, 0, 0, 1); // sleep 1 ms
            const now = realDateNow();
            if (now - lastPoll >= POLL_MS) pollInput(now);
            if (this.tryWrite() > 0) progress = now;
            else if (now - progress > OUTPUT_STALL_MS) { this.drop(); break; }
        }
    },

    drop() {
        this.pending = [];
        this.pendingSize = 0;
    },
};
const sleeper = new Int32Array(new SharedArrayBuffer(4));

// ---------------------------------------------------------------------------
// Input from the host: a FIFO of bytes (Buffers plus a read position).

const input = {
    bufs: [],
    pos: 0,
    push(b) { if (b.length) this.bufs.push(b); },
    unshift(b) {
        if (!b.length) return;
        if (this.pos) { this.bufs[0] = this.bufs[0].subarray(this.pos); this.pos = 0; }
        this.bufs.unshift(b);
    },
    empty() { return this.bufs.length === 0; },
    shift() {
        const b = this.bufs[0];
        const c = b[this.pos++];
        if (this.pos >= b.length) { this.bufs.shift(); this.pos = 0; }
        return c;
    },
};

// ---------------------------------------------------------------------------
// Ctrl-C while Python runs. The VM runs synchronously inside
// replProcessChar(), so the pty's data events cannot fire meanwhile. But the
// VM calls back into JavaScript whenever it prints a character and whenever
// it reads the clock (time.sleep/ticks_ms busy-wait on Date.now()). At those
// points we peek at the pty: a Ctrl-C schedules a KeyboardInterrupt when the
// running code has interrupts enabled (exactly what a board's UART/USB
// interrupt handler does); other bytes wait in the input FIFO. Code that
// neither prints nor reads the clock cannot be interrupted.

const realDateNow = Date.now.bind(Date);
let vmBusy = false;
let lastPoll = 0;
const pollBuf = Buffer.alloc(4096);

Date.now = function () {
    const t = realDateNow();
    if (vmBusy && t - lastPoll >= POLL_MS) {
        pollInput(t);
        if (!out.holdAll) out.flush(); // let output printed before a sleep out
    }
    return t;
};

// Read what the host has sent. Returns true if it held a Ctrl-C that became
// a KeyboardInterrupt.
function pollInput(now) {
    lastPoll = now;
    let n;
    try {
        n = fs.readSync(masterFd, pollBuf, 0, pollBuf.length, null);
    } catch (e) {
        return false; // EAGAIN: nothing there
    }
    let interrupted = false;
    const keep = [];
    for (let i = 0; i < n; i++) {
        const c = pollBuf[i];
        if (c === CTRL_C && interruptEnabled()) {
            vm._module.ccall('mp_sched_keyboard_interrupt', null, [], []);
            interrupted = true;
        } else {
            keep.push(c);
        }
    }
    input.push(Buffer.from(keep));
    return interrupted;
}

function interruptEnabled() {
    return vm && vm._module.ccall('mp_hal_get_interrupt_char', 'number', [], []) === CTRL_C;
}

// The VM's stdin (sys.stdin, and input() via BOOT_PATCH), called for each
// byte it reads: blocks until the host sends one, as on a board. A Ctrl-C
// ends the read (EOF) with a KeyboardInterrupt pending, which the VM raises
// at its next check.
function stdinByte() {
    for (;;) {
        if (!input.empty()) {
            const c = input.shift();
            if (c === CTRL_C && interruptEnabled()) {
                vm._module.ccall('mp_sched_keyboard_interrupt', null, [], []);
                return null;
            }
            return c;
        }
        if (!out.holdAll) out.flush(); // e.g. the prompt of input()
        if (pollInput(realDateNow())) return null;
        if (input.empty()) Atomics.wait(sleeper, 0, 0, 5);
    }
}

// ---------------------------------------------------------------------------
// Error numbers. This build's file system calls fail with WASI/Emscripten
// errno values (ENOENT is 44, EEXIST 20) while its `errno` module, like every
// board, uses MicroPython's own numbers (ENOENT 2, EEXIST 17). So on the VM
// open('missing') raised OSError(44), which `e.errno == errno.ENOENT` misses
// and mpremote cannot read (it needs "ENOENT" or 2 to tell that a file does
// not exist, e.g. for `cp x :newname`). We translate at the boundary between
// the WebAssembly code and Emscripten's system calls: the values those
// imports return become the numbers a board would use, so the VM raises
// "OSError: [Errno 2] ENOENT" exactly as a board does.

// WASI errno names in WASI order (1..76), and MicroPython's/Linux's numbers.
const WASI_ERRNO_NAMES = ('2BIG ACCES ADDRINUSE ADDRNOTAVAIL AFNOSUPPORT AGAIN ALREADY BADF BADMSG ' +
    'BUSY CANCELED CHILD CONNABORTED CONNREFUSED CONNRESET DEADLK DESTADDRREQ DOM DQUOT EXIST ' +
    'FAULT FBIG HOSTUNREACH IDRM ILSEQ INPROGRESS INTR INVAL IO ISCONN ISDIR LOOP MFILE MLINK ' +
    'MSGSIZE MULTIHOP NAMETOOLONG NETDOWN NETRESET NETUNREACH NFILE NOBUFS NODEV NOENT NOEXEC ' +
    'NOLCK NOLINK NOMEM NOMSG NOPROTOOPT NOSPC NOSYS NOTCONN NOTDIR NOTEMPTY NOTRECOVERABLE ' +
    'NOTSOCK NOTSUP NOTTY NXIO OVERFLOW OWNERDEAD PERM PIPE PROTO PROTONOSUPPORT PROTOTYPE RANGE ' +
    'ROFS SPIPE SRCH STALE TIMEDOUT TXTBSY XDEV').split(' ');
const BOARD_ERRNO = {
    PERM: 1, NOENT: 2, SRCH: 3, INTR: 4, IO: 5, NXIO: 6, '2BIG': 7, NOEXEC: 8, BADF: 9, CHILD: 10,
    AGAIN: 11, NOMEM: 12, ACCES: 13, FAULT: 14, BUSY: 16, EXIST: 17, XDEV: 18, NODEV: 19,
    NOTDIR: 20, ISDIR: 21, INVAL: 22, NFILE: 23, MFILE: 24, NOTTY: 25, TXTBSY: 26, FBIG: 27,
    NOSPC: 28, SPIPE: 29, ROFS: 30, MLINK: 31, PIPE: 32, DOM: 33, RANGE: 34, DEADLK: 35,
    NAMETOOLONG: 36, NOLCK: 37, NOSYS: 38, NOTEMPTY: 39, LOOP: 40, NOMSG: 42, IDRM: 43,
    NOLINK: 67, MULTIHOP: 72, BADMSG: 74, OVERFLOW: 75, ILSEQ: 84, NOTSOCK: 88, DESTADDRREQ: 89,
    MSGSIZE: 90, PROTOTYPE: 91, NOPROTOOPT: 92, PROTONOSUPPORT: 93, NOTSUP: 95, AFNOSUPPORT: 97,
    ADDRINUSE: 98, ADDRNOTAVAIL: 99, NETDOWN: 100, NETUNREACH: 101, NETRESET: 102,
    CONNABORTED: 103, CONNRESET: 104, NOBUFS: 105, ISCONN: 106, NOTCONN: 107, TIMEDOUT: 110,
    CONNREFUSED: 111, HOSTUNREACH: 113, ALREADY: 114, INPROGRESS: 115, STALE: 116, DQUOT: 122,
    CANCELED: 125, OWNERDEAD: 130, NOTRECOVERABLE: 131,
};
const ERRNO_TO_BOARD = new Map(WASI_ERRNO_NAMES.map((n, i) => [i + 1, BOARD_ERRNO[n] ?? i + 1]));

function translateImports(imports) {
    const table = imports.env;
    const wrapped = { ...table };
    for (const [name, fn] of Object.entries(table)) {
        if (typeof fn !== 'function') continue;
        if (name.startsWith('__syscall_')) {
            // Emscripten syscalls return -errno on failure.
            wrapped[name] = (...a) => {
                const r = fn(...a);
                return r < 0 && r > -4096 ? -(ERRNO_TO_BOARD.get(-r) ?? -r) : r;
            };
        } else if (name.startsWith('fd_')) {
            // WASI calls return the errno itself (0: success).
            wrapped[name] = (...a) => {
                const r = fn(...a);
                return r > 0 ? (ERRNO_TO_BOARD.get(r) ?? r) : r;
            };
        }
    }
    const out = { ...imports };
    for (const k of Object.keys(imports)) if (imports[k] === table) out[k] = wrapped;
    return out;
}

const realInstantiate = WebAssembly.instantiate;
WebAssembly.instantiate = function (source, imports, ...rest) {
    if (imports && imports.env) imports = translateImports(imports);
    return realInstantiate.call(WebAssembly, source, imports, ...rest);
};

// ---------------------------------------------------------------------------
// The board's filesystem.
//
// This build only has Emscripten's in-memory MEMFS, and every interpreter we
// start has a fresh one. The host folder --fs is the board's flash: a fresh
// interpreter is loaded from it, and around every piece of code the board
// runs we sync both ways:
//   - before: host -> board (files added/changed/removed in the folder),
//   - after:  board -> host (what the code wrote or removed),
// before the host sees the end of the command's output. A file changed on
// both sides while a command runs ends up with the board's version.
//
// Change detection uses (type, size, mtime, inode) signatures recorded at the
// last sync. A file whose mtime is not clearly older than that record could
// have been rewritten within the clock's resolution; for those we compare
// contents.

// Emscripten's own directories, hidden from the board's listing of "/".
const SYSTEM_DIRS = new Set(['dev', 'proc']);
const HOST_CLOCK_SLACK_NS = 50_000_000n;   // kernel file timestamps are coarse

let known = new Map();  // "/rel/path" -> { dir, host: sig, board: sig }

function hostPath(rel) { return path.join(opts.fs, rel); }

function hostSig(p) {
    const st = fs.statSync(p, { bigint: true });
    if (st.isDirectory()) return { dir: true };
    if (!st.isFile()) return null;
    return { dir: false, size: Number(st.size), mtime: st.mtimeNs, ino: st.ino,
             at: BigInt(realDateNow()) * 1000000n };
}

function boardSig(FS, p) {
    const st = FS.stat(p);
    if (FS.isDir(st.mode)) return { dir: true };
    if (!FS.isFile(st.mode)) return null;
    return { dir: false, size: st.size, mtime: st.mtime.getTime(), ino: st.ino, at: realDateNow() };
}

function walkHost(rel, outList, depth = 0) {
    if (depth > 32) return; // a symlink loop
    let names;
    try { names = fs.readdirSync(hostPath(rel)); } catch { return; }
    for (const name of names.sort()) {
        if (rel === '/' && SYSTEM_DIRS.has(name)) continue;
        const r = path.posix.join(rel, name);
        let sig;
        try { sig = hostSig(hostPath(r)); } catch { continue; }
        if (!sig) continue;
        outList.push([r, sig]);
        if (sig.dir) walkHost(r, outList, depth + 1);
    }
}

function walkBoard(FS, rel, outList) {
    for (const name of FS.readdir(rel).sort()) {
        if (name === '.' || name === '..') continue;
        const r = path.posix.join(rel, name);
        const sig = boardSig(FS, r);
        if (!sig) continue;
        outList.push([r, sig]);
        if (sig.dir) walkBoard(FS, r, outList);
    }
}

function boardRemove(FS, p) {
    let st;
    try { st = FS.stat(p); } catch { return; }
    if (FS.isDir(st.mode)) {
        for (const n of FS.readdir(p)) if (n !== '.' && n !== '..') boardRemove(FS, path.posix.join(p, n));
        FS.rmdir(p);
    } else {
        FS.unlink(p);
    }
}

function boardIsDir(FS, p) {
    try { return FS.isDir(FS.stat(p).mode); } catch { return null; }
}

function hostIsDir(p) {
    try { return fs.statSync(p).isDirectory(); } catch { return null; }
}

function forgetUnder(rel) {
    for (const k of [...known.keys()]) if (k === rel || k.startsWith(rel + '/')) known.delete(k);
}

function sameBytes(a, b) {
    return a.length === b.length && Buffer.compare(Buffer.from(a.buffer, a.byteOffset, a.length),
                                                   Buffer.from(b.buffer, b.byteOffset, b.length)) === 0;
}

// Files the running program has open for writing: their contents are not
// final (mpremote's `cp` writes a file in 256-byte pieces, one command each),
// so both directions leave them alone until they are closed.
function openForWriting(FS) {
    const ids = new Set();
    for (const st of FS.streams) {
        if (st && st.node && (st.flags & 3) !== 0) ids.add(st.node.id);
    }
    return ids;
}

function boardNodeId(FS, p) {
    try { return FS.lookupPath(p).node.id; } catch { return null; }
}

// Write a host file in place rather than with O_TRUNC: ext4 flushes a file
// to disk when it is truncated to zero and rewritten, which costs
// milliseconds per write.
function writeHostFile(p, data) {
    const fd = fs.openSync(p, fs.constants.O_WRONLY | fs.constants.O_CREAT, 0o644);
    try {
        let off = 0;
        while (off < data.length) off += fs.writeSync(fd, data, off, data.length - off, off);
        fs.ftruncateSync(fd, data.length);
    } finally {
        fs.closeSync(fd);
    }
}

// host -> board
function syncHostToBoard(FS) {
    const busy = openForWriting(FS);
    const seen = new Set();
    const entries = [];
    walkHost('/', entries);
    for (const [rel, sig] of entries) {
        seen.add(rel);
        const rec = known.get(rel);
        if (sig.dir) {
            if (!rec || !rec.dir) {
                if (boardIsDir(FS, rel) === false) boardRemove(FS, rel);
                if (boardIsDir(FS, rel) === null) FS.mkdir(rel);
                known.set(rel, { dir: true });
            }
            continue;
        }
        if (rec && !rec.dir && rec.host.size === sig.size && rec.host.mtime === sig.mtime &&
            rec.host.ino === sig.ino && sig.mtime + HOST_CLOCK_SLACK_NS < rec.host.at) {
            continue; // unchanged
        }
        if (busy.has(boardNodeId(FS, rel))) continue;
        const data = fs.readFileSync(hostPath(rel));
        if (boardIsDir(FS, rel) === true) boardRemove(FS, rel);
        if (boardIsDir(FS, rel) === false && sameBytes(FS.readFile(rel), data)) {
            // same contents (e.g. we wrote this file ourselves): just re-record
        } else {
            FS.writeFile(rel, data);
        }
        known.set(rel, { dir: false, host: hostSig(hostPath(rel)), board: boardSig(FS, rel) });
    }
    // Removed on the host since the last sync: remove on the board.
    for (const rel of [...known.keys()]) {
        if (!known.has(rel) || seen.has(rel)) continue;
        if (busy.has(boardNodeId(FS, rel))) continue;
        boardRemove(FS, rel);
        forgetUnder(rel);
    }
}

// board -> host. finalSync: also files still open (the interpreter is going away).
function syncBoardToHost(FS, finalSync = false) {
    const busy = finalSync ? new Set() : openForWriting(FS);
    const seen = new Set();
    const entries = [];
    walkBoard(FS, '/', entries);
    for (const [rel, sig] of entries) {
        seen.add(rel);
        const rec = known.get(rel);
        const hp = hostPath(rel);
        if (sig.dir) {
            if (!rec || !rec.dir) {
                if (hostIsDir(hp) === false) fs.rmSync(hp, { force: true });
                fs.mkdirSync(hp, { recursive: true });
                known.set(rel, { dir: true });
            }
            continue;
        }
        if (rec && !rec.dir && rec.board.size === sig.size && rec.board.mtime === sig.mtime &&
            rec.board.ino === sig.ino && sig.mtime < rec.board.at) {
            continue; // unchanged
        }
        if (busy.has(boardNodeId(FS, rel))) continue;
        const data = FS.readFile(rel);
        if (hostIsDir(hp) === true) fs.rmSync(hp, { recursive: true, force: true });
        let same = false;
        try { same = sameBytes(fs.readFileSync(hp), data); } catch { /* no such file */ }
        if (!same) writeHostFile(hp, data);
        known.set(rel, { dir: false, host: hostSig(hp), board: boardSig(FS, rel) });
    }
    // Removed on the board: remove from the host.
    for (const rel of [...known.keys()]) {
        if (!known.has(rel) || seen.has(rel)) continue;
        fs.rmSync(hostPath(rel), { recursive: true, force: true });
        forgetUnder(rel);
    }
}

function syncSafely(fn) {
    try {
        fn(vm.FS);
    } catch (e) {
        log(`filesystem sync failed: ${e.stack || e}`);
    }
}

// Make the fresh MEMFS look like a board's flash: "/" writable and holding
// only the board's files. /tmp and /home are Emscripten defaults we don't
// need; /dev and /proc are needed by Emscripten, so they stay but are left
// out of directory listings of "/".
function prepareFilesystem(FS) {
    for (const d of ['/home/web_user', '/home', '/tmp']) {
        try { FS.rmdir(d); } catch { /* not there */ }
    }
    const root = FS.lookupPath('/').node;
    const ops = root.node_ops;
    root.node_ops = { ...ops, readdir: (node) => ops.readdir(node).filter((n) => !SYSTEM_DIRS.has(n)) };
    // os.stat('') is the current directory on a board (mpremote's `cp x :`
    // stats the destination ''), but ENOENT for Emscripten.
    const stat = FS.stat;
    FS.stat = (p, dontFollow) => stat.call(FS, p === '' ? '.' : p, dontFollow);
    known = new Map();
    syncHostToBoard(FS);
}

// ---------------------------------------------------------------------------
// The interpreter and the REPL state we mirror.

// Run in every fresh interpreter before its REPL starts, to fix two places
// where this build differs from a board:
// - os.ilistdir() (VfsPosix) yields (name, type, inode); a board's flash
//   filesystem also gives the size, which `mpremote ls` shows.
// - input() reads with the C readline, whose stdin here is a stub that never
//   returns a character (it would hang for good). Replace it by one that
//   reads sys.stdin (the host's input) and echoes, like a board's input().
const BOOT_PATCH = `
def _vboard_boot():
    import builtins, os, sys

    def input(prompt=''):
        write = sys.stdout.write
        write(prompt)
        line = ''
        while True:
            c = sys.stdin.read(1)
            if not c:
                continue  # a Ctrl-C: the pending KeyboardInterrupt is raised here
            if c == '\\r' or c == '\\n':
                write('\\r\\n')
                return line
            if c == '\\x03':
                raise KeyboardInterrupt
            if c == '\\x04' and not line:
                raise EOFError
            if c in '\\x08\\x7f':
                if line:
                    line = line[:-1]
                    write('\\x08 \\x08')
            elif c >= ' ':
                line += c
                write(c)
    builtins.input = input

    listdir = os.ilistdir
    def ilistdir(*args):
        d = args[0] if args else ''
        for e in listdir(*args):
            if len(e) == 3:
                size = 0
                if e[1] == 0x8000 and isinstance(e[0], str):
                    try:
                        size = os.stat((d.rstrip('/') + '/' if d else '') + e[0])[6]
                    except OSError:
                        pass
                e = (e[0], e[1], e[2], size)
            yield e
    os.ilistdir = ilistdir
_vboard_boot()
del _vboard_boot
`;

let vm = null;              // current loadMicroPython() instance
let mode = 'friendly';      // 'friendly' or 'raw' REPL
let rawLineEmpty = true;    // raw REPL: nothing typed since the last prompt
let escape = [];            // raw REPL: bytes of a possible "\x05A\x01"
let paste = null;           // raw-paste transfer in progress: { data: [], remain }
let banner = '';

async function startInterpreter({ raw, afterReboot }) {
    out.mute = true;
    const captured = [];
    vm = await loadMicroPython({
        heapsize: opts.heap,
        linebuffer: false,
        stdout: (d) => { for (const c of d) out.vm(c); },
        stderr: (d) => { for (const c of d) out.vm(c); },
        stdin: stdinByte,
    });
    prepareFilesystem(vm.FS);
    vm.runPython(BOOT_PATCH);
    out.lastVmByte = 0;
    if (raw) {
        // Back into the raw REPL as a board does after a soft reboot: it
        // prints only the raw REPL banner.
        vm.replInit();
        vm.replProcessChar(CTRL_A);
        out.mute = false;
        out.raw(RAW_BANNER + '>');
        mode = 'raw';
        rawLineEmpty = true;
    } else {
        out.mute = false;
        out.capture = captured;
        if (afterReboot) { out.skip = Buffer.from('\r\n'); out.skipPos = 0; }
        vm.replInit(); // prints "\r\nMicroPython v... on ...; JS with Emscripten\r\n...>>> "
        out.capture = null;
        mode = 'friendly';
    }
    if (!banner) {
        const m = Buffer.from(captured).toString('latin1').match(/MicroPython [^\r\n]*/);
        banner = m ? m[0] : 'MicroPython';
    }
    escape = [];
    paste = null;
}

async function softReboot() {
    // A board prints this, runs its boot scripts and comes back in the REPL
    // mode it was in. mpremote waits for "soft reboot\r\n".
    syncSafely((FS) => syncBoardToHost(FS, true));
    out.raw('MPY: soft reboot\r\n');
    out.flush();
    await startInterpreter({ raw: mode === 'raw', afterReboot: true });
}

// Would feeding byte c make the REPL run code (so the filesystem may change)?
function runsCode(c) {
    if (mode === 'raw') return c === CTRL_D;
    return c === 0x0d || c === 0x0a || c === CTRL_D;
}

// Feed one byte to the VM's REPL. Returns true if the board must soft-reboot.
function feed(c) {
    const executes = runsCode(c);
    if (executes) {
        out.flush(); // e.g. the REPL's echo of the line about to run
        syncSafely(syncHostToBoard);
    }
    let captured = null;
    if (mode === 'friendly' && c === CTRL_A) out.capture = captured = [];
    vmBusy = true;
    out.holdAll = false;
    lastPoll = realDateNow();
    let ret;
    try {
        ret = vm.replProcessChar(c);
    } catch (e) {
        // The interpreter itself failed (a JavaScript error out of the
        // WebAssembly code). Treat it like a board that crashed and reset.
        log(`interpreter crashed: ${e.stack || e}`);
        const msg = `vboard: the interpreter crashed (${String(e.message || e).split('\n')[0]}); soft reboot\r\n`;
        // In the raw REPL, end the command with an error so the host stops waiting.
        out.raw(mode === 'raw' && executes ? `\x04${msg}\x04` : `\r\n${msg}`);
        return true;
    } finally {
        vmBusy = false;
        out.capture = null;
    }
    if (executes) syncSafely(syncBoardToHost);

    // Mirror the REPL mode (pyexec's state is internal to the VM).
    if (mode === 'raw') {
        if (c === CTRL_B) mode = 'friendly';
        rawLineEmpty = c === CTRL_A || c === CTRL_C || c === CTRL_D;
    } else if (captured && Buffer.from(captured).toString('latin1').endsWith(RAW_BANNER + '>')) {
        mode = 'raw';
        rawLineEmpty = true;
    }
    return ret !== 0;
}

// Raw-paste mode, done by the bridge: this build's own raw-paste reads stdin
// with a stub that returns at once, so the VM cannot do it. We collect the
// code with the board's flow control, then hand it to the VM's plain raw REPL
// in one go (dropping the "OK" that raw mode prints and raw-paste does not).
function startPaste() {
    out.raw('R\x01' + String.fromCharCode(PASTE_WINDOW & 0xff, PASTE_WINDOW >> 8) + '\x01');
    paste = { data: [], remain: PASTE_WINDOW };
}

function pasteByte(c) {
    if (c === CTRL_C) {
        // Host aborts: acknowledge, then report a KeyboardInterrupt as a board does.
        paste = null;
        out.raw('\x04\x04KeyboardInterrupt: \r\n\x04>');
        return false;
    }
    if (c !== CTRL_D) {
        paste.data.push(c);
        if (--paste.remain === 0) {
            out.raw('\x01'); // one more window is free
            paste.remain = PASTE_WINDOW;
        }
        return false;
    }
    out.raw('\x04'); // end of data acknowledged
    let code = Buffer.from(paste.data);
    paste = null;
    if (code.length === 0) {
        code = Buffer.from('\n'); // an empty line would mean "soft reboot" to raw mode
    } else if (code.includes(CTRL_A) || code.includes(CTRL_B)) {
        // These bytes are commands to the raw REPL; pass such code through exec().
        code = Buffer.from('exec(' + pyBytesLiteral(code) + ')\n', 'latin1');
    }
    for (const b of code) vm.replProcessChar(b);
    out.skip = Buffer.from('OK');
    out.skipPos = 0;
    return feed(CTRL_D);
}

function pyBytesLiteral(buf) {
    let s = "b'";
    for (const b of buf) s += '\\x' + b.toString(16).padStart(2, '0');
    return s + "'";
}

// Handle one byte from the host. Returns true if the board must soft-reboot.
function handleByte(c) {
    if (paste) return pasteByte(c);
    if (mode === 'raw' && (escape.length || (c === CTRL_E && rawLineEmpty))) {
        // "\x05A\x01" at the start of a raw REPL line requests raw-paste mode.
        escape.push(c);
        const want = [CTRL_E, 0x41, CTRL_A];
        if (escape.every((b, i) => b === want[i])) {
            if (escape.length === want.length) {
                escape = [];
                startPaste();
            }
            return false;
        }
        const held = escape;
        escape = [];
        for (let i = 0; i < held.length; i++) {
            if (feed(held[i])) {
                // Soft reboot: whatever followed is for the new interpreter.
                input.unshift(Buffer.from(held.slice(i + 1)));
                return true;
            }
        }
        return false;
    }
    return feed(c);
}

// Process queued input until it is empty. Runs are chained (scheduleDrain),
// so input arriving during a soft reboot waits for the new interpreter.
async function drain() {
    while (!input.empty()) {
        const reboot = handleByte(input.shift());
        if (reboot) {
            await softReboot();
        }
    }
    out.flush();
}

let draining = Promise.resolve();
function scheduleDrain() {
    draining = draining.then(drain).catch((e) => {
        log(`internal error: ${e.stack || e}`);
        process.exit(70);
    });
}

// ---------------------------------------------------------------------------
// Start

await startInterpreter({ raw: false, afterReboot: false });
// Nobody is listening yet: drop the boot banner as a USB board would
// (pyserial also flushes its input when it opens the port).
out.chunks = [];
out.size = 0;
serial.on('data', (d) => {
    input.push(d);
    scheduleDrain();
});
process.stdout.write(`BANNER ${banner}\nREADY\n`);
void slaveKeepAlive;
