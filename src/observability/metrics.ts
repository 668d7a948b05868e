import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from 'prom-client';
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
  readonly files: {
    readonly byState: Readonly<Record<string, number>>;
    readonly completenessGap: number;
    readonly continuations?: number;
  };
  readonly landing?: {
    readonly writerCheck: { readonly available: boolean };
    readonly manifests: {
      readonly waiting: number;
      readonly orphan: number;
      readonly lateMatch: number;
      readonly lateMismatch: number;
    };
  };
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

/** Everything one scrape reads: taken once per scrape, so every metric of a scrape agrees. */
export interface MetricsSnapshot {
  readonly status: StatusView;
  readonly live: LiveStats;
  readonly hist: { readonly landingToSearchable: HistogramData; readonly batchDuration: HistogramData };
  readonly nowMs: number;
  /** The processor lanes (absent before a serving table exists: no lane samples then). */
  readonly lanes?: LaneMetricsView;
}

export interface Sample {
  readonly labels: Readonly<Record<string, string>>;
  readonly value: number;
}

/**
 * One pipeline metric, read from a snapshot at scrape time. `read` returns a number (one unlabelled
 * sample), a list of labelled samples, or null (no sample: the value is unknown, never a fake 0/NaN).
 * Counters are absolute totals from SQLite (they survive restarts), so they are set, not incremented.
 */
export type MetricDef =
  | {
      readonly name: string;
      readonly type: 'counter' | 'gauge';
      readonly help: string;
      readonly labels?: readonly string[];
      readonly read: (s: MetricsSnapshot) => number | readonly Sample[] | null;
    }
  | {
      readonly name: string;
      readonly type: 'histogram';
      readonly help: string;
      readonly labels?: readonly string[];
      /** Cumulative data (see ledger-stats.ts `HistogramData`); a list for labelled histograms (e.g. per lane). */
      readonly read: (
        s: MetricsSnapshot,
      ) => HistogramData | readonly { labels: Record<string, string>; data: HistogramData }[] | null;
    };

const FILE_STATES = ['landing', 'verified', 'unverified', 'incomplete', 'failed'] as const;
const DAEMON_STATES = ['starting', 'running', 'draining', 'stopped'] as const;

const counters = (s: MetricsSnapshot): LedgerCounters | undefined => s.status.table?.counters;

const LANES = ['live', 'backlog'] as const;

/** The two processor lanes (docs/metrics.md#lanes); no sample while there is no serving table. */
export const LANE_METRICS: readonly MetricDef[] = [
  {
    name: 'seamline_freshness_seconds',
    type: 'histogram',
    help: 'Per file: complete (last write) to searchable (its last batch committed), by lane.',
    labels: ['lane'],
    read: (s) =>
      s.lanes ? LANES.map((lane) => ({ labels: { lane }, data: s.lanes!.freshness[lane] })) : null,
  },
  {
    name: 'seamline_lane_backlog_records',
    type: 'gauge',
    help: 'Records of landed files not yet searchable, by lane.',
    labels: ['lane'],
    read: (s) =>
      s.lanes ? LANES.map((lane) => ({ labels: { lane }, value: s.lanes!.backlog[lane].records })) : null,
  },
  {
    name: 'seamline_lane_backlog_files',
    type: 'gauge',
    help: 'Landed files not yet fully searchable, by lane.',
    labels: ['lane'],
    read: (s) =>
      s.lanes ? LANES.map((lane) => ({ labels: { lane }, value: s.lanes!.backlog[lane].files })) : null,
  },
  {
    name: 'seamline_freshness_window_seconds',
    type: 'gauge',
    help: 'The live lane freshness percentile of the objective over its window (no sample without data).',
    labels: ['lane', 'quantile'],
    read: (s) =>
      s.lanes && s.lanes.objective.valueS !== null
        ? [
            {
              labels: { lane: 'live', quantile: String(s.lanes.objective.percentile / 100) },
              value: s.lanes.objective.valueS,
            },
          ]
        : null,
  },
  {
    name: 'seamline_freshness_degraded',
    type: 'gauge',
    help: '1 while the live lane violates the freshness objective over its window.',
    read: (s) => (s.lanes ? (s.lanes.objective.degraded ? 1 : 0) : null),
  },
];

/**
 * The pipeline's metrics. To add one: append an entry here (and a row to docs/metrics.md). Names are
 * stable; docs/metrics.md lists every change.
 */
