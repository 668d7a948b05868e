// End-to-end latency under load (issue 11): runs `seamline run` (the built CLI) as a subprocess on a temp
// workspace and measures per record file-complete → searchable, read from the serving LanceDB table as a
// search would. Scenarios, side by side in one run (one daemon, one after the other):
//   idle          live drops (rate × records-per-file, manifest, written under a temp name + renamed)
//   idle-rename   the README protocol: temp name + rename, no manifest (completeness by stability window)
//   backfill-solo a backfill of N records alone: its throughput (records/s)
//   backfill-live another N-record backfill with live drops while it drains: live p99, backfill throughput
//                 vs solo, event-loop delay p99/max of the daemon during the drain (monitorEventLoopDelay)
//   heavy-file    live drops while a heavy file lands (a gzip inflating to --heavy-mb of blank lines, or a
//                 plain --heavy-mb file of records with --heavy plain)
// Usage: node dist/benchmarks/latency.js [--quick] [--model ID] [--rate FILES_PER_S] [--records-per-file N]
// [--duration S] [--backfill-records N] [--heavy gzip|plain] [--heavy-mb N] [--threads N] [--max-records N]
// [--trigger-ms N] [--stable-window-ms N] [--scenarios a,b,…] [--no-optimize] [--optimize-interval-ms N] [--optimize-nice N] [--daemon-log FILE] [--optimize-log FILE] [--out DIR]
import { spawn } from 'node:child_process';
import { createWriteStream, renameSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { once } from 'node:events';
import { createGzip } from 'node:zlib';
import Database from 'better-sqlite3';
import { LanceStore } from '../src/store/lance.js';
import type { VectorTable } from '../src/ports/vector-store.js';
import { startCli, waitFor, workspace, type Workspace } from '../test/helpers/cli.js';
import { list, num, parseFlags } from './lib/args.js';
import { MODELS_DIR, NEURAL_MODEL } from './lib/engines.js';
import { percentile, round } from './lib/measure.js';
import { machine, table, writeResult } from './lib/report.js';
import { dropWithManifest, records, type GenRecord } from './lib/workload.js';

export const SCENARIOS = ['idle', 'idle-rename', 'backfill-solo', 'backfill-live', 'heavy-file'] as const;
export type Scenario = (typeof SCENARIOS)[number];

interface DroppedFile {
  readonly name: string;
  readonly ids: readonly string[];
  readonly completeMs: number;
  readonly scenario: Scenario;
}

/** Per file stage timings (ms), from the daemon's ledger and logs. */
interface FileBudget {
  /** complete → landing starts (watch, stability window) */
  readonly detect: number;
  /** landing starts → the processor sees the file (parse, validate, SQLite, publish) */
  readonly land: number;
  /** seen → the batch that finishes it is planned (waiting behind other batches) */
  readonly queue: number;
  /** planned → committed (embed + merge) */
  readonly process: number;
  /** committed → a reader sees it */
  readonly visible: number;
  readonly total: number;
}

export interface ScenarioResult {
  readonly scenario: Scenario;
  readonly files: number;
  readonly records: number;
  /** Live files' complete → searchable (null for backfill-solo, which has no live files). */
  readonly latencyMs: { p50: number; p95: number; p99: number; max: number } | null;
  readonly budgetMedianMs: FileBudget | null;
  readonly budgetP99Ms: FileBudget | null;
  /** Lanes the live files were processed in (file counts). */
  readonly lanes: Record<string, number>;
  readonly backfill: { records: number; drainSeconds: number; recordsPerS: number } | null;
  readonly heavy: { kind: string; mb: number; landSeconds: number | null } | null;
  /** The daemon's event-loop delay over the scenario (max of per-second p99s, and max). */
  readonly eventLoop: { p99Ms: number; maxMs: number; windows: number } | null;
  /**
   * The same figures from an idle Node process on the same machine over the same seconds: the floor
   * that CPU contention alone (other processes, the daemon's own worker threads) puts under the daemon's.
   */
  readonly eventLoopIdleProcess: { p99Ms: number; maxMs: number; windows: number } | null;
  /**
   * backfill-live only: live records that became complete during the drain, per second, and the
   * share of solo throughput left for the backfill if the processor did nothing but embed
   * (1 − live records/s ÷ solo records/s): with a slow model the live drops alone can put 0.8 out of reach.
   */
  readonly liveLoad: { recordsPerS: number; backfillShareBound: number; totalOverSolo: number } | null;
}

export interface Target {
  readonly scenario: string;
  readonly target: string;
  readonly value: string;
  readonly met: boolean | null;
}

export interface LatencyResult {
  readonly kind: 'latency';
  readonly machine: ReturnType<typeof machine>;
  readonly quick: boolean;
  readonly model: string;
  readonly threads: number;
  readonly ratePerS: number;
  readonly recordsPerFile: number;
  readonly backfillRecords: number;
  /** processor.* / completeness overrides given on the command line (empty = schema defaults). */
  readonly overrides: Record<string, unknown>;
  readonly pollMs: number;
  readonly scenarios: ScenarioResult[];
  readonly targets: Target[];
  /** Backfill throughput while live files drop, over its solo throughput. */
  readonly backfillRatio: number | null;
  readonly batchCommitted: { count: number; medianDurationMs: number; p99DurationMs: number };
}

const POLL_MS = 20;
/** The idle control process: logs its event-loop delay each second like the daemon's eventloop.delay. */
const CONTROL_SRC = `const { monitorEventLoopDelay } = require('node:perf_hooks');
const h = monitorEventLoopDelay({ resolution: 10 });
h.enable();
setInterval(() => {
  if (h.count) console.log(JSON.stringify({ t: Date.now(), p99_ms: h.percentile(99) / 1e6, max_ms: h.max / 1e6 }));
  h.reset();
}, 1000);`;
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/**
 * Watches the serving table from outside the daemon and timestamps the first sight of each id. Live
 * ids and backfill ids are polled by two readers side by side: one reader re-querying thousands of
 * backfill ids after every table version would make the live files' `visible` stage measure the
 * reader (run L7: 4.1 s p99 behind 20,000 pending ids), not the table.
 */
class Visibility {
  private table: VectorTable | null = null;
  private store: LanceStore | null = null;
  readonly seen = new Map<string, number>();
  /** Live files' ids. */
  readonly pending = new Set<string>();
  /** Backfill ids (polled by their own reader). */
  readonly pendingBulk = new Set<string>();
  private stopped = false;
  private loops: Promise<void>[] = [];

  constructor(private readonly dataDir: string) {}

  start(): void {
    this.loops = [this.run(this.pending), this.run(this.pendingBulk)];
  }

  private opening: Promise<VectorTable | null> | null = null;

  /** One table handle for both readers (they ask at the same moment at start). */
  private open(): Promise<VectorTable | null> {
    if (this.table) return Promise.resolve(this.table);
    this.opening ??= this.openOnce().finally(() => (this.opening = null));
    return this.opening;
  }

  private async openOnce(): Promise<VectorTable | null> {
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

  private async run(pending: Set<string>): Promise<void> {
    let lastVersion = -1;
    while (!this.stopped) {
      try {
        const t = await this.open();
        if (t && pending.size > 0) {
          const v = await t.version();
          if (v !== lastVersion) {
            const at = Date.now();
            lastVersion = v;
            const ids = [...pending];
            for (let i = 0; i < ids.length; i += 500) {
              for (const r of await t.rowsForIds(ids.slice(i, i + 500))) {
                if (pending.delete(r.id)) this.seen.set(r.id, at);
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
    await Promise.all(this.loops);
    this.store?.close();
  }
}

interface LogLine {
  readonly time?: string;
  readonly event?: string;
  readonly file?: string;
  readonly duration_ms?: number;
  readonly p99_ms?: number;
  readonly max_ms?: number;
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
): { budget: Map<string, FileBudget>; lanes: Map<string, string> } {
  const db = new Database(path.join(ws.data, 'seamline.db'), { readonly: true });
  try {
    // Per-file progress (two lanes): when it landed, when the processor saw it, the batch that finished it.
    const rows = db
      .prepare(
        `SELECT f.path AS path, p.lane AS lane, p.landed_at_ms AS landed, p.queued_at_ms AS queued, p.searchable_at_ms AS searchable,
           (SELECT t.planned_at_ms FROM batch_segments s JOIN batches t ON t.batch_id = s.batch_id
             WHERE s.file_id = p.file_id AND t.table_name = p.table_name AND s.seq_to = p.seq_to LIMIT 1) AS planned
         FROM files f JOIN file_progress p ON p.file_id = f.file_id
         WHERE p.table_name = (SELECT table_name FROM serving LIMIT 1)`,
      )
      .all() as {
      path: string;
      lane: string;
      landed: number;
      queued: number;
      searchable: number | null;
      planned: number | null;
    }[];
    const byPath = new Map(rows.map((r) => [r.path, r]));
    const budget = new Map<string, FileBudget>();
    const lanes = new Map<string, string>();
    for (const f of files) {
      const r = byPath.get(`${f.name}.jsonl`);
      if (!r) continue;
      lanes.set(f.name, r.lane);
      const vis = Math.max(...f.ids.map((id) => seen.get(id) ?? Number.NaN));
      if (r.searchable === null || r.planned === null || !Number.isFinite(vis)) continue;
      budget.set(f.name, {
        detect: r.landed - f.completeMs,
        land: r.queued - r.landed,
        queue: Math.max(0, r.planned - r.queued),
        process: r.searchable - Math.max(r.planned, r.queued),
        visible: vis - r.searchable,
        total: vis - f.completeMs,
      });
    }
    return { budget, lanes };
  } finally {
    db.close();
  }
}

function stageStat(bs: readonly FileBudget[], p: number): FileBudget | null {
  if (bs.length === 0) return null;
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
    queue: k('queue'),
    process: k('process'),
    visible: k('visible'),
    total: k('total'),
  };
}

/** The README protocol: write under a temporary name, rename into place, no manifest. */
function dropRenamed(landing: string, name: string, recs: readonly GenRecord[]): number {
  const file = path.join(landing, `${name}.jsonl`);
  writeFileSync(`${file}.tmp`, recs.map((x) => JSON.stringify(x)).join('\n') + '\n');
  renameSync(`${file}.tmp`, file);
  return Date.now();
}

/** A heavy file: a gzip inflating to `mb` MB of blank lines plus one record, or a plain `mb` MB file of records. */
async function dropHeavy(landing: string, kind: 'gzip' | 'plain', mb: number): Promise<string> {
  const rec = (i: number): string =>
    JSON.stringify({
      id: `heavy-${i}`,
      version: 1,
      event_time: '2026-01-01T00:00:00Z',
      text: `heavy record ${i} ${'lorem ipsum '.repeat(20)}`,
    });
  const name = kind === 'gzip' ? 'heavy.jsonl.gz' : 'heavy.jsonl';
  const tmp = path.join(landing, `${name}.partial`);
  const out = createWriteStream(tmp);
  const sink = kind === 'gzip' ? createGzip({ level: 6 }) : null;
  if (sink) sink.pipe(out);
  const w = sink ?? out;
  const write = async (chunk: string | Buffer): Promise<void> => {
    if (!w.write(chunk)) await once(w, 'drain');
  };
  await write(rec(0) + '\n');
  if (kind === 'gzip') {
    const blank = Buffer.alloc(1024 * 1024, 0x0a);
    for (let i = 0; i < mb; i++) await write(blank);
  } else {
    let bytes = 0;
    for (let i = 1; bytes < mb * 1024 * 1024; i++) {
      const line = rec(i) + '\n';
      bytes += line.length;
      await write(line);
    }
  }
  w.end();
  await once(out, 'close');
  renameSync(tmp, path.join(landing, name));
  return name;
}

async function main(): Promise<void> {
  const f = parseFlags({
    model: { type: 'string' },
    rate: { type: 'string' },
    'records-per-file': { type: 'string' },
    duration: { type: 'string' },
    'backfill-records': { type: 'string' },
    heavy: { type: 'string' },
    'heavy-mb': { type: 'string' },
    threads: { type: 'string' },
    'max-records': { type: 'string' },
    'trigger-ms': { type: 'string' },
    'stable-window-ms': { type: 'string' },
    scenarios: { type: 'string' },
    'no-optimize': { type: 'boolean', default: false },
    'optimize-interval-ms': { type: 'string' },
    'optimize-nice': { type: 'string' },
    'daemon-log': { type: 'string' },
    'optimize-log': { type: 'string' },
  });
  const quick = f.quick;
  const model = typeof f.model === 'string' ? f.model : NEURAL_MODEL;
  const rate = num(f.rate, 2, 'rate');
  const perFile = num(f['records-per-file'], 10, 'records-per-file');
  const duration = num(f.duration, quick ? 3 : 20, 'duration');
  // Backfill files hold 1000 records (600 in quick mode): above processor.lanes.liveMaxFileRecords, a backlog drop.
  const backfillRecords = num(f['backfill-records'], quick ? 600 : 20_000, 'backfill-records');
  const heavyKind = f.heavy === 'plain' ? 'plain' : 'gzip';
  const heavyMb = num(f['heavy-mb'], quick ? 5 : heavyKind === 'gzip' ? 200 : 50, 'heavy-mb');
  const threads = num(f.threads, 1, 'threads');
  const wanted = new Set<string>(typeof f.scenarios === 'string' ? list(f.scenarios, SCENARIOS) : SCENARIOS);
  for (const w of wanted)
    if (!(SCENARIOS as readonly string[]).includes(w))
      throw new Error(`--scenarios: unknown ${w} (known: ${SCENARIOS.join(', ')})`);
  const processor: Record<string, number> = {};
  if (f['max-records'] !== undefined) processor.maxRecords = num(f['max-records'], 2000, 'max-records');
  if (f['trigger-ms'] !== undefined) processor.triggerIntervalMs = num(f['trigger-ms'], 1000, 'trigger-ms');
  const completeness: Record<string, number> = {};
  if (f['stable-window-ms'] !== undefined)
    completeness.stableWindowMs = num(f['stable-window-ms'], 1000, 'stable-window-ms');
  // As in production, the optimize job runs next to the daemon (compaction keeps merges fast under the
  // many small backlog batches); --no-optimize leaves it out.
  const optimizeIntervalMs = num(f['optimize-interval-ms'], quick ? 5000 : 30_000, 'optimize-interval-ms');
  // The optimize job's CPU priority (optimize.nice); unset = the config default.
  const optimizeNice =
    f['optimize-nice'] === undefined ? undefined : num(f['optimize-nice'], 10, 'optimize-nice');
  const optimize = {
    intervalMs: optimizeIntervalMs,
    ...(optimizeNice === undefined ? {} : { nice: optimizeNice }),
  };
  const ws = workspace({
    model: { id: model, threads },
    processor,
    log: { level: 'debug' },
    http: { enabled: false },
    landing: { afterLanding: 'delete' },
    completeness,
    optimize,
  });
  const daemon = startCli(['run'], ws.env());
  // The control: an idle Node process logging its own event-loop delay the way the daemon does.
  const control = spawn(process.execPath, ['-e', CONTROL_SRC], { stdio: ['ignore', 'pipe', 'inherit'] });
  let controlOut = '';
  control.stdout.on('data', (d: Buffer) => (controlOut += d.toString()));
  const optimizer =
    f['no-optimize'] === true ? null : startCli(['optimize'], ws.env({ SEAMLINE_LOG__LEVEL: 'info' }));
  const vis = new Visibility(ws.data);
  const dropped: DroppedFile[] = [];
  const results: ScenarioResult[] = [];
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
    /** Drops live files at the rate for at least `seconds`, and until `until()` (if given) holds. */
    const liveDrops = async (
      scenario: Scenario,
      seconds: number,
      drop: (landing: string, name: string, recs: readonly GenRecord[]) => number,
      until?: () => boolean,
      maxSeconds = 900,
    ): Promise<void> => {
      const t0 = Date.now();
      for (let i = 0; ; i++) {
        const elapsed = (Date.now() - t0) / 1000;
        if (elapsed >= seconds && (!until || until())) break;
        if (elapsed >= maxSeconds) break;
        const due = t0 + (i * 1000) / rate;
        if (due > Date.now()) await sleep(due - Date.now());
        const name = `${scenario}-${fileNo++}`;
        const recs = records(MODELS_DIR, name, perFile, 100 + fileNo);
        recs.forEach((r) => vis.pending.add(r.id));
        dropped.push({
          name,
          ids: recs.map((r) => r.id),
          completeMs: drop(ws.landing, name, recs),
          scenario,
        });
      }
    };
    const waitAll = async (ids: readonly string[], timeoutMs: number, what: string): Promise<void> => {
      await waitFor(() => ids.every((id) => vis.seen.has(id)), timeoutMs, what, 100);
    };
    const liveIds = (sc: Scenario): string[] =>
      dropped.filter((d) => d.scenario === sc).flatMap((d) => d.ids);
    const logMark = (): number => daemon.output().stderr.length;
    const idleLoopSince = (sinceMs: number): ScenarioResult['eventLoopIdleProcess'] => {
      const ls = controlOut
        .split('\n')
        .filter((l) => l.startsWith('{'))
        .map((l) => JSON.parse(l) as { t: number; p99_ms: number; max_ms: number })
        .filter((l) => l.t >= sinceMs);
      if (ls.length === 0) return null;
      return {
        p99Ms: round(Math.max(...ls.map((l) => l.p99_ms)), 1),
        maxMs: round(Math.max(...ls.map((l) => l.max_ms)), 1),
        windows: ls.length,
      };
    };
    const loopSince = (mark: number): ScenarioResult['eventLoop'] => {
      const ls = parseLogs(daemon.output().stderr.slice(mark)).filter((l) => l.event === 'eventloop.delay');
      if (ls.length === 0) return null;
      return {
        p99Ms: Math.max(...ls.map((l) => l.p99_ms ?? 0)),
        maxMs: Math.max(...ls.map((l) => l.max_ms ?? 0)),
        windows: ls.length,
      };
    };
    const base = (
      sc: Scenario,
    ): Omit<
      ScenarioResult,
      'latencyMs' | 'budgetMedianMs' | 'budgetP99Ms' | 'lanes' | 'files' | 'records'
    > => ({
      scenario: sc,
      backfill: null,
      heavy: null,
      eventLoop: null,
      eventLoopIdleProcess: null,
      liveLoad: null,
    });
    const pending: { sc: Scenario; extra: Partial<ScenarioResult> }[] = [];
    const dropBackfill = (prefix: string, seed: number): { ids: string[]; startMs: number } => {
      const bf = records(MODELS_DIR, prefix, backfillRecords, seed);
      const per = Math.min(1000, backfillRecords);
      const startMs = Date.now();
      for (let i = 0; i < bf.length; i += per) {
        const part = bf.slice(i, i + per);
        part.forEach((r) => vis.pendingBulk.add(r.id));
        dropWithManifest(ws.landing, `${prefix}-${i / per}`, part);
      }
      return { ids: bf.map((r) => r.id), startMs };
    };
    const drained = (b: {
      ids: string[];
      startMs: number;
    }): { records: number; drainSeconds: number; recordsPerS: number } => {
      const s = (Math.max(...b.ids.map((id) => vis.seen.get(id)!)) - b.startMs) / 1000;
      return { records: b.ids.length, drainSeconds: round(s, 1), recordsPerS: round(b.ids.length / s, 1) };
    };
    const bfTimeout = 120_000 + backfillRecords * 200;

    if (wanted.has('idle')) {
      const m = logMark();
      const t0 = Date.now();
      await liveDrops('idle', duration, dropWithManifest);
      await waitAll(liveIds('idle'), 120_000, 'the idle files to become searchable');
      pending.push({
        sc: 'idle',
        extra: { eventLoop: loopSince(m), eventLoopIdleProcess: idleLoopSince(t0) },
      });
    }
    if (wanted.has('idle-rename')) {
      const m = logMark();
      const t0 = Date.now();
      await liveDrops('idle-rename', duration, dropRenamed);
      await waitAll(liveIds('idle-rename'), 120_000, 'the renamed files to become searchable');
      pending.push({
        sc: 'idle-rename',
        extra: { eventLoop: loopSince(m), eventLoopIdleProcess: idleLoopSince(t0) },
      });
    }
    let solo: ScenarioResult['backfill'] = null;
    if (wanted.has('backfill-solo')) {
      const m = logMark();
      const t0 = Date.now();
      const b = dropBackfill('bfsolo', 9);
      await waitAll(b.ids, bfTimeout, 'the solo backfill to drain');
      solo = drained(b);
      pending.push({
        sc: 'backfill-solo',
        extra: { backfill: solo, eventLoop: loopSince(m), eventLoopIdleProcess: idleLoopSince(t0) },
      });
    }
    if (wanted.has('backfill-live')) {
      const m = logMark();
      const b = dropBackfill('bflive', 10);
      // Live drops for the whole drain (at least `duration`).
      await liveDrops('backfill-live', duration, dropWithManifest, () =>
        b.ids.every((id) => vis.seen.has(id)),
      );
      await waitAll(
        [...b.ids, ...liveIds('backfill-live')],
        bfTimeout,
        'the backfill and live files to become searchable',
      );
      const bd = drained(b);
      const drainEndMs = b.startMs + bd.drainSeconds * 1000;
      const liveDuring = dropped
        .filter((d) => d.scenario === 'backfill-live' && d.completeMs <= drainEndMs)
        .reduce((n, d) => n + d.ids.length, 0);
      const liveRps = round(liveDuring / bd.drainSeconds, 1);
      pending.push({
        sc: 'backfill-live',
        extra: {
          backfill: bd,
          eventLoop: loopSince(m),
          eventLoopIdleProcess: idleLoopSince(b.startMs),
          liveLoad: solo
            ? {
                recordsPerS: liveRps,
                backfillShareBound: round(Math.max(0, 1 - liveRps / solo.recordsPerS), 2),
                totalOverSolo: round((bd.recordsPerS + liveRps) / solo.recordsPerS, 2),
              }
            : null,
        },
      });
    }
    if (wanted.has('heavy-file')) {
      const m = logMark();
      const t0 = Date.now();
      const name = await dropHeavy(ws.landing, heavyKind, heavyMb);
      await liveDrops('heavy-file', duration, dropWithManifest);
      await waitAll(
        liveIds('heavy-file'),
        600_000,
        'the live files dropped behind the heavy file to become searchable',
      );
      // When did the heavy file finish landing (from the daemon's log)?
      const landed = parseLogs(daemon.output().stderr.slice(m)).find(
        (l) => l.event === 'file.landed' && l.file === name,
      );
      pending.push({
        sc: 'heavy-file',
        extra: {
          heavy: {
            kind: heavyKind,
            mb: heavyMb,
            landSeconds: landed?.time ? round((Date.parse(landed.time) - t0) / 1000, 1) : null,
          },
          eventLoop: loopSince(m),
          eventLoopIdleProcess: idleLoopSince(t0),
        },
      });
    }

    const { budget, lanes } = budgets(ws, dropped, vis.seen);
    for (const { sc, extra } of pending) {
      const files = dropped.filter((d) => d.scenario === sc);
      const lat = files.flatMap((d) => d.ids.map((id) => vis.seen.get(id)! - d.completeMs));
      const fb = files.map((d) => budget.get(d.name)).filter((b): b is FileBudget => b !== undefined);
      const laneCount: Record<string, number> = {};
      for (const d of files) {
        const l = lanes.get(d.name) ?? 'unknown';
        laneCount[l] = (laneCount[l] ?? 0) + 1;
      }
      results.push({
        ...base(sc),
        ...extra,
        files: files.length,
        records: lat.length,
        latencyMs: lat.length
          ? {
              p50: percentile(lat, 50),
              p95: percentile(lat, 95),
              p99: percentile(lat, 99),
              max: Math.max(...lat),
            }
          : null,
        budgetMedianMs: stageStat(fb, 50),
        budgetP99Ms: stageStat(fb, 99),
        lanes: laneCount,
      });
    }
    const logs = parseLogs(daemon.output().stderr);
    const committed = logs.filter((l) => l.event === 'batch.committed').map((l) => l.duration_ms ?? 0);
    const by = (sc: Scenario): ScenarioResult | undefined => results.find((r) => r.scenario === sc);
    const bl = by('backfill-live');
    const ratio = bl?.backfill && solo ? round(bl.backfill.recordsPerS / solo.recordsPerS, 2) : null;
    const targets: Target[] = [];
    const t = (
      scenario: string,
      target: string,
      value: number | null | undefined,
      unit: string,
      ok: (v: number) => boolean,
    ): void => {
      targets.push({
        scenario,
        target,
        value: value === null || value === undefined ? 'n/a' : `${value}${unit}`,
        met: value === null || value === undefined ? null : ok(value),
      });
    };
    t('idle', 'p50 ≤ 300 ms', by('idle')?.latencyMs?.p50, ' ms', (v) => v <= 300);
    t('idle', 'p99 ≤ 1 s', by('idle')?.latencyMs?.p99, ' ms', (v) => v <= 1000);
    t('idle-rename', 'p99 ≤ 1 s', by('idle-rename')?.latencyMs?.p99, ' ms', (v) => v <= 1000);
    t('backfill-live', 'live p99 ≤ 1.5 s', bl?.latencyMs?.p99, ' ms', (v) => v <= 1500);
    t('backfill-live', 'backfill throughput ≥ 0.8 × solo', ratio, '×', (v) => v >= 0.8);
    t('heavy-file', 'live p99 ≤ 1.5 s', by('heavy-file')?.latencyMs?.p99, ' ms', (v) => v <= 1500);
    t('backfill-live', 'event-loop delay p99 ≤ 20 ms', bl?.eventLoop?.p99Ms, ' ms', (v) => v <= 20);
    t('backfill-live', 'event-loop delay max ≤ 50 ms', bl?.eventLoop?.maxMs, ' ms', (v) => v <= 50);
    const result: LatencyResult = {
      kind: 'latency',
      machine: machine(),
      quick,
      model,
      threads,
      ratePerS: rate,
      recordsPerFile: perFile,
      backfillRecords,
      overrides: {
        processor,
        completeness,
        optimize: optimizer ? optimize : 'off',
      },
      pollMs: POLL_MS,
      scenarios: results,
      targets,
      backfillRatio: ratio,
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
    // The daemon's whole log (debug level: batches, event-loop delay, landing) for a closer look.
    if (typeof f['daemon-log'] === 'string') writeFileSync(f['daemon-log'], daemon.output().stderr);
    // The optimize job's log (its passes, what held the maintenance lease and for how long).
    if (typeof f['optimize-log'] === 'string' && optimizer)
      writeFileSync(f['optimize-log'], optimizer.output().stderr);
    await vis.stop();
    control.kill('SIGTERM');
    optimizer?.child.kill('SIGTERM');
    daemon.child.kill('SIGTERM');
    const t = setTimeout(() => daemon.child.kill('SIGKILL'), 20_000);
    await daemon.exited;
    if (optimizer) await optimizer.exited;
    clearTimeout(t);
    ws.cleanup();
  }
}

export function renderLatency(r: LatencyResult): string {
  const yes = (b: boolean | null): string => (b === null ? 'not measured' : b ? 'met' : 'NOT met');
  const dash = (x: number | null | undefined): string | number => (x === null || x === undefined ? '-' : x);
  const lat = table(
    [
      'scenario',
      'files',
      'records',
      'lanes',
      'p50 ms',
      'p95 ms',
      'p99 ms',
      'max ms',
      'backfill rec/s',
      'loop p99/max ms',
      'idle proc loop p99/max ms',
      'heavy landed s',
    ],
    r.scenarios.map((p) => [
      p.scenario,
      p.files,
      p.records,
      Object.entries(p.lanes)
        .map(([k, v]) => `${k} ${v}`)
        .join(', ') || '-',
      dash(p.latencyMs?.p50),
      dash(p.latencyMs?.p95),
      dash(p.latencyMs?.p99),
      dash(p.latencyMs?.max),
      p.backfill ? `${p.backfill.recordsPerS} (${p.backfill.records} in ${p.backfill.drainSeconds} s)` : '-',
      p.eventLoop ? `${p.eventLoop.p99Ms} / ${p.eventLoop.maxMs}` : '-',
      p.eventLoopIdleProcess ? `${p.eventLoopIdleProcess.p99Ms} / ${p.eventLoopIdleProcess.maxMs}` : '-',
      p.heavy ? `${dash(p.heavy.landSeconds)} (${p.heavy.kind} ${p.heavy.mb} MB)` : '-',
    ]),
  );
  const stages: (keyof FileBudget)[] = ['detect', 'land', 'queue', 'process', 'visible', 'total'];
  const labels: Record<keyof FileBudget, string> = {
    detect: 'detect (complete → landing starts)',
    land: 'land (parse, validate, SQLite, publish)',
    queue: 'queue (seen → its batch planned)',
    process: 'embed + merge (planned → committed)',
    visible: 'visible (committed → seen by a reader)',
    total: 'total',
  };
  const withBudget = r.scenarios.filter((p) => p.budgetMedianMs);
  const bud = table(
    ['stage', ...withBudget.flatMap((p) => [`${p.scenario} p50`, `${p.scenario} p99`])],
    stages.map((s) => [labels[s], ...withBudget.flatMap((p) => [p.budgetMedianMs![s], p.budgetP99Ms![s]])]),
  );
  const tg = table(
    ['scenario', 'target', 'measured', 'verdict'],
    r.targets.map((x) => [x.scenario, x.target, x.value, yes(x.met)]),
  );
  return [
    `file complete → searchable (${r.model}, ${r.threads} thread(s), live ${r.ratePerS} files/s × ${r.recordsPerFile} records, backfill ${r.backfillRecords} records, poll ${r.pollMs} ms, overrides ${JSON.stringify(r.overrides)}${r.quick ? ', QUICK' : ''}; machine load ${r.machine.loadAvgAtStart})`,
    lat,
    'targets (issue 11):',
    tg,
    ...r.scenarios
      .filter((p) => p.liveLoad)
      .map(
        (p) =>
          `${p.scenario}: live records during the drain ${p.liveLoad!.recordsPerS}/s; backfill share bound (1 − live ÷ solo) ${p.liveLoad!.backfillShareBound}×; (backfill + live) ÷ solo ${p.liveLoad!.totalOverSolo}×`,
      ),
    'loop p99 = the largest per-second p99 of monitorEventLoopDelay (10 ms resolution: an idle loop reads ~10 ms); idle proc = an idle Node process on the same machine, same seconds.',
    'latency budget per live file (ms, from the daemon ledger):',
    bud,
    `batches committed: ${r.batchCommitted.count}, duration_ms median ${r.batchCommitted.medianDurationMs}, p99 ${r.batchCommitted.p99DurationMs}`,
  ].join('\n');
}

await main();
