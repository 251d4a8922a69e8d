// The board's flash: a host folder kept in step with the interpreter's MEMFS.
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

import fs from 'node:fs';
import path from 'node:path';

// Emscripten's own directories, hidden from the board's listing of "/" and
// never synced. /proc also holds the virtual board's own modules (machine).
export const SYSTEM_DIRS = new Set(['dev', 'proc']);
const HOST_CLOCK_SLACK_NS = 50_000_000n;   // kernel file timestamps are coarse

function sameBytes(a, b) {
    return a.length === b.length && Buffer.compare(Buffer.from(a.buffer, a.byteOffset, a.length),
                                                   Buffer.from(b.buffer, b.byteOffset, b.length)) === 0;
}

function hostIsDir(p) {
    try { return fs.statSync(p).isDirectory(); } catch { return null; }
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

function boardNodeId(FS, p) {
    try { return FS.lookupPath(p).node.id; } catch { return null; }
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

export class Flash {
    // now: the wall clock in ms (the real Date.now: serial.mjs hooks Date.now).
    constructor(hostDir, log, now) {
        this.hostDir = hostDir;
        this.log = log;
        this.now = now;
        this.known = new Map();  // "/rel/path" -> { dir, host: sig, board: sig }
    }

    hostPath(rel) { return path.join(this.hostDir, rel); }

    hostSig(p) {
        const st = fs.statSync(p, { bigint: true });
        if (st.isDirectory()) return { dir: true };
        if (!st.isFile()) return null;
        return { dir: false, size: Number(st.size), mtime: st.mtimeNs, ino: st.ino,
                 at: BigInt(this.now()) * 1000000n };
    }

    boardSig(FS, p) {
        const st = FS.stat(p);
        if (FS.isDir(st.mode)) return { dir: true };
        if (!FS.isFile(st.mode)) return null;
        return { dir: false, size: st.size, mtime: st.mtime.getTime(), ino: st.ino, at: this.now() };
    }

    walkBoard(FS, rel, outList) {
        for (const name of FS.readdir(rel).sort()) {
            if (name === '.' || name === '..') continue;
            const r = path.posix.join(rel, name);
            const sig = this.boardSig(FS, r);
            if (!sig) continue;
            outList.push([r, sig]);
            if (sig.dir) this.walkBoard(FS, r, outList);
        }
    }

    walkHost(rel, outList, depth = 0) {
        if (depth > 32) return; // a symlink loop
        let names;
        try { names = fs.readdirSync(this.hostPath(rel)); } catch { return; }
        for (const name of names.sort()) {
            if (rel === '/' && SYSTEM_DIRS.has(name)) continue;
            const r = path.posix.join(rel, name);
            let sig;
            try { sig = this.hostSig(this.hostPath(r)); } catch { continue; }
            if (!sig) continue;
            outList.push([r, sig]);
            if (sig.dir) this.walkHost(r, outList, depth + 1);
        }
    }

    forgetUnder(rel) {
        for (const k of [...this.known.keys()]) if (k === rel || k.startsWith(rel + '/')) this.known.delete(k);
    }

    // host -> board
    toBoard(FS) {
        const known = this.known;
        const busy = openForWriting(FS);
        const seen = new Set();
        const entries = [];
        this.walkHost('/', entries);
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
            const data = fs.readFileSync(this.hostPath(rel));
            if (boardIsDir(FS, rel) === true) boardRemove(FS, rel);
            if (boardIsDir(FS, rel) === false && sameBytes(FS.readFile(rel), data)) {
                // same contents (e.g. we wrote this file ourselves): just re-record
            } else {
                FS.writeFile(rel, data);
            }
            known.set(rel, { dir: false, host: this.hostSig(this.hostPath(rel)), board: this.boardSig(FS, rel) });
        }
        // Removed on the host since the last sync: remove on the board.
        for (const rel of [...known.keys()]) {
            if (!known.has(rel) || seen.has(rel)) continue;
            if (busy.has(boardNodeId(FS, rel))) continue;
            boardRemove(FS, rel);
            this.forgetUnder(rel);
        }
    }

    // board -> host. finalSync: also files still open (the interpreter is going away).
    toHost(FS, finalSync = false) {
        const known = this.known;
        const busy = finalSync ? new Set() : openForWriting(FS);
        const seen = new Set();
        const entries = [];
        this.walkBoard(FS, '/', entries);
        for (const [rel, sig] of entries) {
            seen.add(rel);
            const rec = known.get(rel);
            const hp = this.hostPath(rel);
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
            known.set(rel, { dir: false, host: this.hostSig(hp), board: this.boardSig(FS, rel) });
        }
        // Removed on the board: remove from the host.
        for (const rel of [...known.keys()]) {
            if (!known.has(rel) || seen.has(rel)) continue;
            fs.rmSync(this.hostPath(rel), { recursive: true, force: true });
            this.forgetUnder(rel);
        }
    }

    // A sync that fails is reported, never fatal: the board keeps running.
    sync(FS, direction, finalSync = false) {
        try {
            if (direction === 'toBoard') this.toBoard(FS);
            else this.toHost(FS, finalSync);
        } catch (e) {
            this.log(`filesystem sync failed: ${e.stack || e}`);
        }
    }

    // Make a fresh MEMFS look like a board's flash: "/" writable and holding
    // only the board's files. /tmp and /home are Emscripten defaults we don't
    // need; /dev and /proc are needed by Emscripten, so they stay but are left
    // out of directory listings of "/". Then load the host folder into it.
    load(FS) {
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
        this.known = new Map();
        this.sync(FS, 'toBoard');
    }
}
