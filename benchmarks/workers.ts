// Several workers on PostgreSQL (issue 16): the backfill rate of 1 worker vs 2 workers side by side, in
// one run. Each run: a fresh database, a fresh data folder, N real daemons (`seamline run`, subprocesses)
// on them, then R generated records dropped at once (with manifests); timed from the drop until every
// record is published (/status), with the CPU seconds the daemons used meanwhile (/proc) and the texts
// they embedded (ledger). Runs alternate 1, 2, 1, 2 … so a load change on the shared machine hits both.
// Needs PostgreSQL binaries (a throwaway server is started unless PG_TEST_URL is set).
// Usage: node dist/benchmarks/workers.js [--quick] [--records N] [--repeats N] [--model ID] [--threads N] [--out DIR]
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os, { tmpdir } from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { packageRoot } from '../src/config/load.js';
import { PgDatabase } from '../src/store/postgres/connect.js';
import { num, parseFlags } from './lib/args.js';
import { MODELS_DIR, NEURAL_MODEL } from './lib/engines.js';
import { round } from './lib/measure.js';
import { machine, table, writeResult } from './lib/report.js';
import { dropWithManifest, records } from './lib/workload.js';

const CLI = path.join(packageRoot(), 'dist', 'src', 'cli', 'main.js');
const PG = {
  poolMax: 2,
  statementTimeoutMs: 60_000,
  connectTimeoutMs: 10_000,
  idleInTransactionTimeoutMs: 60_000,
};

export interface WorkersRun {
  readonly workers: number;
  readonly records: number;
  readonly seconds: number;
  readonly recordsPerSecond: number;
  readonly textsEmbedded: number;
  /** CPU seconds of the seamline processes (user + system, every thread) from the drop to the end. */
  readonly cpuSeconds: number;
  readonly textsPerCpuSecond: number;
  readonly batches: number;
  /** Batches committed per worker. */
  readonly batchesByWorker: readonly number[];
}

const ticks = (pid: number): number => {
  const f = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const rest = f.slice(f.lastIndexOf(')') + 2).split(' ');
  return Number(rest[11]) + Number(rest[12]); // utime + stime, clock ticks (USER_HZ = 100)
};