export const PIPELINE_METRICS: readonly MetricDef[] = [
  { name: 'seamline_up', type: 'gauge', help: 'Always 1 while the process answers.', read: () => 1 },
  {
    name: 'seamline_daemon_state',
    type: 'gauge',
    help: 'Lifecycle state (1 for the current state).',
    labels: ['state'],
    read: (s) => DAEMON_STATES.map((st) => ({ labels: { state: st }, value: s.live.state === st ? 1 : 0 })),
  },
  {
    name: 'seamline_model_loaded',
    type: 'gauge',
    help: '1 when the embedding model is loaded.',
    read: (s) => (s.live.modelLoaded ? 1 : 0),
  },
  {
    name: 'seamline_uptime_seconds',
    type: 'gauge',
    help: 'Seconds since the daemon started.',
    read: (s) => Math.max(0, (s.nowMs - s.live.startedAtMs) / 1000),
  },
  {
    name: 'seamline_records_read_total',
    type: 'counter',
    help: 'Records read from landed files (landed + quarantined).',
    read: (s) => s.status.records.read,
  },
  {
    name: 'seamline_records_landed_total',
    type: 'counter',
    help: 'Records landed into bronze.',
    read: (s) => s.status.records.landed,
  },
  {
    name: 'seamline_records_quarantined_total',
    type: 'counter',
    help: 'Records quarantined with a reason.',
    read: (s) => s.status.records.quarantined,
  },
  {
    name: 'seamline_records_published_total',
    type: 'counter',
    help: 'Bronze records covered by committed batches of the serving table.',
    read: (s) => counters(s)?.recordsPublished ?? 0,
  },
  {
    name: 'seamline_records_deleted_total',
    type: 'counter',
    help: 'Rows removed from the serving table (tombstones and lost chunks).',
    read: (s) => counters(s)?.rowsDeleted ?? 0,
  },
  {
    name: 'seamline_ids_deleted',
    type: 'gauge',
    help: 'Ids whose latest version is a delete (tombstones in key state).',
    read: (s) => s.status.keys.deleted,
  },
  {
    name: 'seamline_ids_live',
    type: 'gauge',
    help: 'Ids whose latest version is an upsert.',
    read: (s) => s.status.keys.live,
  },
  {
    name: 'seamline_files',
    type: 'gauge',
    help: 'Landing files by state.',
    labels: ['state'],
    read: (s) => FILE_STATES.map((st) => ({ labels: { state: st }, value: s.status.files.byState[st] ?? 0 })),
  },
  {
    name: 'seamline_files_completeness_gap',
    type: 'gauge',
    help: 'Files landed without a manifest (unverified).',
    read: (s) => s.status.files.completenessGap,
  },
  {
    name: 'seamline_files_continuations_total',
    type: 'counter',
    help: 'Catalog rows landing bytes appended to a file after it landed.',
    read: (s) => s.status.files.continuations ?? 0,
  },
  {
    name: 'seamline_landing_manifests',
    type: 'gauge',
    help: 'Manifests matching no data file (waiting, orphan) and manifests that came after their file landed (late_match, late_mismatch).',
    labels: ['state'],
    read: (s) => {
      const m = s.status.landing?.manifests;
      return [
        { labels: { state: 'waiting' }, value: m?.waiting ?? 0 },
        { labels: { state: 'orphan' }, value: m?.orphan ?? 0 },
        { labels: { state: 'late_match' }, value: m?.lateMatch ?? 0 },
        { labels: { state: 'late_mismatch' }, value: m?.lateMismatch ?? 0 },
      ];
    },
  },
  {
    name: 'seamline_landing_writer_check_available',
    type: 'gauge',
    help: '1 when completeness can see open writers (/proc); 0 when the stability window applies.',
    read: (s) => (s.status.landing?.writerCheck.available ? 1 : 0),
  },
  {
    name: 'seamline_batches_committed_total',
    type: 'counter',
    help: 'Micro-batches committed to the serving table.',
    read: (s) => counters(s)?.batchesCommitted ?? 0,
  },
  {
    name: 'seamline_batches_failed_total',
    type: 'counter',
    help: 'Failed batch attempts recorded in the ledger.',
    read: (s) => counters(s)?.batchesFailedAttempts ?? 0,
  },
  {
    name: 'seamline_batches_pending',
    type: 'gauge',
    help: 'Batches planned or failed, not yet committed.',
    read: (s) => counters(s)?.batchesPending ?? 0,
  },
  {
    name: 'seamline_batch_duration_seconds',
    type: 'histogram',
    help: 'Batch duration from plan to commit.',
    read: (s) => s.hist.batchDuration,
  },
  {
    name: 'seamline_rows_inserted_total',
    type: 'counter',
    help: 'Rows inserted into the serving table.',
    read: (s) => counters(s)?.rowsInserted ?? 0,
  },
  {
    name: 'seamline_rows_updated_total',
    type: 'counter',
    help: 'Rows updated in the serving table.',
    read: (s) => counters(s)?.rowsUpdated ?? 0,
  },
  {
    name: 'seamline_texts_embedded_total',
    type: 'counter',
    help: 'Chunks embedded by the model.',
    read: (s) => counters(s)?.textsEmbedded ?? 0,
  },
  {
    name: 'seamline_texts_reused_total',
    type: 'counter',
    help: 'Chunks whose vector was reused (same content hash and model).',
    read: (s) => counters(s)?.textsReused ?? 0,
  },
  {
    name: 'seamline_embed_tokens_per_second',
    type: 'gauge',
    help: 'Embedding throughput of the most recent batch that embedded (real tokens/s).',
    read: (s) => s.live.tokensPerSecond,
  },
  {
    name: 'seamline_embed_tokens_total',
    type: 'counter',
    help: 'Real tokens embedded by this process.',
    read: (s) => s.live.embedTokens,
  },
  {
    name: 'seamline_ledger_backlog_records',
    type: 'gauge',
    help: 'Bronze records not yet covered by a committed batch.',
    read: (s) => counters(s)?.backlogRecords ?? 0,
  },
  {
    name: 'seamline_event_time_lag_seconds',
    type: 'gauge',
    help: 'Now minus the event time of the newest published record (no sample while nothing is published).',
    read: (s) => {
      const t = counters(s)?.newestPublishedEventTimeMs;
      return t == null ? null : (s.nowMs - t) / 1000;
    },
  },
  {
    name: 'seamline_landing_to_searchable_seconds',
    type: 'histogram',
    help: 'Per record: batch commit time minus landing time.',
    read: (s) => s.hist.landingToSearchable,
  },
  {
    name: 'seamline_table_rows',
    type: 'gauge',
    help: 'Rows in the serving table.',
    read: (s) => s.status.table?.rows ?? 0,
  },
  {
    name: 'seamline_table_version',
    type: 'gauge',
    help: 'Current version of the serving table.',
    read: (s) => s.status.table?.version ?? 0,
  },
  {
    name: 'seamline_table_versions',
    type: 'gauge',
    help: 'Versions the serving table keeps.',
    read: (s) => s.status.table?.versions ?? 0,
  },
  {
    name: 'seamline_table_fragments',
    type: 'gauge',
    help: 'Fragments of the serving table.',
    read: (s) => s.status.table?.stats?.fragments ?? 0,
  },
  {
    name: 'seamline_table_small_fragments',
    type: 'gauge',
    help: 'Small fragments (compaction candidates).',
    read: (s) => s.status.table?.stats?.smallFragments ?? 0,
  },
  {
    name: 'seamline_table_bytes',
    type: 'gauge',
    help: 'Bytes of the serving table.',
    read: (s) => s.status.table?.stats?.bytes ?? 0,
  },
  {
    name: 'seamline_index_unindexed_rows',
    type: 'gauge',
    help: 'Rows not yet covered by each index.',
    labels: ['index'],
    read: (s) =>
      (s.status.table?.indexes ?? []).map((i) => ({ labels: { index: i.name }, value: i.unindexedRows })),
  },
  {
    name: 'seamline_optimize_runs_total',
    type: 'counter',
    help: 'Optimize runs recorded by the optimize job.',
    read: (s) => counters(s)?.optimizeRuns ?? 0,
  },
  {
    name: 'seamline_optimize_conflicts_total',
    type: 'counter',
    help: 'Optimize runs that lost a commit conflict.',
    read: (s) => counters(s)?.optimizeConflicts ?? 0,
  },
  {
    name: 'seamline_gate_failures_total',
    type: 'counter',
    help: 'Batches refused by a quality gate.',
    read: (s) => counters(s)?.gateFailures ?? 0,
  },
  {
    name: 'seamline_incidents_total',
    type: 'counter',
    help: 'Incidents recorded by guards, by failure mode.',
    labels: ['failure_mode'],
    read: (s) =>
      Object.entries(counters(s)?.incidents ?? {}).map(([m, n]) => ({
        labels: { failure_mode: m },
        value: n,
      })),
  },
  {
    name: 'seamline_http_requests_total',
    type: 'counter',
    help: 'HTTP requests by route and status code.',
    labels: ['route', 'code'],
    read: (s) =>
      [...s.live.httpRequests.entries()].map(([k, n]) => {
        const [route, code] = k.split(' ');
        return { labels: { route: route ?? '', code: code ?? '' }, value: n };
      }),
  },
  {
    name: 'seamline_search_rejected_total',
    type: 'counter',
    help: 'Searches refused because too many were running.',
    read: (s) => s.live.searchesRejected,
  },
  ...LANE_METRICS,
];

