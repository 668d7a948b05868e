import type { HttpHandlers } from '../../src/http/server.js';

/** An empty search response of the HTTP contract. */
export const emptySearch = (mode: 'hybrid' | 'vector' | 'fts' = 'hybrid') =>
  Promise.resolve({
    table: 't',
    granularity: 'document' as const,
    mode,
    offset: 0,
    results: [],
    nextOffset: null,
    partial: false,
    notes: [],
  });

/**
 * HTTP handlers that answer and do nothing: for tests of routing, auth, limits and timeouts (a fake
 * of our own port). Override what a test looks at.
 */
export function stubHandlers(over: Partial<HttpHandlers> = {}): HttpHandlers {
  return {
    searchLimits: { maxK: 50, maxQueryChars: 1000 },
    readiness: () => ({ ready: true, reasons: [] }),
    status: () => Promise.resolve({}),
    metrics: () => Promise.resolve(''),
    search: () => emptySearch(),
    ...over,
  };
}
