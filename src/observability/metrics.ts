import type { HistogramData, LedgerCounters } from './ledger-stats.js';

/** In-process facts only the running daemon knows (everything countable comes from SQLite instead). */
export interface LiveStats {
  state: 'starting' | 'running' | 'draining' | 'stopped';
  modelLoaded: boolean;
  storesOpen: boolean;
  startedAtMs: number;
  /** Real (unpadded) tokens per second of the most recent batch that embedded anything. */
  tokensPerSecond: number;
  embedTokens: number;
  httpRequests: Map<string, number>;
  searchesRejected: number;
}

export const newLiveStats = (nowMs: number): LiveStats => ({
  state: 'starting',
  modelLoaded: false,
  storesOpen: false,
  startedAtMs: nowMs,
  tokensPerSecond: 0,
  embedTokens: 0,
  httpRequests: new Map(),
  searchesRejected: 0,
});

/** The parts of `collectStatus()` that metrics read (kept structural so the two cannot drift). */
export interface StatusView {
  readonly records: {
    readonly read: number;
    readonly landed: number;
    readonly quarantined: number;
    readonly bronze: number;
  };
  readonly files: { readonly byState: Readonly<Record<string, number>>; readonly completenessGap: number };
  readonly keys: { readonly ids: number; readonly live: number; readonly deleted: number };
  readonly table: null | {
    readonly name: string;
    readonly rows: number | null;
    readonly version: number | null;
    readonly versions: number | null;
    readonly stats: {
      readonly fragments: number;
      readonly smallFragments: number;
      readonly bytes: number;
    } | null;
    readonly indexes: readonly {
      readonly name: string;
      readonly unindexedRows: number;
      readonly indexedRows: number;
    }[];
    readonly counters: LedgerCounters;
  };
}

const FILE_STATES = ['landing', 'verified', 'unverified', 'incomplete', 'failed'] as const;

