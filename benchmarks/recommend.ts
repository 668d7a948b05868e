// Recommendation: from the embedding profile (and, when present, the latency run) plus a target
// latency and arrival rate, derive trigger interval, max records / tokens per batch and max files per
// trigger, printing the arithmetic and a config snippet. Runs a quick profile first when none exists.
// Usage: node dist/benchmarks/recommend.js [--target-latency-ms 1500] [--arrival-rate 50] [--records-per-file 100]
// [--model ID] [--length mixed] [--chunks-per-record 1] [--overhead-ms N] [--profile FILE] [--use-profile] [--quick] [--out DIR]
// Capacity comes from the latest backfill run of the model when there is one (--use-profile: from the profile).
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { BackfillResult } from './backfill.js';
import type { ProfileCell, ProfileResult } from './embed-profile.js';
import type { LatencyResult } from './latency.js';
import { num, parseFlags } from './lib/args.js';
import { NEURAL_MODEL } from './lib/engines.js';
import { round } from './lib/measure.js';
import { writeResult } from './lib/report.js';

/** Padded-token budget per text: the default chunk size (128) plus special tokens. */
const TOKENS_PER_TEXT = 130;

export interface Recommendation {
  readonly inputs: {
    targetLatencyMs: number;
    arrivalRate: number;
    recordsPerFile: number;
    model: string;
    length: string;
    chunksPerRecord: number;
    overheadMs: number;
    overheadSource: string;
    /** Records/s the whole pipeline sustained in a backfill of this model (more texts than a profile cell, so steadier); null = use the profile. */
    measuredRecordsPerS: number | null;
  };
  readonly chosen: {
    threads: number;
    batch: number;
    textsPerS: number;
    recordsPerS: number;
    utilization: number;
    cycleMs: number;
  };
  readonly config: {
    model: { id: string; threads: number | 'auto' };
    embed: { maxBatchTexts: number; maxBatchTokens: number };
    processor: { triggerIntervalMs: number; maxRecords: number; maxFiles: number };
  };
  readonly arithmetic: string[];
  readonly warnings: string[];
}

