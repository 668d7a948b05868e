import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import type { BackfillResult } from '../backfill.js';
import type { ProfileResult } from '../embed-profile.js';
import type { LatencyResult } from '../latency.js';
import { NEURAL_MODEL } from './engines.js';
import { round } from './measure.js';

export interface TargetRow {
  readonly target: string;
  readonly measured: string;
  readonly met: boolean | null;
}

/** The targets of issue 8, judged from the latest results in a folder (null = not measured). */
export function targets(out: string): TargetRow[] {
  const read = <T>(name: string): T | null => {
    const f = path.join(out, `${name}-latest.json`);
    return existsSync(f) ? (JSON.parse(readFileSync(f, 'utf8')) as T) : null;
  };
  const bf = read<BackfillResult>('backfill');
  const lat = read<LatencyResult>('latency');
  const prof = read<ProfileResult>('embed-profile');
  const neural = bf?.runs.find((r) => r.model === NEURAL_MODEL);
  const biggest = bf?.runs.reduce((a, r) => (r.records > a.records ? r : a), bf.runs[0]!);
  const idle = lat?.scenarios.find((p) => p.scenario === 'idle');
  const back = lat?.scenarios.find((p) => p.scenario === 'backfill-live');
  // Bucketing needs several buckets' worth of texts: cells with fewer than 4 × batch texts say nothing about it.
  const mixedPads =
    prof?.cells
      .filter((c) => c.length === 'mixed' && c.batch >= 8 && c.texts >= 4 * c.batch)
      .map((c) => c.paths.seamline.paddingEfficiency) ?? [];
  const row = (target: string, v: number | undefined, ok: (x: number) => boolean, unit: string): TargetRow =>
    v === undefined || !Number.isFinite(v)
      ? { target, measured: 'not measured', met: null }
      : { target, measured: `${round(v, 3)}${unit}`, met: ok(v) };
  return [
    row(
      `backfill ≥ 0.90 × raw ORT ceiling (${NEURAL_MODEL}, ${neural?.records ?? '?'} records)`,
      neural?.vsCeiling,
      (x) => x >= 0.9,
      '×',
    ),
    ...(bf?.runs ?? []).map((r) =>
      row(`backfill ≥ 1.3 × plain loop records/s, mixed text (${r.model})`, r.vsPlain, (x) => x >= 1.3, '×'),
    ),
    ...(bf?.runs ?? []).map((r) =>
      row(`backfill peak RSS ≤ 1.2 × plain loop (${r.model})`, r.rssVsPlain, (x) => x <= 1.2, '×'),
    ),
    row(
      'padding efficiency ≥ 0.9 with bucketing (backfill, neural)',
      neural?.pipeline.paddingEfficiency,
      (x) => x >= 0.9,
      '',
    ),
    row(
      'padding efficiency ≥ 0.9 with bucketing (profile, mixed, batch ≥ 8, texts ≥ 4 × batch, worst cell)',
      mixedPads.length ? Math.min(...mixedPads) : undefined,
      (x) => x >= 0.9,
      '',
    ),
    row('file complete → searchable, idle p50 ≤ 500 ms', idle?.latencyMs?.p50, (x) => x <= 500, ' ms'),
    row('file complete → searchable, idle p99 ≤ 1.5 s', idle?.latencyMs?.p99, (x) => x <= 1500, ' ms'),
    row(
      'file complete → searchable during a backfill p99 ≤ 3 s',
      back?.latencyMs?.p99,
      (x) => x <= 3000,
      ' ms',
    ),
    row(
      `peak RSS ≤ 1 GB during the ${biggest?.records ?? '?'}-record backfill (${biggest?.model ?? '?'})`,
      biggest?.pipeline.peakRssMiB,
      (x) => x <= 1024,
      ' MiB',
    ),
    row(
      'max event-loop lag ≤ 50 ms (backfill, worst run)',
      bf ? Math.max(...bf.runs.map((r) => r.pipeline.loopLag.maxMs)) : undefined,
      (x) => x <= 50,
      ' ms',
    ),
  ];
}
