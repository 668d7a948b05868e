import { SeamlineError } from '../errors/errors.js';
import type { HttpHandlers } from '../http/server.js';
import { ActivityHistory } from '../observability/history.js';
import { LedgerHistograms } from '../observability/ledger-stats.js';
import type { FreshnessTracker } from '../observability/freshness.js';
import { freshnessOf } from '../observability/lanes-status.js';
import {
  PipelineMetrics,
  type LaneMetricsView,
  type LiveStats,
  type StatusView,
} from '../observability/metrics.js';
import { collectStatus } from '../observability/status.js';
import type { VectorTable } from '../ports/vector-store.js';
import type { Runtime } from '../runtime/runtime.js';
import type { StallMonitor } from '../runtime/stall-monitor.js';
import { search, searchLimitsOf } from '../search/search.js';

/** Wires the HTTP routes to the runtime: status and metrics from SQLite + the table, search on the serving table. */
export function daemonHttpHandlers(
  rt: Runtime,
  live: LiveStats,
  opts: { readonly stalls?: StallMonitor; readonly freshness?: FreshnessTracker } = {},
): HttpHandlers {
  const { stalls } = opts;
  const limits = searchLimitsOf(rt.config);
  const hist = new LedgerHistograms();
  const metrics = new PipelineMetrics();
  const history = new ActivityHistory();
  const sampleBacklog = backlogSampler(rt, history);
  // Backlog over the last hour for the status page: one sample per 10 s, bounded by ActivityHistory.
  // A real, unref'd interval (not the clock): it must not keep a daemon that failed to start alive.
  const sampler = setInterval(() => void sampleBacklog(), 10_000);
  sampler.unref();
  const status = async (): Promise<Record<string, unknown>> => ({
    ...(await collectStatus(
      { ...rt, latestReindex: () => rt.reindexJobs.latest() },
      {
        daemon: { state: live.state, modelLoaded: live.modelLoaded, startedAtMs: live.startedAtMs },
      },
    )),
    stalls: stalls?.stalls() ?? [],
  });
  return {
    searchLimits: limits,
    readiness: () => readiness(rt, live, stalls),
    status,
    metrics: async () => {
      const s = await status();
      const serving = await rt.tables.serving();
      if (serving) await hist.update(rt.readModel, serving.tableName);
      return metrics.render({
        status: s as unknown as StatusView,
        live,
        hist,
        nowMs: rt.clock.nowMs(),
        ...(serving && opts.freshness
          ? { lanes: await laneView(rt, opts.freshness, serving.tableName) }
          : {}),
      });
    },
    close: () => clearInterval(sampler),
    ops: {
      nowMs: () => rt.clock.nowMs(),
      files: async (o) =>
        rt.readModel.recentFiles({ ...o, table: (await rt.tables.serving())?.tableName ?? null }),
      batches: (o) => rt.readModel.recentBatches(o),
      quarantine: async (f) => ({
        ...(await rt.readModel.listQuarantine(f)),
        byCode: await rt.readModel.quarantineByCode(),
      }),
      quarantineRecord: (id) => rt.readModel.quarantineRecord(id),
      history: async () => {
        const serving = await rt.tables.serving();
        const now = rt.clock.nowMs();
        if (serving) await history.update(rt.readModel, serving.tableName, now);
        if (history.view(now).backlog.length === 0) await sampleBacklog();
        return history.view(now);
      },
    },
    search: servingSearch(rt, limits),
  };
}

/** One backlog sample (both lanes plus landed files not in a lane yet, as status counts it); never throws. */
function backlogSampler(rt: Runtime, history: ActivityHistory): () => Promise<void> {
  return async () => {
    try {
      const serving = await rt.tables.serving();
      const lanes = serving ? rt.ledger.lanes() : null;
      const per = serving && lanes ? await lanes.backlog(serving.tableName) : null;
      const backlog =
        serving && lanes && per
          ? per.live.records + per.backlog.records + (await lanes.undiscovered(serving.tableName)).records
          : 0;
      history.sample(rt.clock.nowMs(), backlog);
    } catch (err) {
      rt.logger.warn({ event: 'history.sample_failed', err }, 'status page: backlog sample failed');
    }
  };
}

async function readiness(
  rt: Runtime,
  live: LiveStats,
  stalls: StallMonitor | undefined,
): Promise<{ ready: boolean; reasons: string[] }> {
  const reasons: string[] = [];
  if (!live.storesOpen) reasons.push('stores are not open');
  if (!live.modelLoaded) reasons.push('the embedding model is not loaded yet');
  if (live.state !== 'running') reasons.push(`daemon is ${live.state}`);
  reasons.push(...(stalls?.reasons() ?? []));
  const ready = reasons.length === 0;
  // A violated freshness objective degrades, it does not unready: the reason is reported, status 200.
  const serving = await rt.tables.serving();
  if (serving && live.storesOpen) {
    const f = await freshnessOf(rt, serving.tableName);
    if (f.reason) reasons.push(f.reason);
  }
  return { ready, reasons };
}

/** The processor lanes as the metrics read them (docs/metrics.md#lanes). */
async function laneView(
  rt: Runtime,
  freshness: FreshnessTracker,
  tableName: string,
): Promise<LaneMetricsView> {
  const f = await freshnessOf(rt, tableName);
  return {
    freshness: { live: freshness.histogram('live'), backlog: freshness.histogram('backlog') },
    backlog: await rt.ledger.lanes().backlog(tableName),
    objective: {
      percentile: f.percentile,
      valueS: f.valueMs === null ? null : f.valueMs / 1000,
      degraded: !f.ok,
    },
  };
}

/** Search on the serving table; tables by name, so a swap is picked up by the next request. */
function servingSearch(rt: Runtime, limits: ReturnType<typeof searchLimitsOf>): HttpHandlers['search'] {
  const opened = new Map<string, VectorTable>();
  return async (req) => {
    const serving = await rt.tables.serving();
    if (!serving) throw new SeamlineError('USAGE', 'nothing is indexed yet');
    let table = opened.get(serving.tableName);
    if (!table) {
      const t = await rt.store.openTable(serving.tableName);
      if (!t) throw new SeamlineError('STORE_FAILED', `serving table ${serving.tableName} is missing`);
      opened.set(serving.tableName, t);
      table = t;
    }
    // Lazy: an fts search never waits for the model.
    const res = await search(table, () => rt.embedder(serving.modelId), req, limits, {
      modelId: serving.modelId,
    });
    return { table: table.name, ...res };
  };
}
