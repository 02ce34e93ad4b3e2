// End-to-end smoke test of the release build in headless Chromium.
// PATHLAB_BASE_URL names the served build (scripts/test.sh serves dist/ and sets it).
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdir } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium } from 'playwright-core';

const baseUrl = process.env.PATHLAB_BASE_URL;
const chromiumPath = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
const screenshotDir = join(dirname(fileURLToPath(import.meta.url)), 'screenshots');

let browser;

before(async () => {
  assert.ok(baseUrl, 'set PATHLAB_BASE_URL to the address of a served release build');
  browser = await chromium.launch({
    executablePath: chromiumPath,
    headless: true,
    args: [
      '--no-sandbox',
      '--disable-gpu',
      '--disable-quic',
      '--no-first-run',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
    ],
  });
});

after(async () => {
  await browser?.close();
});

/** Opens a fresh page and records every console error, page error and failed request. */
async function openPage() {
  const page = await browser.newPage({ viewport: { width: 1280, height: 800 } });
  const problems = [];
  page.on('console', (msg) => {
    if (msg.type() === 'error') problems.push(`console error: ${msg.text()}`);
  });
  page.on('pageerror', (err) => problems.push(`page error: ${err.message}`));
  page.on('requestfailed', (req) => problems.push(`request failed: ${req.url()}`));
  page.on('response', (res) => {
    if (res.status() >= 400) problems.push(`HTTP ${res.status()}: ${res.url()}`);
  });
  await page.goto(baseUrl, { waitUntil: 'load' });
  return { page, problems };
}

test('the page loads, the play button toggles, and nothing logs an error', async () => {
  const { page, problems } = await openPage();
  try {
    const play = page.locator('[data-testid="play"]');
    await play.waitFor({ state: 'visible', timeout: 15_000 });
    assert.equal(await page.title(), 'PathLab');
    assert.equal(
      (await page.locator('h1').textContent())?.trim(),
      'PathLab — the request-path laboratory',
    );
    assert.equal((await play.textContent())?.trim(), 'Play');

    await play.click();
    await page.waitForFunction(
      () => document.querySelector('[data-testid="play"]')?.textContent?.trim() === 'Pause',
      undefined,
      { timeout: 5_000 },
    );
    assert.equal((await play.textContent())?.trim(), 'Pause');

    assert.equal(await page.locator('[data-testid="error-panel"]').count(), 0, 'no error panel');
    await mkdir(screenshotDir, { recursive: true });
    await page.screenshot({ path: join(screenshotDir, 'smoke.png'), fullPage: true });
    assert.deepEqual(problems, [], 'no console errors, page errors or failed requests');
  } finally {
    await page.close();
  }
});
