// End-to-end tests of the interface's promises: controls keep what the user
// chose while the page redraws, presenter and compact layouts, narrow
// screens, the keyboard, dialogs that keep focus, the grouped log and a lost
// write's story. Screenshots go to e2e/screenshots/: look at them.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { launch, close, open, newPage, baseUrl, runUntil, settled, screenshotDir } from './browser.mjs';

before(launch);
after(close);

/** The newest command in the event log, in words ("take region eu-west down"). */
async function lastCommand(page) {
  const line = page.locator('[data-testid="event-log"] > li').filter({ hasText: 'command:' }).first();
  return (await line.textContent()).replace(/^[\d.]+ s\s*command: /, '').trim();
}

test('region down and slow down act on what the user picked, while the page redraws', async () => {
  const { page, problems } = await open('?preset=default&play=1&speed=2');
  try {
    await runUntil(page, 2);
    await page.locator('[data-testid="region"]').selectOption('eu-west');
    await page.waitForTimeout(700); // several redraws
    assert.equal(await page.locator('[data-testid="region"]').inputValue(), 'eu-west');
    await page.locator('[data-testid="region-down"]').click();
    await settled(page);
    assert.equal(await lastCommand(page), 'take region eu-west down');
    assert.equal(await page.locator('[data-node="cdn-eu-west"]').getAttribute('data-state'), 'down');
    assert.notEqual(await page.locator('[data-node="lb-a"]').getAttribute('data-state'), 'down', 'us-east keeps running');

    await page.locator('[data-node="app-2"]').click();
    await page.locator('[data-testid="slow-factor"]').selectOption('50');
    await page.waitForTimeout(700);
    assert.equal(await page.locator('[data-testid="slow-factor"]').inputValue(), '50');
    await page.locator('[data-action="slow"]').click();
    await settled(page);
    assert.equal(await lastCommand(page), 'slow app-2 ×50');
    assert.deepEqual(problems, []);
  } finally {
    await page.close();
  }
});

test('every select and slider keeps its value while playing and sends the command it shows', async () => {
  const { page, problems } = await open('?preset=default&play=1&speed=2');
  try {
    const choices = [
      // [group to open, control, value, the command it sends, in words]
      ['database', 'read-from', 'followers', 'set database: reads from any follower'],
      ['database', 'replication', 'sync', 'set database: synchronous replication'],
      ['database', 'follower-ack', 'received', 'set database: followers acknowledge what they received'],
      ['caching', 'write-policy', 'write-through', 'set cache: writes go through the cache'],
      ['caching', 'eviction', 'lfu', 'set cache: evict least frequently used'],
      ['balancing', 'lb-strategy', 'least-connections', 'set load balancing: least-connections'],
      ['balancing', 'session-store', 'local', "keep session state in each app server's memory"],
    ];
    for (const [group, id, value, expected] of choices) {
      const g = page.locator(`[data-group="${group}"]`);
      if (!(await g.getAttribute('open') !== null)) await g.locator('summary').click();
      await page.locator(`[data-testid="${id}"]`).selectOption(value);
      await page.waitForTimeout(400);
      await settled(page);
      assert.equal(await page.locator(`[data-testid="${id}"]`).inputValue(), value, `${id} shows ${value}`);
      assert.equal(await lastCommand(page), expected, `${id} sent its command`);
    }
    // The speed select and the rate slider.
    await page.locator('[data-testid="speed"]').selectOption({ label: '5×' });
    await page.waitForTimeout(400);
    assert.equal(await page.locator('[data-testid="speed"] option:checked').textContent(), '5×');
    const rate = page.locator('[data-testid="rate"]');
    await rate.fill('600');
    await rate.dispatchEvent('change');
    await page.waitForTimeout(400);
    await settled(page);
    assert.equal(await rate.inputValue(), '600');
    assert.equal(await lastCommand(page), 'set load: 600 requests/s');
    assert.deepEqual(problems, []);
  } finally {
    await page.close();
  }
});

test('the chosen scenario is explained, and the first screen says how to start', async () => {
  const { page } = await open('?preset=partition-leader');
  try {
    const text = await page.locator('[data-testid="preset-description"]').textContent();
    assert.match(text, /partition-leader/);
    assert.match(text, /Fencing is off/);
    assert.match(await page.locator('[data-testid="charts"]').textContent(), /Press Play/);
    await page.locator('[data-testid="preset"]').selectOption('leader-crash');
    assert.match(await page.locator('[data-testid="preset-description"]').textContent(), /crashes at 20 s/);
  } finally {
    await page.close();
  }
});

