// End-to-end tests of the lessons: the index lists every lesson; each lesson
// plays through in Chromium, step by step — what it asks done, its prediction
// answered before it plays, its reveal shown with the run's figures when the
// step's moment is reached — and n/p move between steps; a deep link opens a
// lesson at a step, also in a frame at 800×500; presenter mode makes the
// lesson readable at 1920×1080; a teacher's own lesson file opens.
// Screenshots go to e2e/screenshots/ (three lessons' last steps kept there)
// and, for every lesson, to the system's temporary folder: look at them.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { launch, close, open, screenshotDir } from './browser.mjs';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');

before(launch);
after(close);

/** Kept in e2e/screenshots/: the last step of these lessons. */
const KEEP = { 'dns-ttl': 'lesson-dns-ttl.png', 'partitions-fencing': 'lesson-split-brain.png', 'leaderless-quorums': 'lesson-quorums.png' };

/** The lessons the index lists, in order. */
async function index(page) {
  await page.locator('[data-testid="lesson-index"] li[data-lesson]').first().waitFor({ timeout: 20_000 });
  return page.locator('[data-testid="lesson-index"] li[data-lesson]').evaluateAll((ls) => ls.map((l) => l.dataset.lesson));
}

/** Plays the step on screen: does what it asks, answers, plays, waits for the reveal. */
async function playStep(page, n) {
  const step = page.locator(`[data-testid="lesson-step"][data-step="${n}"]`);
  await step.waitFor({ timeout: 30_000 });
  const doIt = page.locator('[data-action="lesson-do"]');
  if (await doIt.count()) await doIt.click();
  const radio = page.locator('[data-testid="predict"] input[type="radio"]');
  const number = page.locator('[data-testid="predict"] input[type="number"]');
  if (await radio.count()) await radio.first().check();
  else if (await number.count()) { await number.fill('50'); await number.dispatchEvent('change'); }
  await page.locator('[data-testid="play"]').click();
  const reveal = page.locator('[data-testid="reveal"]');
  await reveal.waitFor({ timeout: 60_000 });
  return reveal.textContent();
}

test('every lesson plays through: asks, predictions before, reveals with the run\'s figures after', async () => {
  const { page, problems } = await open('?lessons&speed=100');
  try {
    const ids = await index(page);
    assert.ok(ids.length >= 18, `${ids.length} lessons`);
    await page.screenshot({ path: join(screenshotDir, 'lesson-index.png') });
    for (const id of ids) {
      await page.goto(new URL(`?lesson=${id}&speed=100`, page.url()).href);
      const steps = Number((await page.locator('.lesson-count').textContent({ timeout: 30_000 })).match(/of (\d+)/)[1]);
      for (let n = 1; n <= steps; n++) {
        const text = await playStep(page, n);
        assert.ok(text.trim().length > 0, `${id} step ${n}: the reveal says something`);
        assert.doesNotMatch(text, /\(".*" is not a figure/, `${id} step ${n}: every figure was found`);
        if ((await page.locator('[data-testid="predict"]').count()) > 0) {
          assert.match(text, /prediction was right|Not quite|The run says|guess|measured/, `${id} step ${n}: the prediction is graded`);
        }
        if (n < steps) await page.keyboard.press('n');
      }
      await page.screenshot({ path: join(tmpdir(), `pathlab-lesson-${id}.png`) });
      if (KEEP[id]) await page.screenshot({ path: join(screenshotDir, KEEP[id]) });
      // p goes back a step.
      await page.keyboard.press('p');
      await page.locator(`[data-testid="lesson-step"][data-step="${steps - 1}"]`).waitFor({ timeout: 30_000 });
    }
    assert.deepEqual(problems, []);
  } finally {
    await page.close();
  }
});

test('a lesson deep link opens at its step, in a frame at 800×500 too, and reads from across a room', async () => {
  const embedded = await open('?lesson=leader-failure&step=3&embed=1&speed=25', { width: 800, height: 500 });
  try {
    const { page } = embedded;
    await page.locator('[data-testid="lesson-step"][data-step="3"]').waitFor({ timeout: 30_000 });
    const fits = await page.evaluate(() => document.documentElement.scrollHeight <= innerHeight + 1 && document.documentElement.scrollWidth <= innerWidth + 1);
    assert.ok(fits, 'the frame does not scroll');
    await playStep(page, 3);
    await page.screenshot({ path: join(screenshotDir, 'lesson-embed-800.png') });
    assert.deepEqual(embedded.problems, []);
  } finally {
    await embedded.page.close();
  }
  const big = await open('?lesson=leader-failure&step=2&present=1', { width: 1920, height: 1080 });
  try {
    const { page } = big;
    await page.locator('[data-testid="lesson-step"][data-step="2"]').waitFor({ timeout: 30_000 });
    const size = await page.locator('[data-testid="lesson-step"] p').first().evaluate((p) => parseFloat(getComputedStyle(p).fontSize));
    assert.ok(size >= 20, `lesson text at ${size} px in presenter mode`);
    await page.screenshot({ path: join(screenshotDir, 'lesson-presenter-1920.png') });
    assert.deepEqual(big.problems, []);
  } finally {
    await big.page.close();
  }
});

test('a reveal offers the story of one of its anomalies: a lost write, told by the replay', async () => {
  const { page, problems } = await open('?lesson=leader-failure&step=3&speed=25');
  try {
    await playStep(page, 3);
    const why = page.locator('[data-action="lesson-why"]');
    await why.click();
    const story = page.locator('[data-testid="why"] li');
    await story.first().waitFor({ timeout: 60_000 });
    assert.match(await page.locator('[data-testid="why"]').textContent(), /acknowledged|confirmed/i);
    await page.screenshot({ path: join(screenshotDir, 'lesson-why.png') });
    assert.deepEqual(problems, []);
  } finally {
    await page.close();
  }
});

test('a teacher\'s own lesson file opens like a run file; a broken one is refused by step and field', async () => {
  const { page, problems } = await open('?preset=default&seed=3');
  try {
    const own = JSON.parse(readFileSync(join(root, 'lessons/12-leader-failure.json'), 'utf8'));
    own.id = 'my-failover';
    own.title = 'My own failover lesson';
    const pick = async (name, text) => {
      const [chooser] = await Promise.all([page.waitForEvent('filechooser'), page.locator('[data-testid="import"]').click()]);
      await chooser.setFiles({ name, mimeType: 'application/json', buffer: Buffer.from(text) });
    };
    await pick('mine.json', JSON.stringify(own));
    await page.locator('[data-testid="lesson"][data-lesson="my-failover"] [data-testid="lesson-step"][data-step="1"]').waitFor({ timeout: 30_000 });
    assert.match(await page.locator('.lesson-title').textContent(), /My own failover lesson/);
    own.steps[1].play_to = 'soon';
    await pick('broken.json', JSON.stringify(own));
    const notice = page.locator('[data-testid="notice"]');
    await notice.waitFor({ timeout: 15_000 });
    assert.match(await notice.textContent(), /steps\[1\]\.play_to/);
    assert.equal(await page.locator('[data-testid="lesson"]').getAttribute('data-lesson'), 'my-failover', 'the lesson stays');
    assert.deepEqual(problems, []);
  } finally {
    await page.close();
  }
});