async function waitFor<T>(fn: () => Promise<T | null>, ms: number, what: string): Promise<T> {
  const end = Date.now() + ms;
  for (;;) {
    const v = await fn().catch(() => null);
    if (v !== null) return v;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

function startDaemon(configFile: string): { child: ChildProcess; port: Promise<number>; err: () => string } {
  const env: NodeJS.ProcessEnv = {};
  for (const [k, v] of Object.entries(process.env)) if (!k.startsWith('SEAMLINE_')) env[k] = v;
  const child = spawn(process.execPath, [CLI, 'run', '--json'], {
    env: { ...env, SEAMLINE_CONFIG: configFile },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  let err = '';
  child.stdout.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr.on('data', (d: Buffer) => (err = (err + d.toString()).slice(-4000)));
  const port = waitFor(
    () => {
      const line = out.split('\n').find((l) => l.includes('http.listening'));
      return Promise.resolve(line ? (JSON.parse(line) as { port: number }).port : null);
    },
    60_000,
    'http.listening',
  );
  return { child, port, err: () => err };
}

const getJson = async (port: number, p: string): Promise<{ status: number; body: unknown }> => {
  const r = await fetch(`http://127.0.0.1:${port}${p}`);
  return {
    status: r.status,
    body: r.headers.get('content-type')?.includes('json') ? await r.json() : await r.text(),
  };
};

async function oneRun(
  baseUrl: string,
  workers: number,
  n: number,
  model: string,
  threads: number,
  fileRecords: number,
): Promise<WorkersRun> {
  const dbName = `seamline_bench_${process.pid}_${Date.now()}`;
  const admin = await PgDatabase.open({ ...PG, url: baseUrl });
  await admin.query(`CREATE DATABASE ${dbName}`);
  await admin.close();
  const u = new URL(baseUrl);
  u.pathname = `/${dbName}`;
  const dir = mkdtempSync(path.join(tmpdir(), 'seamline-bench-workers-'));
  const landing = path.join(dir, 'landing');
  mkdirSync(landing, { recursive: true });
  const configFile = path.join(dir, 'seamline.json');
  writeFileSync(
    configFile,
    JSON.stringify({
      dataDir: path.join(dir, 'data'),
      landingDir: landing,
      log: { level: 'warn' },
      http: { port: 0 },
      db: { kind: 'postgres', url: u.toString() },
      model: { id: model, threads },
      completeness: { stableWindowMs: 200 },
    }),
  );
  const ds = [];
  try {
    // One after the other: the second finds the first's serving table (no race on the empty store).
    for (let i = 0; i < workers; i++) {
      const d = startDaemon(configFile);
      ds.push(d);
      const port = await d.port;
      await waitFor(
        async () => ((await getJson(port, '/readyz')).status === 200 ? true : null),
        120_000,
        'ready',
      );
    }
    const port = await ds[0]!.port;
    const recs = records(MODELS_DIR, 'w', n, 17);
    const cpu0 = ds.map((d) => ticks(d.child.pid!));
    const t0 = performance.now();
    for (let i = 0; i < recs.length; i += fileRecords)
      dropWithManifest(landing, `part-${i / fileRecords}`, recs.slice(i, i + fileRecords));
    await waitFor(
      async () => {
        const s = (await getJson(port, '/status')).body as {
          table?: { counters?: { recordsPublished?: number } };
        };
        return (s.table?.counters?.recordsPublished ?? 0) >= n ? true : null;
      },
      900_000,
      'every record published',
    );
    const seconds = (performance.now() - t0) / 1000;
    const cpuSeconds = ds.reduce((a, d, i) => a + (ticks(d.child.pid!) - cpu0[i]!) / 100, 0);
    const db = await PgDatabase.open({ ...PG, url: u.toString() });
    try {
      const r = await db.query<{ owner: string; b: number; e: number }>(
        `SELECT claimed_by AS owner, COUNT(*) AS b, COALESCE(SUM(texts_embedded),0) AS e FROM batches WHERE state = 'committed' GROUP BY claimed_by ORDER BY b DESC`,
      );
      const embedded = r.rows.reduce((a, x) => a + x.e, 0);
      return {
        workers,
        records: n,
        seconds: round(seconds, 2),
        recordsPerSecond: round(n / seconds, 1),
        textsEmbedded: embedded,
        cpuSeconds: round(cpuSeconds, 1),
        textsPerCpuSecond: round(embedded / cpuSeconds, 1),
        batches: r.rows.reduce((a, x) => a + x.b, 0),
        batchesByWorker: r.rows.map((x) => x.b),
      };
    } finally {
      await db.close();
    }
  } finally {
    for (const d of ds) d.child.kill('SIGTERM');
    await Promise.all(
      ds.map((d) => new Promise((r) => (d.child.exitCode !== null ? r(null) : d.child.on('close', r)))),
    );
    rmSync(dir, { recursive: true, force: true });
    const a = await PgDatabase.open({ ...PG, url: baseUrl });
    await a.query(`DROP DATABASE IF EXISTS ${dbName} WITH (FORCE)`).catch(() => undefined);
    await a.close();
  }
}

const median = (xs: readonly number[]): number => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2]! : (s[s.length / 2 - 1]! + s[s.length / 2]!) / 2;
};

async function main(): Promise<void> {
  const f = parseFlags({
    records: { type: 'string' },
    repeats: { type: 'string' },
    model: { type: 'string' },
    threads: { type: 'string' },
  });
  const n = num(f.records, f.quick ? 400 : 3000, 'records');
  const repeats = num(f.repeats, f.quick ? 1 : 2, 'repeats');
  const model = typeof f.model === 'string' ? f.model : NEURAL_MODEL;
  const threads = num(f.threads, 1, 'threads');
  const m = machine();
  let url = process.env.PG_TEST_URL ?? null;
  let pgDir: string | null = null;
  const server = (await import(
    pathToFileURL(path.join(packageRoot(), 'scripts', 'pg-test-server.mjs')).href
  )) as {
    startServer(dir: string): Promise<{ url: string }>;
    stopServer(dir: string): void;
  };
  if (!url) {
    pgDir = mkdtempSync(path.join(tmpdir(), 'seamline-bench-pg-'));
    url = (await server.startServer(pgDir)).url;
  }
  const runs: WorkersRun[] = [];
  try {
    for (let r = 0; r < repeats; r++)
      for (const w of [1, 2]) {
        // Files above processor.lanes.liveMaxFileRecords (500): a backfill, sliced by the backlog lane's time box.
        const run = await oneRun(url, w, n, model, threads, Math.max(600, Math.ceil(n / 4)));
        runs.push(run);
        process.stderr.write(`${JSON.stringify(run)}\n`);
      }
  } finally {
    if (pgDir) server.stopServer(pgDir);
  }
  const by = (w: number) => runs.filter((r) => r.workers === w);
  const med = (w: number, k: 'recordsPerSecond' | 'textsPerCpuSecond' | 'cpuSeconds' | 'seconds') =>
    round(median(by(w).map((r) => r[k])), 1);
  const result = {
    machine: m,
    loadAvgAtEnd: round(os.loadavg()[0]!, 2),
    model,
    threadsPerWorker: threads,
    records: n,
    repeats,
    runs,
    median: {
      oneWorker: {
        recordsPerSecond: med(1, 'recordsPerSecond'),
        textsPerCpuSecond: med(1, 'textsPerCpuSecond'),
        seconds: med(1, 'seconds'),
        cpuSeconds: med(1, 'cpuSeconds'),
      },
      twoWorkers: {
        recordsPerSecond: med(2, 'recordsPerSecond'),
        textsPerCpuSecond: med(2, 'textsPerCpuSecond'),
        seconds: med(2, 'seconds'),
        cpuSeconds: med(2, 'cpuSeconds'),
      },
    },
    ratio2over1: {
      recordsPerSecond: round(med(2, 'recordsPerSecond') / med(1, 'recordsPerSecond'), 2),
      textsPerCpuSecond: round(med(2, 'textsPerCpuSecond') / med(1, 'textsPerCpuSecond'), 2),
    },
  };
  const file = writeResult(f.out, 'workers', result);
  if (f.json) process.stdout.write(JSON.stringify(result) + '\n');
  else
    process.stdout.write(
      `${table(
        ['workers', 'records/s (median)', 'wall s', 'CPU s', 'embedded texts / CPU s'],
        [1, 2].map((w) => [
          w,
          med(w, 'recordsPerSecond'),
          med(w, 'seconds'),
          med(w, 'cpuSeconds'),
          med(w, 'textsPerCpuSecond'),
        ]),
      )}\n2 workers / 1 worker: records/s ${result.ratio2over1.recordsPerSecond}x, texts per CPU-second ${result.ratio2over1.textsPerCpuSecond}x` +
        ` (${model}, ${threads} thread(s) per worker, ${n} records, load ${m.loadAvgAtStart} → ${result.loadAvgAtEnd})\nresults: ${file}\n`,
    );
}

await main();
