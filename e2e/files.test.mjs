// End-to-end tests of files going in and out: a run file saved in one page
// opens in another (by the file picker and by dropping it) at the same
// moment with the same fingerprint and tiles; bad files are refused by name
// and the run on screen stays; the read/write history is the command
// line's, byte for byte; the diagram leaves as SVG, PNG and a WebM clip.
// Screenshots go to e2e/screenshots/: look at them.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { launch, close, open, newPage, runUntil, settled, screenshotDir } from './browser.mjs';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');

before(launch);
after(close);

/** Every tile's value, by its data-metric. */
const tiles = (page) => page.locator('[data-metric]').evaluateAll((ts) => Object.fromEntries(ts.map((t) => [t.dataset.metric, t.querySelector('.tile-value').textContent])));
const fingerprintOf = (page) => page.locator('[data-testid="fingerprint"]').getAttribute('data-fingerprint');
const clockText = (page) => page.locator('[data-testid="clock"]').textContent();

/** Saves what clicking `testid` downloads into `dir`; returns its path. */
async function save(page, testid, dir) {
  const [download] = await Promise.all([
    page.waitForEvent('download', { timeout: 30_000 }),
    page.locator(`[data-testid="${testid}"]`).click(),
  ]);
  const path = join(dir, download.suggestedFilename());
  await download.saveAs(path);
  return path;
}

/** Opens the "More files" menu (if closed). */
async function moreFiles(page) {
  const more = page.locator('[data-testid="more-exports"]');
  if ((await more.getAttribute('open')) === null) await more.locator('summary').click();
}

/** Opens a run file through the "Open run file…" button's file picker. */
async function pick(page, files) {
  const [chooser] = await Promise.all([
    page.waitForEvent('filechooser'),
    page.locator('[data-testid="import"]').click(),
  ]);
  await chooser.setFiles(files);
}

/** Waits for the notice and returns its text. */
async function notice(page) {
  const n = page.locator('[data-testid="notice"]');
  await n.waitFor({ timeout: 15_000 });
  return n.textContent();
}

