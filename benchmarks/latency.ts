// End-to-end latency: runs `seamline run` (the built CLI) as a subprocess on a temp workspace, drops
// files with manifests at a rate, and measures per record file-complete → searchable (read from the
// serving LanceDB table, as a search would). Phase 1 idle, phase 2 with a backfill dropped at once.
// Usage: node dist/benchmarks/latency.js [--quick] [--model ID] [--rate FILES_PER_S] [--records-per-file N]
// [--duration S] [--backfill-records N] [--threads N] [--max-records N] [--trigger-ms N] [--out DIR]
import path from 'node:path';
import Database from 'better-sqlite3';
import { LanceStore } from '../src/store/lance.js';
import type { VectorTable } from '../src/ports/vector-store.js';
import { startCli, waitFor, workspace, type Workspace } from '../test/helpers/cli.js';
import { num, parseFlags } from './lib/args.js';
import { MODELS_DIR, NEURAL_MODEL } from './lib/engines.js';
import { percentile, round } from './lib/measure.js';
import { machine, table, writeResult } from './lib/report.js';
import { dropWithManifest, records } from './lib/workload.js';

interface DroppedFile {
  readonly name: string;
  readonly ids: readonly string[];
  readonly completeMs: number;
  readonly phase: 'idle' | 'backfill';
}

/** Per file stage timings (ms), from the daemon's logs and its ledger. */
interface FileBudget {
  readonly detect: number;
  readonly land: number;
  readonly plan: number;
  readonly process: number;
  readonly visible: number;
  readonly total: number;
}

export interface PhaseResult {
  readonly phase: 'idle' | 'backfill';
  readonly files: number;
  readonly records: number;
  readonly latencyMs: { p50: number; p95: number; p99: number; max: number };
  /** Median per stage over the phase's files (ms). */
  readonly budgetMedianMs: FileBudget;
  /** p99 per stage (ms). */
  readonly budgetP99Ms: FileBudget;
  readonly backfillRecords: number;
  readonly backfillDrainSeconds: number | null;
}

export interface LatencyResult {
  readonly kind: 'latency';
  readonly machine: ReturnType<typeof machine>;
  readonly quick: boolean;
  readonly model: string;
  readonly threads: number;
  readonly ratePerS: number;
  readonly recordsPerFile: number;
  /** processor.* overrides given on the command line (empty = schema defaults). */
  readonly processor: Record<string, number>;
  readonly pollMs: number;
  readonly phases: PhaseResult[];
  readonly targets: { idleP50: boolean; idleP99: boolean; backfillP99: boolean };
  readonly batchCommitted: { count: number; medianDurationMs: number; p99DurationMs: number };
}

const POLL_MS = 20;
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** Watches the serving table from outside the daemon and timestamps the first sight of each id. */
class Visibility {
  private table: VectorTable | null = null;
  private store: LanceStore | null = null;
  private lastVersion = -1;
  readonly seen = new Map<string, number>();
  readonly pending = new Set<string>();
  private stopped = false;
  private loop: Promise<void> | null = null;

  constructor(private readonly dataDir: string) {}

  start(): void {
    this.loop = this.run();
  }

  private async open(): Promise<VectorTable | null> {
    if (this.table) return this.table;
    const db = new Database(path.join(this.dataDir, 'seamline.db'), { readonly: true, fileMustExist: true });
    try {
      const row = db.prepare(`SELECT table_name AS t FROM serving LIMIT 1`).get() as
        { t: string } | undefined;
      if (!row) return null;
      this.store ??= await LanceStore.open(path.join(this.dataDir, 'lance'));
      this.table = await this.store.openTable(row.t);
      return this.table;
    } finally {
      db.close();
    }
  }

  private async run(): Promise<void> {
    while (!this.stopped) {
      try {
        const t = await this.open();
        if (t && this.pending.size > 0) {
          const v = await t.version();
          if (v !== this.lastVersion) {
            const at = Date.now();
            this.lastVersion = v;
            const ids = [...this.pending];
            for (let i = 0; i < ids.length; i += 500) {
              for (const r of await t.rowsForIds(ids.slice(i, i + 500))) {
                if (this.pending.delete(r.id)) this.seen.set(r.id, at);
              }
            }
          }
        }
      } catch {
        // The database or table may not exist yet in the first moments.
      }
      await sleep(POLL_MS);
    }
  }