test('the log groups a burst of lost writes into one line, keeps the partition and election, and tells a lost write\'s story', async () => {
  const { page, problems } = await open('?preset=partition-leader&speed=25&play=1', { width: 1440, height: 900 });
  try {
    await runUntil(page, 46);
    await page.locator('[data-testid="play"]').click();
    const log = page.locator('[data-testid="event-log"]');
    const groups = log.locator('li[data-group-count]').filter({ hasText: 'acknowledged writes lost' });
    const counts = [];
    for (const g of await groups.all()) counts.push(Number(await g.getAttribute('data-group-count')));
    const biggest = counts.indexOf(Math.max(...counts));
    assert.ok(counts[biggest] > 100, `one line for the burst (lines of ${counts})`);
    const group = groups.nth(biggest);
    assert.match(await log.textContent(), /command: partition/);
    assert.match(await log.textContent(), /elected leader/);
    // The filter keeps one kind.
    await page.locator('[data-testid="log-filter"]').selectOption('faults');
    assert.doesNotMatch(await log.textContent(), /writes lost/);
    await page.locator('[data-testid="log-filter"]').selectOption('');
    // Opening the group lists the writes; one opens its story.
    await group.locator('.group-toggle').click();
    await group.locator('.group-lines button').first().click();
    const outcome = await page.locator('[data-testid="waterfall-outcome"]').textContent();
    assert.match(outcome, /acknowledged at/);
    assert.match(outcome, /then lost/);
    assert.match(outcome, /elected leader/);
    assert.doesNotMatch(outcome, /✓/);
    await page.screenshot({ path: join(screenshotDir, 'lost-write.png') });
    assert.deepEqual(problems, []);
  } finally {
    await page.close();
  }
});

test('presenter mode at 1920×1080: large type, the diagram filling the screen; f toggles it', async () => {
  const { page, problems } = await open('?preset=leader-crash&present=1&play=1&speed=10', { width: 1920, height: 1080 });
  try {
    await runUntil(page, 22);
    assert.equal(await page.locator('.lab').getAttribute('data-layout'), 'presenter');
    const box = await page.locator('[data-testid="diagram"]').boundingBox();
    assert.ok(box.width > 1700, `the diagram is ${box.width} px wide`);
    const label = await page.locator('[data-node="db-0-1"] .node-label').evaluate((el) => el.getBoundingClientRect().height);
    assert.ok(label >= 24, `node labels are ${label} px tall`);
    await page.screenshot({ path: join(screenshotDir, 'presenter-1920.png') });
    await page.locator('body').press('f');
    assert.equal(await page.locator('.lab').getAttribute('data-layout'), 'full');
    assert.deepEqual(problems, []);
  } finally {
    await page.close();
  }
});

test('a 390×844 phone gets the diagram first, full width, with tap targets of 40 px', async () => {
  const { page, problems } = await open('?preset=default&play=1', { width: 390, height: 844 });
  try {
    const diagram = await page.locator('[data-testid="diagram"]').boundingBox();
    assert.ok(diagram.width >= 370, `the diagram is ${diagram.width} px wide`);
    assert.ok(diagram.y < 300, 'the diagram comes first, under the controls');
    const node = await page.locator('[data-node="app-1"] .hit-area').boundingBox();
    assert.ok(node.width >= 40 && node.height >= 40, `a node is ${node.width}×${node.height} px`);
    for (const b of await page.locator('.controls button').all()) {
      const r = await b.boundingBox();
      assert.ok(r.height >= 40, 'buttons are 40 px tall');
    }
    assert.ok(await page.evaluate(() => document.documentElement.scrollWidth) <= 390, 'no sideways scrolling');
    await page.screenshot({ path: join(screenshotDir, 'phone-390.png') });
    assert.deepEqual(problems, []);
  } finally {
    await page.close();
  }
});

test('embedded at 640×400 and 800×500 the diagram and the time controls fit without scrolling', async () => {
  for (const viewport of [{ width: 640, height: 400 }, { width: 800, height: 500 }]) {
    const { page, problems } = await open('?preset=leader-crash&embed=1', viewport);
    try {
      assert.equal(await page.locator('.lab').getAttribute('data-layout'), 'embed');
      const size = await page.evaluate(() => [document.documentElement.scrollWidth, document.documentElement.scrollHeight]);
      assert.ok(size[0] <= viewport.width && size[1] <= viewport.height, `page ${size} fits ${viewport.width}×${viewport.height}`);
      for (const sel of ['[data-testid="diagram"]', '[data-testid="play"]', '[data-testid="step"]', '[data-testid="clock"]', '[data-testid="timeline"]', '[data-testid="open-full"]']) {
        const b = await page.locator(sel).boundingBox();
        assert.ok(b && b.y + b.height <= viewport.height && b.x + b.width <= viewport.width, `${sel} is in view`);
      }
      // "Open in full" opens the same experiment in the full page.
      const full = await page.locator('[data-testid="open-full"]').getAttribute('href');
      assert.match(full, /preset=leader-crash/);
      assert.doesNotMatch(full, /embed/);
      await page.screenshot({ path: join(screenshotDir, `embed-${viewport.width}.png`) });
      assert.deepEqual(problems, []);
    } finally {
      await page.close();
    }
  }
});

