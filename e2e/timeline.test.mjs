// End-to-end tests of time travel: the timeline under the diagram, going
// back past a crash and forward again, stepping back, forking a branch by
// acting in the past and switching back, and links that go to a moment.
// Fingerprints are compared with the native CLI's straight runs.
// Screenshots go to e2e/screenshots/: look at them.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { launch, close, open, runUntil, settled, screenshotDir } from './browser.mjs';

const here = dirname(fileURLToPath(import.meta.url));

before(launch);
after(close);

/** The native CLI's fingerprint of a straight run of `preset` to `seconds`. */
function nativeFingerprint(preset, seed, seconds) {
  const out = execFileSync('cargo', ['run', '--quiet', '--release', '-p', 'pathlab-sim', '--', 'run',
    '--preset', preset, '--seed', String(seed), '--duration', String(seconds), '--json'], { cwd: join(here, '..') });
  return JSON.parse(out.toString()).fingerprint;
}

const timeline = (page) => page.locator('[data-testid="timeline"]');
const cursorMs = async (page) => Number(await timeline(page).getAttribute('aria-valuenow'));
const fingerprint = (page) => page.locator('[data-testid="fingerprint"]').getAttribute('data-fingerprint');

const play = (page) => page.locator('[data-testid="play"]').click();

/** Plays to `seconds`, then pauses. */
async function playTo(page, seconds) {
  await play(page);
  await runUntil(page, seconds);
  await play(page);
  await settled(page);
}

/** Clicks the timeline at simulated time `ms`. */
async function clickAt(page, ms) {
  await timeline(page).scrollIntoViewIfNeeded();
  const box = await timeline(page).boundingBox();
  const end = Number(await timeline(page).getAttribute('aria-valuemax'));
  await page.mouse.click(box.x + (box.width * ms) / end, box.y + box.height / 2);
  await settled(page);
}

/** Goes to exactly `ms` through a link-like action: Home, then → steps. */
async function seekExactly(page, ms) {
  await page.keyboard.press('Home');
  await settled(page);
  for (let i = 0; i < ms / 100; i++) await page.keyboard.press('ArrowRight');
  await settled(page);
}

test('going back past a crash and forward again gives the straight run\'s fingerprints', async () => {
  const { page, problems } = await open('?preset=leader-crash&seed=9&speed=10');
  try {
    await playTo(page, 30);
    const slider = timeline(page);
    assert.equal(await slider.getAttribute('role'), 'slider');
    const end = Number(await slider.getAttribute('aria-valuemax'));
    assert.ok(end >= 30_000, `the run so far: ${end} ms`);
    assert.equal(await cursorMs(page), end, 'the cursor is at the end');
    // The scripted crash at 20 s is marked, and says what it is.
    const crash = page.locator('[data-marker="crash"]').first();
    assert.equal(await crash.getAttribute('data-t-ms'), '20000');
    assert.match(await crash.getAttribute('title'), /crash db-0-0/);
    assert.ok(await page.locator('[data-marker="election"]').count() >= 1, 'the election is marked');
    // Back to 15 s (before the crash), exactly: the straight run's state.
    await seekExactly(page, 15_000);
    assert.equal(await cursorMs(page), 15_000);
    assert.equal(await page.locator('[data-node="db-0-0"]').getAttribute('data-state'), 'leader', 'not crashed yet');
    assert.equal(await fingerprint(page), nativeFingerprint('leader-crash', 9, 15));
    // Forward past the crash to 25 s: the straight run's state again.
    for (let i = 0; i < 100; i++) await page.keyboard.press('ArrowRight');
    await settled(page);
    assert.equal(await cursorMs(page), 25_000);
    assert.equal(await page.locator('[data-node="db-0-0"]').getAttribute('data-state'), 'down');
    assert.equal(await fingerprint(page), nativeFingerprint('leader-crash', 9, 25));
    // ← steps back 0.1 s; Shift+← jumps to the crash marker before.
    await page.keyboard.press('ArrowLeft');
    await settled(page);
    assert.equal(await cursorMs(page), 24_900);
    await page.keyboard.press('Shift+ArrowLeft');
    await settled(page);
    const markerTimes = await page.locator('[data-marker]').evaluateAll((ms) => ms.map((m) => Number(m.dataset.tMs)));
    const before = Math.max(...markerTimes.filter((t) => t < 24_900));
    assert.equal(await cursorMs(page), before, 'Shift+← went to the marker before');
    // End goes back to where the run got to.
    await page.keyboard.press('End');
    await settled(page);
    assert.equal(await cursorMs(page), end);
    // Clicking the track goes near that moment.
    await clickAt(page, 10_000);
    assert.ok(Math.abs((await cursorMs(page)) - 10_000) < end / 100, `clicked near 10 s: ${await cursorMs(page)}`);
    // Dragging along it follows the pointer, and ends where it is let go.
    const box = await timeline(page).boundingBox();
    const x = (ms) => box.x + (box.width * ms) / end;
    await page.mouse.move(x(10_000), box.y + box.height / 2);
    await page.mouse.down();
    for (let ms = 11_000; ms <= 20_000; ms += 1_000) await page.mouse.move(x(ms), box.y + box.height / 2);
    await page.mouse.up();
    await settled(page);
    assert.ok(Math.abs((await cursorMs(page)) - 20_000) < end / 100, `dragged to near 20 s: ${await cursorMs(page)}`);
    await page.screenshot({ path: join(screenshotDir, 'timeline.png'), fullPage: true });
    assert.deepEqual(problems, []);
  } finally {
    await page.close();
  }
});

