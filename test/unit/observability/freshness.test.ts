import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { FileSearchable } from '../../../src/ports/ledger.js';
import { FreshnessTracker, judgeFreshness, percentileOf } from '../../../src/observability/freshness.js';
import { LANE_METRICS, PipelineMetrics, type MetricsSnapshot } from '../../../src/observability/metrics.js';
import { parsePrometheus } from '../../helpers/prometheus.js';

const objective = { objectiveMs: 2000, percentile: 99, windowMs: 60_000, minSamples: 5 };

/** A live file that became searchable at `at`, `total` ms after it became complete; `queue` of it waiting. */
const file = (at: number, total: number, queue = 0, lane: 'live' | 'backlog' = 'live'): FileSearchable => ({
  fileId: at,
  lane,
  records: 10,
  completeAtMs: at - total,
  landedAtMs: at - total + 100,
  queuedAtMs: at - total + 150,
  plannedAtMs: at - total + 150 + queue,
  searchableAtMs: at,
});

describe('freshness objective (pure, injected time)', () => {
  it('nearest-rank percentile', () => {
    assert.equal(percentileOf([], 99), null);
    assert.equal(percentileOf([1, 2, 3, 4], 50), 2);
    assert.equal(percentileOf([1, 2, 3, 4], 99), 4);
  });

  it('ok while the window p99 is within the objective; fewer samples than minSamples are not judged', () => {
    const now = 100_000;
    const few = [file(now - 10, 9000), file(now - 20, 9000)];
    const v0 = judgeFreshness(few, objective, now);
    assert.equal(v0.judged, false);
    assert.equal(v0.ok, true);
    const good = Array.from({ length: 10 }, (_, i) => file(now - i * 100, 500 + i * 100));
    const v1 = judgeFreshness(good, objective, now);
    assert.equal(v1.ok, true);
    assert.equal(v1.valueMs, 1400);
    assert.equal(v1.reason, null);
  });

  it('violated: degraded reason names the lane, the figure and the stage that takes the budget', () => {
    const now = 100_000;
    const slow = Array.from({ length: 10 }, (_, i) => file(now - i * 100, 1000 + i * 300, i >= 5 ? 2500 : 0));
    const v = judgeFreshness(slow, objective, now);
    assert.equal(v.ok, false);
    assert.equal(v.valueMs, 3700);
    assert.equal(v.worstStage, 'queue');
    assert.match(v.reason!, /^degraded: live lane freshness p99 3\.70 s > objective 2\.00 s/);
    assert.match(v.reason!, /stage 'queue'/);
  });

  it('the window slides with the clock: old slow files stop counting; backlog files never count for live', () => {
    const slow = Array.from({ length: 10 }, (_, i) => file(10_000 + i, 9000));
    assert.equal(judgeFreshness(slow, objective, 20_000).ok, false);
    assert.equal(judgeFreshness(slow, objective, 10_000 + 60_010).ok, true, 'out of the window');
    const backlog = Array.from({ length: 10 }, (_, i) => file(10_000 + i, 90_000, 0, 'backlog'));
    assert.equal(judgeFreshness(backlog, objective, 20_000).ok, true);
    assert.equal(judgeFreshness(backlog, objective, 20_000, 'backlog').ok, false);
  });

  it('the tracker keeps a cumulative histogram per lane (seconds)', () => {
    const t = new FreshnessTracker();
    t.observe([file(10_000, 400), file(10_000, 1200), file(10_000, 50_000, 0, 'backlog')]);
    const live = t.histogram('live');
    assert.equal(live.count, 2);
    assert.equal(live.sum, 1.6);
    assert.equal(live.counts[live.buckets.indexOf(0.5)], 1);
    assert.equal(live.counts[live.buckets.indexOf(1.5)], 2);
    assert.equal(t.histogram('backlog').count, 1);
  });
});

describe('lane metrics exposition', () => {
  it('renders per-lane freshness histograms, backlog gauges and the objective, valid Prometheus text', async () => {
    const t = new FreshnessTracker();
    t.observe([file(10_000, 400), file(10_000, 50_000, 0, 'backlog')]);
    const lanes = {
      freshness: { live: t.histogram('live'), backlog: t.histogram('backlog') },
      backlog: { live: { files: 1, records: 10 }, backlog: { files: 3, records: 2500 } },
      objective: { percentile: 99, valueS: 0.4, degraded: false },
    };
    // The lane metrics read only `lanes` of a scrape's snapshot.
    const metrics = new PipelineMetrics(LANE_METRICS, { processMetrics: false });
    const text = await metrics.render({ lanes } as unknown as MetricsSnapshot);
    const m = parsePrometheus(text);
    assert.equal(m.get('seamline_freshness_seconds_bucket{lane="live",le="0.5"}'), 1);
    assert.equal(m.get('seamline_freshness_seconds_count{lane="backlog"}'), 1);
    assert.equal(m.get('seamline_freshness_seconds_bucket{lane="backlog",le="+Inf"}'), 1);
    assert.equal(m.get('seamline_lane_backlog_records{lane="backlog"}'), 2500);
    assert.equal(m.get('seamline_lane_backlog_files{lane="live"}'), 1);
    assert.equal(m.get('seamline_freshness_window_seconds{lane="live",quantile="0.99"}'), 0.4);
    assert.equal(m.get('seamline_freshness_degraded'), 0);
  });

  it('has no lane samples before a serving table exists', async () => {
    const metrics = new PipelineMetrics(LANE_METRICS, { processMetrics: false });
    const m = parsePrometheus(await metrics.render({} as unknown as MetricsSnapshot));
    assert.equal(m.get('seamline_freshness_degraded'), undefined);
    assert.equal(m.get('seamline_lane_backlog_records{lane="live"}'), undefined);
  });
});
