import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { SeamlineError } from '../errors/errors.js';
import type {
  BatchActivity,
  FileActivity,
  QuarantineEntry,
  QuarantineFilter,
  QuarantineList,
} from '../observability/activity.js';
import { parseSince } from '../observability/activity.js';
import type { HistoryView } from '../observability/history.js';
import { PAGE_CSS, PAGE_HTML, PAGE_JS } from './status-page.js';

type Awaitable<T> = T | Promise<T>;

/** The read side the status page needs (wired to the ReadModel port in daemon/http-handlers.ts). */
export interface OpsApi {
  files(opts: { limit?: number | undefined }): Awaitable<FileActivity[]>;
  batches(opts: { limit?: number | undefined; state?: string | undefined }): Awaitable<BatchActivity[]>;
  quarantine(
    f: QuarantineFilter,
  ): Awaitable<QuarantineList & { byCode: { code: string; count: number; lastAtMs: number }[] }>;
  quarantineRecord(qId: number): Awaitable<QuarantineEntry | null>;
  history(): Awaitable<HistoryView>;
  nowMs(): number;
}

export interface OpsReply {
  readonly status: number;
  readonly body: string | Buffer;
  readonly type: string;
  readonly headers?: Record<string, string>;
}

/** The page may load only its own scripts, styles and API: no inline script, no third party. */
const PAGE_HEADERS = {
  'content-security-policy':
    "default-src 'none'; script-src 'self'; style-src 'self'; connect-src 'self'; img-src 'self' data:; base-uri 'none'; form-action 'none'; frame-ancestors 'none'",
  'referrer-policy': 'no-referrer',
  'x-frame-options': 'DENY',
};

const JSON_TYPE = 'application/json; charset=utf-8';

// uPlot ships in the package's dependencies (no CDN): read once, on first request.
const requireFromHere = createRequire(import.meta.url);
const vendored = new Map<string, string>();
function uplot(file: 'uPlot.iife.min.js' | 'uPlot.min.css'): string {
  let s = vendored.get(file);
  if (s === undefined) {
    s = readFileSync(requireFromHere.resolve(`uplot/dist/${file}`), 'utf8');
    vendored.set(file, s);
  }
  return s;
}

const STATIC: Record<string, () => OpsReply> = {
  '/': () => ({ status: 200, body: PAGE_HTML, type: 'text/html; charset=utf-8', headers: PAGE_HEADERS }),
  '/assets/app.js': () => ({ status: 200, body: PAGE_JS, type: 'text/javascript; charset=utf-8' }),
  '/assets/app.css': () => ({ status: 200, body: PAGE_CSS, type: 'text/css; charset=utf-8' }),
  '/assets/uplot.js': () => ({
    status: 200,
    body: uplot('uPlot.iife.min.js'),
    type: 'text/javascript; charset=utf-8',
  }),
  '/assets/uplot.css': () => ({ status: 200, body: uplot('uPlot.min.css'), type: 'text/css; charset=utf-8' }),
};

const API_PARAMS: Record<string, readonly string[]> = {
  '/api/files': ['limit'],
  '/api/batches': ['limit', 'state'],
  '/api/quarantine': ['file', 'code', 'since', 'limit'],
  '/api/quarantine/:id': [],
  '/api/history': [],
};

/** The route label for an ops path (page, assets, /api/*), or null when the path is not one of ours. */
export function matchOpsRoute(path: string): string | null {
  if (path in STATIC || path in API_PARAMS) return path;
  if (/^\/api\/quarantine\/\d{1,15}$/.test(path)) return '/api/quarantine/:id';
  return null;
}

/** True when the route takes query parameters (the server refuses them everywhere else). */
export const opsRouteTakesQuery = (route: string): boolean => (API_PARAMS[route]?.length ?? 0) > 0;

const usage = (m: string): SeamlineError => new SeamlineError('USAGE', m);

function intParam(q: URLSearchParams, name: string): number | undefined {
  const v = q.get(name);
  if (v === null || v === '') return undefined;
  if (!/^\d{1,6}$/.test(v) || Number(v) < 1)
    throw usage(`${name}=${JSON.stringify(v)}: expected a positive integer`);
  return Number(v);
}

const strParam = (q: URLSearchParams, name: string): string | undefined => {
  const v = q.get(name);
  return v === null || v === '' ? undefined : v;
};

/** Serves one ops route (already authorized by the server). Unknown query parameters are a usage error. */
export async function serveOps(
  route: string,
  path: string,
  query: URLSearchParams,
  api: OpsApi,
): Promise<OpsReply> {
  const stat = STATIC[route];
  if (stat) {
    if ([...query.keys()].length > 0) throw usage(`${route} takes no query parameters`);
    return stat();
  }
  const allowed = API_PARAMS[route] ?? [];
  for (const k of query.keys())
    if (!allowed.includes(k))
      throw usage(
        `unknown query parameter ${JSON.stringify(k)} for ${route} (known: ${allowed.join(', ') || 'none'})`,
      );
  const json = (data: unknown, status = 200): OpsReply => ({
    status,
    body: `${JSON.stringify(data)}\n`,
    type: JSON_TYPE,
  });
  switch (route) {
    case '/api/files':
      return json({ files: await api.files({ limit: intParam(query, 'limit') }) });
    case '/api/batches': {
      const state = strParam(query, 'state');
      if (state !== undefined && !['planned', 'committed', 'failed'].includes(state))
        throw usage(`state=${JSON.stringify(state)}: expected planned, committed or failed`);
      return json({ batches: await api.batches({ limit: intParam(query, 'limit'), state }) });
    }
    case '/api/quarantine': {
      const since = strParam(query, 'since');
      return json(
        await api.quarantine({
          file: strParam(query, 'file'),
          code: strParam(query, 'code'),
          sinceMs: since === undefined ? undefined : parseSince(since, api.nowMs()),
          limit: intParam(query, 'limit'),
        }),
      );
    }
    case '/api/quarantine/:id': {
      const id = Number(path.slice('/api/quarantine/'.length));
      const rec = await api.quarantineRecord(id);
      return rec
        ? json(rec)
        : json({ error: { code: 'NOT_FOUND', message: `no quarantined record ${id}` } }, 404);
    }
    case '/api/history':
      return json(await api.history());
    default:
      return json({ error: { code: 'NOT_FOUND', message: `no route ${path}` } }, 404);
  }
}
