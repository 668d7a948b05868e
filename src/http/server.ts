import { timingSafeEqual, createHash } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Logger } from 'pino';
import { isSeamlineError, toSeamlineError } from '../errors/errors.js';
import type { LiveStats } from '../observability/metrics.js';
import { parseSearchRequest, type SearchRequest, type SearchResponse } from '../search/search.js';
import { matchOpsRoute, opsRouteTakesQuery, serveOps, type OpsApi } from './ops-routes.js';

export interface HttpOptions {
  /** Bind address (default 127.0.0.1). */
  readonly host: string;
  /** Bind port; 0 picks a free one (logged as event http.listening). */
  readonly port: number;
  /** Bearer token for every route except /healthz; undefined = no auth (loopback only, enforced by config). */
  readonly token?: string | undefined;
  readonly maxBodyBytes: number;
  readonly requestTimeoutMs: number;
  readonly maxConcurrentSearches: number;
}

export interface HttpHandlers {
  readiness(): { ready: boolean; reasons: string[] } | Promise<{ ready: boolean; reasons: string[] }>;
  status(): Promise<Record<string, unknown>>;
  metrics(): Promise<string>;
  search(req: SearchRequest): Promise<{ table: string } & SearchResponse>;
  readonly searchLimits: Parameters<typeof parseSearchRequest>[1];
  /** The status page (GET /), its assets and GET /api/*; absent = those routes are 404. */
  readonly ops?: OpsApi;
  /** Called once when the server closes (stops the handlers' timers). */
  close?(): void;
}

export interface HttpServerHandle {
  readonly port: number;
  close(): Promise<void>;
}

const MAX_URL = 2048;
const WILDCARD = new Set(['0.0.0.0', '::', '[::]']);
const LOOPBACK_NAMES = ['localhost', '127.0.0.1', '[::1]'];

class HttpError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly headers: Record<string, string> = {},
  ) {
    super(message);
  }
}

const isLoopback = (h: string): boolean =>
  h === '127.0.0.1' || h.startsWith('127.') || h === '::1' || h === 'localhost';

/**
 * The Host names a request may carry (DNS-rebinding defence): the bind address itself, plus the
 * loopback names when bound to loopback. A wildcard bind cannot know its names, so it relies on the token.
 */
export function allowedHost(hostHeader: string | undefined, bindHost: string, port: number): boolean {
  if (WILDCARD.has(bindHost)) return true;
  if (!hostHeader) return false;
  const m = /^(\[[^\]]+\]|[^:]+)(?::(\d+))?$/.exec(hostHeader.trim().toLowerCase());
  if (!m) return false;
  const [, name, p] = m;
  if (p !== undefined && Number(p) !== port) return false;
  if (p === undefined && port !== 80) return false;
  const bind =
    bindHost.includes(':') && !bindHost.startsWith('[')
      ? `[${bindHost.toLowerCase()}]`
      : bindHost.toLowerCase();
  return name === bind || (isLoopback(bindHost) && LOOPBACK_NAMES.includes(name!));
}

function tokenMatches(header: string | undefined, token: string): boolean {
  if (!header?.startsWith('Bearer ')) return false;
  // Hash both sides so the comparison is constant-time whatever the lengths.
  const a = createHash('sha256').update(header.slice(7)).digest();
  const b = createHash('sha256').update(token).digest();
  return timingSafeEqual(a, b);
}

function readBody(req: IncomingMessage, max: number): Promise<Buffer> {
  const declared = Number(req.headers['content-length'] ?? '0');
  if (Number.isFinite(declared) && declared > max)
    return Promise.reject(new HttpError(413, 'BODY_TOO_LARGE', `request body larger than ${max} bytes`));
  return new Promise((resolve, reject) => {
    const parts: Buffer[] = [];
    let size = 0;
    req.on('data', (d: Buffer) => {
      size += d.length;
      if (size > max) {
        reject(new HttpError(413, 'BODY_TOO_LARGE', `request body larger than ${max} bytes`));
        req.pause();
        return;
      }
      parts.push(d);
    });
    req.on('end', () => resolve(Buffer.concat(parts)));
    req.on('error', reject);
  });
}

