// End-to-end test of the message API a host page drives an embedded PathLab
// with: the example host page (examples/embed-host.html), served from
// another origin than the app, plays, pauses, seeks, sets the speed and
// crashes a node through postMessage, and hears back ready, ticks, events and
// errors; a message from an origin other than ?parent= changes nothing and
// is warned about once.
// Screenshots go to e2e/screenshots/: look at them.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { launch, close, newPage, baseUrl, serve, screenshotDir } from './browser.mjs';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');

before(launch);
after(close);

test('the example host page on another origin drives a frame by messages; a stranger is ignored with one warning', async () => {
  const host = await serve(join(root, 'examples'));
  const page = await newPage({ width: 1400, height: 1000 });
  const problems = [];
  const warnings = [];
  page.on('pageerror', (e) => problems.push(`page: ${e.message}`));
  page.on('console', (m) => {
    if (m.type() === 'error') problems.push(`console: ${m.text()}`);
    if (m.type() === 'warning' && m.text().includes('PathLab ignored a message')) warnings.push(m.text());
  });
  try {
    assert.notEqual(new URL(host.url).origin, new URL(baseUrl).origin, 'two origins');
    await page.goto(`${host.url}embed-host.html?app=${encodeURIComponent(baseUrl)}`);
    const text = (id) => page.locator(`[data-testid="${id}"]`).textContent();
    const click = (id) => page.locator(`[data-testid="${id}"]`).click();
    const waitFor = (f, arg) => page.waitForFunction(f, arg, { timeout: 30_000 });
    const frame = page.frameLocator('#driven');
    await waitFor(() => document.querySelector('[data-testid="host-state"]').textContent.startsWith('ready'));
    assert.match(await text('host-state'), /ready \(leader-crash, seed 2\)/);

    // seek: beyond the run so far, the frame plays on to the moment.
    await click('host-seek');
    await waitFor(() => document.querySelector('[data-testid="host-t"]').textContent === '18000');
    assert.match(await frame.locator('[data-testid="clock"]').textContent(), /t = 18\.0 s/);
    // setSpeed, then play: ticks flow while time moves, and the leader's
    // crash at 20 s and the election after it come as events.
    await click('host-speed');
    await frame.locator('[data-testid="speed"] option:checked', { hasText: '5×' }).waitFor({ state: 'attached', timeout: 15_000 });
    await click('host-play');
    await waitFor(() => Number(document.querySelector('[data-testid="host-t"]').textContent) > 26_000);
    assert.equal(await text('host-state'), 'playing');
    const events = await text('host-events');
    assert.match(events, /20\.0 s · fault: .*db-0-0/, 'the scripted crash');
    assert.match(events, /election: /, 'the election after it');
    // pause: the ticks stop with the clock.
    await click('host-pause');
    await waitFor(() => document.querySelector('[data-testid="host-state"]').textContent === 'paused');
    const pausedAt = Number(await text('host-t'));
    // act: any action, here a command.
    await click('host-crash');
    await frame.locator('[data-node="db-0-2"][data-state="down"]').waitFor({ timeout: 15_000 });
    await waitFor(() => /fault: .*db-0-2/.test(document.querySelector('[data-testid="host-events"]').textContent));
    // A malformed message is answered with an error and changes nothing.
    await click('host-bad');
    await waitFor(() => /error \(fly\): unknown message type "fly"/.test(document.querySelector('[data-testid="host-events"]').textContent));
    await page.evaluate((origin) => document.getElementById('driven').contentWindow.postMessage({ type: 'load', v: 1, link: 'https://x.org/#run=garbled!' }, origin), new URL(baseUrl).origin);
    await waitFor(() => /error: this link cannot be opened: it is garbled/.test(document.querySelector('[data-testid="host-events"]').textContent));
    await frame.locator('[data-node="db-0-2"][data-state="down"]').waitFor({ timeout: 15_000 });
    assert.equal(Number(await text('host-t')), pausedAt, 'still paused at the same moment');

    // A stranger: a message from the frame's own origin, which is not the
    // parent's. Ignored (the frame stays paused), with one warning only.
    const driven = page.frames().find((f) => f.url().includes('parent='));
    await driven.evaluate(() => {
      window.postMessage({ type: 'play', v: 1 }, '*');
      window.postMessage({ type: 'play', v: 1 }, '*');
    });
    await page.waitForTimeout(800);
    assert.equal((await frame.locator('[data-testid="play"]').textContent()).trim(), 'Play', 'still paused');
    assert.equal(warnings.length, 1, warnings.join('\n'));
    assert.match(warnings[0], new RegExp(`only ${new URL(host.url).origin.replace(/[.]/g, '\\.')}`));

    // The second frame plays its window on its own.
    await page.frameLocator('#looping').locator('[data-testid="clock"]').waitFor();
    await page.screenshot({ path: join(screenshotDir, 'embed-host.png') });
    assert.deepEqual(problems, []);
  } finally {
    await page.close();
    host.stop();
  }
});
