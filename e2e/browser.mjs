// What the end-to-end tests share: one headless Chromium, pages opened at a
// query with every problem recorded, and waiting for simulated time.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdir } from 'node:fs/promises';
import { createInterface } from 'node:readline';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium } from 'playwright-core';

const here = dirname(fileURLToPath(import.meta.url));
export const baseUrl = process.env.PATHLAB_BASE_URL;
const chromiumPath = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
/** Screenshots go here (not committed): look at them. */
export const screenshotDir = join(here, 'screenshots');

let browser;

/** Starts the browser (call from `before`). */
export async function launch() {
  assert.ok(baseUrl, 'set PATHLAB_BASE_URL to the address of a served release build');
  await mkdir(screenshotDir, { recursive: true });
  browser = await chromium.launch({
    executablePath: chromiumPath,
    headless: true,
    args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
      '--disable-background-networking', '--disable-component-update', '--disable-sync'],
  });
}

/** Stops the browser (call from `after`). */
export async function close() {
  await browser?.close();
}

/**
 * A new page in a fresh context, nothing loaded yet. The app's service
 * worker is kept out unless `serviceWorkers` is 'allow': tests that cut a
 * file off (page.route) must reach the network, not its cache.
 */
export const newPage = (viewport = { width: 1280, height: 720 }, serviceWorkers = 'block') =>
  browser.newPage({ viewport, serviceWorkers });

/** Opens a page at `query` and records every console error, page error and failed request. */
export async function open(query = '', viewport = { width: 1280, height: 720 }) {
  const page = await newPage(viewport);
  const problems = [];
  page.on('console', (msg) => {
    if (msg.type() === 'error') problems.push(`console error: ${msg.text()}`);
  });
  page.on('pageerror', (err) => problems.push(`page error: ${err.message}`));
  page.on('requestfailed', (req) => problems.push(`request failed: ${req.url()}`));
  page.on('response', (res) => {
    if (res.status() >= 400) problems.push(`HTTP ${res.status()}: ${res.url()}`);
  });
  await page.goto(baseUrl + query, { waitUntil: 'load' });
  // .first(): a compare draws every node twice.
  await page.locator('[data-node="db-0-0"]').first().waitFor({ timeout: 15_000 });
  return { page, problems };
}

/** The value shown by a metric tile. */
export const metric = (page, key) => page.locator(`[data-metric="${key}"] .tile-value`).textContent();

/** The simulated time the page shows, in seconds. */
export const clock = async (page) => Number((await page.locator('[data-testid="clock"]').textContent()).match(/t = ([\d.]+)/)[1]);

/**
 * Waits until the simulation core has answered every action taken so far
 * (the core runs in a worker; the page shows what it answered).
 */
export async function settled(page) {
  await page.locator('[data-testid="clock"][data-pending="0"]').waitFor({ timeout: 15_000 });
}

/** Waits until the simulated clock reaches `seconds`. */
export async function runUntil(page, seconds) {
  await page.waitForFunction(
    (s) => Number(document.querySelector('[data-testid="clock"]')?.textContent.match(/t = ([\d.]+)/)?.[1]) >= s,
    seconds, { timeout: 60_000 },
  );
}

/**
 * Serves `dir` (under `path`) with e2e/static-server.mjs on another free
 * port, so on another origin; resolves to its URL and a stop function.
 */
export async function serve(dir, path = '/') {
  const child = spawn(process.execPath, [join(here, 'static-server.mjs'), dir, '0', path]);
  const url = await new Promise((resolve, reject) => {
    createInterface({ input: child.stdout }).once('line', resolve);
    child.once('exit', (code) => reject(new Error(`the server stopped (${code})`)));
  });
  return { url, stop: () => child.kill() };
}
