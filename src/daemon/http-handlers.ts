import { SeamlineError } from '../errors/errors.js';
import type { HttpHandlers } from '../http/server.js';
import {
  listQuarantine,
  quarantineByCode,
  quarantineRecord,
  recentBatches,
  recentFiles,
} from '../observability/activity.js';
import { ActivityHistory } from '../observability/history.js';
import { LedgerHistograms } from '../observability/ledger-stats.js';
import { PipelineMetrics, type LiveStats, type StatusView } from '../observability/metrics.js';
import { collectStatus } from '../observability/status.js';
import type { VectorTable } from '../ports/vector-store.js';
import type { Runtime } from '../runtime/runtime.js';
import type { StallMonitor } from '../runtime/stall-monitor.js';
import { search, searchLimitsOf } from '../search/search.js';

/** Wires the HTTP routes to the runtime: status and metrics from SQLite + the table, search on the serving table. */
export function daemonHttpHandlers(rt: Runtime, live: LiveStats, stalls?: StallMonitor): HttpHandlers {
  const limits = searchLimitsOf(rt.config);
  const hist = new LedgerHistograms();
  const metrics = new PipelineMetrics();
  const history = new ActivityHistory();
  // Backlog over the last hour for the status page: one sample per 10 s, bounded by ActivityHistory.
  const sampleBacklog = (): void => {
    try {
      const serving = rt.tables.serving();
      const backlog = serving
        ? Math.max(0, rt.bronze.maxSeq() - rt.ledger.committedUpTo(serving.tableName))
        : 0;
      history.sample(rt.clock.nowMs(), backlog);
    } catch (err) {
      rt.logger.warn({ event: 'history.sample_failed', err }, 'status page: backlog sample failed');
    }
  };
  const sampler = setInterval(sampleBacklog, 10_000);
  sampler.unref();
  // Tables by name: searches follow the serving pointer (a swap is picked up by the next request).
  const opened = new Map<string, VectorTable>();
  const status = async (): Promise<Record<string, unknown>> => ({
    ...(await collectStatus(rt, {
      daemon: { state: live.state, modelLoaded: live.modelLoaded, startedAtMs: live.startedAtMs },
    })),
    stalls: stalls?.stalls() ?? [],
  });
  return {
    searchLimits: limits,
    readiness: () => {
      const reasons: string[] = [];
      if (!live.storesOpen) reasons.push('stores are not open');
      if (!live.modelLoaded) reasons.push('the embedding model is not loaded yet');
      if (live.state !== 'running') reasons.push(`daemon is ${live.state}`);
      reasons.push(...(stalls?.reasons() ?? []));
      return { ready: reasons.length === 0, reasons };
    },
    status,
    metrics: async () => {
      const s = await status();
      const serving = rt.tables.serving();
      if (serving) hist.update(rt.db, serving.tableName);
      return metrics.render({
        status: s as unknown as StatusView,
        live,
        hist,
        nowMs: rt.clock.nowMs(),
      });
    },
    close: () => clearInterval(sampler),
    ops: {
      nowMs: () => rt.clock.nowMs(),
      files: (o) => recentFiles(rt.db, { ...o, table: rt.tables.serving()?.tableName ?? null }),
      batches: (o) => recentBatches(rt.db, o),
      quarantine: (f) => ({ ...listQuarantine(rt.db, f), byCode: quarantineByCode(rt.db) }),
      quarantineRecord: (id) => quarantineRecord(rt.db, id),
      history: () => {
        const serving = rt.tables.serving();
        const now = rt.clock.nowMs();
        if (serving) history.update(rt.db, serving.tableName, now);
        if (history.view(now).backlog.length === 0) sampleBacklog();
        return history.view(now);
      },
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