test('restarting a node earlier forks a branch with another fingerprint; switching back restores the old one', async () => {
  const { page, problems } = await open('?preset=leader-crash&seed=4&speed=10');
  try {
    await playTo(page, 45);
    await page.keyboard.press('End');
    await settled(page);
    const end = await cursorMs(page);
    const oldFingerprint = await fingerprint(page);
    // Back to 25 s, when db-0-0 is down, and restart it there.
    await clickAt(page, 25_000);
    assert.equal(await page.locator('[data-node="db-0-0"]').getAttribute('data-state'), 'down');
    await page.locator('[data-node="db-0-0"]').click();
    await page.locator('[data-action="restart"]').click();
    await settled(page);
    const branches = page.locator('[data-testid="branches"] > ol > li');
    assert.equal(await branches.count(), 2, 'the old future is kept as a branch');
    assert.equal(await branches.first().getAttribute('data-current'), 'true');
    assert.match(await branches.first().textContent(), /restart db-0-0/);
    // Play the new branch on: another future.
    await play(page);
    await page.waitForFunction((ms) => Number(document.querySelector('[data-testid="timeline"]').getAttribute('aria-valuenow')) >= ms, end, { timeout: 60_000 });
    await play(page);
    await settled(page);
    assert.equal(await page.locator('[data-node="db-0-0"]').getAttribute('data-state') === 'down', false, 'restarted');
    assert.notEqual(await fingerprint(page), oldFingerprint);
    await page.screenshot({ path: join(screenshotDir, 'timeline-branches.png'), fullPage: true });
    // Switch back: the old branch at the same moment (its end), its fingerprint.
    const old = branches.nth(1);
    assert.equal(await old.getAttribute('data-fingerprint'), oldFingerprint);
    await old.locator('[data-action="switch"]').click();
    await settled(page);
    assert.equal(await fingerprint(page), oldFingerprint);
    assert.equal(await branches.first().getAttribute('data-fingerprint'), oldFingerprint);
    assert.deepEqual(problems, []);
  } finally {
    await page.close();
  }
});

test('a time in the log or the requests list goes to that moment and opens what it is about', async () => {
  const { page, problems } = await open('?preset=leader-crash&seed=1&speed=10');
  try {
    await playTo(page, 30);
    // A log line's time: the crash of db-0-0 at 20 s, which it selects.
    await page.locator('[data-testid="log-filter"]').selectOption('faults');
    const crashed = page.locator('[data-testid="event-log"] li').filter({ hasText: 'db-0-0 crashed' }).first();
    const at = crashed.locator('button.at');
    const ms = Number(await at.getAttribute('data-t-ms'));
    await at.click();
    await settled(page);
    assert.equal(await cursorMs(page), ms);
    assert.ok(await page.locator('[data-testid="node-panel"]').textContent().then((t) => t.includes('db-0-0')), 'db-0-0 is selected');
    // A request's time in the list: it opens there.
    const row = page.locator('[data-testid="requests"] li').first();
    const reqAt = Number(await row.locator('button.at').getAttribute('data-t-ms'));
    const id = await row.locator('button[data-request]').getAttribute('data-request');
    await row.locator('button.at').click();
    await settled(page);
    assert.equal(await cursorMs(page), reqAt);
    await page.locator('[data-testid="waterfall"] .wf-title').filter({ hasText: `Request #${id}` }).waitFor({ timeout: 20_000 });
    assert.deepEqual(problems, []);
  } finally {
    await page.close();
  }
});
