import assert from 'node:assert/strict';
import { connect } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { pino } from 'pino';
import { startHttpServer, type HttpServerHandle } from '../../../src/http/server.js';
import { newLiveStats } from '../../../src/observability/metrics.js';
import { stubHandlers } from '../../helpers/http.js';

// Issue 12 item 7: slow-header and slow-body requests must get their 408 within 1 s of
// http.requestTimeoutMs (Node sweeps connections every 30 s by default: 26–30 s against 15 s).

const LIMIT_MS = 1500;
const handlers = stubHandlers();

/** Sends `head` (and then trickles a byte every 300 ms), returns how long until the server answers or closes. */
function slowClient(port: number, head: string, trickle: boolean): Promise<{ ms: number; text: string }> {
  return new Promise((resolve, reject) => {
    const t0 = performance.now();
    const s = connect(port, '127.0.0.1', () => s.write(head));
    let text = '';
    const drip = trickle ? setInterval(() => s.writable && s.write('a'), 300) : undefined;
    const giveUp = setTimeout(() => s.destroy(new Error('no answer within 40 s')), 40_000);
    s.on('data', (d: Buffer) => (text += d.toString()));
    const end = (): void => {
      clearInterval(drip);
      clearTimeout(giveUp);
      resolve({ ms: performance.now() - t0, text });
    };
    s.on('close', end);
    s.on('error', (e) => (text ? end() : reject(e)));
  });
}

describe('HTTP request timeouts', () => {
  let h: HttpServerHandle;
  before(async () => {
    h = await startHttpServer(
      {
        host: '127.0.0.1',
        port: 0,
        maxBodyBytes: 65_536,
        requestTimeoutMs: LIMIT_MS,
        maxConcurrentSearches: 2,
      },
      handlers,
      newLiveStats(0),
      pino({ level: 'silent' }),
    );
  });
  after(async () => h.close());

  it('answers a slow-header request 408 within 1 s of requestTimeoutMs', async () => {
    const r = await slowClient(
      h.port,
      `GET /healthz HTTP/1.1\r\nHost: 127.0.0.1:${h.port}\r\nX-Slow: `,
      true,
    );
    assert.match(r.text, /^HTTP\/1\.1 408/);
    assert.ok(r.ms >= LIMIT_MS - 50, `answered too early (${r.ms} ms)`);
    assert.ok(r.ms < LIMIT_MS + 1000, `408 after ${Math.round(r.ms)} ms against a ${LIMIT_MS} ms limit`);
  });

  it('answers a slow-body request 408 within 1 s of requestTimeoutMs', async () => {
    const r = await slowClient(
      h.port,
      `POST /search HTTP/1.1\r\nHost: 127.0.0.1:${h.port}\r\nContent-Type: application/json\r\nContent-Length: 1000\r\n\r\n{"query":"`,
      true,
    );
    assert.match(r.text, /^HTTP\/1\.1 408/);
    assert.ok(r.ms < LIMIT_MS + 1000, `408 after ${Math.round(r.ms)} ms against a ${LIMIT_MS} ms limit`);
  });
});