test('Space on a focused button presses it; elsewhere it plays; a dialog keeps the focus', async () => {
  const { page, problems } = await open('?preset=default');
  try {
    // Focus on Step: Space steps (the button's own action) and does not play.
    await page.locator('[data-testid="step"]').focus();
    await page.keyboard.press('Space');
    await settled(page);
    assert.match(await page.locator('[data-testid="clock"]').textContent(), /t = 0\.1 s/);
    assert.equal((await page.locator('[data-testid="play"]').textContent()).trim(), 'Play');
    // Focus nowhere: Space plays.
    await page.evaluate(() => document.activeElement.blur());
    await page.keyboard.press('Space');
    assert.equal((await page.locator('[data-testid="play"]').textContent()).trim(), 'Pause');
    await page.keyboard.press('Space');
    // The help dialog holds Tab and Shift+Tab.
    await page.keyboard.press('?');
    const dialog = page.locator('[data-testid="help"]');
    await dialog.waitFor();
    for (let i = 0; i < 4; i++) {
      await page.keyboard.press('Tab');
      assert.ok(await dialog.evaluate((d) => d.contains(document.activeElement)), 'focus stays in the dialog');
    }
    await page.keyboard.press('Shift+Tab');
    assert.ok(await dialog.evaluate((d) => d.contains(document.activeElement)));
    await page.keyboard.press('Escape');
    assert.equal(await dialog.count(), 0);
    assert.deepEqual(problems, []);
  } finally {
    await page.close();
  }
});

test('a bad address value is explained, not ignored; escaped values are read', async () => {
  const { page } = await open('?preset=leader%2Dcrash&play=yes&speed=1e9');
  try {
    assert.equal(await page.locator('[data-testid="preset"]').inputValue(), 'leader-crash');
    const notice = await page.locator('[data-testid="notice"]').textContent();
    assert.match(notice, /speed 1e9 is above the fastest/);
    assert.equal((await page.locator('[data-testid="play"]').textContent()).trim(), 'Pause', 'play=yes plays');
  } finally {
    await page.close();
  }
});

test('node labels are readable at 1280×720, and zooming in makes the diagram\'s text larger', async () => {
  const labelHeight = async (viewport) => {
    const { page } = await open('?preset=default', viewport);
    try {
      return await page.locator('[data-node="app-1"] .node-label').evaluate((el) => el.getBoundingClientRect().height);
    } finally {
      await page.close();
    }
  };
  const at1280 = await labelHeight({ width: 1280, height: 720 });
  assert.ok(at1280 >= 14, `labels are ${at1280.toFixed(1)} px tall at 1280×720`);
  // 150 % zoom on a 1440 px screen leaves 960 CSS px, each 1.5 device px.
  const plain = await labelHeight({ width: 1440, height: 900 });
  const zoomed = (await labelHeight({ width: 960, height: 600 })) * 1.5;
  assert.ok(zoomed > plain * 1.2, `zoomed labels ${zoomed.toFixed(1)} device px, unzoomed ${plain.toFixed(1)}`);
});

test('a frame with range=20..22 and autoplay plays that window over and over; with reduced motion it waits for Play', async () => {
  const { page, problems } = await open('?preset=leader-crash&embed=1&range=20..22&autoplay=1&speed=2', { width: 800, height: 500 });
  try {
    const clock = async () => Number((await page.locator('[data-testid="clock"]').textContent()).match(/t = ([\d.]+)/)[1]);
    await runUntil(page, 20);
    const seen = [];
    for (let i = 0; i < 25; i++) {
      seen.push(await clock());
      await page.waitForTimeout(120);
    }
    assert.ok(seen.every((t) => t >= 20 && t <= 22), `within the window: ${seen}`);
    assert.ok(seen.some((t, i) => i > 0 && t < seen[i - 1]), `it went round: ${seen}`);
    assert.deepEqual(problems, []);
  } finally {
    await page.close();
  }
  const still = await newPage({ width: 800, height: 500 });
  try {
    await still.emulateMedia({ reducedMotion: 'reduce' });
    await still.goto(`${baseUrl}?preset=leader-crash&embed=1&range=20..22&autoplay=1`, { waitUntil: 'load' });
    await still.locator('[data-node="db-0-0"]').waitFor({ timeout: 15_000 });
    await still.locator('[data-testid="clock"][data-pending="0"]').waitFor();
    assert.equal((await still.locator('[data-testid="play"]').textContent()).trim(), 'Play');
    assert.match(await still.locator('[data-testid="clock"]').textContent(), /t = 20\.0 s/);
  } finally {
    await still.close();
  }
});

test('controls= and panels= choose what a frame shows', async () => {
  const { page, problems } = await open('?preset=default&embed=1&controls=play,clock&panels=diagram,timeline', { width: 640, height: 400 });
  try {
    for (const shown of ['[data-testid="play"]', '[data-testid="clock"]', '[data-testid="diagram"]', '[data-testid="timeline"]']) {
      assert.ok(await page.locator(shown).isVisible(), `${shown} shows`);
    }
    for (const hidden of ['[data-testid="step"]', '[data-testid="reset"]', '[data-testid="speed"]', '[data-testid="metrics"]']) {
      assert.ok(!(await page.locator(hidden).isVisible()), `${hidden} is left out`);
    }
    assert.deepEqual(problems, []);
  } finally {
    await page.close();
  }
});
