// End-to-end tests of the release build in headless Chromium: what a person
// sees when they open PathLab and break things. PATHLAB_BASE_URL names the
// served build (scripts/test.sh serves dist/ and sets it). Screenshots go to
// e2e/screenshots/ (not committed): look at them.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { launch, close, open, metric, clock, runUntil, settled, screenshotDir } from './browser.mjs';

const here = dirname(fileURLToPath(import.meta.url));

before(launch);
after(close);

test('the page loads with the whole request path, plays, and logs no error', async () => {
  const { page, problems } = await open();
  try {
    assert.equal(await page.title(), 'PathLab');
    for (const id of ['client-us-east', 'dns-eu-west', 'dns-auth', 'cdn-ap-southeast', 'lb-a', 'lb-b', 'app-1', 'app-4', 'cache-1', 'db-0-0', 'db-0-1', 'db-0-2']) {
      assert.equal(await page.locator(`[data-node="${id}"]`).count(), 1, `${id} is drawn`);
    }
    assert.equal(await page.locator('[data-node="db-0-0"]').getAttribute('data-state'), 'leader');
    assert.equal(await page.locator('[data-node="lb-b"]').getAttribute('data-state'), 'standby');
    const play = page.locator('[data-testid="play"]');
    assert.equal((await play.textContent()).trim(), 'Play');
    await play.click();
    assert.equal((await play.textContent()).trim(), 'Pause');
    await page.locator('[data-testid="speed"]').selectOption({ label: '5×' });
    await runUntil(page, 8);
    assert.ok(Number(await metric(page, 'throughput')) > 200, 'requests flow');
    assert.equal(await metric(page, 'availability'), '100.0 %');
    await page.screenshot({ path: join(screenshotDir, 'healthy.png') });
    assert.equal(await page.locator('[data-testid="error-panel"]').count(), 0);
    assert.deepEqual(problems, []);
  } finally {
    await page.close();
  }
});

test('crashing the database leader: errors and latency jump, a follower is elected, service recovers', async () => {
  const { page, problems } = await open('?seed=3');
  try {
    await page.locator('[data-testid="play"]').click();
    await page.locator('[data-testid="speed"]').selectOption({ label: '5×' });
    await runUntil(page, 6);
    const p99Before = parseFloat(await metric(page, 'p99'));
    assert.equal(await metric(page, 'errors'), '0');

    await page.locator('[data-node="db-0-0"]').click();
    await page.locator('[data-action="crash"]').click();
    await settled(page);
    assert.equal(await page.locator('[data-node="db-0-0"]').getAttribute('data-state'), 'down');
    const crashedAt = await clock(page);

    // A new leader appears in the event log within a few simulated seconds.
    const log = page.locator('[data-testid="event-log"]');
    await page.waitForFunction(() => /elected leader/.test(document.querySelector('[data-testid="event-log"]').textContent), undefined, { timeout: 30_000 });
    const line = await log.locator('li', { hasText: 'elected leader' }).first().textContent();
    const electedAt = parseFloat(line);
    assert.ok(electedAt > crashedAt && electedAt < crashedAt + 5, `elected at ${electedAt}, crash at ${crashedAt}`);
    const leader = await metric(page, 'leader');
    assert.match(leader, /db-0-[12] · t2/);
    await page.screenshot({ path: join(screenshotDir, 'leader-crash.png') });

    // Users saw it: errors were counted and the slowest requests slowed.
    assert.ok(Number(await metric(page, 'errors')) > 0, 'requests failed during the failover');
    const p99s = await page.evaluate(() => [...document.querySelectorAll('[data-testid="chart-latency"]')].map((f) => f.textContent));
    assert.ok(p99s.length === 1);
    const during = parseFloat(await metric(page, 'p99'));
    assert.ok(during > p99Before, `p99 ${p99Before} ms before, ${during} ms right after`);

    // Open a failed request's waterfall from the requests list.
    const failed = page.locator('[data-testid="requests"] button.link').first();
    await failed.click();
    const waterfall = page.locator('[data-testid="waterfall"]');
    await waterfall.waitFor();
    assert.ok((await page.locator('[data-testid="waterfall-hop"]').count()) >= 3);
    await page.screenshot({ path: join(screenshotDir, 'waterfall.png') });
    await page.keyboard.press('Escape');
    await waterfall.waitFor({ state: 'detached' });

    // Later, everything is answered again.
    await runUntil(page, crashedAt + 12);
    assert.equal(await metric(page, 'availability'), '100.0 %');
    assert.deepEqual(problems, []);
  } finally {
    await page.close();
  }
});

test('a partition is drawn as cut links with two sides, and healing removes it', async () => {
  const { page, problems } = await open('?preset=partition-leader&speed=10&play=1');
  try {
    await runUntil(page, 25);
    const cut = Number(await page.locator('[data-testid="diagram"]').getAttribute('data-cut-links'));
    assert.ok(cut > 0, 'links are cut');
    assert.ok(await page.locator('[data-node="db-0-0"] .side-badge').count() === 1);
    assert.match(await page.locator('.diagram-status').textContent(), /partitioned/);
    await page.screenshot({ path: join(screenshotDir, 'partition.png') });
    await runUntil(page, 45);
    assert.equal(await page.locator('[data-testid="diagram"]').getAttribute('data-cut-links'), '0');
    assert.ok(Number(await metric(page, 'lost')) > 0, 'split brain lost confirmed writes');
    assert.deepEqual(problems, []);
  } finally {
    await page.close();
  }
});

test('the browser and the native core agree on the fingerprint', async () => {
  // The native CLI's fingerprint for 10 s of the leader-crash preset…
  const root = join(here, '..');
  const out = execFileSync('cargo', ['run', '--quiet', '--release', '-p', 'pathlab-sim', '--', 'run', '--preset', 'leader-crash', '--seed', '9', '--duration', '10', '--json'], { cwd: root });
  const native = JSON.parse(out.toString()).fingerprint;
  // …and the WebAssembly build stepping the same run 0.1 s at a time.
  const { page, problems } = await open('?preset=leader-crash&seed=9');
  try {
    for (let i = 0; i < 100; i++) await page.keyboard.press('ArrowRight');
    await page.waitForFunction(() => document.querySelector('[data-testid="clock"]').textContent.includes('t = 10.0 s'));
    const wasm = await page.locator('[data-testid="fingerprint"]').getAttribute('data-fingerprint');
    assert.equal(wasm, native);
    assert.deepEqual(problems, []);
  } finally {
    await page.close();
  }
});

test('usable at 1024 px wide and on a 1280×720 projector', async () => {
  for (const viewport of [{ width: 1024, height: 768 }, { width: 1280, height: 720 }]) {
    const { page, problems } = await open('?preset=leader-crash&speed=10&play=1', viewport);
    try {
      await runUntil(page, 24);
      const width = await page.evaluate(() => document.documentElement.scrollWidth);
      assert.ok(width <= viewport.width, `no sideways scrolling at ${viewport.width} px (page is ${width} px)`);
      const box = await page.locator('[data-testid="diagram"]').boundingBox();
      assert.ok(box.width > viewport.width * 0.6, 'the diagram gets most of the width');
      await page.screenshot({ path: join(screenshotDir, `viewport-${viewport.width}.png`) });
      assert.deepEqual(problems, []);
    } finally {
      await page.close();
    }
  }
});
