// End-to-end tests of comparing two designs: run B beside the run on screen
// (A), with the same seed, so the same traffic, and every fault applied to
// both; the table of what users saw with the better design on each row, the
// trade-off in one line, the charts overlaid, and the compare carried by
// links, `?compare=` and frames.
// Screenshots go to e2e/screenshots/: look at them.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { launch, close, open, runUntil, settled, screenshotDir } from './browser.mjs';

before(launch);
after(close);

/** The delta table's rows: figure → {a, b, better}. */
async function table(page) {
  const rows = await page.locator('[data-testid="delta"] tr[data-figure]').evaluateAll((rs) =>
    rs.map((r) => [r.dataset.figure, Number(r.dataset.a), Number(r.dataset.b), r.dataset.better]));
  return Object.fromEntries(rows.map(([f, a, b, better]) => [f, { a, b, better }]));
}

test('asynchronous against synchronous replication in the leader\'s crash: A loses acknowledged writes, B loses none and pays on writes', async () => {
  const { page, problems } = await open('?preset=leader-crash&seed=2&speed=20');
  await page.locator('[data-testid="compare-with"]').click();
  await page.locator('[data-testid="compare-chooser"]').waitFor();
  await page.locator('[data-set="db.replication=sync"]').click();
  const compare = page.locator('[data-testid="compare"]');
  await compare.locator('[data-run="a"] [data-node="db-0-0"]').waitFor();
  await compare.locator('[data-run="b"] [data-node="db-0-0"]').waitFor();
  assert.match(await compare.locator('[data-run="b"] .run-name').textContent(), /db\.replication sync/);

  await page.locator('[data-testid="play"]').click();
  await runUntil(page, 45);
  await page.locator('[data-testid="play"]').click();
  await settled(page);
  const t = await table(page);
  assert.ok(t['anomalies.lost_write'].a > 0, `A lost no write: ${JSON.stringify(t['anomalies.lost_write'])}`);
  assert.equal(t['anomalies.lost_write'].b, 0, 'synchronous replication lost a write');
  assert.equal(t['anomalies.lost_write'].better, 'b');
  assert.ok(t['writes.p99_ms'].b > t['writes.p99_ms'].a,
    `p99 write latency is not higher with sync: ${JSON.stringify(t['writes.p99_ms'])}`);
  assert.equal(t['writes.p99_ms'].better, 'a');
  const line = await page.locator('[data-testid="trade-off"]').textContent();
  assert.match(line, /db\.replication sync: .*ms p99 latency on writes.*0 lost writes instead of \d+/);
  // Both met the same traffic: they finished nearly the same number of
  // requests (only those still in flight differ).
  const finished = (side) => t['requests.ok'][side] + t['requests.failed'][side];
  assert.ok(Math.abs(finished('a') - finished('b')) < 0.01 * finished('a'), `${finished('a')} / ${finished('b')}`);
  // The charts overlay A and B.
  const legends = await page.locator('[data-testid="chart-versus-lost"] .chart-legend-name').allTextContents();
  assert.deepEqual(legends, ['A: leader-crash', 'B: db.replication sync']);
  assert.equal(await page.locator('[data-testid="chart-versus-p99"] polyline').count() >= 2, true);
  await page.screenshot({ path: join(screenshotDir, 'compare-leader-crash.png'), fullPage: true });

  // A fault applied during the compare happens in both runs.
  await compare.locator('[data-run="a"] [data-node="app-2"]').click();
  await page.locator('[data-action="crash"]').click();
  await settled(page);
  await compare.locator('[data-run="a"] [data-node="app-2"][data-state="down"]').waitFor();
  await compare.locator('[data-run="b"] [data-node="app-2"][data-state="down"]').waitFor();

  // The page's link carries both runs.
  await page.waitForFunction(() => location.hash.startsWith('#run='), null, { timeout: 10_000 });
  await page.waitForTimeout(1_500);
  const address = page.url();
  const shown = await table(page);
  const other = await open(address.slice(address.indexOf('?')));
  await other.page.locator('[data-testid="compare"] [data-run="b"] [data-node="app-2"][data-state="down"]').waitFor();
  await settled(other.page);
  assert.deepEqual(await table(other.page), shown, 'the link opens the same compare at the same moment');
  assert.deepEqual(other.problems, []);
  await other.page.close();

  // Stopping leaves run A as it was.
  await page.locator('[data-testid="compare-end"]').click();
  await settled(page);
  assert.equal(await page.locator('[data-testid="compare"]').count(), 0);
  assert.equal(await page.locator('[data-testid="diagram"]').count(), 1);
  assert.deepEqual(problems, []);
  await page.close();
});

test('a compare opens from ?compare= in a frame of 800 by 500, both diagrams and the table in view', async () => {
  const { page, problems } = await open('?embed=1&preset=leader-crash&seed=2&speed=20&play=1&compare=db.replication=sync',
    { width: 800, height: 500 });
  const compare = page.locator('[data-testid="compare"]');
  await compare.locator('[data-run="b"] [data-node="db-0-0"]').waitFor();
  await runUntil(page, 30);
  for (const sel of ['[data-run="a"] svg', '[data-run="b"] svg', '[data-testid="delta"]', '[data-testid="timeline"]']) {
    const box = await page.locator(sel).first().boundingBox();
    assert.ok(box && box.y >= 0 && box.y + box.height <= 500 && box.x + box.width <= 800,
      `${sel} is not in view: ${JSON.stringify(box)}`);
  }
  assert.ok(await page.evaluate(() => document.documentElement.scrollHeight <= 500), 'the frame scrolls');
  await page.screenshot({ path: join(screenshotDir, 'compare-embed-800.png') });
  // A bad field is named and the run stays.
  const bad = await open('?preset=leader-crash&compare=db.replicaton=sync');
  await bad.page.locator('[data-testid="notice"]').waitFor();
  assert.match(await bad.page.locator('[data-testid="notice"]').textContent(), /db\.replicaton/);
  assert.equal(await bad.page.locator('[data-testid="compare"]').count(), 0);
  await bad.page.close();
  assert.deepEqual(problems, []);
  await page.close();
});

test('two branches of one run side by side: the branch without the crash keeps its server', async () => {
  const { page, problems } = await open('?preset=default&seed=4&speed=10');
  await page.locator('[data-testid="play"]').click();
  await runUntil(page, 8);
  await page.locator('[data-testid="play"]').click();
  await settled(page);
  // Back to about 4 s and crash a server there: a second branch.
  for (let i = 0; i < 40; i++) await page.keyboard.press('ArrowLeft');
  await settled(page);
  await page.locator('[data-node="app-1"]').click();
  await page.locator('[data-action="crash"]').click();
  await settled(page);
  const branches = page.locator('[data-testid="branches"]');
  if ((await branches.getAttribute('open')) === null) await branches.locator('summary').click();
  await page.locator('[data-action="compare-branch"]').first().click();
  const compare = page.locator('[data-testid="compare"]');
  await compare.locator('[data-run="b"] [data-node="app-1"]').waitFor();
  assert.match(await compare.locator('[data-run="b"] .run-name').textContent(), /Branch 1/);
  await compare.locator('[data-run="a"] [data-node="app-1"][data-state="down"]').waitFor();
  assert.notEqual(await compare.locator('[data-run="b"] [data-node="app-1"]').getAttribute('data-state'), 'down');
  await page.screenshot({ path: join(screenshotDir, 'compare-branches.png') });
  assert.deepEqual(problems, []);
  await page.close();
});