/** Pure: the recommendation from profile cells and the inputs. */
export function recommend(cells: readonly ProfileCell[], inputs: Recommendation['inputs']): Recommendation {
  const L = inputs.targetLatencyMs;
  const R = inputs.arrivalRate;
  const O = inputs.overheadMs;
  const mine = cells.filter((c) => c.model === inputs.model);
  if (mine.length === 0)
    throw new Error(
      `the profile has no cells for ${inputs.model}; run npm run bench:embed -- --models ${inputs.model}`,
    );
  const byLen = mine.filter((c) => c.length === inputs.length);
  const use = byLen.length > 0 ? byLen : mine;
  const best = use.reduce((a, c) => (c.paths.seamline.textsPerS > a.paths.seamline.textsPerS ? c : a));
  const sameThreads = use.filter((c) => c.threads === best.threads).sort((a, b) => a.batch - b.batch);
  // Smallest batch within 10% of the best: bigger batches only add latency and memory.
  const pick =
    sameThreads.find((c) => c.paths.seamline.textsPerS >= 0.9 * best.paths.seamline.textsPerS) ?? best;
  const S = pick.paths.seamline.textsPerS;
  const Cr = inputs.measuredRecordsPerS ?? S / inputs.chunksPerRecord;
  const rho = R / Cr;
  const warnings: string[] = [];
  const a: string[] = [];
  a.push(
    `profile: ${inputs.model}, ${use[0]!.length} text, best seamline throughput ${round(best.paths.seamline.textsPerS)} texts/s at ${best.threads} thread(s), batch ${best.batch}`,
  );
  const cores = availableParallelism();
  const threadsSeen = [...new Set(use.map((c) => c.threads))].sort((x, y) => x - y);
  const threadsKey: number | 'auto' = pick.threads >= cores ? 'auto' : pick.threads;
  a.push(
    `threads: measured ${threadsSeen.join(', ')} intra-op thread(s); best ${best.threads} → model.threads = ${JSON.stringify(threadsKey)}${threadsKey === 'auto' ? ` (the default: all ${cores} cores of this machine)` : ` (the default 'auto' would use ${cores})`}${threadsSeen.length < 2 ? '; only one thread count was profiled: run npm run bench:embed -- --threads 1,' + cores + ' to choose by measurement' : ''}`,
  );
  a.push(
    `batch: smallest batch within 10% of that = ${pick.batch} (${round(S)} texts/s) → embed.maxBatchTexts = ${pick.batch}`,
  );
  a.push(
    `token budget: ${pick.batch} texts × ${TOKENS_PER_TEXT} tokens (chunk 128 + specials) → embed.maxBatchTokens = ${pick.batch * TOKENS_PER_TEXT}`,
  );
  if (inputs.measuredRecordsPerS !== null)
    a.push(
      `capacity: the backfill run sustained ${round(Cr)} records/s end to end (used instead of the profile cell's ${round(S)} texts/s); utilization ρ = ${R} ÷ ${round(Cr)} = ${round(rho, 3)}`,
    );
  else
    a.push(
      `capacity: ${round(S)} texts/s ÷ ${inputs.chunksPerRecord} chunk(s)/record = ${round(Cr)} records/s; utilization ρ = ${R} ÷ ${round(Cr)} = ${round(rho, 3)}`,
    );
  let cycle = Number.POSITIVE_INFINITY;
  if (rho >= 1)
    warnings.push(
      `arrival rate ${R}/s exceeds capacity ${round(Cr)}/s: the backlog grows without bound. Use more threads, a faster model, or a lower rate.`,
    );
  else {
    cycle = O / (1 - rho);
    a.push(
      `steady cycle: each batch costs ${O} ms fixed (detect, land, plan, merge, visible) + its records ÷ capacity; T = O ÷ (1 − ρ) = ${O} ÷ ${round(1 - rho, 3)} = ${round(cycle, 0)} ms, ${round((R * cycle) / 1000, 1)} records per batch`,
    );
  }
  if (rho > 0.7 && rho < 1)
    warnings.push(`utilization ${round(rho, 2)} leaves little headroom for bursts (keep ρ ≤ 0.7).`);
  // Worst case: the watch event is missed (trigger fallback), one batch is in flight, then our own batch.
  const rawInterval = L - 2 * cycle;
  const trigger = Math.round(Math.min(5000, Math.max(50, Number.isFinite(rawInterval) ? rawInterval : 50)));
  a.push(
    `trigger: worst case = trigger + batch in flight + own batch ≤ L → trigger ≤ ${L} − 2 × ${Number.isFinite(cycle) ? round(cycle, 0) : '∞'} = ${Number.isFinite(rawInterval) ? round(rawInterval, 0) : '−∞'} ms → processor.triggerIntervalMs = ${trigger} (clamped to 50…5000)`,
  );
  if (!(rawInterval >= 50))
    warnings.push(
      `the target ${L} ms is not reachable at this rate with this overhead: the best worst case is about ${Number.isFinite(cycle) ? round(2 * cycle + 50, 0) : '∞'} ms.`,
    );
  const mRaw = Math.floor((Cr * Math.max(0, L / 2 - O)) / 1000);
  const maxRecords = Math.max(1, mRaw);
  a.push(
    `max records: a full batch must fit in half the budget, so a record queued behind one still makes it: ${round(Cr)} records/s × (${L}/2 − ${O}) ms = ${mRaw} → processor.maxRecords = ${maxRecords}`,
  );
  if (Number.isFinite(cycle) && maxRecords < (R * cycle) / 1000)
    warnings.push(
      `maxRecords ${maxRecords} is below the ${round((R * cycle) / 1000, 1)} records that arrive per cycle: batches would fall behind.`,
    );
  if (maxRecords < inputs.recordsPerFile)
    warnings.push(
      `maxRecords ${maxRecords} is below the ${inputs.recordsPerFile} records of one file: a file spans several batches, so its last record waits for all of them. Smaller files help.`,
    );
  const maxFiles = Math.max(1, Math.ceil(maxRecords / inputs.recordsPerFile));
  a.push(
    `max files: ${maxRecords} records ÷ ${inputs.recordsPerFile} records/file = ${round(maxRecords / inputs.recordsPerFile, 2)} → processor.maxFiles = ${maxFiles}`,
  );
  return {
    inputs,
    chosen: {
      threads: pick.threads,
      batch: pick.batch,
      textsPerS: round(S, 1),
      recordsPerS: round(Cr, 1),
      utilization: round(rho, 3),
      cycleMs: round(cycle, 0),
    },
    config: {
      model: { id: inputs.model, threads: threadsKey },
      embed: { maxBatchTexts: pick.batch, maxBatchTokens: pick.batch * TOKENS_PER_TEXT },
      processor: { triggerIntervalMs: trigger, maxRecords, maxFiles },
    },
    arithmetic: a,
    warnings,
  };
}

