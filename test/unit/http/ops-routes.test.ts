import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { pino } from 'pino';
import type { OpsApi } from '../../../src/http/ops-routes.js';
import { matchOpsRoute } from '../../../src/http/ops-routes.js';
import { startHttpServer, type HttpServerHandle } from '../../../src/http/server.js';
import { newLiveStats } from '../../../src/observability/metrics.js';
import { stubHandlers } from '../../helpers/http.js';

const TOKEN = 'a-test-token-of-32-characters-xx';
const calls: unknown[] = [];
// A fake of our own read-side port: these tests are about routing, auth and parameters only.
const api: OpsApi = {
  nowMs: () => 10_000_000,
  files: (o) => (calls.push(['files', o]), []),
  batches: (o) => (calls.push(['batches', o]), []),
  quarantine: (f) => (calls.push(['quarantine', f]), { total: 0, entries: [], byCode: [] }),
  quarantineRecord: (id) => (id === 7 ? ({ qId: 7 } as never) : null),
  history: () => ({ windowMs: 1, stepMs: 1, nowMs: 1, table: null, minutes: [], backlog: [] }),
};

describe('status page and /api/* routes', () => {
  let srv: HttpServerHandle;
  let closed = 0;
  const get = (p: string, auth = true) =>
    fetch(`http://127.0.0.1:${srv.port}${p}`, { headers: auth ? { authorization: `Bearer ${TOKEN}` } : {} });
  before(async () => {
    srv = await startHttpServer(
      {
        host: '127.0.0.1',
        port: 0,
        token: TOKEN,
        maxBodyBytes: 1000,
        requestTimeoutMs: 5000,
        maxConcurrentSearches: 2,
      },
      stubHandlers({
        searchLimits: { maxK: 10, maxQueryChars: 100 },
        ops: api,
        close: () => (closed += 1),
      }),
      newLiveStats(0),
      pino({ level: 'silent' }),
    );
  });
  after(async () => {
    await srv.close();
    assert.equal(closed, 1, 'the handlers are closed with the server');
  });

  it('serves the page with a strict CSP, its script and the vendored chart library', async () => {
    const page = await get('/');
    assert.equal(page.status, 200);
    assert.match(page.headers.get('content-type') ?? '', /text\/html/);
    assert.match(page.headers.get('content-security-policy') ?? '', /script-src 'self'/);
    const html = await page.text();
    assert.match(html, /<script src="\/assets\/uplot.js">/);
    assert.ok(!/https?:\/\//.test(html), 'no third-party URL in the page');
    const js = await get('/assets/uplot.js');
    assert.equal(js.status, 200);
    assert.match(await js.text(), /uPlot/);
    assert.equal((await get('/assets/app.css')).status, 200);
  });

  it('needs the token (401) like the API', async () => {
    for (const p of ['/', '/assets/app.js', '/api/files', '/api/quarantine/7'])
      assert.equal((await get(p, false)).status, 401, p);
  });

  it('passes typed filters to the read models and refuses unknown or bad parameters', async () => {
    calls.length = 0;
    assert.equal(
      (await get('/api/quarantine?file=a.jsonl&code=MALFORMED_JSON&since=1h&limit=5')).status,
      200,
    );
    assert.deepEqual(calls[0], [
      'quarantine',
      { file: 'a.jsonl', code: 'MALFORMED_JSON', sinceMs: 10_000_000 - 3_600_000, limit: 5 },
    ]);
    const unknown = await get('/api/files?limit=2&evil=1');
    assert.equal(unknown.status, 400);
    assert.match(await unknown.text(), /unknown query parameter \\"evil\\"/);
    assert.equal((await get('/api/files?limit=-1')).status, 400);
    assert.equal((await get('/api/batches?state=weird')).status, 400);
    assert.equal((await get('/api/quarantine?since=yesterday')).status, 400);
    assert.equal((await get('/?x=1')).status, 400);
    assert.equal((await get('/status?x=1')).status, 400, 'other routes still refuse query strings');
  });

  it('opens one quarantined record, 404 when absent; POST is refused', async () => {
    assert.deepEqual(await (await get('/api/quarantine/7')).json(), { qId: 7 });
    assert.equal((await get('/api/quarantine/8')).status, 404);
    const post = await fetch(`http://127.0.0.1:${srv.port}/api/files`, {
      method: 'POST',
      headers: { authorization: `Bearer ${TOKEN}` },
    });
    assert.equal(post.status, 405);
  });

  it('matches only its own paths', () => {
    assert.equal(matchOpsRoute('/api/quarantine/12'), '/api/quarantine/:id');
    assert.equal(matchOpsRoute('/api/quarantine/x'), null);
    assert.equal(matchOpsRoute('/assets/../etc/passwd'), null);
    assert.equal(matchOpsRoute('/search'), null);
  });
});
