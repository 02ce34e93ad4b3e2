// Trunk post-build hook, release builds only (run after minify-js.mjs, so
// the service worker is not minified and index.html's hashes are final): makes
// the page safe and usable offline.
// - A Content-Security-Policy <meta> allows only the app's own origin (plus
//   WebAssembly compilation, and the inline start-up script Trunk writes,
//   by its hash; inline style attributes are allowed for the diagram).
// - The service worker (static/sw.js) gets this build's version and files,
//   and a small script registers it.
import { readFile, writeFile, readdir } from 'node:fs/promises';
import { createHash } from 'node:crypto';
import { join } from 'node:path';

const dir = process.env.TRUNK_STAGING_DIR;
if (!dir) {
  console.error('release-page: TRUNK_STAGING_DIR is not set (run by trunk as a post_build hook)');
  process.exit(1);
}
if (process.env.TRUNK_PROFILE !== 'release') process.exit(0);

const htmlPath = join(dir, 'index.html');
let html = await readFile(htmlPath, 'utf8');

// The service worker: every file of the build, and a version named by them.
await writeFile(join(dir, 'register-sw.js'),
  "if ('serviceWorker' in navigator) navigator.serviceWorker.register('./sw.js').catch((e) => console.warn('PathLab works online only: ' + e));\n");
const files = (await readdir(dir)).filter((f) => f !== 'sw.js' && f !== 'index.html').sort();
const version = createHash('sha256').update(files.join('\n')).update(html).digest('hex').slice(0, 16);
const sw = (await readFile(join(dir, 'sw.js'), 'utf8'))
  .replace(/(['"])__VERSION__\1/, JSON.stringify(version))
  .replace('__FILES__', JSON.stringify(['./', ...files.map((f) => `./${f}`)]));
if (sw.includes('__VERSION__') || sw.includes('__FILES__')) throw new Error('release-page: sw.js has no placeholders');
await writeFile(join(dir, 'sw.js'), sw);

// The policy: inline scripts (Trunk's start-up module) are allowed by hash.
const hashes = [...html.matchAll(/<script(?![^>]*\bsrc=)[^>]*>([\s\S]*?)<\/script>/g)]
  .map((m) => `'sha256-${createHash('sha256').update(m[1]).digest('base64')}'`);
const policy = [
  "default-src 'self'",
  `script-src 'self' 'wasm-unsafe-eval' ${hashes.join(' ')}`.trim(),
  "style-src 'self' 'unsafe-inline'",
  "img-src 'self' data: blob:",
  "connect-src 'self'",
  "worker-src 'self'",
  "object-src 'none'",
  "base-uri 'none'",
  "form-action 'none'",
].join('; ');
const meta = `<meta http-equiv=Content-Security-Policy content="${policy}">`;
const charset = html.match(/<meta charset=[^>]*>/i);
if (!charset) throw new Error('release-page: index.html has no <meta charset>');
html = html.replace(charset[0], charset[0] + meta);
html = html.replace('</head>', '<script src=./register-sw.js defer></script></head>');
await writeFile(htmlPath, html);
