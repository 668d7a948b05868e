import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { chromium, type Browser, type Page } from 'playwright-core';
import { jsonl, startCli, waitFor, workspace, type Workspace } from '../helpers/cli.js';
import { parsePrometheus } from '../helpers/prometheus.js';

/** Debian's chromium (CI installs it in .ci/run); playwright-core never downloads a browser. */
const CHROMIUM = '/usr/bin/chromium';
const TOKEN = 'status-page-test-token-0123456789';
/** Where screenshots go: SEAMLINE_SCREENSHOT_DIR=docs refreshes the ones in docs/, else the temp workspace. */
const SHOT_DIR = process.env.SEAMLINE_SCREENSHOT_DIR;

// Keep the browser off the network: no background services, no component updates, and every host
// name but the loopback daemon fails to resolve.
const OFFLINE_ARGS = [
  '--no-sandbox',
  '--disable-gpu',
  '--disable-dev-shm-usage',
  '--no-first-run',
  '--no-default-browser-check',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-default-apps',
  '--disable-domain-reliability',
  '--disable-extensions',
  '--disable-sync',
  '--metrics-recording-only',
  '--no-pings',
  '--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE 127.0.0.1',
];

const docs = [
  ...Array.from({ length: 30 }, (_, i) => ({
    id: `d${i}`,
    text: `document ${i} about rivers, mountains and ${i % 3 === 0 ? 'cats' : 'dogs'}`,
    lang: i % 2 ? 'en' : 'fr',
  })),
  { id: 'memo', text: 'the quarterly memo qxzvbn42 was filed with the archive', lang: 'en' },
  { id: 'memo-fr', text: 'le memo qxzvbn42 est dans les archives', lang: 'fr' },
].map((d) => ({ ...d, version: 1, event_time: '2024-05-01T10:00:00Z' }));

const bad = [
  JSON.stringify({ id: 'z1', version: 1, event_time: '2024-05-01T10:00:00', text: 'no zone', lang: 'en' }),
  '{"id": "z2", "text": "\u001b[2Jcleared screen\u202e',
  JSON.stringify({ id: 'z3', version: 1, event_time: '2024-05-01T10:00:00Z', text: 'fine', lang: 'en' }),
].join('\n');

interface Status {
  records: { read: number; landed: number; quarantined: number };
  table: { rows: number; counters: { recordsPublished: number } } | null;
}