  async stop(): Promise<void> {
    this.stopped = true;
    await this.loop;
    this.store?.close();
  }
}

interface LogLine {
  readonly time?: string;
  readonly event?: string;
  readonly file?: string;
  readonly seq_from?: number;
  readonly seq_to?: number;
  readonly duration_ms?: number;
}

function parseLogs(stderr: string): LogLine[] {
  const out: LogLine[] = [];
  for (const l of stderr.split('\n')) {
    if (!l.startsWith('{')) continue;
    try {
      out.push(JSON.parse(l) as LogLine);
    } catch {
      /* partial line at the end */
    }
  }
  return out;
}

function budgets(
  ws: Workspace,
  files: readonly DroppedFile[],
  seen: ReadonlyMap<string, number>,
  logs: readonly LogLine[],
): Map<string, FileBudget> {
  const landedLog = new Map<string, { at: number; seqTo: number }>();
  for (const l of logs)
    if (l.event === 'file.landed' && l.file && l.time)
      landedLog.set(l.file, { at: Date.parse(l.time), seqTo: l.seq_to ?? -1 });
  const db = new Database(path.join(ws.data, 'seamline.db'), { readonly: true });
  try {
    const fileRows = db.prepare(`SELECT path, landed_at_ms AS start, seq_to AS seqTo FROM files`).all() as {
      path: string;
      start: number;
      seqTo: number;
    }[];
    const byPath = new Map(fileRows.map((r) => [r.path, r]));
    const batchOf = db.prepare(
      `SELECT planned_at_ms AS planned, committed_at_ms AS committed FROM batches WHERE seq_from <= ? AND seq_to >= ? AND state = 'committed' ORDER BY committed_at_ms LIMIT 1`,
    );
    const out = new Map<string, FileBudget>();
    for (const f of files) {
      const rel = `${f.name}.jsonl`;
      const fr = byPath.get(rel);
      const ll = landedLog.get(rel);
      if (!fr || !ll) continue;
      const b = batchOf.get(fr.seqTo, fr.seqTo) as { planned: number; committed: number } | undefined;
      const vis = Math.max(...f.ids.map((id) => seen.get(id) ?? Number.NaN));
      if (!b || !Number.isFinite(vis)) continue;
      out.set(f.name, {
        detect: fr.start - f.completeMs,
        land: ll.at - fr.start,
        plan: b.planned - ll.at,
        process: b.committed - b.planned,
        visible: vis - b.committed,
        total: vis - f.completeMs,
      });
    }
    return out;
  } finally {
    db.close();
  }
}

function stageStat(bs: readonly FileBudget[], p: number): FileBudget {
  const k = (key: keyof FileBudget): number =>
    round(
      percentile(
        bs.map((b) => b[key]),
        p,
      ),
      0,
    );
  return {
    detect: k('detect'),
    land: k('land'),
    plan: k('plan'),
    process: k('process'),
    visible: k('visible'),
    total: k('total'),
  };
}

