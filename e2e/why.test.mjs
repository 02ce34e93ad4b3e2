// End-to-end tests of "why?": a request's details ask the replay worker
// (a second copy of the core, started on first use) for the story of what went wrong, and show it as
// numbered facts with their simulated times. Screenshots go to
// e2e/screenshots/: look at them.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { launch, close, open, newPage, baseUrl, runUntil, screenshotDir, settled } from './browser.mjs';

before(launch);
after(close);

/** Plays until the requests list shows a read or write with `outcome` (e.g. "stale"), pauses, opens it. */
async function openRequestWith(page, outcome, seconds) {
  await runUntil(page, seconds);
  await page.keyboard.press('Space');
  // The last frames played still come in after the pause: the list must
  // stand still before a row is picked, or the click lands on another.
  await settled(page);
  // Static assets have no story to ask for: pick a read or a write.
  const row = page
    .locator(`[data-testid="requests"] button.outcome-${outcome}`)
    .filter({ hasText: /#\d+ (read|write) / })
    .first();
  await row.waitFor({ timeout: 20_000 });
  const id = await row.getAttribute('data-request');
  await row.click();
  await page.locator('[data-testid="waterfall"] .wf-title').filter({ hasText: `Request #${id}` }).waitFor();
  return id;
}

/** Shows only anomalies in the log and opens the first request on a line matching `text` (inside its group, if grouped). */
async function openFromLog(page, text) {
  await page.locator('[data-testid="log-filter"]').selectOption('anomalies');
  const line = page.locator('[data-testid="event-log"] li').filter({ hasText: text }).first();
  await line.waitFor();
  if (await line.getAttribute('data-group-count')) {
    await line.locator('.group-toggle').click();
    await line.locator('.group-lines button').first().click();
  } else {
    await line.locator('button.link').first().click();
  }
}

test('the why of a stale read names the write it missed, the replica that answered and its lag', async () => {
  const { page, problems } = await open('?preset=async-follower-reads&play=1&speed=5');
  try {
    await openRequestWith(page, 'stale', 3);
    await page.locator('[data-testid="why-button"]').click();
    const facts = page.locator('[data-testid="why"] > li');
    await facts.first().waitFor({ timeout: 20_000 });
    const texts = await facts.allTextContents();
    const story = texts.join('\n');
    // (The session's own write, if it was a read-your-writes violation too.)
    assert.match(story, /(a write|the session's own write) \(request \d+\) of version t\d+#\d+ was acknowledged before this read began/);
    assert.match(story, /db-0-\d \(follower\) answered it with version t\d+#\d+; it was [\d.]+ ms behind its leader/);
    assert.match(story, /replication async, reads go to followers/);
    // One child per fact, each with its time; in order.
    const times = await facts.evaluateAll((lis) => lis.map((li) => Number(li.dataset.tMs)));
    assert.equal(times.length, texts.length);
    assert.ok(times.every((t, i) => Number.isFinite(t) && (i === 0 || times[i - 1] <= t)), `times in order: ${times}`);
    await page.screenshot({ path: join(screenshotDir, 'why-stale-read.png') });
    // The story links to the write the read missed: its details open.
    const link = page.locator('[data-testid="why"] button[data-request]').first();
    const write = await link.getAttribute('data-request');
    await link.click();
    await page.locator('[data-testid="waterfall"] .wf-title').filter({ hasText: `Request #${write}` }).waitFor({ timeout: 20_000 });
    assert.match(await page.locator('[data-testid="waterfall"]').textContent(), /Kind\s*write/);
    assert.deepEqual(problems, []);
  } finally {
    await page.close();
  }
});

test('a request that went well has nothing to explain, and says so', async () => {
  const { page, problems } = await open('?preset=default&play=1&speed=5');
  try {
    await openRequestWith(page, 'ok', 2);
    await page.locator('[data-testid="why-button"]').click();
    await page.locator('.why-panel h3').waitFor({ timeout: 20_000 });
    assert.match(await page.locator('.why-panel h3').textContent(), /nothing to explain/);
    assert.equal(await page.locator('[data-testid="why"]').count(), 0);
    assert.deepEqual(problems, []);
  } finally {
    await page.close();
  }
});

test('a log link to a lost write opens its details a minute later, rebuilt by replaying, with the story of its loss', async () => {
  const { page, problems } = await open('?preset=leader-crash&play=1&speed=50', { width: 1440, height: 900 });
  try {
    await runUntil(page, 82);
    await page.keyboard.press('Space');
    await openFromLog(page, /lost/);
    // The page no longer keeps this request's hops: they come back from a replay.
    const hops = page.locator('[data-testid="waterfall"] tbody tr');
    await hops.first().waitFor({ timeout: 20_000 });
    assert.ok(await hops.count() >= 4, 'browser, DNS, balancer, app server, database…');
    assert.match(await hops.allTextContents().then((t) => t.join(' ')), /db-0-0/);
    assert.match(await page.locator('[data-testid="waterfall-outcome"]').textContent(), /then lost/);
    await page.locator('[data-testid="why-button"]').click();
    await page.locator('[data-testid="why"] > li').first().waitFor({ timeout: 20_000 });
    const story = (await page.locator('[data-testid="why"] > li').allTextContents()).join('\n');
    assert.match(story, /db-0-0 acknowledged it as version t1#\d+ in term 1; with async replication the acknowledgement waited for nothing/);
    assert.match(story, /the fault: db-0-0 crashed/);
    assert.match(story, /db-0-\d won the election for term \d+ without having version t1#\d+/);
    assert.match(story, /the write was found gone/);
    await page.screenshot({ path: join(screenshotDir, 'why-lost-write.png') });
    assert.deepEqual(problems, []);
  } finally {
    await page.close();
  }
});

test('when the replay worker cannot load, the question gets a clear answer and the page goes on', async () => {
  const { page } = await open('?preset=async-follower-reads&play=1&speed=5');
  try {
    await page.route('**/pathlab-core*', (route) => route.abort());
    await openRequestWith(page, 'stale', 3);
    await page.locator('[data-testid="why-button"]').click();
    const heading = page.locator('.why-panel h3');
    await heading.waitFor({ timeout: 20_000 });
    assert.match(await heading.textContent(), /^No answer: the replay worker/);
    // Once it can load, asking again starts a new worker that answers.
    await page.unroute('**/pathlab-core*');
    await page.locator('[data-testid="waterfall-close"]').click();
    await page.locator('[data-testid="requests"] button.outcome-stale').first().click();
    await page.locator('[data-testid="why-button"]').click();
    await page.locator('[data-testid="why"] > li').first().waitFor({ timeout: 20_000 });
    // The page still works: close the details, play on.
    await page.locator('[data-testid="waterfall-close"]').click();
    await page.keyboard.press('Space');
    await runUntil(page, 4);
    assert.equal(await page.locator('[data-testid="error-panel"]').count(), 0);
  } finally {
    await page.close();
  }
});

test('when the simulation core cannot load, the page says so plainly instead of staying blank', async () => {
  const page = await newPage();
  try {
    await page.route('**/pathlab-core*', (route) => route.abort());
    await page.goto(baseUrl, { waitUntil: 'load' });
    const failure = page.locator('[data-testid="core-failure"]');
    await failure.waitFor({ timeout: 15_000 });
    assert.match(await failure.textContent(), /PathLab cannot run: the simulation core stopped/);
    assert.equal(await page.locator('[data-testid="error-panel"]').count(), 0, 'no crash');
  } finally {
    await page.close();
  }
});

test('a log line about a rolled-back read opens it, and its story says the version was not yet on a majority', async () => {
  const { page, problems } = await open('?preset=partition-leader&play=1&speed=25', { width: 1440, height: 900 });
  try {
    await runUntil(page, 30);
    await page.keyboard.press('Space');
    await openFromLog(page, /discarded/);
    await page.locator('[data-testid="waterfall"] tbody tr').first().waitFor({ timeout: 20_000 });
    await page.locator('[data-testid="why-button"]').click();
    await page.locator('[data-testid="why"] > li').first().waitFor({ timeout: 20_000 });
    assert.match(await page.locator('.why-panel h3').textContent(), /rolled-back read/);
    const story = (await page.locator('[data-testid="why"] > li').allTextContents()).join('\n');
    assert.match(story, /the fault: command: partition/);
    assert.match(story, /answered it with version t1#\d+, not yet on a majority of replicas/);
    assert.match(story, /won the election for term \d+ without having version t1#\d+/);
    assert.deepEqual(problems, []);
  } finally {
    await page.close();
  }
});
