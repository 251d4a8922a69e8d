// The pinned MicroPython WebAssembly build, for run.mjs and bridge.mjs.
//
// The Python side finds the node_modules folder that holds it (tinyrnn_host.paths.node_modules)
// and passes it as TINYRNN_NODE_MODULES, so the runners work wherever the package is installed;
// without it, Node's own lookup from this file's folder (a checkout's tools/node_modules).
import path from 'node:path';
import { createRequire } from 'node:module';
import { pathToFileURL } from 'node:url';

const PACKAGE = '@micropython/micropython-webassembly-pyscript';
const dir = process.env.TINYRNN_NODE_MODULES;
const entry = dir ? pathToFileURL(createRequire(path.join(dir, 'x.js')).resolve(PACKAGE)).href : PACKAGE;

export const { loadMicroPython } = await import(entry);
