// Interface benchmark: frames per second of the release build in headless
// Chromium with the stress scenario (200 nodes, thousands of requests in
// flight) and with five times its load, and the gzipped size of what the
// browser downloads.
// Usage: node e2e/bench.mjs <base URL> [dist dir] — scripts/bench.sh runs it.
// BENCH_SECONDS sets the measured time of each case (default 8);
// BENCH_CASES picks cases by preset name (comma-separated, default all).
import { chromium } from 'playwright-core';
import { readdir, readFile } from 'node:fs/promises';
import { gzipSync } from 'node:zlib';
import { join } from 'node:path';

const base = process.argv[2];
const dist = process.argv[3] ?? 'dist';
const seconds = Number(process.env.BENCH_SECONDS ?? 8);
if (!base) {
  console.error('usage: node e2e/bench.mjs <base URL> [dist dir]');
  process.exit(2);
}

/** The cases: a preset played at 1× from page load, and its median fps goal. */
const cases = [
  { preset: 'stress', goalFps: 55 },
  { preset: 'stress-5x', goalFps: 30 },
].filter((c) => !process.env.BENCH_CASES || process.env.BENCH_CASES.split(',').includes(c.preset));

const browser = await chromium.launch({
  executablePath: process.env.CHROMIUM_PATH ?? '/usr/bin/chromium',
  args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
    '--disable-background-networking', '--disable-component-update', '--disable-sync'],
});
try {
  // The page a newcomer opens: how long until the diagram is on screen
  // (best of three fresh loads).
  let best = Infinity;
  for (let i = 0; i < 3; i++) {
    const page = await browser.newPage({ viewport: { width: 1280, height: 720 } });
    const started = Date.now();
    await page.goto(base);
    await page.locator('[data-node="db-0-0"]').waitFor({ timeout: 20_000 });
    best = Math.min(best, Date.now() - started);
    await page.close();
  }
  console.log(`--- first render of the default page: ${best} ms (goal < 500)`);
  for (const c of cases) {
    console.log(`--- ${c.preset}`);
    await measure(c);
  }
  // Replaying: ten simulated minutes into `leader-crash`, open a write lost
  // at 21 s. Its hops are long gone from the page, so the first question
  // starts the replay worker, which plays the whole run so far (keeping
  // checkpoints) and rebuilds them; asking "why?" next replays from the
  // checkpoint before the request only.
  if (!process.env.BENCH_CASES || process.env.BENCH_CASES.split(',').includes('replay')) {
    const page = await browser.newPage({ viewport: { width: 1440, height: 900 } });
    await page.goto(`${base}?preset=leader-crash&speed=100&play=1`);
    await page.waitForFunction(
      () => Number(document.querySelector('[data-testid="clock"]')?.textContent.match(/t = ([\d.]+)/)?.[1]) >= 600,
      null, { timeout: 300_000, polling: 250 });
    await page.keyboard.press('Space');
    const clock = (await page.locator('[data-testid="clock"]').textContent()).trim();
    await page.locator('[data-testid="log-filter"]').selectOption('anomalies');
    const group = page.locator('[data-testid="event-log"] li[data-group-count]').filter({ hasText: /lost/ }).first();
    await group.locator('.group-toggle').click();
    let started = Date.now();
    await group.locator('.group-lines button').first().click();
    await page.locator('[data-testid="waterfall"] tbody tr').first().waitFor({ timeout: 60_000 });
    const rebuilt = Date.now() - started;
    started = Date.now();
    await page.locator('[data-testid="why-button"]').click();
    await page.locator('[data-testid="why"] > li').first().waitFor({ timeout: 60_000 });
    const why = Date.now() - started;
    console.log(`--- replay worker (leader-crash, paused at ${clock})`);
    console.log(`details of a write lost at 21 s (worker started, whole run replayed): ${rebuilt} ms`);
    console.log(`its "why?" story (replayed from the checkpoint before it):           ${why} ms`);
    await page.close();
  }
  // Time travel in the page: play `default` for ten simulated minutes, then
  // go to 20 moments spread over them (clicking the timeline) and step back
  // 0.1 s twenty times (the ← key), each timed from the input to the page
  // showing the moment; then play on to one simulated hour and read how
  // many bytes the core's worker holds on its heap (the live run, its
  // checkpoints and the rest).
  if (!process.env.BENCH_CASES || process.env.BENCH_CASES.split(',').includes('travel')) {
    await travel();
  }
  // A sweep in the page: three cache capacities × four seeds × 900
  // simulated seconds, in the sweep workers while the live run plays; how
  // long it takes and how smoothly the page draws meanwhile.
  if (!process.env.BENCH_CASES || process.env.BENCH_CASES.split(',').includes('sweep')) {
    const page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
    await page.goto(`${base}?preset=default&play=1`);
    await page.locator('[data-testid="sweep-open-panel"]').click();
    await page.locator('[data-testid="sweep-vary"]').fill('cache.capacity=50,200,800');
    await page.locator('[data-testid="sweep-seeds"]').fill('4');
    await page.locator('[data-testid="sweep-secs"]').fill('900');
    await page.evaluate(() => {
      window.sweepFrames = [];
      const tick = (t) => {
        window.sweepFrames.push(t);
        const s = document.querySelector('[data-testid="sweep-status"]');
        if (!s || s.dataset.finished !== 'true') requestAnimationFrame(tick);
      };
      requestAnimationFrame(tick);
    });
    const started = Date.now();
    await page.locator('[data-testid="sweep-run"]').click();
    await page.locator('[data-testid="sweep-status"][data-finished="true"]').waitFor({ timeout: 300_000 });
    const secs = (Date.now() - started) / 1000;
    const frames = await page.evaluate(() => window.sweepFrames);
    const gaps = frames.slice(1).map((t, i) => t - frames[i]).sort((a, b) => a - b);
    const median = gaps[Math.floor(gaps.length / 2)] ?? 0;
    const status = await page.locator('[data-testid="sweep-status"]').textContent();
    const workers = await page.evaluate(() => navigator.hardwareConcurrency);
    console.log('--- sweep in the page (default, cache.capacity=50,200,800, 4 seeds, 900 simulated s each)');
    console.log(`12 runs in ${secs.toFixed(1)} s on ${workers} workers (${status.trim()})`);
    console.log(`page meanwhile:         median frame ${median.toFixed(2)} ms = ${(1000 / median).toFixed(1)} fps, worst ${gaps[gaps.length - 1]?.toFixed(0)} ms`);
    await page.close();
  }
  const files = await readdir(dist);
  // The core's worker (pathlab-core*), which the page starts as it opens and
  // which is built for speed, is measured on its own.
  const worker = files.filter((f) => f.startsWith('pathlab-core'));
  const page = files.filter((f) => !worker.includes(f));
  const gz = async (f) => gzipSync(await readFile(join(dist, f)), { level: 9 }).length;
  let total = 0;
  console.log('--- bundle');
  for (const ext of ['.wasm', '.js', '.css']) {
    let size = 0;
    for (const f of page.filter((f) => f.endsWith(ext))) size += await gz(f);
    total += size;
    console.log(`gzipped ${ext.padEnd(5)}          ${(size / 1024).toFixed(1)} KB`);
  }
  console.log(`bundle (wasm+js+css):   ${(total / 1024).toFixed(1)} KB gzipped (goal ≤ 300)`);
  let w = 0;
  for (const f of worker) w += await gz(f);
  console.log(`core worker:            ${(w / 1024).toFixed(1)} KB gzipped (started by the page; built for speed)`);
} finally {
  await browser.close();
}