test('a run file opens again by picker and by drop at the same moment; bad files are refused and the run stays', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'pathlab-files-'));
  const { page, problems } = await open('?preset=leader-crash&seed=2&speed=10');
  const { page: other, problems: otherProblems } = await open('?preset=default&seed=9');
  try {
    // A run with a hand-made fault, paused at 26 s.
    const play = () => page.locator('[data-testid="play"]').click();
    await play();
    await runUntil(page, 12);
    await page.locator('[data-node="app-2"]').click();
    await page.locator('[data-action="crash"]').click();
    await runUntil(page, 26);
    await play();
    await settled(page);
    const sent = { fingerprint: await fingerprintOf(page), clock: await clockText(page), tiles: await tiles(page) };
    const path = await save(page, 'export', dir);
    // The history of that run is the command line's, line for line.
    await moreFiles(page);
    const history = await readFile(await save(page, 'export-history', dir), 'utf8');
    const cli = execFileSync('cargo', ['run', '--quiet', '--release', '-p', 'pathlab-sim', '--', 'history', '--run-file', path], { cwd: root, maxBuffer: 1 << 28 }).toString();
    assert.ok(history.split('\n').length > 1000, 'a 26 s run reads and writes');
    assert.equal(history, cli, 'the browser\'s history is the command line\'s');

    // Another page, another preset and seed: the file brings the run.
    await settled(other);
    await pick(other, path);
    await other.waitForFunction((fp) => document.querySelector('[data-testid="fingerprint"]')?.dataset.fingerprint === fp, sent.fingerprint, { timeout: 30_000 });
    await settled(other);
    assert.equal(await clockText(other), sent.clock);
    assert.deepEqual(await tiles(other), sent.tiles);
    assert.equal(await other.locator('[data-testid="preset"]').inputValue(), 'leader-crash');
    assert.equal((await other.locator('[data-testid="play"]').textContent()).trim(), 'Play', 'it opens paused');

    // Bad files: each named, and the run on screen stays as it was.
    const huge = join(dir, 'huge.json');
    await writeFile(huge, Buffer.alloc(50 * 1024 * 1024, 32));
    const bad = [
      [huge, /huge.json cannot be opened: at 52.4 MB it is larger than a run file may be/],
      [{ name: 'picture.png', mimeType: 'image/png', buffer: Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 0, 0, 0, 13]) }, /cannot be opened: .*not JSON/],
      [{ name: 'cut.json', mimeType: 'application/json', buffer: Buffer.from('{"pathlab_run": 1, "seed": ') }, /cannot be opened: .*not JSON/],
      [{ name: 'future.json', mimeType: 'application/json', buffer: Buffer.from('{"pathlab_run": 2}') }, /version 2/],
      [{ name: 'other.json', mimeType: 'application/json', buffer: Buffer.from('{"preset": "default"}') }, /not a PathLab run file/],
    ];
    for (const [file, why] of bad) {
      await other.locator('[data-testid="notice"] button').click().catch(() => {});
      await pick(other, file);
      const text = await notice(other);
      const name = file.name ?? file;
      assert.match(text, why, name);
      assert.match(text, /kept/, `${name}: the notice says the run stays`);
      await settled(other);
      assert.equal(await fingerprintOf(other), sent.fingerprint, `${name} changed nothing`);
    }

    // Dropped on the page, the file opens too (in a page that moved on).
    await other.locator('[data-testid="notice"] button').click().catch(() => {});
    await other.keyboard.press('Home');
    await settled(other);
    assert.notEqual(await fingerprintOf(other), sent.fingerprint);
    const text = await readFile(path, 'utf8');
    await other.locator('[data-testid="diagram"]').evaluate((el, text) => {
      const dt = new DataTransfer();
      dt.items.add(new File([text], 'run.json', { type: 'application/json' }));
      el.dispatchEvent(new DragEvent('dragover', { dataTransfer: dt, bubbles: true, cancelable: true }));
      el.dispatchEvent(new DragEvent('drop', { dataTransfer: dt, bubbles: true, cancelable: true }));
    }, text);
    await other.waitForFunction((fp) => document.querySelector('[data-testid="fingerprint"]')?.dataset.fingerprint === fp, sent.fingerprint, { timeout: 30_000 });
    await settled(other);
    assert.equal(await clockText(other), sent.clock);
    await other.screenshot({ path: join(screenshotDir, 'run-file-opened.png') });
    assert.deepEqual(problems, []);
    assert.deepEqual(otherProblems, []);
  } finally {
    await page.close();
    await other.close();
    await rm(dir, { recursive: true, force: true });
  }
});

test('the diagram leaves as an SVG, a PNG with the requests in flight, and a WebM clip', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'pathlab-pictures-'));
  const { page, problems } = await open('?preset=leader-crash&seed=2&speed=5');
  try {
    await page.locator('[data-testid="play"]').click();
    await runUntil(page, 22);
    await moreFiles(page);
    const svg = await readFile(await save(page, 'export-svg', dir), 'utf8');
    assert.match(svg, /^<svg[^>]*xmlns="http:\/\/www.w3.org\/2000\/svg"/);
    assert.match(svg, /db-0-1/, 'the nodes are named');
    assert.match(svg, /style="[^"]*fill:/, 'the look is written into the shapes');
    assert.doesNotMatch(svg, /class="/, 'nothing depends on the page\'s style sheet');
    // Drawn on its own (no style sheet), it looks like the page's diagram.
    const alone = await newPage();
    await alone.setContent(`<body style="margin:0">${svg}</body>`);
    await alone.locator('svg').screenshot({ path: join(screenshotDir, 'export-diagram-svg.png') });
    await alone.close();

    const png = await readFile(await save(page, 'export-png', dir));
    assert.deepEqual([...png.subarray(0, 8)], [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a], 'a PNG');
    const width = png.readUInt32BE(16), height = png.readUInt32BE(20);
    assert.ok(width >= 1000 && height >= 400, `${width}×${height}`);
    assert.ok(png.length > 20_000, `${png.length} bytes: a picture with something in it`);
    await writeFile(join(screenshotDir, 'export-diagram.png'), png);

    await moreFiles(page);
    const clip = await readFile(await save(page, 'export-clip', dir));
    assert.deepEqual([...clip.subarray(0, 4)], [0x1a, 0x45, 0xdf, 0xa3], 'a WebM (Matroska) file');
    assert.ok(clip.length > 20_000, `${clip.length} bytes for 5 s of video`);
    assert.deepEqual(problems, []);
  } finally {
    await page.close();
    await rm(dir, { recursive: true, force: true });
  }
});
