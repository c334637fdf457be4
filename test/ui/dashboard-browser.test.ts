/**
 * The dashboard end to end in Debian's chromium (playwright-core): a real control plane started
 * with `berth server start`, a model registered and deployed with the CLI, then everything a user
 * does on the pages, asserting what the page shows. Screenshots go to test-artifacts/ui/ (or
 * $BERTH_TEST_ARTIFACTS). Without /usr/bin/chromium the tests fail, unless BERTH_SKIP_BROWSER=1.
 */
import assert from 'node:assert/strict';
import {
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { type Browser, type BrowserContext, chromium, type Locator, type Page } from 'playwright-core';
import { runCli } from '../helpers/run-cli.js';

/** Debian's chromium; BERTH_CHROMIUM points elsewhere (another system's Chrome or Chromium). */
const CHROMIUM = process.env.BERTH_CHROMIUM ?? '/usr/bin/chromium';
const SKIP =
  process.env.BERTH_SKIP_BROWSER === '1'
    ? 'BERTH_SKIP_BROWSER=1: the dashboard browser tests are skipped on purpose'
    : false;
const ENTRY_SCRIPTS = fileURLToPath(new URL('../fixtures/entry-scripts/', import.meta.url));
const ARTIFACTS = resolve(
  process.env.BERTH_TEST_ARTIFACTS ?? fileURLToPath(new URL('../../test-artifacts/ui/', import.meta.url)),
);
const WAIT_MS = 30_000;

interface ServerInfo {
  url: string;
  token: string;
  dashboardUrl?: string;
}

/** Polls `read` until `ok` holds for its value; fails with the last value seen. */
async function eventually<T>(
  what: string,
  read: () => Promise<T>,
  ok: (value: T) => boolean,
  timeoutMs = WAIT_MS,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: T | undefined;
  let error: unknown;
  for (;;) {
    try {
      last = await read();
      if (ok(last)) return last;
    } catch (err) {
      error = err;
    }
    if (Date.now() > deadline) {
      throw new Error(
        `Timed out waiting for ${what}; last: ${JSON.stringify(last)}${error ? ` (${String(error)})` : ''}`,
      );
    }
    await new Promise((r) => setTimeout(r, 150));
  }
}

const textOf = (locator: Locator, what: string, pattern: RegExp, timeoutMs?: number) =>
  eventually(
    what,
    async () => (await locator.textContent()) ?? '',
    (t) => pattern.test(t),
    timeoutMs,
  );

/** The whole document, hidden parts included: what a page holds, not only what it shows. */
const pageText = (page: Page) => page.content();

/** Kills the replica process groups a failed run may leave behind. */
function killLeftovers(ws: string): void {
  const services = join(ws, 'services');
  if (!existsSync(services)) return;
  for (const name of readdirSync(services)) {
    try {
      const state = JSON.parse(readFileSync(join(services, name, 'state.json'), 'utf8')) as { pid?: number };
      if (state.pid) process.kill(-state.pid, 'SIGKILL');
    } catch {
      // no state file, or already gone
    }
  }
}

describe('dashboard in a real browser', { skip: SKIP, timeout: 300_000 }, () => {
  let dir = '';
  let ws = '';
  let server: ServerInfo;
  let browser: Browser | undefined;
  let context: BrowserContext;
  let page: Page;
  let loginLink = '';
  const models: Record<string, { sha256: string }> = {};

  const berth = (args: string[], timeoutMs = 120_000) =>
    runCli(['--workspace', ws, ...args], { cwd: dir, timeoutMs });
  const api = async <T>(path: string, init: RequestInit = {}): Promise<{ status: number; body: T }> => {
    const res = await fetch(`${server.url}${path}`, {
      ...init,
      headers: {
        authorization: `Bearer ${server.token}`,
        ...(init.body ? { 'content-type': 'application/json' } : {}),
      },
    });
    return { status: res.status, body: (await res.json()) as T };
  };
  const shot = (name: string) => page.screenshot({ path: join(ARTIFACTS, `${name}.png`), fullPage: true });

  before(async () => {
    if (!existsSync(CHROMIUM)) {
      throw new Error(
        `Chromium is not installed at ${CHROMIUM}: the dashboard's browser tests need Debian's chromium package ` +
          '(apt-get install -y chromium; .ci/run installs it), or BERTH_CHROMIUM=PATH of another Chromium. ' +
          'Set BERTH_SKIP_BROWSER=1 to skip them on purpose.',
      );
    }
    mkdirSync(ARTIFACTS, { recursive: true });
    dir = mkdtempSync(join(tmpdir(), 'berth-ui-'));
    ws = join(dir, 'ws');
    writeFileSync(join(dir, 'weights-v1.bin'), 'weights of version 1');
    writeFileSync(join(dir, 'weights-v2.bin'), 'weights of version 2, a little longer');
    writeFileSync(
      join(dir, 'ic.json'),
      JSON.stringify({ runtime: 'node', entryScript: 'with-schema.js', sourceDirectory: ENTRY_SCRIPTS }),
    );
    writeFileSync(join(dir, 'dc.json'), JSON.stringify({ authEnabled: true }));
    writeFileSync(
      join(dir, 'ic-broken.json'),
      JSON.stringify({ runtime: 'node', entryScript: 'throws-in-init.js', sourceDirectory: ENTRY_SCRIPTS }),
    );

    const started = await berth(['server', 'start', '--json'], 60_000);
    assert.equal(started.code, 0, started.stderr);
    server = started.json<ServerInfo>();
    loginLink = server.dashboardUrl ?? `${server.url}/?token=${encodeURIComponent(server.token)}`;

    for (const [file, stage] of [
      ['weights-v1.bin', 'prod'],
      ['weights-v2.bin', 'dev'],
    ]) {
      const r = await berth([
        'model',
        'register',
        '-n',
        'summer',
        '-p',
        file,
        '--tag',
        'team=ml',
        '--tag',
        `stage=${stage}`,
        '-d',
        'adds up rows',
        '--json',
      ]);
      assert.equal(r.code, 0, r.stderr);
      const m = r.json<{ id: string; sha256: string }>();
      models[m.id] = m;
    }
    const deployed = await berth([
      'model',
      'deploy',
      '-n',
      'sum-svc',
      '-m',
      'summer:1',
      '--ic',
      'ic.json',
      '--dc',
      'dc.json',
      '--json',
    ]);
    assert.equal(deployed.code, 0, deployed.stderr + deployed.stdout);
    // A second service whose init() throws: it ends Failed while the browser tests start.
    const broken = await berth([
      'model',
      'deploy',
      '-n',
      'broken',
      '-m',
      'summer:1',
      '--ic',
      'ic-broken.json',
      '--no-wait',
      '--json',
    ]);
    assert.equal(broken.code, 0, broken.stderr + broken.stdout);

    browser = await chromium.launch({
      executablePath: CHROMIUM,
      headless: true,
      args: [
        '--no-sandbox',
        '--disable-gpu',
        '--disable-quic',
        '--no-first-run',
        '--disable-background-networking',
        '--disable-component-update',
        '--disable-sync',
      ],
    });
  });

  after(async () => {
    await browser?.close();
    if (ws) {
      await berth(['server', 'stop', '--all'], 60_000).catch(() => undefined);
      killLeftovers(ws);
    }
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  test('when the dashboard is opened without a token then it asks for one and shows nothing of the workspace', async () => {
    const anonymous = await browser!.newContext({ viewport: { width: 1280, height: 800 } });
    const p = await anonymous.newPage();
    await p.goto(`${server.url}/`);
    await p.locator('#token-input').waitFor();
    assert.equal(await p.locator('#nav').isVisible(), false);
    const text = await pageText(p);
    for (const secret of ['sum-svc', 'summer', ws, server.token])
      assert.ok(!text.includes(secret), `page shows "${secret}"`);
    const status = await p.evaluate(async () => (await fetch('/api/services')).status);
    assert.equal(status, 401, 'the API refuses the page without the token');
    await p.screenshot({ path: join(ARTIFACTS, 'login.png') });
    await anonymous.close();
  });

  test('when the login link carries a wrong token then the page says so, forgets it and shows nothing', async () => {
    const anonymous = await browser!.newContext();
    const p = await anonymous.newPage();
    await p.goto(`${server.url}/?token=not-the-token`);
    await textOf(p.locator('#login-error'), 'the wrong-token message', /not accepted/);
    assert.ok(!p.url().includes('token='), `the token stays in the address bar: ${p.url()}`);
    assert.equal(await p.evaluate(() => sessionStorage.getItem('berth.token')), null);
    await p.locator('#token-input').fill('still-wrong');
    await p.locator('#token-form button[type=submit]').click();
    await textOf(p.locator('#login-error'), 'the wrong-token message', /That token was not accepted/);
    const text = await pageText(p);
    assert.ok(!text.includes('sum-svc') && !text.includes('summer'), 'no workspace data on the page');
    assert.equal(await p.locator('#nav').isVisible(), false);
    await anonymous.close();
  });

  test('when the login link is opened then the token is kept for the session, leaves the address bar, and the services list shows the service', async (t) => {
    context = await browser!.newContext({ viewport: { width: 1280, height: 900 } });
    await context.grantPermissions(['clipboard-read', 'clipboard-write'], { origin: server.url });
    page = await context.newPage();
    await page.goto(loginLink);
    const row = page.locator('#services-table tr[data-service="sum-svc"]');
    await row.waitFor({ timeout: WAIT_MS });
    assert.ok(!page.url().includes('token='), `the token stays in the address bar: ${page.url()}`);
    assert.equal(await page.evaluate(() => sessionStorage.getItem('berth.token')), server.token);
    const cells = (await row.locator('td').allInnerTexts()).map((c) => c.replace(/\s+/g, ' ').trim());
    const { body: svc } = await api<{ scoringUri: string }>('/api/services/sum-svc');
    assert.equal(cells[0], 'sum-svc');
    assert.match(cells[1], /Healthy/, 'the state is written, not only coloured');
    assert.equal(await row.locator('.badge').getAttribute('data-state'), 'Healthy');
    assert.equal(cells[2], 'local');
    assert.equal(cells[3], 'node');
    assert.equal(cells[4], 'summer:1');
    assert.equal(cells[5], '1 / 1');
    assert.ok(cells[6].includes(svc.scoringUri), cells[6]);

    // Everything the browser downloaded for the dashboard itself (not the API calls).
    const sizes = await page.evaluate(() =>
      (performance.getEntriesByType('resource') as PerformanceResourceTiming[])
        .concat(performance.getEntriesByType('navigation') as PerformanceResourceTiming[])
        .filter((e) => !new URL(e.name).pathname.startsWith('/api/'))
        .map((e) => ({
          name: new URL(e.name).pathname,
          encoded: e.encodedBodySize,
          decoded: e.decodedBodySize,
        })),
    );
    // The icon is both the favicon and the brand image: count each file once.
    const unique = [...new Map(sizes.map((s) => [s.name, s])).values()];
    const encoded = unique.reduce((n, s) => n + s.encoded, 0);
    const decoded = unique.reduce((n, s) => n + s.decoded, 0);
    t.diagnostic(
      `dashboard download: ${unique.length} files, ${encoded} bytes gzip-encoded, ${decoded} bytes decoded`,
    );
    assert.ok(
      sizes.every((s) => s.name === '/' || s.name.startsWith('/ui/')),
      'nothing from another origin or path',
    );
    assert.ok(decoded < 200_000, `the dashboard stays small (${decoded} bytes)`);

    const failed = page.locator('#services-table tr[data-service="broken"]');
    await textOf(failed, 'the failed service', /Failed/, 60_000);
    assert.equal(await failed.locator('.badge').getAttribute('data-state'), 'Failed');
    assert.match((await page.locator('#services-summary').textContent()) ?? '', /2 services, 1 healthy/);

    await page.reload();
    await row.waitFor({ timeout: WAIT_MS });
    await shot('services');
  });

  test('when a service failed then its page says Failed in words, shows why, and offers no scoring', async () => {
    await page.locator('#services-table a', { hasText: 'broken' }).click();
    await textOf(page.locator('#service-state'), 'the state badge', /Failed/);
    await textOf(page.locator('#service-error'), 'the failure', /cannot open the model file/);
    await textOf(
      page.locator('#score-form'),
      'the scoring note',
      /needs a running service; this one is Failed/,
    );
    assert.equal(await page.locator('#score-button').isDisabled(), true);
    await textOf(page.locator('#service-log'), 'the init failure in the log', /cannot open the model file/);
    await shot('service-failed');
    const deleted = await api<{ deleted: boolean }>('/api/services/broken', { method: 'DELETE' });
    assert.equal(deleted.status, 200);
    await textOf(page.locator('main'), 'the gone notice', /does not exist \(any more\)/);
    await page.locator('main a', { hasText: 'See all services' }).click();
    await eventually(
      'one service left',
      () => page.locator('#services-table tbody tr').count(),
      (n) => n === 1,
    );
  });

  test('when the models page is searched by name and tag then the matching versions show, with the services using them', async () => {
    await page.locator('#nav a[data-nav="models"]').click();
    const v1 = page.locator('tr[data-model="summer:1"]');
    const v2 = page.locator('tr[data-model="summer:2"]');
    await v1.waitFor();
    const t1 = (await v1.textContent()) ?? '';
    assert.match(t1, /stage=prod/);
    assert.match(t1, /team=ml/);
    assert.match(t1, /adds up rows/);
    assert.match(t1, /20 B/);
    assert.ok(t1.includes(models['summer:1'].sha256.slice(0, 12)), 'sha256 shown');
    assert.match(t1, /sum-svc/, 'version 1 is used by the service');
    assert.match((await v2.textContent()) ?? '', /no service/);
    assert.match((await v2.textContent()) ?? '', /\(latest\)/);
    assert.equal(await v1.locator('code').getAttribute('title'), models['summer:1'].sha256);

    await page.locator('#model-tag-filter').fill('stage=dev');
    await eventually(
      'the tag filter',
      () => v1.count(),
      (n) => n === 0,
    );
    assert.equal(await v2.count(), 1);
    assert.match(page.url(), /tag=stage%3Ddev|tag=stage=dev/);
    await page.locator('#model-tag-filter').fill('');
    await page.locator('#model-name-filter').fill('nothing-like-it');
    await textOf(page.locator('#model-list'), 'the no-match message', /No model matches/);
    await page.locator('#model-name-filter').fill('SUM');
    await v1.waitFor();
    await shot('models');

    await page.setViewportSize({ width: 390, height: 800 });
    const [scrollWidth, width] = await page.evaluate(() => [
      document.documentElement.scrollWidth,
      window.innerWidth,
    ]);
    assert.ok(scrollWidth <= width, `no horizontal scrolling at 390 px (${scrollWidth} > ${width})`);
    await shot('models-narrow');
    await page.setViewportSize({ width: 1280, height: 900 });
  });

  test('when the service is scored through the form then the page shows the answer and both latencies', async () => {
    await page.locator('#nav a[data-nav="services"]').click();
    await page.locator('#services-table a', { hasText: 'sum-svc' }).click();
    await textOf(page.locator('#service-state'), 'the state badge', /Healthy/);
    const data = page.locator('#score-form textarea[name="data"]');
    await data.waitFor({ timeout: WAIT_MS });
    await data.fill('1, 2, 3\n4, 5, 6');
    await page.locator('#score-form input[name="method"]').fill('sum');
    await page.locator('#score-button').click();
    const status = await textOf(page.locator('#score-status'), 'the score status', /HTTP \d+/);
    assert.match(status, /HTTP 200 OK/);
    assert.match(status, /ms round trip from this browser/);
    assert.match(status, /ms at the service/);
    assert.deepEqual(JSON.parse((await page.locator('#score-output').textContent()) ?? ''), [6, 15]);

    await page.locator('#tab-raw').click();
    const raw = page.locator('#score-raw');
    assert.deepEqual(JSON.parse(await raw.inputValue()), {
      data: [
        [1, 2, 3],
        [4, 5, 6],
      ],
      method: 'sum',
    });
    await raw.fill('{"data": [[10, 20]], "method": "sum"}');
    await page.locator('#score-button').click();
    await textOf(page.locator('#score-output'), 'the raw answer', /30/);
    assert.deepEqual(JSON.parse((await page.locator('#score-output').textContent()) ?? ''), [30]);

    await raw.fill('{not json');
    await page.locator('#score-button').click();
    await textOf(page.locator('#score-problem'), 'the JSON error', /not valid JSON/);

    await raw.fill('{"data": [[1]], "method": "sum"}');
    await page.locator('#score-key').selectOption('none');
    await page.locator('#score-button').click();
    await textOf(page.locator('#score-status'), 'the 401 of the service', /HTTP 401/);
    assert.match((await page.locator('#score-output').textContent()) ?? '', /UNAUTHORIZED/);
    assert.equal(
      await page.locator('#token-input').count(),
      0,
      "the service's 401 does not sign the user out",
    );
    await page.locator('#score-key').selectOption('primary');
    await page.locator('#tab-form').click();
    assert.equal(await data.inputValue(), '1');
    await data.fill('1, 2, 3\n4, 5, 6');
    await page.locator('#score-button').click();
    await textOf(page.locator('#score-status'), 'a good score again', /HTTP 200/);
  });

  test('when the service page stays open then the metrics charts and the log tail update live', async () => {
    const charts = page.locator('#metrics-charts .chart');
    await eventually(
      'four charts',
      () => charts.count(),
      (n) => n === 4,
    );
    await textOf(charts.nth(1).locator('.latest'), 'a latency value', /p50 [\d.]+ m?s/);
    await textOf(charts.nth(0).locator('.latest'), 'a request rate', /[\d.]+\/s/);
    await textOf(charts.nth(3).locator('.latest'), 'the replica counts', /ready 1 · desired 1/);
    assert.match(
      (await charts.nth(0).locator('svg').getAttribute('aria-label')) ?? '',
      /Requests per second over the last 5 minutes/,
    );
    const log = page.locator('#service-log');
    await textOf(log, 'the replica start in the log', /replica ready/);
    await textOf(log, 'a scoring request in the log', /route=\/score status=200/);
    assert.doesNotMatch(
      (await log.textContent()) ?? '',
      /route=\/metrics/,
      'the dashboard hides its own scrapes',
    );
    await shot('service');

    await page.setViewportSize({ width: 390, height: 800 });
    const [scrollWidth, width] = await page.evaluate(() => [
      document.documentElement.scrollWidth,
      window.innerWidth,
    ]);
    assert.ok(scrollWidth <= width, `no horizontal scrolling at 390 px (${scrollWidth} > ${width})`);
    await shot('service-narrow');
    await page.setViewportSize({ width: 1280, height: 900 });
  });

  test('when a key is copied, shown and regenerated with confirmation then the page shows the new key and scoring works with it', async () => {
    const oldKey = (await api<{ primaryKey: string }>('/api/services/sum-svc/keys')).body.primaryKey;
    const shown = page.locator('code[data-key="primary"]');
    assert.equal(await shown.textContent(), `${'•'.repeat(12)}${oldKey.slice(-4)}`, 'masked');
    await page.locator('button[aria-label="Copy primary key"]').click();
    assert.equal(await page.evaluate(() => navigator.clipboard.readText()), oldKey);
    await page.locator('button[aria-label="Show the primary key"]').click();
    assert.equal(await shown.textContent(), oldKey);
    await page.locator('button[aria-label="Hide the primary key"]').click();

    const regenerate = page.locator('.keys button', { hasText: 'Regenerate…' }).first();
    await regenerate.click();
    const dialog = page.locator('dialog[open]');
    await textOf(dialog, 'the confirmation', /Regenerate the primary key\?/);
    await dialog.locator('button', { hasText: 'Cancel' }).click();
    assert.equal(
      (await api<{ primaryKey: string }>('/api/services/sum-svc/keys')).body.primaryKey,
      oldKey,
      'cancel changes nothing',
    );

    await regenerate.click();
    await dialog.locator('button', { hasText: 'Regenerate primary key' }).click();
    const after = await eventually(
      'a new primary key',
      async () => (await api<{ primaryKey: string }>('/api/services/sum-svc/keys')).body.primaryKey,
      (k) => k !== oldKey,
    );
    await eventually(
      'the new masked key',
      async () => (await shown.textContent()) ?? '',
      (text) => text === `${'•'.repeat(12)}${after.slice(-4)}`,
    );
    await textOf(page.locator('#toast'), 'the regenerate message', /New primary key/);
    const rolled = (await api<{ generation: number }>('/api/services/sum-svc')).body.generation;
    await textOf(
      page.locator('#service-overview'),
      'the key roll-out',
      new RegExp(`generation ${rolled} succeeded`),
      60_000,
    );
    await page.locator('#score-button').click();
    await textOf(page.locator('#score-status'), 'a score with the new key', /HTTP 200/);
  });

  test('when the service is updated to another model version with confirmation then it serves that version', async () => {
    await page.locator('#update-button').click();
    const dialog = page.locator('dialog[open]');
    await dialog.locator('#update-model-0').selectOption('summer:2');
    const generation = (await api<{ generation: number }>('/api/services/sum-svc')).body.generation;
    await dialog.locator('button', { hasText: 'Update service' }).click();
    await textOf(
      page.locator('#toast'),
      'the update message',
      new RegExp(`Updating sum-svc to summer:2 \\(generation ${generation + 1}\\)`),
    );
    await textOf(
      page.locator('#service-overview'),
      'the update roll-out',
      new RegExp(`summer:2[\\s\\S]*generation ${generation + 1} succeeded`),
      60_000,
    );
    const { body } = await api<{ models: string[] }>('/api/services/sum-svc');
    assert.deepEqual(body.models, ['summer:2']);
  });

  test('when the service is deleted with confirmation then it disappears from the dashboard', async () => {
    await page.locator('#delete-button').click();
    const dialog = page.locator('dialog[open]');
    const confirm = dialog.locator('button', { hasText: 'Delete service' });
    assert.equal(await confirm.isDisabled(), true, 'deleting needs the name typed');
    await dialog.locator('#confirm-text').fill('sum-svc');
    await confirm.click();
    await textOf(page.locator('#toast'), 'the delete message', /Service sum-svc deleted/, 60_000);
    await eventually(
      'the services list',
      async () => page.url(),
      (u) => u.endsWith('#/services'),
    );
    await textOf(page.locator('main'), 'the empty list', /No services yet/);
    const gone = await api<{ error: { code: string } }>('/api/services/sum-svc');
    assert.equal(gone.status, 404);
    assert.equal(gone.body.error.code, 'SERVICE_NOT_FOUND');
  });
});