/** The time-travel benchmark (see above). */
async function travel() {
  const page = await browser.newPage({ viewport: { width: 1440, height: 900 } });
  const timeline = page.locator('[data-testid="timeline"]');
  // Timed inside the page: from the pointer or key going down to the DOM
  // showing the core's answer (the clock's data-pending back to 0).
  const timed = async (act) => {
    await act();
    await page.locator('[data-testid="clock"][data-pending="0"]').waitFor();
    return page.evaluate(() => window.benchDone - window.benchStart);
  };
  const playUntil = async (s) => page.waitForFunction(
    (x) => Number(document.querySelector('[data-testid="clock"]')?.textContent.match(/t = ([\d.]+)/)?.[1]) >= x,
    s, { timeout: 600_000, polling: 250 });
  await page.goto(`${base}?preset=default&speed=100&play=1`);
  await page.evaluate(() => {
    const start = () => { window.benchStart = performance.now(); };
    document.addEventListener('pointerdown', start, true);
    document.addEventListener('keydown', start, true);
    new MutationObserver(() => {
      if (document.querySelector('[data-testid="clock"]').dataset.pending === '0') window.benchDone = performance.now();
    }).observe(document.body, { subtree: true, attributes: true, attributeFilter: ['data-pending'] });
  });
  await playUntil(600);
  await page.locator('[data-testid="play"]').click();
  await page.locator('[data-testid="clock"][data-pending="0"]').waitFor();
  await timeline.scrollIntoViewIfNeeded();
  const box = await timeline.boundingBox();
  const end = Number(await timeline.getAttribute('aria-valuemax'));
  const seeks = [];
  for (let i = 0; i < 20; i++) {
    // Spread over the run, in an order that goes back and forth.
    const f = ((i * 7) % 20 + 0.5) / 20;
    seeks.push(await timed(() => page.mouse.click(box.x + box.width * f, box.y + box.height / 2)));
  }
  const steps = [];
  const from = Number(await timeline.getAttribute('aria-valuenow'));
  for (let i = 0; i < 20; i++) steps.push(await timed(() => page.keyboard.press('ArrowLeft')));
  const back = from - Number(await timeline.getAttribute('aria-valuenow'));
  if (back !== 2000) throw new Error(`20 steps back went back ${back} ms, not 2000`);
  const stat = (xs) => {
    const sorted = [...xs].sort((a, b) => a - b);
    return `median ${sorted[sorted.length >> 1].toFixed(0)} ms, worst ${sorted[sorted.length - 1].toFixed(0)} ms`;
  };
  console.log(`--- time travel in the page (default, ${(end / 1000).toFixed(0)} s played, release build, headless Chromium)`);
  console.log(`seek to 20 moments:     ${stat(seeks)} (goal ≤ 200 ms)`);
  console.log(`step back 0.1 s (×20):  ${stat(steps)} (goal ≤ 50 ms)`);
  await page.keyboard.press('End');
  await page.locator('[data-testid="clock"][data-pending="0"]').waitFor();
  await page.locator('[data-testid="play"]').click();
  await playUntil(3600);
  await page.locator('[data-testid="play"]').click();
  await page.locator('[data-testid="clock"][data-pending="0"]').waitFor();
  // Go back to the middle (seeking leaves checkpoints near the cursor).
  await timeline.scrollIntoViewIfNeeded();
  const box2 = await timeline.boundingBox();
  await page.mouse.click(box2.x + box2.width / 2, box2.y + box2.height / 2);
  await page.locator('[data-testid="clock"][data-pending="0"]').waitFor();
  const bytes = Number(await timeline.getAttribute('data-core-bytes'));
  console.log(`core worker's heap after 1 simulated hour, cursor in the middle: ${(bytes / 1048576).toFixed(1)} MB (goal: checkpoints ≤ 100 MB; this is all it holds: checkpoints, the live run, the rest)`);
  await page.close();
}