function send(
  res: ServerResponse,
  status: number,
  body: string | Buffer,
  type: string,
  headers: Record<string, string> = {},
): void {
  if (res.headersSent) return;
  res.writeHead(status, {
    'content-type': type,
    'cache-control': 'no-store',
    'x-content-type-options': 'nosniff',
    'content-length': Buffer.byteLength(body),
    ...headers,
  });
  res.end(body);
}

const sendJson = (
  res: ServerResponse,
  status: number,
  data: unknown,
  headers: Record<string, string> = {},
): void => send(res, status, `${JSON.stringify(data)}\n`, 'application/json; charset=utf-8', headers);

/** Starts the daemon's HTTP server (node:http, no framework). Resolves once it listens. */
export async function startHttpServer(
  opts: HttpOptions,
  h: HttpHandlers,
  live: LiveStats,
  logger: Logger,
): Promise<HttpServerHandle> {
  let activeSearches = 0;
  let port = opts.port;
  const count = (route: string, status: number): void => {
    const key = `${route} ${status}`;
    live.httpRequests.set(key, (live.httpRequests.get(key) ?? 0) + 1);
  };

  const handle = async (
    req: IncomingMessage,
    res: ServerResponse,
  ): Promise<{ route: string; status: number }> => {
    const url = req.url ?? '/';
    if (url.length > MAX_URL)
      throw new HttpError(414, 'URI_TOO_LONG', `URL longer than ${MAX_URL} characters`);
    const q = url.indexOf('?');
    const path = q === -1 ? url : url.slice(0, q);
    const opsRoute = h.ops ? matchOpsRoute(path) : null;
    if (q !== -1 && url.length > q + 1 && !(opsRoute !== null && opsRouteTakesQuery(opsRoute)))
      throw new HttpError(
        400,
        'USAGE',
        `unknown query parameter(s): ${url.slice(q + 1, q + 101)} (no endpoint takes any)`,
      );
    if (!allowedHost(req.headers.host, opts.host, port))
      throw new HttpError(
        421,
        'BAD_HOST',
        `Host header ${JSON.stringify(req.headers.host ?? '')} does not name this server`,
      );
    if (opsRoute !== null && h.ops) {
      if (req.method !== 'GET' && req.method !== 'HEAD')
        throw new HttpError(405, 'METHOD_NOT_ALLOWED', `${path} accepts GET`, { allow: 'GET' });
      // Same rule as every other route: the page and its API need the token when one is set.
      if (opts.token !== undefined && !tokenMatches(req.headers.authorization, opts.token))
        throw new HttpError(401, 'UNAUTHORIZED', 'missing or wrong bearer token', {
          'www-authenticate': 'Bearer',
        });
      const r = await serveOps(opsRoute, path, new URLSearchParams(q === -1 ? '' : url.slice(q + 1)), h.ops);
      send(res, r.status, r.body, r.type, r.headers);
      return { route: opsRoute, status: r.status };
    }
    const routes: Record<string, string> = {
      '/healthz': 'GET',
      '/readyz': 'GET',
      '/metrics': 'GET',
      '/status': 'GET',
      '/search': 'POST',
    };
    const method = routes[path];
    if (method === undefined) throw new HttpError(404, 'NOT_FOUND', `no route ${path}`);
    if (req.method !== method && !(method === 'GET' && req.method === 'HEAD'))
      throw new HttpError(405, 'METHOD_NOT_ALLOWED', `${path} accepts ${method}`, { allow: method });
    if (
      path !== '/healthz' &&
      opts.token !== undefined &&
      !tokenMatches(req.headers.authorization, opts.token)
    ) {
      throw new HttpError(401, 'UNAUTHORIZED', 'missing or wrong bearer token', {
        'www-authenticate': 'Bearer',
      });
    }
    switch (path) {
      case '/healthz':
        sendJson(res, 200, { ok: true, state: live.state });
        return { route: path, status: 200 };
      case '/readyz': {
        const r = await h.readiness();
        sendJson(res, r.ready ? 200 : 503, { ready: r.ready, state: live.state, reasons: r.reasons });
        return { route: path, status: r.ready ? 200 : 503 };
      }
      case '/metrics':
        send(res, 200, await h.metrics(), 'text/plain; version=0.0.4; charset=utf-8');
        return { route: path, status: 200 };
      case '/status':
        sendJson(res, 200, await h.status());
        return { route: path, status: 200 };
      default: {
        const ready = await h.readiness();
        if (!ready.ready)
          throw new HttpError(503, 'NOT_READY', `not ready: ${ready.reasons.join('; ')}`, {
            'retry-after': '1',
          });
        const ct = String(req.headers['content-type'] ?? '');
        if (!/^application\/json\b/i.test(ct))
          throw new HttpError(
            415,
            'UNSUPPORTED_MEDIA_TYPE',
            'POST /search needs content-type: application/json',
          );
        if (activeSearches >= opts.maxConcurrentSearches) {
          live.searchesRejected += 1;
          throw new HttpError(
            429,
            'TOO_MANY_SEARCHES',
            `${opts.maxConcurrentSearches} searches are already running; retry shortly`,
            { 'retry-after': '1' },
          );
        }
        activeSearches += 1;
        try {
          const raw = await readBody(req, opts.maxBodyBytes);
          let body: unknown;
          try {
            body = JSON.parse(raw.toString('utf8')) as unknown;
          } catch (e) {
            throw new HttpError(400, 'USAGE', `the body is not valid JSON: ${(e as Error).message}`);
          }
          const sreq = parseSearchRequest(body, h.searchLimits);
          let timer: NodeJS.Timeout | undefined;
          const timeout = new Promise<never>((_, reject) => {
            timer = setTimeout(
              () =>
                reject(new HttpError(503, 'TIMEOUT', `search took longer than ${opts.requestTimeoutMs} ms`)),
              opts.requestTimeoutMs,
            );
          });
          try {
            const out = await Promise.race([h.search(sreq), timeout]);
            sendJson(res, 200, { query: sreq.query, k: sreq.k, filters: sreq.filters, ...out });
          } finally {
            clearTimeout(timer);
          }
          return { route: path, status: 200 };
        } finally {
          activeSearches -= 1;
        }
      }
    }
  };

  const server: Server = createServer(
    {
      requestTimeout: opts.requestTimeoutMs,
      headersTimeout: Math.min(opts.requestTimeoutMs, 60_000),
      // Node enforces both timeouts only when it sweeps connections (default every 30 s, so a 15 s limit
      // fired after 26–30 s); sweeping often keeps a slow-header/slow-body 408 within 1 s of the limit.
      connectionsCheckingInterval: Math.max(50, Math.min(500, Math.floor(opts.requestTimeoutMs / 4))),
    },
    (req, res) => {
      handle(req, res).then(
        ({ route, status }) => count(route, status),
        (e: unknown) => {
          let he: HttpError;
          if (e instanceof HttpError) he = e;
          else if (isSeamlineError(e) && e.code === 'USAGE') he = new HttpError(400, 'USAGE', e.message);
          else {
            const se = toSeamlineError(e);
            logger.error({ event: 'http.error', code: se.code, err: se, path: req.url }, 'request failed');
            he = new HttpError(500, se.code, se.message);
          }
          const route = (req.url ?? '/').split('?')[0]!;
          count(
            ['/healthz', '/readyz', '/metrics', '/status', '/search'].includes(route)
              ? route
              : (matchOpsRoute(route) ?? 'other'),
            he.status,
          );
          // A body we refuse to read must not keep the connection for the next request.
          const headers = he.status === 413 ? { ...he.headers, connection: 'close' } : he.headers;
          sendJson(res, he.status, { error: { code: he.code, message: he.message } }, headers);
          if (he.status === 413) req.destroy();
        },
      );
    },
  );
  server.keepAliveTimeout = 5000;
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(opts.port, opts.host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  port = (server.address() as AddressInfo).port;
  logger.info(
    { event: 'http.listening', host: opts.host, port, auth: opts.token !== undefined },
    `HTTP listening on ${opts.host}:${port}`,
  );
  let closed: Promise<void> | null = null;
  return {
    port,
    close: () => {
      closed ??= new Promise<void>((resolve) => {
        h.close?.();
        server.close(() => resolve());
        server.closeIdleConnections();
        setTimeout(() => server.closeAllConnections(), 2000).unref();
      });
      return closed;
    },
  };
}
