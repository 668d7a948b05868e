// Renders the latest results in a folder as Markdown for docs/performance.md (condensed profile,
// latency, backfill, targets, recommendation). Usage: node dist/benchmarks/report-md.js [--out DIR] > figures.md
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import type { BackfillResult } from './backfill.js';
import type { ProfileResult } from './embed-profile.js';
import type { LatencyResult } from './latency.js';
import { parseFlags } from './lib/args.js';
import { round } from './lib/measure.js';
import { table } from './lib/report.js';
import type { Recommendation } from './recommend.js';
import { targets } from './lib/targets.js';

function main(): void {
  const f = parseFlags({});
  const read = <T>(name: string): T | null => {
    const p = path.join(f.out, `${name}-latest.json`);
    return existsSync(p) ? (JSON.parse(readFileSync(p, 'utf8')) as T) : null;
  };
  const out: string[] = [];
  const prof = read<ProfileResult>('embed-profile');
  if (prof) {
    const m = prof.machine;
    out.push(
      `Machine: ${m.cpus} × ${m.cpuModel}, ${m.memGiB} GiB, ${m.platform}, Node ${m.node}; 1-min load average ${m.loadAvgAtStart} when the profile started (${m.at}).`,
      '',
    );
    out.push('### Embedding profile (texts/s; seamline pad = real ÷ padded tokens with bucketing)', '');
    out.push(
      table(
        [
          'model',
          'thr',
          'batch',
          'length',
          'tok/text',
          'ort',
          'plain',
          'seamline',
          'plain pad',
          'seam pad',
          'seam/ort',
          'seam/plain',
          'RSS MiB',
        ],
        prof.cells.map((c) => [
          c.model.replace('local/', ''),
          c.threads,
          c.batch,
          c.length,
          c.meanTokens,
          round(c.paths.ort.textsPerS, 0),
          round(c.paths.plain.textsPerS, 0),
          round(c.paths.seamline.textsPerS, 0),
          round(c.paths.plain.paddingEfficiency, 2),
          round(c.paths.seamline.paddingEfficiency, 2),
          round(c.seamlineVsCeiling, 2),
          round(c.seamlineVsPlain, 2),
          c.peakRssMiB,
        ]),
      ),
      '',
    );
  }
  const lat = read<LatencyResult>('latency');
  if (lat) {
    out.push(
      `### File complete → searchable (${lat.model}, ${lat.threads} thread(s), ${lat.ratePerS} files/s × ${lat.recordsPerFile} records; load ${lat.machine.loadAvgAtStart})`,
      '',
    );
    const d = (x: number | null | undefined): string | number => (x === null || x === undefined ? '-' : x);
    out.push(
      table(
        ['scenario', 'records', 'lanes', 'p50 ms', 'p99 ms', 'max ms', 'backfill rec/s', 'loop p99 / max ms'],
        lat.scenarios.map((p) => [
          p.scenario,
          p.records,
          Object.entries(p.lanes)
            .map(([k, v]) => `${k} ${v}`)
            .join(', ') || '-',
          d(p.latencyMs?.p50),
          d(p.latencyMs?.p99),
          d(p.latencyMs?.max),
          p.backfill
            ? `${p.backfill.recordsPerS} (${p.backfill.records} in ${p.backfill.drainSeconds} s)`
            : '-',
          p.eventLoop ? `${p.eventLoop.p99Ms} / ${p.eventLoop.maxMs}` : '-',
        ]),
      ),
      '',
      table(
        ['scenario', 'target', 'measured', 'verdict'],
        lat.targets.map((t) => [
          t.scenario,
          t.target,
          t.value,
          t.met === null ? 'not measured' : t.met ? 'met' : 'NOT met',
        ]),
      ),
      '',
    );
  }
  const bf = read<BackfillResult>('backfill');
  if (bf) {
    out.push(`### Backfill (load ${bf.machine.loadAvgAtStart})`, '');
    out.push(
      table(
        [
          'model',
          'records',
          'thr',
          'seamline rec/s',
          'ceiling rec/s',
          'plain loop rec/s',
          'vs ceiling',
          'vs plain',
          'seam pad',
          'plain pad',
          'peak RSS MiB',
          'max lag ms',
        ],
        bf.runs.map((x) => [
          x.model.replace('local/', ''),
          x.records,
          x.threads,
          x.pipeline.recordsPerS,
          x.ceiling.recordsPerS,
          x.plainLoop.recordsPerS,
          x.vsCeiling,
          x.vsPlain,
          x.pipeline.paddingEfficiency,
          x.plainLoop.paddingEfficiency,
          x.pipeline.peakRssMiB,
          x.pipeline.loopLag.maxMs,
        ]),
      ),
      '',
    );
    for (const x of bf.runs) {
      out.push(
        `- ${x.model}: ${x.pipeline.seconds} s = land ${x.pipeline.landSeconds} s + process ${x.pipeline.processSeconds} s in ${x.pipeline.batches} batches; process split (ms): ${Object.entries(
          x.pipeline.splitMs,
        )
          .map(([k, v]) => `${k} ${v}`)
          .join(', ')}; worst loop stalls by step: ${
          Object.entries(x.pipeline.stallsByStepMs)
            .map(([k, v]) => `${k} ${v} ms`)
            .join(', ') || 'none'
        }.`,
      );
    }
    out.push('');
  }
  out.push(
    '### Targets',
    '',
    table(
      ['target', 'measured', 'status'],
      targets(f.out).map((r) => [
        r.target,
        r.measured,
        r.met === null ? 'not measured' : r.met ? 'met' : 'NOT met',
      ]),
    ),
    '',
  );
  const rec = read<Recommendation & { profileQuick: boolean }>('recommend');
  if (rec) {
    out.push(
      `### Recommendation (p99 ≤ ${rec.inputs.targetLatencyMs} ms at ${rec.inputs.arrivalRate} records/s)`,
      '',
      '```',
      ...rec.arithmetic,
      ...rec.warnings.map((w) => `WARNING: ${w}`),
      '```',
      '',
      '```json',
      JSON.stringify(rec.config, null, 2),
      '```',
      '',
    );
  }
  process.stdout.write(out.join('\n'));
}

main();