function backfillRate(out: string, model: string): number | null {
  const f = path.join(out, 'backfill-latest.json');
  if (!existsSync(f)) return null;
  const r = JSON.parse(readFileSync(f, 'utf8')) as BackfillResult;
  return r.runs.find((x) => x.model === model)?.pipeline.recordsPerS ?? null;
}

function overheadFrom(out: string, model: string): { ms: number; source: string } | null {
  const f = path.join(out, 'latency-latest.json');
  if (!existsSync(f)) return null;
  const r = JSON.parse(readFileSync(f, 'utf8')) as LatencyResult;
  if (r.model !== model) return null;
  const b = r.scenarios.find((p) => p.scenario === 'idle')?.budgetMedianMs;
  if (!b) return null;
  // Everything but embedding: detect + land + queue + visible, plus the merge share of process (half, conservatively).
  const ms = Math.round(b.detect + b.land + b.queue + b.visible + b.process / 2);
  return {
    ms,
    source: `${f} (idle medians: detect ${b.detect} + land ${b.land} + queue ${b.queue} + visible ${b.visible} + ½ × process ${b.process})`,
  };
}

function main(): void {
  const f = parseFlags({
    'target-latency-ms': { type: 'string' },
    'arrival-rate': { type: 'string' },
    'records-per-file': { type: 'string' },
    model: { type: 'string' },
    length: { type: 'string' },
    'chunks-per-record': { type: 'string' },
    'overhead-ms': { type: 'string' },
    profile: { type: 'string' },
    'use-profile': { type: 'boolean' },
  });
  const model = typeof f.model === 'string' ? f.model : NEURAL_MODEL;
  const profileFile =
    typeof f.profile === 'string' ? f.profile : path.join(f.out, 'embed-profile-latest.json');
  if (
    !existsSync(profileFile) ||
    !(JSON.parse(readFileSync(profileFile, 'utf8')) as ProfileResult).cells.some((c) => c.model === model)
  ) {
    process.stderr.write(`no profile for ${model} in ${profileFile}: running a quick one first\n`);
    const script = fileURLToPath(new URL('./embed-profile.js', import.meta.url));
    const r = spawnSync(
      process.execPath,
      [
        script,
        '--quick',
        '--models',
        model,
        '--batch',
        '1,8,32',
        '--threads',
        [...new Set([1, availableParallelism()])].join(','),
        '--out',
        f.out,
      ],
      { stdio: ['ignore', 'ignore', 'inherit'] },
    );
    if (r.status !== 0) throw new Error(`the quick embedding profile failed (exit ${r.status})`);
  }
  const profile = JSON.parse(readFileSync(profileFile, 'utf8')) as ProfileResult;
  const measured = overheadFrom(f.out, model);
  const overheadMs = num(f['overhead-ms'], measured?.ms ?? 250, 'overhead-ms');
  const rec = recommend(profile.cells, {
    targetLatencyMs: num(f['target-latency-ms'], 1500, 'target-latency-ms'),
    arrivalRate: num(f['arrival-rate'], 50, 'arrival-rate'),
    recordsPerFile: num(f['records-per-file'], 100, 'records-per-file'),
    model,
    length: typeof f.length === 'string' ? f.length : 'mixed',
    chunksPerRecord: num(f['chunks-per-record'], 1, 'chunks-per-record'),
    overheadMs,
    measuredRecordsPerS: f['use-profile'] === true ? null : backfillRate(f.out, model),
    overheadSource:
      f['overhead-ms'] !== undefined
        ? '--overhead-ms'
        : measured
          ? measured.source
          : 'assumed 250 ms (run npm run bench:latency for a measured figure)',
  });
  const file = writeResult(f.out, 'recommend', {
    kind: 'recommend',
    profile: profileFile,
    profileMachine: profile.machine,
    profileQuick: profile.quick,
    ...rec,
  });
  if (f.json) {
    process.stdout.write(JSON.stringify(rec) + '\n');
    return;
  }
  process.stdout.write(
    [
      `recommendation for p99 ≤ ${rec.inputs.targetLatencyMs} ms at ${rec.inputs.arrivalRate} records/s (${rec.inputs.recordsPerFile} records/file)${profile.quick ? ' — from a QUICK profile' : ''}`,
      `per-batch overhead: ${rec.inputs.overheadMs} ms from ${rec.inputs.overheadSource}`,
      ...rec.arithmetic.map((l) => `  ${l}`),
      ...rec.warnings.map((w) => `WARNING: ${w}`),
      'config snippet (paste into your seamline config):',
      JSON.stringify(rec.config, null, 2),
      `results: ${file}`,
    ].join('\n') + '\n',
  );
}

main();
