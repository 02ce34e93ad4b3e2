// Core benchmark as WebAssembly: runs `pathlab-sim bench` compiled for
// wasm32-wasip1 with the web-core profile (the same optimisation settings as
// the core's worker in the browser build) under Node's WASI, and prints its output.
// Usage: node e2e/wasm-bench.mjs <pathlab-sim.wasm> [travel] [arguments…]
// scripts/bench.sh builds the module and runs this right after the native
// benchmark.
import { setFlagsFromString } from 'node:v8';
import { WASI } from 'node:wasi';
import { readFile, mkdtemp, rm } from 'node:fs/promises';
import { openSync, closeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

// Node 20 sometimes corrupts its heap during a long WASI run and crashes
// right after it. Growing the module's memory from JavaScript before the
// start made that frequent here (2 runs in 3 after growing by 64 MiB, 1 in 6
// by 16 MiB), so this script does not. With V8's fast API calls off, no run
// crashed, grown or not (30 runs); WASI's functions are called a handful of
// times per benchmark, so turning them off costs nothing.
setFlagsFromString('--no-turbo-fast-api-calls');

// A first argument that is not an option names the subcommand (`travel`);
// otherwise it is `bench`.
const [wasmPath, ...rest] = process.argv.slice(2);
const sub = rest[0] && !rest[0].startsWith('-') ? rest.shift() : 'bench';
const benchArgs = rest;
if (!wasmPath) {
  console.error('usage: node e2e/wasm-bench.mjs <pathlab-sim.wasm> [bench arguments…]');
  process.exit(2);
}

// Node's WASI answers EAGAIN once a piped stdout holds ~64 KB, so the module
// writes to a file, which is printed afterwards.
const dir = await mkdtemp(join(tmpdir(), 'pathlab-wasm-bench-'));
const outPath = join(dir, 'stdout.txt');
const out = openSync(outPath, 'w');
let code;
try {
  const wasi = new WASI({
    version: 'preview1',
    args: ['pathlab-sim', sub, ...benchArgs],
    env: {},
    stdout: out,
    returnOnExit: true,
  });
  const module = await WebAssembly.compile(await readFile(wasmPath));
  const instance = await WebAssembly.instantiate(module, wasi.getImportObject());
  code = wasi.start(instance);
} finally {
  closeSync(out);
  process.stdout.write(await readFile(outPath, 'utf8'));
  await rm(dir, { recursive: true, force: true });
}
if (code !== 0) {
  console.error(`pathlab-sim ${sub} exited with status ${code}`);
  process.exit(code || 1);
}
