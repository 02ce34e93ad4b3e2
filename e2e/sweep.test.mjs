// End-to-end tests of a sweep: one setting over several values, every run in
// Web Workers while the page keeps drawing, the trade-off chart with a point
// per variant that opens its run, Che's prediction beside measured hit
// ratios, and the table as CSV.
// Screenshots go to e2e/screenshots/: look at them.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { launch, close, open, clock, screenshotDir } from './browser.mjs';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');

before(launch);
after(close);

test('a sweep of three cache capacities runs in workers with the page drawing, and a click on a point opens its run', async () => {
  const { page, problems } = await open('?preset=default&seed=1&speed=2&play=1');
  await page.locator('[data-testid="sweep-open-panel"]').click();
  const sweep = page.locator('[data-testid="sweep"]');
  await sweep.locator('[data-testid="sweep-vary"]').fill('cache.capacity=50,200,800');
  await sweep.locator('[data-testid="sweep-seeds"]').fill('4');
  await sweep.locator('[data-testid="sweep-secs"]').fill('900');
  // Count the frames the page draws, and watch the progress, while it runs.
  await page.evaluate(() => {
    window.sweepWatch = { frames: 0, progress: new Set() };
    const tick = () => {
      window.sweepWatch.frames++;
      const s = document.querySelector('[data-testid="sweep-status"]');
      if (s) window.sweepWatch.progress.add(s.dataset.done);
      if (!s || s.dataset.finished !== 'true') requestAnimationFrame(tick);
    };
    requestAnimationFrame(tick);
  });
  const clockBefore = await clock(page);
  const started = Date.now();
  await sweep.locator('[data-testid="sweep-run"]').click();
  await sweep.locator('[data-testid="sweep-status"][data-finished="true"]').waitFor({ timeout: 120_000 });
  const seconds = (Date.now() - started) / 1000;
  const watch = await page.evaluate(() => ({ frames: window.sweepWatch.frames, progress: [...window.sweepWatch.progress] }));
  assert.equal(await sweep.locator('[data-testid="sweep-status"]').getAttribute('data-done'), '12');
  assert.ok(watch.frames / seconds > 20, `the page drew ${watch.frames} frames in ${seconds.toFixed(1)} s`);
  assert.ok(watch.progress.some((d) => Number(d) > 0 && Number(d) < 12), `no progress shown between: ${watch.progress}`);
  assert.ok(await clock(page) > clockBefore, 'the live run went on playing during the sweep');

  // One point per variant; the hit ratio grows with the capacity, and Che's
  // prediction is drawn beside the measurements.
  const points = await sweep.locator('[data-point]').evaluateAll((gs) => gs.map((g) => [g.dataset.point, Number(g.dataset.x), Number(g.dataset.y)]));
  assert.deepEqual(points.map((p) => p[0]), ['cache.capacity=50', 'cache.capacity=200', 'cache.capacity=800']);
  assert.ok(points[0][2] < points[1][2] && points[1][2] < points[2][2], JSON.stringify(points));
  await sweep.locator('[data-testid="sweep-theory"]').waitFor();
  const rows = await sweep.locator('[data-testid="sweep-table"] tbody tr').evaluateAll((trs) => trs.map((tr) => [...tr.cells].map((c) => c.textContent)));
  for (const r of rows) {
    const measured = Number(r[2].split(' ')[0]);
    const che = Number(r[r.length - 1]);
    assert.ok(Math.abs(measured - che) < 0.05, `Che ${che} is far from the measured ${measured}: ${r}`);
  }
  await page.screenshot({ path: join(screenshotDir, 'sweep-cache-capacity.png'), fullPage: true });

  // The table as CSV: a row per variant.
  const [download] = await Promise.all([page.waitForEvent('download'), sweep.locator('[data-testid="sweep-csv"]').click()]);
  const csv = await readFile(await download.path(), 'utf8');
  assert.equal(csv.trim().split('\n').length, 4);
  assert.match(csv.split('\n')[0], /^variant,runs,availability mean,availability sd,/);

  // A click on a point picks it; opening it makes it the run on screen.
  await sweep.locator('[data-point="cache.capacity=800"]').click();
  await sweep.locator('[data-testid="sweep-picked"]').waitFor();
  await sweep.locator('[data-testid="sweep-open"]').click();
  await page.waitForFunction(() => /t = 900\.0 s/.test(document.querySelector('[data-testid="clock"]')?.textContent ?? ''), null, { timeout: 30_000 });
  // It is the variant's run: the command line gives the same fingerprint
  // for the default scenario with 800 cache entries, seed 1, 900 s.
  const dir = await mkdtemp(join(tmpdir(), 'pathlab-sweep-'));
  try {
    const scenario = JSON.parse(execFileSync('cargo', ['run', '--quiet', '--release', '-p', 'pathlab-sim', '--', 'show', '--preset', 'default'], { cwd: root }));
    scenario.cache.capacity = 800;
    await writeFile(join(dir, 's.json'), JSON.stringify(scenario));
    const alone = JSON.parse(execFileSync('cargo', ['run', '--quiet', '--release', '-p', 'pathlab-sim', '--',
      'run', '--scenario', join(dir, 's.json'), '--seed', '1', '--duration', '900', '--json'], { cwd: root }));
    assert.equal(await page.locator('[data-testid="fingerprint"]').getAttribute('data-fingerprint'), alone.fingerprint);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
  assert.deepEqual(problems, []);
  await page.close();
});

test('a sweep that cannot run names what is wrong and keeps the page as it was', async () => {
  const { page, problems } = await open('?preset=leader-crash');
  await page.locator('[data-testid="sweep-open-panel"]').click();
  await page.locator('[data-testid="sweep-vary"]').fill('db.replicaton=async,sync');
  await page.locator('[data-testid="sweep-run"]').click();
  await page.locator('[data-testid="notice"]').waitFor();
  assert.match(await page.locator('[data-testid="notice"]').textContent(), /db\.replicaton/);
  assert.equal(await page.locator('[data-point]').count(), 0);
  await page.locator('[data-node="db-0-0"]').waitFor();
  assert.deepEqual(problems, []);
  await page.close();
});

test('servers joining a hash ring: each point near theory\'s 1/(N+1), drawn beside it', async () => {
  const { page, problems } = await open('?preset=default');
  await page.locator('[data-testid="sweep-open-panel"]').click();
  await page.locator('[data-testid="sweep-suggested"]').selectOption('app.servers=2,3,4,6,8');
  assert.equal(await page.locator('[data-testid="sweep-vary-2"]').inputValue(), 'lb.strategy=consistent-hash');
  await page.locator('[data-testid="sweep-secs"]').fill('5');
  await page.locator('[data-testid="sweep-run"]').click();
  await page.locator('[data-testid="sweep-status"][data-finished="true"]').waitFor({ timeout: 60_000 });
  await page.locator('[data-testid="sweep-theory"]').waitFor();
  const points = await page.locator('[data-point]').evaluateAll((gs) => gs.map((g) => [Number(g.dataset.x), Number(g.dataset.y), g.textContent]));
  assert.deepEqual(points.map((p) => p[0]), [2, 3, 4, 6, 8]);
  for (const [n, moved, label] of points) {
    assert.ok(Math.abs(moved - 1 / (n + 1)) < 0.06, `${n} servers: ${moved} moved, theory ${1 / (n + 1)}`);
    assert.equal(label, String(n), 'a point is labelled by what differs');
  }
  await page.locator('[data-testid="sweep-chart"]').screenshot({ path: join(screenshotDir, 'sweep-hash-ring.png') });
  assert.deepEqual(problems, []);
  await page.close();
});

test('load on one-worker servers balanced at random: the wait for a worker follows Erlang C, drawn beside it', async () => {
  const { page, problems } = await open('?preset=default');
  await page.locator('[data-testid="sweep-open-panel"]').click();
  await page.locator('[data-testid="sweep-suggested"]').selectOption('workload.requests_per_s=100,200,300,400,500,600');
  assert.equal(await page.locator('[data-testid="sweep-vary-2"]').inputValue(), 'app.workers=1;lb.strategy=random');
  await page.locator('[data-testid="sweep-secs"]').fill('120');
  await page.locator('[data-testid="sweep-run"]').click();
  await page.locator('[data-testid="sweep-status"][data-finished="true"]').waitFor({ timeout: 60_000 });
  await page.locator('[data-testid="sweep-theory"]').waitFor();
  const rows = await page.locator('[data-testid="sweep-table"] tbody tr').evaluateAll((trs) => trs.map((tr) => [...tr.cells].map((c) => c.textContent)));
  assert.equal(rows.length, 6);
  let last = 0;
  for (const r of rows) {
    const waited = Number(r[2].split(' ')[0]);
    const theory = Number(r[r.length - 1]);
    assert.ok(waited > last, `the wait grows with the load: ${r}`);
    assert.ok(Math.abs(waited - theory) <= 0.15 * theory + 0.05, `waited ${waited} ms, Erlang C ${theory} ms: ${r}`);
    last = waited;
  }
  await page.locator('[data-testid="sweep-chart"]').screenshot({ path: join(screenshotDir, 'sweep-load-erlang-c.png') });
  assert.deepEqual(problems, []);
  await page.close();
});