type HistValue = { metricName: string; labels: Record<string, string | number>; value: number };

/** Exposes cumulative `HistogramData` built elsewhere (from the ledger) through prom-client's registry. */
class DataHistogram extends Histogram {
  private values: HistValue[] = [];

  constructor(
    private readonly def: Extract<MetricDef, { type: 'histogram' }>,
    registry: Registry,
    private readonly snapshot: () => MetricsSnapshot,
  ) {
    super({ name: def.name, help: def.help, labelNames: [...(def.labels ?? [])], registers: [registry] });
  }

  private collectValues(): void {
    const r = this.def.read(this.snapshot());
    const list = r === null ? [] : 'buckets' in r ? [{ labels: {}, data: r }] : r;
    this.values = list.flatMap(({ labels, data }) => [
      ...data.buckets.map((b, i) => ({
        metricName: `${this.def.name}_bucket`,
        labels: { ...labels, le: b },
        value: data.counts[i] ?? 0,
      })),
      { metricName: `${this.def.name}_bucket`, labels: { ...labels, le: '+Inf' }, value: data.count },
      { metricName: `${this.def.name}_sum`, labels, value: data.sum },
      { metricName: `${this.def.name}_count`, labels, value: data.count },
    ]);
  }

  // The registry calls this one when present (prom-client 15); get() is the JSON path.
  async getForPromString(): Promise<{ name: string; help: string; type: string; values: HistValue[] }> {
    this.collectValues();
    return Promise.resolve({
      name: this.def.name,
      help: this.def.help,
      type: 'histogram',
      values: this.values,
    });
  }

