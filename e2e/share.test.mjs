// End-to-end tests of an experiment leaving the page: a link in the address
// bar that opens the same run at the same moment elsewhere, a run saved as a file
// (scenario, seed, the commands in their places, the moment it was saved)
// that the command line replays to the page's fingerprint, and the
// per-second metrics as CSV.
// Screenshots go to e2e/screenshots/: look at them.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { launch, close, open, newPage, baseUrl, runUntil, settled } from './browser.mjs';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');

before(launch);
after(close);

test('a run saved after a crash and a setting change replays in the command line to the same fingerprint', async () => {
  const { page, problems } = await open('?preset=default&seed=3&speed=10');
  const dir = await mkdtemp(join(tmpdir(), 'pathlab-run-'));
  try {
    const play = () => page.locator('[data-testid="play"]').click();
    await play();
    await runUntil(page, 5);
    await page.locator('[data-node="app-2"]').click();
    await page.locator('[data-action="crash"]').click();
    const group = page.locator('[data-group="database"]');
    if ((await group.getAttribute('open')) === null) await group.locator('summary').click();
    await page.locator('[data-testid="read-from"]').selectOption('followers');
    await runUntil(page, 12);
    await play();
    await settled(page);
    // Back a little: the file holds the run up to the moment shown.
    for (let i = 0; i < 7; i++) await page.keyboard.press('ArrowLeft');
    await settled(page);
    const fingerprint = await page.locator('[data-testid="fingerprint"]').getAttribute('data-fingerprint');
    const [download] = await Promise.all([
      page.waitForEvent('download'),
      page.locator('[data-testid="export"]').click(),
    ]);
    assert.match(download.suggestedFilename(), /^pathlab-default-seed3-[\d.]+s\.json$/);
    const path = join(dir, download.suggestedFilename());
    await download.saveAs(path);
    const file = JSON.parse(await readFile(path, 'utf8'));
    assert.equal(file.pathlab_run, 1);
    assert.equal(file.commands.length, 2, 'the crash and the setting');
    assert.equal(file.fingerprint, fingerprint);
    const out = execFileSync('cargo', ['run', '--quiet', '--release', '-p', 'pathlab-sim', '--', 'run', '--run-file', path, '--json'], { cwd: root });
    assert.equal(JSON.parse(out.toString()).fingerprint, fingerprint);
    // The metrics up to that moment, a row per simulated second.
    const [csv] = await Promise.all([
      page.waitForEvent('download'),
      page.locator('[data-testid="export-metrics"]').click(),
    ]);
    const csvPath = join(dir, csv.suggestedFilename());
    await csv.saveAs(csvPath);
    const rows = (await readFile(csvPath, 'utf8')).trim().split('\n');
    assert.match(rows[0], /^t_s,requests,ok,errors,stale,p50_ms/);
    const seconds = Math.floor(file.until / 1e6);
    assert.equal(rows.length - 1, seconds, `a row for each of the ${seconds} seconds`);
    assert.equal(Number(rows.at(-1).split(',')[0]), seconds);
    assert.deepEqual(problems, []);
  } finally {
    await page.close();
    await rm(dir, { recursive: true, force: true });
  }
});

/** Every tile's value, by its data-metric. */
const tiles = (page) => page.locator('[data-metric]').evaluateAll((ts) => Object.fromEntries(ts.map((t) => [t.dataset.metric, t.querySelector('.tile-value').textContent])));

test('the address holds the run: opened in a fresh browser it shows the same moment, fingerprint and tiles', async () => {
  const { page, problems } = await open('?preset=leader-crash&seed=2&speed=10');
  const other = await newPage();
  try {
    const play = () => page.locator('[data-testid="play"]').click();
    await play();
    await runUntil(page, 8);
    await page.locator('[data-node="app-1"]').click();
    await page.locator('[data-action="crash"]').click();
    const group = page.locator('[data-group="database"]');
    if ((await group.getAttribute('open')) === null) await group.locator('summary').click();
    await page.locator('[data-testid="read-from"]').selectOption('followers');
    await runUntil(page, 24);
    await play();
    await settled(page);
    for (let i = 0; i < 3; i++) await page.keyboard.press('ArrowLeft');
    await settled(page);
    // The link follows: wait until the address has caught up with the moment shown.
    const clock = await page.locator('[data-testid="clock"]').textContent();
    await page.waitForTimeout(500);
    const url = page.url();
    assert.match(url, /#run=[A-Za-z0-9_-]+$/);
    assert.ok(url.length < 2000, `a short link: ${url.length} characters`);
    const fingerprint = await page.locator('[data-testid="fingerprint"]').getAttribute('data-fingerprint');
    const shown = await tiles(page);
    // Copy link says what it did.
    await page.locator('[data-testid="share"]').click();
    assert.match(await page.locator('[data-testid="notice"]').textContent(), /Link copied|Copy this link by hand/);
    // A fresh browser context (nothing shared) opens the same moment, paused.
    await other.goto(url, { waitUntil: 'load' });
    await other.locator('[data-node="db-0-0"]').waitFor({ timeout: 15_000 });
    await other.waitForFunction((fp) => document.querySelector('[data-testid="fingerprint"]')?.dataset.fingerprint === fp, fingerprint, { timeout: 30_000 });
    await settled(other);
    assert.equal(await other.locator('[data-testid="clock"]').textContent(), clock);
    assert.deepEqual(await tiles(other), shown);
    assert.equal((await other.locator('[data-testid="play"]').textContent()).trim(), 'Play', 'opened paused');
    assert.equal(await other.locator('[data-node="app-1"]').getAttribute('data-state'), 'down');
    assert.deepEqual(problems, []);
  } finally {
    await page.close();
    await other.close();
  }
});

test('a garbled or cut link is explained and the scenario starts from its beginning', async () => {
  for (const bad of ['#run=not-a-link', '#run=eNqrVkrLz1eyUkpKLFKqBQAd', `#run=${'A'.repeat(70_000)}`]) {
    const page = await newPage();
    try {
      await page.goto(`${baseUrl}?preset=leader-crash${bad}`, { waitUntil: 'load' });
      await page.locator('[data-node="db-0-0"]').waitFor({ timeout: 15_000 });
      const notice = page.locator('[data-testid="notice"]');
      await notice.waitFor({ timeout: 15_000 });
      assert.match(await notice.textContent(), /this link cannot be opened: it (is|has)/);
      await settled(page);
      assert.match(await page.locator('[data-testid="clock"]').textContent(), /t = 0\.0 s/);
      assert.equal(await page.locator('[data-testid="error-panel"]').count(), 0);
    } finally {
      await page.close();
    }
  }
});
