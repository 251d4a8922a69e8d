// Run MicroPython scripts on the pinned WebAssembly build (the test VM).
//
//   node run.mjs JOB.json RESULT.json PROGRESS.json   (started by mpvm/__init__.py)
//
// JOB: {heapsize, scripts: [src, ...], dirs: [[hostDir, vmDir], ...], files: {vmPath: base64},
//       collect: [vmPath, ...], collect_tree: {dir: vmDir, skip: [vmPath, ...]}|null,
//       loop: src|null, time_limit: seconds, caller_pid}
// MicroPython's stdout is passed through to ours as it comes. RESULT gets
// {error: traceback|null, heap_start, heap_end, chunk_totals, peak_alloc, loops,
//  files: {vmPath: base64|null}}, where heap_start is the `GC: total:` of
// micropython.mem_info() before the scripts and heap_end the largest total seen
// at the end of any chunk: the heap grew past its initial size iff they differ.
// PROGRESS is rewritten before each chunk with the same fields so far and the
// chunk running ({chunk, of, loop}): what the caller reports if it must stop us.
//
// A script that raises while micropython.heap_lock() is active made this
// build spin for good (turning the exception into a JavaScript error needs the
// heap). Each chunk therefore runs inside _mpvm_chunk(), which unlocks the
// heap before the exception leaves Python; a chunk that ends with the heap
// still locked is an error too. And the process ends itself at its time limit.
import fs from 'node:fs';
import path from 'node:path';
import { Worker } from 'node:worker_threads';
import { loadMicroPython } from '../wasm.mjs';

const MARK = '\x02GC\x03';
const GC_RE = /GC: total: (\d+)/;
// Seconds past the caller's own limit after which we end ourselves (the caller kills us first).
const GRACE = 5;

// The runner's own Python, run once before the scripts.
const PRELUDE = `
import micropython as _mpvm_mp, gc as _mpvm_gc
_mpvm_unlocked = [0]

def _mpvm_unlock():
    # Undo the heap_lock()s left active: an allocation fails only while the heap is locked.
    try:
        bytearray(1)
        return 0
    except MemoryError:
        pass
    n = 0
    while True:
        depth = _mpvm_mp.heap_unlock()
        if depth > 0x3fff:  # it was not locked after all (a full heap): undo
            _mpvm_mp.heap_lock()
            return n
        n += 1
        if depth == 0:
            return n

def _mpvm_chunk(src):
    try:
        exec(src, globals())
    except BaseException:
        _mpvm_unlocked[0] = _mpvm_unlock()
        raise
    n = _mpvm_unlock()
    if n:
        raise RuntimeError('the script left the heap locked (micropython.heap_lock() without '
                           'heap_unlock()); the runner unlocked it')

def _mpvm_end(mark):
    print(mark)
    print('ALLOC', _mpvm_gc.mem_alloc())
    print('UNLOCKED', _mpvm_unlocked[0])
    _mpvm_unlocked[0] = 0
    _mpvm_mp.mem_info()
`;

// Kill this process at the time limit even if the VM never gives the event
// loop back (a thread of its own), or when the process that started us (ppid,
// as the caller says: we may have been orphaned before this runs) is gone.
function watchdog(limitSeconds, ppid) {
    const w = new Worker(`
        const { workerData: { ppid, deadline } } = require('node:worker_threads');
        setInterval(() => {
            if (process.ppid !== ppid || Date.now() > deadline) process.kill(process.pid, 'SIGKILL');
        }, 200);
    `, { eval: true, workerData: { ppid, deadline: Date.now() + (limitSeconds + GRACE) * 1000 } });
    w.unref();
}

function mkdirs(mp, p) {
    let cur = '';
    for (const part of p.split('/').filter(Boolean)) {
        cur += '/' + part;
        try { mp.FS.mkdir(cur); } catch (e) { /* exists */ }
    }
}

// Every file under vmDir (but not under a path in skip), for collect_tree.
function listTree(mp, vmDir, skip, out) {
    for (const name of mp.FS.readdir(vmDir)) {
        if (name === '.' || name === '..') continue;
        const v = vmDir.replace(/\/$/, '') + '/' + name;
        if (skip.includes(v)) continue;
        if (mp.FS.isDir(mp.FS.stat(v).mode)) listTree(mp, v, skip, out);
        else out.push(v);
    }
    return out;
}

function copyTree(mp, hostDir, vmDir) {
    mkdirs(mp, vmDir);
    for (const name of fs.readdirSync(hostDir)) {
        if (name === '__pycache__') continue;
        const h = path.join(hostDir, name), v = vmDir.replace(/\/$/, '') + '/' + name;
        if (fs.statSync(h).isDirectory()) copyTree(mp, h, v);
        else mp.FS.writeFile(v, fs.readFileSync(h));
    }
}