/** Plays one preset in a fresh page and prints frame times and how fast simulated time went. */
async function measure({ preset, goalFps }) {
  const page = await browser.newPage({ viewport: { width: 1280, height: 720 } });
  try {
    const started = Date.now();
    await page.goto(`${base}?preset=${preset}&play=1`);
    await page.locator('[data-node="db-0-0"]').waitFor({ timeout: 20_000 });
    const firstRender = Date.now() - started;
    await page.waitForTimeout(3000); // warm up: the system fills with requests
    const result = await page.evaluate((seconds) => new Promise((resolve) => {
      // Simulated time as the clock shows it ("t = 12.3 s").
      const clock = () => Number(/t = ([0-9.]+) s/.exec(document.querySelector('[data-testid="clock"]')?.textContent ?? '')?.[1]);
      const gaps = [];
      const inFlight = [];
      const simStart = clock();
      let last = performance.now();
      const first = last;
      const end = last + seconds * 1000;
      function frame(now) {
        gaps.push(now - last);
        last = now;
        const d = document.querySelector('[data-testid="diagram"]');
        if (d) inFlight.push(Number(d.getAttribute('data-in-flight')));
        if (now < end) {
          requestAnimationFrame(frame);
        } else {
          // Let the clock show the last refresh before reading it.
          setTimeout(() => resolve({ gaps, inFlight, simSeconds: clock() - simStart, realSeconds: (performance.now() - first) / 1000 }), 300);
        }
      }
      requestAnimationFrame(frame);
    }), seconds);
    const sorted = [...result.gaps].sort((a, b) => a - b);
    const median = sorted[Math.floor(sorted.length / 2)];
    const p95 = sorted[Math.floor(sorted.length * 0.95)];
    const flights = [...result.inFlight].sort((a, b) => a - b);
    const nodes = await page.locator('[data-node]').count();
    console.log(`nodes drawn:            ${nodes}`);
    console.log(`requests in flight:     median ${flights[Math.floor(flights.length / 2)]} (min ${flights[0]}, max ${flights[flights.length - 1]})`);
    console.log(`frames:                 ${result.gaps.length} in ${seconds} s = ${(result.gaps.length / seconds).toFixed(1)} fps on average`);
    console.log(`median frame:           ${median.toFixed(2)} ms = ${(1000 / median).toFixed(1)} fps (goal ≥ ${goalFps}); 95th percentile ${p95.toFixed(2)} ms`);
    console.log(`simulated time:         ${(result.simSeconds / result.realSeconds).toFixed(2)} s per real second (1.00 = keeping up with the 1× speed asked)`);
    console.log(`first render:           ${firstRender} ms (page load to diagram on screen)`);
  } finally {
    await page.close();
  }
}
