// Run one MicroPython script on the pinned WebAssembly build (the test VM).
//
//   node run.mjs JOB.json RESULT.json    (started by mpvm/__init__.py)
//
// JOB: {heapsize, scripts: [src, ...], dirs: [[hostDir, vmDir], ...], files: {vmPath: base64},
//       collect: [vmPath, ...]}
// MicroPython's stdout is passed straight through to ours (live). RESULT gets
// {error: traceback|null, heap_start, heap_end, files: {vmPath: base64|null}},
// where heap_start is the `GC: total:` of micropython.mem_info() before the
// script and heap_end the largest total seen at the end of any chunk: the heap
// grew past its initial size iff they differ.
import fs from "node:fs";
import path from "node:path";
import { loadMicroPython } from "../wasm.mjs";

const [jobPath, resultPath] = process.argv.slice(2);
const job = JSON.parse(fs.readFileSync(jobPath, "utf8"));

let capture = null;   // when set, MicroPython output goes here instead of stdout
const write = (data) => {
  const buf = Buffer.from(data);
  if (capture !== null) capture.push(buf);
  else process.stdout.write(buf);
};
const mp = await loadMicroPython({
  heapsize: job.heapsize, stdout: write, stderr: write, linebuffer: false,
});

function mkdirs(p) {
  let cur = "";
  for (const part of p.split("/").filter(Boolean)) {
    cur += "/" + part;
    try { mp.FS.mkdir(cur); } catch (e) { /* exists */ }
  }
}

function copyTree(hostDir, vmDir) {
  mkdirs(vmDir);
  for (const name of fs.readdirSync(hostDir)) {
    if (name === "__pycache__") continue;
    const h = path.join(hostDir, name), v = vmDir.replace(/\/$/, "") + "/" + name;
    if (fs.statSync(h).isDirectory()) copyTree(h, v);
    else mp.FS.writeFile(v, fs.readFileSync(h));
  }
}

const GC_RE = /GC: total: (\d+)/;
const MARK = "\x02GC\x03";

// Run one chunk and read the GC total at its end, inside the same call: the
// top-level collection that follows may free whole split-heap areas again,
// so the total must be read before control returns here.
function runChunk(src) {
  const wrapped =
    "_mpvm_src = " + JSON.stringify(src) + "\n" +
    "try:\n    exec(_mpvm_src, globals())\n" +
    "finally:\n    import micropython as _mpvm_mp, gc as _mpvm_gc\n    print(" + JSON.stringify(MARK) + ")\n" +
    "    print('ALLOC', _mpvm_gc.mem_alloc())\n    _mpvm_mp.mem_info()\n";
  capture = [];
  let error = null;
  try { mp.runPython(wrapped); }
  catch (e) { error = e && e.message ? e.message : String(e); }
  const text = Buffer.concat(capture).toString("latin1");
  capture = null;
  const at = text.lastIndexOf(MARK);
  const own = at >= 0 ? text.slice(0, at) : text;
  process.stdout.write(Buffer.from(own, "latin1"));
  const m = at >= 0 ? GC_RE.exec(text.slice(at)) : null;
  const a = at >= 0 ? /ALLOC (\d+)/.exec(text.slice(at)) : null;
  return { error, total: m ? Number(m[1]) : -1, alloc: a ? Number(a[1]) : -1 };
}

for (const [hostDir, vmDir] of job.dirs || []) copyTree(hostDir, vmDir);
for (const [vmPath, b64] of Object.entries(job.files || {})) {
  mkdirs(path.posix.dirname(vmPath));
  mp.FS.writeFile(vmPath, Buffer.from(b64, "base64"));
}

const start = runChunk("pass").total;
const result = { error: null, heap_start: start, heap_end: start, chunk_totals: [], peak_alloc: 0,
                 loops: 0, files: {} };
function record(r) {
  result.chunk_totals.push(r.total);
  result.heap_end = Math.max(result.heap_end, r.total);
  result.peak_alloc = Math.max(result.peak_alloc, r.alloc);
}
for (const src of job.scripts) {
  const r = runChunk(src);
  record(r);
  if (r.error) { result.error = r.error; break; }
}
// `loop`: one statement run again and again as separate top-level calls (so the
// GC runs in between, as on a board) until it raises StopIteration, e.g.
// "next(gen)" drives a generator that yields once per training epoch.
while (job.loop && result.error === null) {
  const r = runChunk(job.loop);
  if (r.error && /StopIteration/.test(r.error.split("\n").slice(-2).join(" "))) {
    result.chunk_totals.push(r.total);
    break;
  }
  record(r);
  result.loops += 1;
  if (r.error) result.error = r.error;
}
for (const vmPath of job.collect || []) {
  try { result.files[vmPath] = Buffer.from(mp.FS.readFile(vmPath)).toString("base64"); }
  catch (e) { result.files[vmPath] = null; }
}
fs.writeFileSync(resultPath, JSON.stringify(result));