// The traceback as the script would see it: without the runner's own frames.
function scriptTraceback(text, unlocked) {
    const lines = text.replace(/\n+$/, '').split('\n').filter((l) => !/^ {2}File "<stdin>"/.test(l));
    if (unlocked) {
        lines.push('(the heap was locked when this was raised: micropython.heap_lock() without ' +
                   'heap_unlock(); the runner unlocked it)');
    }
    return lines.join('\n') + '\n';
}

// MicroPython's output: passed through as it comes, except from the first
// \x02 of a chunk on, which may start the runner's own report (MARK); that
// part is held until the chunk ends.
class Output {
    constructor() { this.held = null; }

    write(data) {
        let buf = Buffer.from(data);
        if (this.held === null) {
            const at = buf.indexOf(MARK.charCodeAt(0));
            if (at < 0) { process.stdout.write(buf); return; }
            process.stdout.write(buf.subarray(0, at));
            buf = buf.subarray(at);
            this.held = [];
        }
        this.held.push(buf);
    }

    // End of a chunk: pass on what the script printed, return the runner's report.
    report() {
        const text = Buffer.concat(this.held || []).toString('latin1');
        this.held = null;
        const at = text.lastIndexOf(MARK);
        process.stdout.write(Buffer.from(at >= 0 ? text.slice(0, at) : text, 'latin1'));
        return at >= 0 ? text.slice(at) : '';
    }
}

// Run one chunk and read the GC total at its end, inside the same call: the
// top-level collection that follows may free whole split-heap areas again,
// so the total must be read before control returns here.
function runChunk(mp, out, src) {
    const wrapped = `_mpvm_src = ${JSON.stringify(src)}\ntry:\n    _mpvm_chunk(_mpvm_src)\n` +
        `finally:\n    _mpvm_end(${JSON.stringify(MARK)})\n`;
    let error = null;
    try { mp.runPython(wrapped); }
    catch (e) { error = e && e.message ? e.message : String(e); }
    const tail = out.report();
    const num = (re) => { const m = re.exec(tail); return m ? Number(m[1]) : -1; };
    if (error !== null) error = scriptTraceback(error, num(/UNLOCKED (\d+)/) > 0);
    return { error, total: num(GC_RE), alloc: num(/ALLOC (\d+)/) };
}

async function main([jobPath, resultPath, progressPath]) {
    const job = JSON.parse(fs.readFileSync(jobPath, 'utf8'));
    watchdog(job.time_limit, job.caller_pid || process.ppid);
    const out = new Output();
    const write = (data) => out.write(data);
    const mp = await loadMicroPython({ heapsize: job.heapsize, stdout: write, stderr: write, linebuffer: false });
    for (const [hostDir, vmDir] of job.dirs || []) copyTree(mp, hostDir, vmDir);
    for (const [vmPath, b64] of Object.entries(job.files || {})) {
        mkdirs(mp, path.posix.dirname(vmPath));
        mp.FS.writeFile(vmPath, Buffer.from(b64, 'base64'));
    }
    mp.runPython(PRELUDE);

    const start = runChunk(mp, out, 'pass').total;
    const result = { error: null, heap_start: start, heap_end: start, chunk_totals: [], peak_alloc: 0,
                     loops: 0, files: {} };
    const record = (r) => {
        result.chunk_totals.push(r.total);
        result.heap_end = Math.max(result.heap_end, r.total);
        result.peak_alloc = Math.max(result.peak_alloc, r.alloc);
    };
    const progress = (chunk, loop) => fs.writeFileSync(progressPath, JSON.stringify(
        { ...result, files: undefined, chunk, of: job.scripts.length, loop }));
    for (const [i, src] of job.scripts.entries()) {
        progress(i, null);
        const r = runChunk(mp, out, src);
        record(r);
        if (r.error) { result.error = r.error; break; }
    }
    // `loop`: one statement run again and again as separate top-level calls (so the
    // GC runs in between, as on a board) until it raises StopIteration, e.g.
    // "next(gen)" drives a generator that yields once per training epoch.
    while (job.loop && result.error === null) {
        progress(null, result.loops);
        const r = runChunk(mp, out, job.loop);
        if (r.error && /StopIteration/.test(r.error.split('\n').slice(-2).join(' '))) {
            result.chunk_totals.push(r.total);
            break;
        }
        record(r);
        result.loops += 1;
        if (r.error) result.error = r.error;
    }
    const tree = job.collect_tree ? listTree(mp, job.collect_tree.dir, job.collect_tree.skip || [], []) : [];
    for (const vmPath of (job.collect || []).concat(tree)) {
        try { result.files[vmPath] = Buffer.from(mp.FS.readFile(vmPath)).toString('base64'); }
        catch (e) { result.files[vmPath] = null; }
    }
    fs.writeFileSync(resultPath, JSON.stringify(result));
}

await main(process.argv.slice(2));
