import { SeamlineError } from '../errors/errors.js';
import type { HttpHandlers } from '../http/server.js';
import { LedgerHistograms } from '../observability/ledger-stats.js';
import type { FreshnessTracker } from '../observability/freshness.js';
import { freshnessOf } from '../observability/lanes-status.js';
import {
  renderLaneMetrics,
  renderMetrics,
  type LiveStats,
  type StatusView,
} from '../observability/metrics.js';
import { collectStatus } from '../observability/status.js';
import type { VectorTable } from '../ports/vector-store.js';
import type { Runtime } from '../runtime/runtime.js';
import { search, searchLimitsOf } from '../search/search.js';

/** Wires the HTTP routes to the runtime: status and metrics from SQLite + the table, search on the serving table. */
export function daemonHttpHandlers(
  rt: Runtime,
  live: LiveStats,
  lanes?: { readonly freshness: FreshnessTracker },
): HttpHandlers {
  const limits = searchLimitsOf(rt.config);
  const hist = new LedgerHistograms();
  // Tables by name: searches follow the serving pointer (a swap is picked up by the next request).
  const opened = new Map<string, VectorTable>();
  const status = async (): Promise<Record<string, unknown>> =>
    collectStatus(rt, {
      daemon: { state: live.state, modelLoaded: live.modelLoaded, startedAtMs: live.startedAtMs },
    });
  return {
    searchLimits: limits,
    readiness: () => {
      const reasons: string[] = [];
      if (!live.storesOpen) reasons.push('stores are not open');
      if (!live.modelLoaded) reasons.push('the embedding model is not loaded yet');
      if (live.state !== 'running') reasons.push(`daemon is ${live.state}`);
      const ready = reasons.length === 0;
      // A violated freshness objective degrades, it does not unready: the reason is reported, status 200.
      const serving = rt.tables.serving();
      if (serving && live.storesOpen) {
        const f = freshnessOf(rt, serving.tableName);
        if (f.reason) reasons.push(f.reason);
      }
      return { ready, reasons };
    },
    status,
    metrics: async () => {
      const s = await status();
      const serving = rt.tables.serving();
      if (serving) hist.update(rt.db, serving.tableName);
      const out = renderMetrics(s as unknown as StatusView, live, hist, rt.clock.nowMs());
      if (!lanes || !serving) return out;
      const f = freshnessOf(rt, serving.tableName);
      return (
        out +
        renderLaneMetrics({
          freshness: {
            live: lanes.freshness.histogram('live'),
            backlog: lanes.freshness.histogram('backlog'),
          },
          backlog: rt.ledger.lanes().backlog(serving.tableName),
          objective: {
            percentile: f.percentile,
            valueS: f.valueMs === null ? Number.NaN : f.valueMs / 1000,
            degraded: !f.ok,
          },
        })
      );
    },
    search: async (req) => {
      const serving = rt.tables.serving();
      if (!serving) throw new SeamlineError('USAGE', 'nothing is indexed yet');
      let table = opened.get(serving.tableName);
      if (!table) {
        const t = await rt.store.openTable(serving.tableName);
        if (!t) throw new SeamlineError('STORE_FAILED', `serving table ${serving.tableName} is missing`);
        opened.set(serving.tableName, t);
        table = t;
      }
      const embedder = await rt.embedder(serving.modelId);
      return { table: table.name, results: await search(table, embedder, req, limits) };
    },
  };
}
