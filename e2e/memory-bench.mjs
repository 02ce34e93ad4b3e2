// Interface memory benchmark: the page's WebAssembly memory and the bytes
// the core's worker holds on its heap (the live run and its checkpoints),
// in the release build in headless Chromium while the default scenario
// plays at 100×, after one simulated hour and after MEMORY_HOURS (default
// 10). Every store that grows with simulated time is bounded, so the two
// should differ little (goal: at most 1.5× each). The page's memory only
// grows, so its size is the peak so far.
// Usage: node e2e/memory-bench.mjs <base URL> — scripts/bench.sh runs it.
import { chromium } from 'playwright-core';

const base = process.argv[2];
const hours = Number(process.env.MEMORY_HOURS ?? 10);
if (!base) {
  console.error('usage: node e2e/memory-bench.mjs <base URL>');
  process.exit(2);
}

const browser = await chromium.launch({
  executablePath: process.env.CHROMIUM_PATH ?? '/usr/bin/chromium',
  args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
    '--disable-background-networking', '--disable-component-update', '--disable-sync'],
});
try {
  const page = await browser.newPage({ viewport: { width: 1280, height: 720 } });
  // Trunk hands the module's exports (its memory among them) to this event.
  await page.addInitScript(() => {
    addEventListener('TrunkApplicationStarted', (e) => { window.__pathlabWasm = e.detail.wasm; });
  });
  await page.goto(`${base}?preset=default&speed=100&play=1`);
  await page.locator('[data-node="db-0-0"]').waitFor({ timeout: 15_000 });
  const heapMb = () => page.evaluate(() => window.__pathlabWasm.memory.buffer.byteLength / 1048576);
  const coreMb = () => page.evaluate(() => Number(document.querySelector('[data-testid="timeline"]').dataset.coreBytes) / 1048576);
  const simHours = () => page.evaluate(() => Number(document.querySelector('[data-testid="clock"]').textContent.match(/t = ([\d.]+)/)[1]) / 3600);
  const started = Date.now();
  let atOne = null;
  let coreAtOne = null;
  console.log(`page at start: ${(await heapMb()).toFixed(1)} MB`);
  for (;;) {
    await page.waitForTimeout(5000);
    const h = await simHours();
    if (atOne === null && h >= 1) {
      atOne = await heapMb();
      coreAtOne = await coreMb();
      console.log(`after 1 simulated h: page ${atOne.toFixed(1)} MB, core worker ${coreAtOne.toFixed(1)} MB (${((Date.now() - started) / 1000).toFixed(0)} s real)`);
    }
    if (h >= hours) break;
  }
  const atEnd = await heapMb();
  const coreAtEnd = await coreMb();
  console.log(`after ${hours} simulated h: page ${atEnd.toFixed(1)} MB, core worker ${coreAtEnd.toFixed(1)} MB`);
  console.log(`interface memory: ${atOne.toFixed(1)} MB after 1 simulated h, ${atEnd.toFixed(1)} MB after ${hours} h: ${(atEnd / atOne).toFixed(2)}× (goal ≤ 1.5)`);
  console.log(`core worker's heap: ${coreAtOne.toFixed(1)} MB after 1 simulated h, ${coreAtEnd.toFixed(1)} MB after ${hours} h: ${(coreAtEnd / coreAtOne).toFixed(2)}× (goal ≤ 1.5)`);
} finally {
  await browser.close();
}