describe('status page in a real browser (chromium + playwright-core, daemon subprocess)', () => {
  let w: Workspace;
  let d: ReturnType<typeof startCli>;
  let port = 0;
  let browser: Browser;
  let page: Page;
  const external: string[] = [];
  const api = async <T>(p: string, init: RequestInit = {}): Promise<T> => {
    const r = await fetch(`http://127.0.0.1:${port}${p}`, {
      ...init,
      headers: { authorization: `Bearer ${TOKEN}`, ...(init.headers ?? {}) },
    });
    assert.equal(r.status, 200, `${p}: ${r.status}`);
    return (await r.json()) as T;
  };
  const shot = (name: string) =>
    page.screenshot({ path: path.join(SHOT_DIR ?? w.dir, `status-page-${name}.png`), fullPage: true });

  before(async () => {
    if (!existsSync(CHROMIUM))
      throw new Error(
        `${CHROMIUM} is missing: the browser test needs Debian's chromium (apt-get update && apt-get install -y chromium; .ci/run installs it)`,
      );
    w = workspace({
      http: { port: 0, token: TOKEN },
      contract: { metadata: { lang: 'string' } },
      processor: { triggerIntervalMs: 100 },
    });
    w.drop('docs.jsonl', jsonl(docs));
    w.drop('bad.jsonl', `${bad}\n`);
    d = startCli(['run', '--json'], w.env());
    const line = await waitFor(
      () =>
        d
          .output()
          .stdout.split('\n')
          .find((l) => l.includes('http.listening')),
      30_000,
      'the http.listening line',
    );
    port = (JSON.parse(line) as { port: number }).port;
    await waitFor(
      async () => (await api<Status>('/status')).table?.counters.recordsPublished === docs.length + 1,
      90_000,
      'every good record published',
      200,
    );
    browser = await chromium.launch({ executablePath: CHROMIUM, headless: true, args: OFFLINE_ARGS });
    const ctx = await browser.newContext({
      viewport: { width: 1360, height: 900 },
      extraHTTPHeaders: { authorization: `Bearer ${TOKEN}` },
    });
    // Anything but the daemon is refused (and recorded: the page must need nothing from outside).
    await ctx.route('**/*', (route) => {
      const u = new URL(route.request().url());
      if (u.hostname === '127.0.0.1' && u.port === String(port)) return route.continue();
      external.push(u.href);
      return route.abort();
    });
    page = await ctx.newPage();
  });

  after(async () => {
    await browser?.close();
    d?.child.kill('SIGTERM');
    await d?.exited;
    w?.cleanup();
  });

  it('the page and its API need the token, like every other route', async () => {
    for (const p of ['/', '/assets/app.js', '/api/files', '/api/quarantine']) {
      const r = await fetch(`http://127.0.0.1:${port}${p}`);
      assert.equal(r.status, 401, p);
    }
  });

  it('/metrics of the daemon parses, with process metrics and the pipeline counters of /status', async () => {
    const r = await fetch(`http://127.0.0.1:${port}/metrics`, {
      headers: { authorization: `Bearer ${TOKEN}` },
    });
    assert.equal(r.status, 200);
    const text = await r.text();
    const m = parsePrometheus(text);
    const s = await api<Status>('/status');
    assert.equal(m.get('seamline_records_read_total'), s.records.read);
    assert.equal(m.get('seamline_records_quarantined_total'), s.records.quarantined);
    assert.equal(m.get('seamline_records_published_total'), s.table!.counters.recordsPublished);
    assert.ok((m.get('process_resident_memory_bytes') ?? 0) > 10_000_000, 'RSS');
    assert.ok((m.get('nodejs_heap_size_used_bytes') ?? 0) > 0, 'heap');
    assert.ok(m.has('nodejs_eventloop_lag_p99_seconds'), 'event-loop delay');
    assert.ok(m.has('nodejs_active_handles_total'), 'handles');
    // The GC histogram is registered from the start; it has samples only once the daemon has collected
    // (a young daemon may not have yet), so its TYPE line is what proves it is exported.
    assert.match(text, /^# TYPE nodejs_gc_duration_seconds histogram$/m, 'GC');
  });

  it('loads, draws its charts and shows the counts the API shows', async () => {
    await page.goto(`http://127.0.0.1:${port}/`);
    const s = await api<Status>('/status');
    // (Polled from here: the page's CSP forbids the eval that page.waitForFunction(string) needs.)
    const want = String(s.table!.counters.recordsPublished);
    await waitFor(
      async () => (await page.locator('#count-published').textContent()) === want,
      20_000,
      'counts',
    );
    const text = async (id: string) => page.locator(`#${id}`).textContent();
    assert.equal(await text('count-read'), String(s.records.read));
    assert.equal(await text('count-landed'), String(s.records.landed));
    assert.equal(await text('count-quarantined'), String(s.records.quarantined));
    assert.equal(await text('count-rows'), String(s.table!.rows));
    assert.equal(await text('state'), 'running');
    for (const c of ['throughput', 'freshness', 'backlog'])
      assert.equal(await page.locator(`#chart-${c} canvas`).count(), 1, `${c} chart drawn`);
    assert.equal(await page.locator('#error').isHidden(), true);
    // The charts' history: every published record is in one minute bucket of the last hour.
    const h = await api<{
      minutes: { records: number; maxFreshSeconds: number | null }[];
      backlog: unknown[];
    }>('/api/history');
    assert.equal(h.minutes.length, 60);
    assert.equal(
      h.minutes.reduce((n, m) => n + m.records, 0),
      s.table!.counters.recordsPublished,
    );
    assert.ok(h.minutes.some((m) => m.maxFreshSeconds !== null && m.maxFreshSeconds >= 0));
    assert.ok(h.backlog.length >= 1);
    await shot('overview');
  });

  it('lists recent batches and files', async () => {
    await page.goto(`http://127.0.0.1:${port}/#activity`);
    await page.locator('#files tbody tr').first().waitFor();
    const files = await page.locator('#files tbody tr').count();
    assert.equal(files, 2);
    assert.ok((await page.locator('#batches tbody tr').count()) >= 1);
    assert.match((await page.locator('#batches tbody tr').first().textContent()) ?? '', /committed/);
    await shot('activity');
  });

  it('opens a quarantined record from the by-code drill-down, escaped', async () => {
    await page.goto(`http://127.0.0.1:${port}/#quarantine`);
    await page.locator('#q-codes .chip[data-code="MALFORMED_JSON"]').click();
    await waitFor(
      async () => (await page.locator('#q-list tbody tr').count()) === 1,
      20_000,
      'one MALFORMED_JSON row',
    );
    await page.locator('#q-list tbody tr').first().click();
    await page.locator('#q-record').waitFor({ state: 'visible' });
    const raw = (await page.locator('#q-record-raw').textContent()) ?? '';
    assert.match(raw, /\\u\{1B\}\[2Jcleared screen\\u\{202E\}/);
    assert.ok(!raw.includes('\u001b'), 'the escape character is not rendered raw');
    assert.match((await page.locator('#q-record-meta').textContent()) ?? '', /bad\.jsonl/);
    await shot('quarantine');
  });

  it('a search with mode and a filter returns the right hit', async () => {
    await page.goto(`http://127.0.0.1:${port}/#search`);
    await page.fill('#s-query', 'qxzvbn42');
    await page.selectOption('#s-mode', 'fts');
    await page.fill('#s-filters', 'metadata.lang = en');
    await page.click('#s-go');
    await waitFor(
      async () =>
        (await page.locator('#s-results li').count()) > 0 || !(await page.locator('#error').isHidden()),
      20_000,
      'search results',
    );
    assert.equal(
      await page.locator('#error').isHidden(),
      true,
      (await page.locator('#error').textContent()) ?? '',
    );
    const ids = await Promise.all(
      (await page.locator('#s-results li').all()).map((l) => l.getAttribute('data-id')),
    );
    assert.deepEqual(ids, ['memo']);
    assert.match((await page.locator('#s-results li').first().textContent()) ?? '', /quarterly memo/);
    await shot('search');
    assert.deepEqual(external, [], 'the page requested nothing outside the daemon');
  });
});
