// Trunk post-build hook: minifies the JavaScript of a release build (Trunk's
// own minifier gives up on wasm-bindgen's `export default`), then renews the
// integrity hashes that index.html carries for the files it changed. Debug
// builds are left alone.
import { readFile, writeFile, readdir } from 'node:fs/promises';
import { createHash } from 'node:crypto';
import { join } from 'node:path';
import { minify } from 'terser';

const dir = process.env.TRUNK_STAGING_DIR;
if (!dir) {
  console.error('minify-js: TRUNK_STAGING_DIR is not set (run by trunk as a post_build hook)');
  process.exit(1);
}
if (process.env.TRUNK_PROFILE !== 'release') process.exit(0);

const sri = (bytes) => `sha384-${createHash('sha384').update(bytes).digest('base64')}`;
const htmlPath = join(dir, 'index.html');
let html = await readFile(htmlPath, 'utf8');
for (const name of await readdir(dir)) {
  // The worker's loader is two statements, the service worker is filled in
  // by release-page.mjs; everything else is wasm-bindgen glue.
  if (!name.endsWith('.js') || name.endsWith('_loader.js') || name === 'sw.js') continue;
  const path = join(dir, name);
  const source = await readFile(path, 'utf8');
  const module = /^\s*export\s|\nexport\s/.test(source);
  const out = await minify(source, { module, compress: { passes: 2 }, mangle: true, format: { comments: false } });
  if (!out.code) throw new Error(`minify-js: terser gave nothing for ${name}`);
  const before = sri(Buffer.from(source));
  await writeFile(path, out.code);
  html = html.split(before).join(sri(Buffer.from(out.code)));
}
await writeFile(htmlPath, html);
