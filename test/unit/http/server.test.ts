import assert from 'node:assert/strict';
import { request } from 'node:http';
import { after, before, describe, it } from 'node:test';
import { pino } from 'pino';
import {
  allowedHost,
  startHttpServer,
  type HttpHandlers,
  type HttpServerHandle,
} from '../../../src/http/server.js';
import { newLiveStats } from '../../../src/observability/metrics.js';
import type { SearchRequest } from '../../../src/search/search.js';

interface Res {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: string;
}

function call(
  port: number,
  method: string,
  path: string,
  opts: { body?: string | Buffer; headers?: Record<string, string> } = {},
): Promise<Res> {
  return new Promise((resolve, reject) => {
    const req = request(
      {
        host: '127.0.0.1',
        port,
        method,
        path,
        headers: {
          host: `127.0.0.1:${port}`,
          ...(opts.body !== undefined ? { 'content-type': 'application/json' } : {}),
          ...opts.headers,
        },
      },
      (res) => {
        let body = '';
        res.on('data', (d: Buffer) => (body += d.toString()));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body }));
      },
    );
    req.on('error', reject);
    if (opts.body !== undefined) req.write(opts.body);
    req.end();
  });
}

const TOKEN = 'a-test-token-of-32-characters-xx';
const seen: SearchRequest[] = [];
let release: (() => void) | null = null;
const handlers: HttpHandlers = {
  searchLimits: { maxK: 50, maxQueryChars: 1000 },
  readiness: () => ({ ready: true, reasons: [] }),
  status: () => Promise.resolve({ ok: 1 }),
  metrics: () => Promise.resolve('# TYPE x gauge\nx 1\n'),
  search: async (req) => {
    seen.push(req);
    if (req.query === 'slow') await new Promise<void>((r) => (release = r));
    return {
      table: 't',
      granularity: 'document',
      mode: req.mode,
      offset: 0,
      results: [],
      nextOffset: null,
      partial: false,
      notes: [],
    };
  },
};

describe('HTTP server', () => {
  let open: HttpServerHandle;
  let authed: HttpServerHandle;
  const logger = pino({ level: 'silent' });
  before(async () => {
    const base = {
      host: '127.0.0.1',
      port: 0,
      maxBodyBytes: 1024,
      requestTimeoutMs: 5000,
      maxConcurrentSearches: 1,
    };
    open = await startHttpServer(base, handlers, newLiveStats(0), logger);
    authed = await startHttpServer({ ...base, token: TOKEN }, handlers, newLiveStats(0), logger);
  });
  after(async () => {
    await open.close();
    await authed.close();
  });

  it('serves healthz, readyz, metrics, status', async () => {
    assert.equal((await call(open.port, 'GET', '/healthz')).status, 200);
    assert.equal((await call(open.port, 'GET', '/readyz')).status, 200);
    const m = await call(open.port, 'GET', '/metrics');
    assert.match(String(m.headers['content-type']), /^text\/plain; version=0\.0\.4/);
    assert.deepEqual(JSON.parse((await call(open.port, 'GET', '/status')).body), { ok: 1 });
    assert.equal((await call(open.port, 'GET', '/nope')).status, 404);
    assert.equal((await call(open.port, 'POST', '/status', { body: '{}' })).status, 405);
    assert.equal((await call(open.port, 'GET', '/status?file=/etc/passwd')).status, 400);
  });

  it('requires the bearer token except on /healthz', async () => {
    assert.equal((await call(authed.port, 'GET', '/healthz')).status, 200);
    const r = await call(authed.port, 'GET', '/status');
    assert.equal(r.status, 401);
    assert.equal(r.headers['www-authenticate'], 'Bearer');
    assert.equal(
      (await call(authed.port, 'GET', '/metrics', { headers: { authorization: 'Bearer wrong' } })).status,
      401,
    );
    assert.equal((await call(authed.port, 'POST', '/search', { body: '{"query":"q"}' })).status, 401);
    assert.equal(
      (await call(authed.port, 'GET', '/status', { headers: { authorization: `Bearer ${TOKEN}` } })).status,
      200,
    );
  });

  it('rejects oversized bodies with 413, declared or streamed', async () => {
    const big = JSON.stringify({ query: 'x'.repeat(2000) });
    assert.equal((await call(open.port, 'POST', '/search', { body: big })).status, 413);
    const chunked = await new Promise<number>((resolve, reject) => {
      const req = request(
        {
          host: '127.0.0.1',
          port: open.port,
          method: 'POST',
          path: '/search',
          headers: {
            host: `127.0.0.1:${open.port}`,
            'content-type': 'application/json',
            'transfer-encoding': 'chunked',
          },
        },
        (res) => {
          res.resume();
          resolve(res.statusCode ?? 0);
        },
      );
      req.on('error', (e) =>
        String(e).includes('EPIPE') || String(e).includes('ECONNRESET') ? undefined : reject(e),
      );
      req.write('{"query":"');
      req.write('y'.repeat(4000));
      req.end('"}');
    });
    assert.equal(chunked, 413);
  });

  it('rejects unknown fields with 400 naming them, and bad JSON / content type', async () => {
    const r = await call(open.port, 'POST', '/search', { body: JSON.stringify({ query: 'q', limit: 5 }) });
    assert.equal(r.status, 400);
    assert.match(r.body, /unknown field\(s\) in the request: \\"limit\\"/);
    assert.equal((await call(open.port, 'POST', '/search', { body: '{nope' })).status, 400);
    assert.equal(
      (
        await call(open.port, 'POST', '/search', {
          body: '{"query":"q"}',
          headers: { 'content-type': 'text/plain' },
        })
      ).status,
      415,
    );
  });

  it("passes a filter value like x' OR 1=1 -- through as data", async () => {
    seen.length = 0;
    const r = await call(open.port, 'POST', '/search', {
      body: JSON.stringify({ query: 'q', filters: [{ field: 'id', op: 'eq', value: "x' OR 1=1 --" }] }),
    });
    assert.equal(r.status, 200);
    assert.deepEqual(seen[0]!.filters, [{ field: 'id', op: 'eq', value: "x' OR 1=1 --" }]);
  });

  it('checks the Host header against the bind address', async () => {
    assert.equal(
      (await call(open.port, 'GET', '/status', { headers: { host: 'evil.example:80' } })).status,
      421,
    );
    assert.equal(
      (await call(open.port, 'GET', '/status', { headers: { host: `localhost:${open.port}` } })).status,
      200,
    );
    assert.equal(allowedHost('127.0.0.1:8080', '127.0.0.1', 8080), true);
    assert.equal(allowedHost('127.0.0.1:8081', '127.0.0.1', 8080), false);
    assert.equal(allowedHost('attacker.test:8080', '127.0.0.1', 8080), false);
    assert.equal(allowedHost('[::1]:8080', '::1', 8080), true);
    assert.equal(allowedHost(undefined, '127.0.0.1', 8080), false);
    assert.equal(allowedHost('anything', '0.0.0.0', 8080), true);
  });

  it('bounds concurrent searches with 429', async () => {
    const slow = call(open.port, 'POST', '/search', { body: '{"query":"slow"}' });
    while (release === null) await new Promise((r) => setTimeout(r, 10));
    const second = await call(open.port, 'POST', '/search', { body: '{"query":"q"}' });
    assert.equal(second.status, 429);
    assert.equal(second.headers['retry-after'], '1');
    release();
    assert.equal((await slow).status, 200);
  });
});
