// End-to-end tests of publishing PathLab as a static site: the release
// build served from a sub-path of a host, its Content-Security-Policy, no
// network request once loaded, and opening again with no network at all
// (a classroom) thanks to its service worker.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { launch, close, newPage, baseUrl, runUntil, serve } from './browser.mjs';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');

before(launch);
after(close);

/** Serves dist/ under `path` on another port. */
const serveUnder = (path) => serve(join(root, 'dist'), path);

/** Records console errors (a policy violation is one), page errors and failed requests. */
function watch(page) {
  const problems = [];
  page.on('console', (m) => { if (m.type() === 'error') problems.push(`console: ${m.text()}`); });
  page.on('pageerror', (e) => problems.push(`page: ${e.message}`));
  page.on('requestfailed', (r) => problems.push(`failed: ${r.url()}`));
  page.on('response', (r) => { if (r.status() >= 400) problems.push(`HTTP ${r.status()}: ${r.url()}`); });
  return problems;
}

test('served from a sub-path, the page loads whole, keeps to its policy and asks the network for nothing more', async () => {
  const server = await serveUnder('/some/sub/path/');
  const page = await newPage();
  try {
    assert.match(server.url, /\/some\/sub\/path\/$/);
    const problems = watch(page);
    await page.goto(`${server.url}?preset=leader-crash&play=1&speed=5`, { waitUntil: 'load' });
    await page.locator('[data-node="db-0-0"]').waitFor({ timeout: 15_000 });
    const policy = await page.locator('meta[http-equiv="Content-Security-Policy"]').getAttribute('content');
    assert.match(policy, /default-src 'self'/);
    assert.match(policy, /'wasm-unsafe-eval'/);
    assert.doesNotMatch(policy, /https?:|\*/, 'no other origin is allowed');
    // Once loaded, playing (and everything shown) needs nothing more.
    await runUntil(page, 1);
    const later = [];
    page.on('request', (r) => later.push(r.url()));
    await runUntil(page, 8);
    assert.deepEqual(later, []);
    assert.deepEqual(problems, []);
  } finally {
    await page.close();
    server.stop();
  }
});

test('once loaded, the app opens again with no network, and works', async () => {
  const page = await newPage(undefined, 'allow');
  try {
    await page.goto(`${baseUrl}?preset=default`, { waitUntil: 'load' });
    await page.locator('[data-node="db-0-0"]').waitFor({ timeout: 15_000 });
    // The service worker has cached the app and controls the page.
    await page.waitForFunction(() => navigator.serviceWorker?.controller != null, null, { timeout: 15_000 });
    await page.context().setOffline(true);
    await page.reload({ waitUntil: 'load' });
    await page.locator('[data-node="db-0-0"]').waitFor({ timeout: 15_000 });
    await page.locator('[data-testid="play"]').click();
    await runUntil(page, 2);
    assert.equal(await page.locator('[data-testid="core-failure"]').count(), 0, 'the simulation runs offline');
    assert.equal(await page.locator('[data-testid="error-panel"]').count(), 0);
  } finally {
    await page.context().setOffline(false);
    await page.close();
  }
});
