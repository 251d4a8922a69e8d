// Run one MicroPython script on the pinned WebAssembly build (the test VM).
//
//   node tools/mpvm/run.mjs JOB.json RESULT.json
//
// JOB: {heapsize, scripts: [src, ...], dirs: [[hostDir, vmDir], ...], files: {vmPath: base64},
//       collect: [vmPath, ...]}
// MicroPython's stdout is passed straight through to ours (live). RESULT gets
// {error: traceback|null, heap_start, heap_end, files: {vmPath: base64|null}},
// where heap_* are the `GC: total:` figures of micropython.mem_info() before and
// after the script: the heap grew past its initial size iff they differ.
import fs from "node:fs";
import path from "node:path";
import { loadMicroPython } from "@micropython/micropython-webassembly-pyscript";

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

function gcTotal() {
  capture = [];
  try { mp.runPython("import micropython\nmicropython.mem_info()"); }
  finally { var text = Buffer.concat(capture).toString(); capture = null; }
  const m = /GC: total: (\d+)/.exec(text);
  return m ? Number(m[1]) : -1;
}

for (const [hostDir, vmDir] of job.dirs || []) copyTree(hostDir, vmDir);
for (const [vmPath, b64] of Object.entries(job.files || {})) {
  mkdirs(path.posix.dirname(vmPath));
  mp.FS.writeFile(vmPath, Buffer.from(b64, "base64"));
}

const result = { error: null, heap_start: gcTotal(), heap_end: -1, files: {} };
for (const src of job.scripts) {
  try {
    mp.runPython(src);
  } catch (e) {
    result.error = e && e.message ? e.message : String(e);
    break;
  }
}
result.heap_end = gcTotal();
for (const vmPath of job.collect || []) {
  try { result.files[vmPath] = Buffer.from(mp.FS.readFile(vmPath)).toString("base64"); }
  catch (e) { result.files[vmPath] = null; }
}
fs.writeFileSync(resultPath, JSON.stringify(result));