/** Escapes a label value per the Prometheus text exposition format. */
export function labelValue(v: string): string {
  return v.replace(/\\/g, '\\\\').replace(/\n/g, '\\n').replace(/"/g, '\\"');
}

const fmt = (n: number): string => (Number.isFinite(n) ? String(n) : n > 0 ? '+Inf' : n < 0 ? '-Inf' : 'NaN');

class Exposition {
  private readonly lines: string[] = [];
  metric(
    name: string,
    type: 'counter' | 'gauge',
    help: string,
    samples: readonly { labels?: Record<string, string>; value: number }[],
  ): void {
    this.lines.push(`# HELP ${name} ${help}`, `# TYPE ${name} ${type}`);
    for (const s of samples) {
      const l =
        s.labels && Object.keys(s.labels).length
          ? `{${Object.entries(s.labels)
              .map(([k, v]) => `${k}="${labelValue(v)}"`)
              .join(',')}}`
          : '';
      this.lines.push(`${name}${l} ${fmt(s.value)}`);
    }
  }
  one(name: string, type: 'counter' | 'gauge', help: string, value: number): void {
    this.metric(name, type, help, [{ value }]);
  }
  histogram(name: string, help: string, h: HistogramData): void {
    this.lines.push(`# HELP ${name} ${help}`, `# TYPE ${name} histogram`);
    h.buckets.forEach((b, i) => this.lines.push(`${name}_bucket{le="${b}"} ${h.counts[i]}`));
    this.lines.push(
      `${name}_bucket{le="+Inf"} ${h.count}`,
      `${name}_sum ${h.sum}`,
      `${name}_count ${h.count}`,
    );
  }
  toString(): string {
    return `${this.lines.join('\n')}\n`;
  }
}

/**
 * Renders the Prometheus text exposition (version 0.0.4). Every counter is read from the same status
 * object `status --json` prints, so the two agree. Names are documented in docs/metrics.md.
 */
export function renderMetrics(
  s: StatusView,
  live: LiveStats,
  hist: { landingToSearchable: HistogramData; batchDuration: HistogramData },
  nowMs: number,
): string {
  const e = new Exposition();
  const c = s.table?.counters;
  e.one('seamline_up', 'gauge', 'Always 1 while the process answers.', 1);
  e.metric(
    'seamline_daemon_state',
    'gauge',
    'Lifecycle state (1 for the current state).',
    (['starting', 'running', 'draining', 'stopped'] as const).map((st) => ({
      labels: { state: st },
      value: live.state === st ? 1 : 0,
    })),
  );
  e.one('seamline_model_loaded', 'gauge', '1 when the embedding model is loaded.', live.modelLoaded ? 1 : 0);
  e.one(
    'seamline_uptime_seconds',
    'gauge',
    'Seconds since the daemon started.',
    Math.max(0, (nowMs - live.startedAtMs) / 1000),
  );
  e.one(
    'seamline_records_read_total',
    'counter',
    'Records read from landed files (landed + quarantined).',
    s.records.read,
  );
  e.one('seamline_records_landed_total', 'counter', 'Records landed into bronze.', s.records.landed);
  e.one(
    'seamline_records_quarantined_total',
    'counter',
    'Records quarantined with a reason.',
    s.records.quarantined,
  );
  e.one(
    'seamline_records_published_total',
    'counter',
    'Bronze records covered by committed batches of the serving table.',
    c?.recordsPublished ?? 0,
  );
  e.one(
    'seamline_records_deleted_total',
    'counter',
    'Rows removed from the serving table (tombstones and lost chunks).',
    c?.rowsDeleted ?? 0,
  );
  e.one(
    'seamline_ids_deleted',
    'gauge',
    'Ids whose latest version is a delete (tombstones in key state).',
    s.keys.deleted,
  );
  e.one('seamline_ids_live', 'gauge', 'Ids whose latest version is an upsert.', s.keys.live);
  e.metric(
    'seamline_files',
    'gauge',
    'Landing files by state.',
    FILE_STATES.map((st) => ({ labels: { state: st }, value: s.files.byState[st] ?? 0 })),
  );
  e.one(
    'seamline_files_completeness_gap',
    'gauge',
    'Files landed without a manifest (unverified).',
    s.files.completenessGap,
  );
  e.one(
    'seamline_batches_committed_total',
    'counter',
    'Micro-batches committed to the serving table.',
    c?.batchesCommitted ?? 0,
  );
  e.one(
    'seamline_batches_failed_total',
    'counter',
    'Failed batch attempts recorded in the ledger.',
    c?.batchesFailedAttempts ?? 0,
  );
  e.one(
    'seamline_batches_pending',
    'gauge',
    'Batches planned or failed, not yet committed.',
    c?.batchesPending ?? 0,
  );
  e.histogram('seamline_batch_duration_seconds', 'Batch duration from plan to commit.', hist.batchDuration);
  e.one(
    'seamline_rows_inserted_total',
    'counter',
    'Rows inserted into the serving table.',
    c?.rowsInserted ?? 0,
  );
  e.one('seamline_rows_updated_total', 'counter', 'Rows updated in the serving table.', c?.rowsUpdated ?? 0);
  e.one('seamline_texts_embedded_total', 'counter', 'Chunks embedded by the model.', c?.textsEmbedded ?? 0);
  e.one(
    'seamline_texts_reused_total',
    'counter',
    'Chunks whose vector was reused (same content hash and model).',
    c?.textsReused ?? 0,
  );
  e.one(
    'seamline_embed_tokens_per_second',
    'gauge',
    'Embedding throughput of the most recent batch that embedded (real tokens/s).',
    live.tokensPerSecond,
  );
  e.one('seamline_embed_tokens_total', 'counter', 'Real tokens embedded by this process.', live.embedTokens);
  e.one(
    'seamline_ledger_backlog_records',
    'gauge',
    'Bronze records not yet covered by a committed batch.',
    c?.backlogRecords ?? 0,
  );
  e.one(
    'seamline_event_time_lag_seconds',
    'gauge',
    'Now minus the event time of the newest published record (NaN when nothing is published).',
    c?.newestPublishedEventTimeMs == null ? Number.NaN : (nowMs - c.newestPublishedEventTimeMs) / 1000,
  );
  e.histogram(
    'seamline_landing_to_searchable_seconds',
    'Per record: batch commit time minus landing time.',
    hist.landingToSearchable,
  );
  e.one('seamline_table_rows', 'gauge', 'Rows in the serving table.', s.table?.rows ?? 0);
  e.one('seamline_table_version', 'gauge', 'Current version of the serving table.', s.table?.version ?? 0);
  e.one('seamline_table_versions', 'gauge', 'Versions the serving table keeps.', s.table?.versions ?? 0);
  e.one(
    'seamline_table_fragments',
    'gauge',
    'Fragments of the serving table.',
    s.table?.stats?.fragments ?? 0,
  );
  e.one(
    'seamline_table_small_fragments',
    'gauge',
    'Small fragments (compaction candidates).',
    s.table?.stats?.smallFragments ?? 0,
  );
  e.one('seamline_table_bytes', 'gauge', 'Bytes of the serving table.', s.table?.stats?.bytes ?? 0);
  e.metric(
    'seamline_index_unindexed_rows',
    'gauge',
    'Rows not yet covered by each index.',
    (s.table?.indexes ?? []).map((i) => ({ labels: { index: i.name }, value: i.unindexedRows })),
  );
  e.one(
    'seamline_optimize_runs_total',
    'counter',
    'Optimize runs recorded by the optimize job.',
    c?.optimizeRuns ?? 0,
  );
  e.one(
    'seamline_optimize_conflicts_total',
    'counter',
    'Optimize runs that lost a commit conflict.',
    c?.optimizeConflicts ?? 0,
  );
  e.one(
    'seamline_gate_failures_total',
    'counter',
    'Batches refused by a quality gate.',
    c?.gateFailures ?? 0,
  );
  e.metric(
    'seamline_incidents_total',
    'counter',
    'Incidents recorded by guards, by failure mode.',
    Object.entries(c?.incidents ?? {}).map(([m, n]) => ({ labels: { failure_mode: m }, value: n })),
  );
  e.metric(
    'seamline_http_requests_total',
    'counter',
    'HTTP requests by route and status code.',
    [...live.httpRequests.entries()].map(([k, n]) => {
      const [route, code] = k.split(' ');
      return { labels: { route: route ?? '', code: code ?? '' }, value: n };
    }),
  );
  e.one(
    'seamline_search_rejected_total',
    'counter',
    'Searches refused because too many were running.',
    live.searchesRejected,
  );
  return e.toString();
}

/** What the lane metrics read (docs/metrics.md#lanes): freshness per lane, backlog per lane, the objective. */
export interface LaneMetricsView {
  readonly freshness: Readonly<Record<'live' | 'backlog', HistogramData>>;
  readonly backlog: Readonly<
    Record<'live' | 'backlog', { readonly files: number; readonly records: number }>
  >;
  /** The live lane's windowed percentile (seconds; NaN without samples) and whether the objective is violated. */
  readonly objective: { readonly percentile: number; readonly valueS: number; readonly degraded: boolean };
}

/** The two processor lanes' exposition, appended to renderMetrics' output by the daemon. */
export function renderLaneMetrics(v: LaneMetricsView): string {
  const e = new Exposition();
  const lanes = ['live', 'backlog'] as const;
  const lines: string[] = [
    '# HELP seamline_freshness_seconds Per file: complete (last write) to searchable (its last batch committed), by lane.',
    '# TYPE seamline_freshness_seconds histogram',
  ];
  for (const lane of lanes) {
    const h = v.freshness[lane];
    h.buckets.forEach((b, i) =>
      lines.push(`seamline_freshness_seconds_bucket{lane="${lane}",le="${b}"} ${h.counts[i]}`),
    );
    lines.push(
      `seamline_freshness_seconds_bucket{lane="${lane}",le="+Inf"} ${h.count}`,
      `seamline_freshness_seconds_sum{lane="${lane}"} ${h.sum}`,
      `seamline_freshness_seconds_count{lane="${lane}"} ${h.count}`,
    );
  }
  e.metric(
    'seamline_lane_backlog_records',
    'gauge',
    'Records of landed files not yet searchable, by lane.',
    lanes.map((lane) => ({ labels: { lane }, value: v.backlog[lane].records })),
  );
  e.metric(
    'seamline_lane_backlog_files',
    'gauge',
    'Landed files not yet fully searchable, by lane.',
    lanes.map((lane) => ({ labels: { lane }, value: v.backlog[lane].files })),
  );
  e.metric(
    'seamline_freshness_window_seconds',
    'gauge',
    'The live lane freshness percentile of the objective over its window (NaN without samples).',
    [{ labels: { lane: 'live', quantile: String(v.objective.percentile / 100) }, value: v.objective.valueS }],
  );
  e.one(
    'seamline_freshness_degraded',
    'gauge',
    '1 while the live lane violates the freshness objective over its window.',
    v.objective.degraded ? 1 : 0,
  );
  return `${lines.join('\n')}\n${e.toString()}`;
}