  override async get(): Promise<Awaited<ReturnType<Histogram['get']>>> {
    const r = await this.getForPromString();
    return { ...r, type: 'histogram' as never, aggregator: 'sum', values: r.values as never } as never;
  }
}

function register(def: MetricDef, registry: Registry, snapshot: () => MetricsSnapshot): void {
  if (def.type === 'histogram') {
    new DataHistogram(def, registry, snapshot);
    return;
  }
  const labelNames = [...(def.labels ?? [])];
  const samples = (): readonly Sample[] => {
    const v = def.read(snapshot());
    return v === null ? [] : typeof v === 'number' ? [{ labels: {}, value: v }] : v;
  };
  if (def.type === 'counter') {
    new Counter({
      name: def.name,
      help: def.help,
      labelNames,
      registers: [registry],
      collect() {
        this.reset();
        // Totals come from SQLite: set the absolute value (a counter never goes below 0).
        for (const s of samples()) this.inc(s.labels, Math.max(0, s.value));
      },
    });
  } else {
    new Gauge({
      name: def.name,
      help: def.help,
      labelNames,
      registers: [registry],
      collect() {
        this.reset();
        const list = samples();
        // reset() leaves an unlabelled gauge at 0; an unknown value must have no sample at all.
        if (list.length === 0) (this as unknown as { hashMap: object }).hashMap = {};
        for (const s of list) this.set(s.labels, s.value);
      },
    });
  }
}

/**
 * One metrics registry per daemon: Node/process defaults (RSS, heap, event-loop delay, GC, handles)
 * plus the pipeline's metrics. Never prom-client's global registry, so two daemons (or tests) in one
 * process cannot collide.
 */
export class PipelineMetrics {
  readonly registry = new Registry();
  private current: MetricsSnapshot | null = null;
  private queue: Promise<unknown> = Promise.resolve();

  constructor(defs: readonly MetricDef[] = PIPELINE_METRICS, opts: { processMetrics?: boolean } = {}) {
    if (opts.processMetrics ?? true) collectDefaultMetrics({ register: this.registry });
    const snap = (): MetricsSnapshot => {
      if (!this.current) throw new Error('metrics collected outside render()');
      return this.current;
    };
    for (const d of defs) register(d, this.registry, snap);
  }

  get contentType(): string {
    return this.registry.contentType;
  }

  /** Renders the Prometheus text exposition (0.0.4) for one snapshot. Scrapes run one at a time. */
  render(snapshot: MetricsSnapshot): Promise<string> {
    const run = this.queue.then(async () => {
      this.current = snapshot;
      try {
        return await this.registry.metrics();
      } finally {
        this.current = null;
      }
    });
    this.queue = run.catch(() => undefined);
    return run;
  }
}

/** What the lane metrics read (docs/metrics.md#lanes): freshness per lane, backlog per lane, the objective. */
export interface LaneMetricsView {
  readonly freshness: Readonly<Record<'live' | 'backlog', HistogramData>>;
  readonly backlog: Readonly<
    Record<'live' | 'backlog', { readonly files: number; readonly records: number }>
  >;
  /** The live lane's windowed percentile (seconds; null without samples) and whether the objective is violated. */
  readonly objective: {
    readonly percentile: number;
    readonly valueS: number | null;
    readonly degraded: boolean;
  };
}
