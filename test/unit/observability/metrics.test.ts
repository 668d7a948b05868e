import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { emptyHistogram, LATENCY_BUCKETS_S, observe } from '../../../src/observability/ledger-stats.js';
import {
  newLiveStats,
  PipelineMetrics,
  PIPELINE_METRICS,
  type StatusView,
} from '../../../src/observability/metrics.js';
import { parsePrometheus } from '../../helpers/prometheus.js';

const snap = (live: ReturnType<typeof newLiveStats>) => ({
  status: {
    records: { read: 0, landed: 0, quarantined: 0, bronze: 0 },
    files: { byState: {}, completenessGap: 0 },
    keys: { ids: 0, live: 0, deleted: 0 },
    table: null,
  },
  live,
  hist: {
    landingToSearchable: emptyHistogram(LATENCY_BUCKETS_S),
    batchDuration: emptyHistogram(LATENCY_BUCKETS_S),
  },
  nowMs: 0,
});

describe('PipelineMetrics', () => {
  it('renders valid Prometheus text whose counters come from the status view', async () => {
    const status: StatusView = {
      records: { read: 10, landed: 8, quarantined: 2, bronze: 8 },
      files: { byState: { verified: 1, unverified: 2 }, completenessGap: 2 },
      keys: { ids: 5, live: 4, deleted: 1 },
      table: {
        name: 't_v1',
        rows: 7,
        version: 4,
        versions: 4,
        stats: { fragments: 3, smallFragments: 3, bytes: 1000 },
        indexes: [{ name: 'text_idx', indexedRows: 5, unindexedRows: 2 }],
        counters: {
          batchesCommitted: 3,
          batchesFailedAttempts: 1,
          batchesPending: 0,
          recordsPublished: 8,
          rowsInserted: 7,
          rowsUpdated: 1,
          rowsDeleted: 1,
          textsEmbedded: 6,
          textsReused: 2,
          gateFailures: 0,
          backlogRecords: 0,
          newestPublishedEventTimeMs: 1000,
          optimizeRuns: 2,
          optimizeConflicts: 1,
          incidents: { 'bad "vectors"': 1 },
        },
      },
    };
    const live = newLiveStats(0);
    live.httpRequests.set('/search 200', 3);
    const h = emptyHistogram(LATENCY_BUCKETS_S);
    observe(h, 0.3, 5);
    observe(h, 7);
    const pm = new PipelineMetrics();
    const text = await pm.render({
      status,
      live,
      hist: { landingToSearchable: h, batchDuration: emptyHistogram(LATENCY_BUCKETS_S) },
      nowMs: 11_000,
    });
    const m = parsePrometheus(text);
    assert.equal(m.get('seamline_records_read_total'), 10);
    assert.equal(m.get('seamline_records_published_total'), 8);
    assert.equal(m.get('seamline_files{state="unverified"}'), 2);
    assert.equal(m.get('seamline_event_time_lag_seconds'), 10);
    assert.equal(m.get('seamline_landing_to_searchable_seconds_bucket{le="0.5"}'), 5);
    assert.equal(m.get('seamline_landing_to_searchable_seconds_bucket{le="10"}'), 6);
    assert.equal(m.get('seamline_landing_to_searchable_seconds_count'), 6);
    assert.equal(m.get('seamline_index_unindexed_rows{index="text_idx"}'), 2);
    assert.equal(m.get('seamline_incidents_total{failure_mode="bad \\"vectors\\""}'), 1);
    assert.equal(m.get('seamline_http_requests_total{route="/search",code="200"}'), 3);
    assert.equal(m.get('seamline_optimize_conflicts_total'), 1);
  });
  it('escapes label values', async () => {
    const live = newLiveStats(0);
    live.httpRequests.set('/x"y\\z 200', 1);
    const m = parsePrometheus(
      await new PipelineMetrics(PIPELINE_METRICS, { processMetrics: false }).render(snap(live)),
    );
    assert.equal(m.get('seamline_http_requests_total{route="/x\\"y\\\\z",code="200"}'), 1);
  });
  it('exports process metrics, one registry per instance, and no sample for an unknown lag', async () => {
    const a = new PipelineMetrics();
    const b = new PipelineMetrics();
    assert.notEqual(a.registry, b.registry);
    const la = newLiveStats(0);
    la.searchesRejected = 3;
    const [ta, tb] = await Promise.all([a.render(snap(la)), b.render(snap(newLiveStats(0)))]);
    const ma = parsePrometheus(ta);
    const mb = parsePrometheus(tb);
    assert.equal(ma.get('seamline_search_rejected_total'), 3);
    assert.equal(mb.get('seamline_search_rejected_total'), 0);
    for (const name of [
      'process_resident_memory_bytes',
      'nodejs_heap_size_used_bytes',
      'nodejs_eventloop_lag_p99_seconds',
      'nodejs_active_handles_total',
    ])
      assert.ok(ma.has(name), `${name} is exported`);
    assert.match(ta, /# TYPE nodejs_gc_duration_seconds histogram/);
    assert.equal(ma.has('seamline_event_time_lag_seconds'), false);
    // Counters are absolute totals: a second scrape with a lower total does not add up.
    la.searchesRejected = 1;
    assert.equal(parsePrometheus(await a.render(snap(la))).get('seamline_search_rejected_total'), 1);
  });
});

describe('ledgerCounters (real SQLite)', () => {
  it('sums the conflicts each optimize run recorded', async () => {
    const { mkdtempSync, rmSync } = await import('node:fs');
    const { tmpdir } = await import('node:os');
    const path = await import('node:path');
    const { openSqlite } = await import('../../../src/store/sqlite/db.js');
    const { SqliteReadModel } = await import('../../../src/store/sqlite/read-model.js');
    const dir = mkdtempSync(path.join(tmpdir(), 'seamline-ls-'));
    const db = openSqlite(path.join(dir, 'seamline.db'), { synchronous: 'NORMAL', busyTimeoutMs: 1000 });
    try {
      const ins = db.prepare(
        "INSERT INTO optimize_runs (table_name, started_at_ms, status, conflicts) VALUES ('t', 1, ?, ?)",
      );
      ins.run('ok', 2);
      ins.run('failed', 1);
      ins.run('ok', 0);
      const c = await new SqliteReadModel(db).ledgerCounters('t');
      assert.equal(c.optimizeRuns, 3);
      assert.equal(c.optimizeConflicts, 3);
    } finally {
      db.close();
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