async function main(): Promise<void> {
  const f = parseFlags({
    model: { type: 'string' },
    rate: { type: 'string' },
    'records-per-file': { type: 'string' },
    duration: { type: 'string' },
    'backfill-records': { type: 'string' },
    threads: { type: 'string' },
    'max-records': { type: 'string' },
    'trigger-ms': { type: 'string' },
  });
  const quick = f.quick;
  const model = typeof f.model === 'string' ? f.model : NEURAL_MODEL;
  const rate = num(f.rate, 2, 'rate');
  const perFile = num(f['records-per-file'], 10, 'records-per-file');
  const duration = num(f.duration, quick ? 4 : 20, 'duration');
  const backfillRecords = num(f['backfill-records'], quick ? 200 : 2000, 'backfill-records');
  const threads = num(f.threads, 1, 'threads');
  // Processor knobs under test (defaults: the schema's), e.g. what bench:recommend proposes.
  const processor: Record<string, number> = {};
  if (f['max-records'] !== undefined) processor.maxRecords = num(f['max-records'], 2000, 'max-records');
  if (f['trigger-ms'] !== undefined) processor.triggerIntervalMs = num(f['trigger-ms'], 1000, 'trigger-ms');
  const ws = workspace({
    model: { id: model, threads },
    processor,
    log: { level: 'debug' },
    http: { enabled: false },
    landing: { afterLanding: 'delete' },
    completeness: { stableWindowMs: 200 },
  });
  const daemon = startCli(['run'], ws.env());
  const vis = new Visibility(ws.data);
  const dropped: DroppedFile[] = [];
  const phases: PhaseResult[] = [];
  try {
    await waitFor(
      () => daemon.output().stderr.includes('"event":"daemon.running"'),
      120_000,
      'the daemon to start',
    );
    vis.start();
    // Warm-up file: model load, table creation and first-merge costs are not latency.
    const warm = records(MODELS_DIR, 'warm', perFile, 1);
    warm.forEach((r) => vis.pending.add(r.id));
    dropWithManifest(ws.landing, 'warm', warm);
    await waitFor(
      () => warm.every((r) => vis.seen.has(r.id)),
      120_000,
      'the warm-up file to become searchable',
      50,
    );

    let fileNo = 0;
    const livePhase = async (phase: 'idle' | 'backfill'): Promise<void> => {
      const n = Math.max(1, Math.round(rate * duration));
      const t0 = Date.now();
      for (let i = 0; i < n; i++) {
        const due = t0 + (i * 1000) / rate;
        if (due > Date.now()) await sleep(due - Date.now());
        const name = `${phase}-${fileNo++}`;
        const recs = records(MODELS_DIR, name, perFile, 100 + fileNo);
        recs.forEach((r) => vis.pending.add(r.id));
        dropped.push({
          name,
          ids: recs.map((r) => r.id),
          completeMs: dropWithManifest(ws.landing, name, recs),
          phase,
        });
      }
    };
    const waitAll = async (ids: readonly string[], timeoutMs: number): Promise<void> => {
      await waitFor(
        () => ids.every((id) => vis.seen.has(id)),
        timeoutMs,
        'every dropped record to become searchable',
        100,
      );
    };

    await livePhase('idle');
    await waitAll(
      dropped.flatMap((d) => d.ids),
      120_000,
    );

    // Backfill: a large drop at once (files of 1000), then live files at the same rate.
    const bf = records(MODELS_DIR, 'bf', backfillRecords, 9);
    const bfStart = Date.now();
    for (let i = 0; i < bf.length; i += 1000) {
      const part = bf.slice(i, i + 1000);
      part.forEach((r) => vis.pending.add(r.id));
      dropWithManifest(ws.landing, `bf-${i / 1000}`, part);
    }
    await livePhase('backfill');
    await waitAll([...dropped.flatMap((d) => d.ids), ...bf.map((r) => r.id)], 60_000 + backfillRecords * 100);
    const bfDrain = (Math.max(...bf.map((r) => vis.seen.get(r.id)!)) - bfStart) / 1000;

    const logs = parseLogs(daemon.output().stderr);
    const bud = budgets(ws, dropped, vis.seen, logs);
    for (const phase of ['idle', 'backfill'] as const) {
      const files = dropped.filter((d) => d.phase === phase);
      const lat = files.flatMap((d) => d.ids.map((id) => vis.seen.get(id)! - d.completeMs));
      const fb = files.map((d) => bud.get(d.name)).filter((b): b is FileBudget => b !== undefined);
      phases.push({
        phase,
        files: files.length,
        records: lat.length,
        latencyMs: {
          p50: percentile(lat, 50),
          p95: percentile(lat, 95),
          p99: percentile(lat, 99),
          max: Math.max(...lat),
        },
        budgetMedianMs: stageStat(fb, 50),
        budgetP99Ms: stageStat(fb, 99),
        backfillRecords: phase === 'backfill' ? backfillRecords : 0,
        backfillDrainSeconds: phase === 'backfill' ? round(bfDrain, 1) : null,
      });
    }
    const committed = logs.filter((l) => l.event === 'batch.committed').map((l) => l.duration_ms ?? 0);
    const idle = phases[0]!;
    const back = phases[1]!;
    const result: LatencyResult = {
      kind: 'latency',
      machine: machine(),
      quick,
      model,
      threads,
      ratePerS: rate,
      recordsPerFile: perFile,
      processor,
      pollMs: POLL_MS,
      phases,
      targets: {
        idleP50: idle.latencyMs.p50 <= 500,
        idleP99: idle.latencyMs.p99 <= 1500,
        backfillP99: back.latencyMs.p99 <= 3000,
      },
      batchCommitted: {
        count: committed.length,
        medianDurationMs: percentile(committed, 50),
        p99DurationMs: percentile(committed, 99),
      },
    };
    const file = writeResult(f.out, 'latency', result);
    if (f.json) process.stdout.write(JSON.stringify(result) + '\n');
    else process.stdout.write(renderLatency(result) + `\nresults: ${file}\n`);
  } catch (e) {
    // The daemon's own last words usually say why (model missing, lock held, crash).
    process.stderr.write(`daemon stderr (last 3000 chars):\n${daemon.output().stderr.slice(-3000)}\n`);
    throw e;
  } finally {
    await vis.stop();
    daemon.child.kill('SIGTERM');
    const t = setTimeout(() => daemon.child.kill('SIGKILL'), 20_000);
    await daemon.exited;
    clearTimeout(t);
    ws.cleanup();
  }
}

export function renderLatency(r: LatencyResult): string {
  const yes = (b: boolean): string => (b ? 'met' : 'NOT met');
  const lat = table(
    ['phase', 'files', 'records', 'p50 ms', 'p95 ms', 'p99 ms', 'max ms', 'backfill', 'backfill drained s'],
    r.phases.map((p) => [
      p.phase,
      p.files,
      p.records,
      p.latencyMs.p50,
      p.latencyMs.p95,
      p.latencyMs.p99,
      p.latencyMs.max,
      p.backfillRecords,
      p.backfillDrainSeconds ?? '-',
    ]),
  );
  const stages: (keyof FileBudget)[] = ['detect', 'land', 'plan', 'process', 'visible', 'total'];
  const labels: Record<keyof FileBudget, string> = {
    detect: 'watch/detect (complete → landing starts)',
    land: 'land (parse, validate, SQLite)',
    plan: 'plan (landed → batch planned)',
    process: 'embed + merge (planned → committed)',
    visible: 'visible (committed → seen by a reader)',
    total: 'total',
  };
  const bud = table(
    ['stage', ...r.phases.flatMap((p) => [`${p.phase} p50 ms`, `${p.phase} p99 ms`])],
    stages.map((s) => [labels[s], ...r.phases.flatMap((p) => [p.budgetMedianMs[s], p.budgetP99Ms[s]])]),
  );
  return [
    `file complete → searchable (${r.model}, ${r.threads} thread(s), ${r.ratePerS} files/s × ${r.recordsPerFile} records, poll ${r.pollMs} ms${Object.keys(r.processor ?? {}).length ? `, processor ${JSON.stringify(r.processor)}` : ''}${r.quick ? ', QUICK' : ''}; machine load ${r.machine.loadAvgAtStart})`,
    lat,
    `targets: idle p50 ≤ 500 ms ${yes(r.targets.idleP50)}; idle p99 ≤ 1.5 s ${yes(r.targets.idleP99)}; during backfill p99 ≤ 3 s ${yes(r.targets.backfillP99)}`,
    'latency budget per file (from the daemon logs and ledger):',
    bud,
    `batches committed: ${r.batchCommitted.count}, duration_ms median ${r.batchCommitted.medianDurationMs}, p99 ${r.batchCommitted.p99DurationMs}`,
  ].join('\n');
}

await main();
