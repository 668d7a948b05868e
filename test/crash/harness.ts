// The crash harness: a generated stream of landing files (duplicates, out-of-order versions, deletes,
// metadata-only updates, re-drops, long texts that chunk, a few bad records) fed to the real CLI as a
// subprocess that is SIGKILLed at every named fault point and at random times, restarted, and at the end
// compared with an oracle computed from the inputs alone. Used by test/e2e/processor-crash.test.ts (CI)
// and test/crash/run.ts (`npm run test:crash -- --cycles 1000`).
import { readdirSync, rmSync } from 'node:fs';
import path from 'node:path';
import { packageRoot } from '../../src/config/load.js';
import { openSqlite } from '../../src/store/sqlite/db.js';
import { WorkerEmbedder } from '../../src/embed/worker-embedder.js';
import { contentHash, normalizeText, rowKeyOf } from '../../src/processor/materialize-plan.js';
import { FAULT_POINTS, type FaultPoint } from '../../src/runtime/fault.js';
import type { VectorRow } from '../../src/ports/vector-store.js';
import { startCli, workspace, type Workspace } from '../helpers/cli.js';
import { openPg } from '../helpers/postgres.js';
import { servingRows, servingRowsPg } from '../helpers/table.js';

export const MODEL_ID = 'local/glove-sif-100d';
export const CHUNKING = { maxTokens: 12, overlapTokens: 3 } as const;

/**
 * Named fault points the harness kills at: every point of the ingest path (processor, landing,
 * reconcile). Reindex points belong to the reindex kill test; mid-replay to the replay command path.
 */
export const NAMED_POINTS: readonly FaultPoint[] = FAULT_POINTS.filter(
  (p) => !p.startsWith('reindex-') && p !== 'mid-replay',
);
export type CycleMode = FaultPoint | 'random-kill' | 'daemon-kill' | 'clean';

// ---------------------------------------------------------------- generator

/** mulberry32: small seeded PRNG so a failing seed can be replayed. */
export function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const WORDS = (
  'river granite lantern orchard violin harbor comet meadow falcon copper glacier pepper castle desert engine forest garden island jungle kettle ' +
  'ladder market needle ocean palace quarry rocket saddle temple umbrella valley wagon yacht zebra anchor basket candle dragon eagle feather ' +
  'guitar hammer jacket kitten lemon mirror nickel oyster pillow rabbit silver tiger velvet window barley cactus dolphin ember fossil'
).split(' ');

export interface GenRecord {
  readonly id: string;
  readonly version: number;
  readonly eventTimeMs: number;
  readonly op: 'upsert' | 'delete';
  readonly text: string;
  readonly tag: string;
  /** False for records the contract must quarantine (zone-less timestamp). */
  readonly valid: boolean;
  readonly line: string;
}

export interface GenFile {
  readonly name: string;
  readonly content: string;
  readonly records: readonly GenRecord[];
}

const iso = (ms: number): string => new Date(ms).toISOString();

/** Generates the stream. Every (id, version, event time) names one content: ties only between exact copies. */
export class StreamGen {
  private readonly rnd: () => number;
  private readonly maxVersion = new Map<string, number>();
  private readonly live = new Map<string, GenRecord>();
  private readonly history: GenRecord[] = [];
  private clock = Date.parse('2026-01-01T00:00:00Z');
  private fileNo = 0;
  readonly files: GenFile[] = [];

  constructor(
    seed: number,
    private readonly idCount = 24,
  ) {
    this.rnd = prng(seed);
  }

  private pick<T>(xs: readonly T[]): T {
    return xs[Math.floor(this.rnd() * xs.length)]!;
  }

  private text(): string {
    // 2..40 words: with 12-token chunks most texts chunk, and a new version often has fewer chunks.
    const n = 2 + Math.floor(this.rnd() ** 2 * 39);
    return Array.from({ length: n }, () => this.pick(WORDS)).join(' ');
  }

  private make(
    id: string,
    version: number,
    op: 'upsert' | 'delete',
    text: string,
    tag: string,
    valid = true,
  ): GenRecord {
    this.clock += 1000;
    const eventTimeMs = this.clock;
    const et = valid ? iso(eventTimeMs) : iso(eventTimeMs).replace('Z', '');
    const obj: Record<string, unknown> = {
      id,
      version,
      event_time: et,
      text: op === 'delete' ? '' : text,
      tag,
    };
    if (op === 'delete') obj.op = 'delete';
    return {
      id,
      version,
      eventTimeMs,
      op,
      text: op === 'delete' ? '' : text,
      tag,
      valid,
      line: JSON.stringify(obj),
    };
  }

  private record(): GenRecord {
    const id = `doc-${Math.floor(this.rnd() * this.idCount)}`;
    const max = this.maxVersion.get(id);
    const r = this.rnd();
    let rec: GenRecord;
    if (r < 0.1 && this.history.length > 0) return this.pick(this.history); // exact duplicate (re-sent event)
    if (r < 0.25 && max !== undefined && max > 0)
      rec = this.make(id, Math.floor(this.rnd() * max), 'upsert', this.text(), `late-${this.fileNo}`);
    else if (r < 0.32 && max !== undefined)
      rec = this.make(id, max, 'upsert', this.text(), `same-${this.fileNo}`);
    else if (r < 0.4 && max !== undefined) rec = this.make(id, max + 1, 'delete', '', `del-${this.fileNo}`);
    else if (r < 0.47 && this.live.has(id))
      rec = this.make(id, max! + 1, 'upsert', this.live.get(id)!.text, `meta-${this.fileNo}`);
    else if (r < 0.5) return this.make(id, (max ?? 0) + 1, 'upsert', this.text(), 'bad', false);
    else
      rec = this.make(
        id,
        (max ?? 0) + 1 + Math.floor(this.rnd() * 2),
        'upsert',
        this.text(),
        `v-${this.fileNo}`,
      );
    this.history.push(rec);
    this.maxVersion.set(id, Math.max(max ?? 0, rec.version));
    const cur = this.live.get(id);
    if (
      !cur ||
      rec.version > cur.version ||
      (rec.version === cur.version && rec.eventTimeMs > cur.eventTimeMs)
    ) {
      if (rec.op === 'delete') this.live.delete(id);
      else this.live.set(id, rec);
    }
    return rec;
  }

  /** A new file of 2..8 records (live lane), or `size` records (a backfill: the backlog lane slices it). */
  nextFile(size?: number): GenFile {
    this.fileNo += 1;
    const n = size ?? 2 + Math.floor(this.rnd() * 7);
    const records = Array.from({ length: n }, () => this.record());
    const f = {
      name: `f${String(this.fileNo).padStart(5, '0')}.jsonl`,
      content: records.map((x) => x.line).join('\n') + '\n',
      records,
    };
    this.files.push(f);
    return f;
  }

  /** The same bytes as an earlier file under a new name (the loader must treat it as a duplicate). */
  redrop(): GenFile | null {
    if (this.files.length === 0) return null;
    const src = this.pick(this.files);
    this.fileNo += 1;
    const f = {
      name: `redrop-${String(this.fileNo).padStart(5, '0')}.jsonl`,
      content: src.content,
      records: src.records,
    };
    this.files.push(f);
    return f;
  }
}

// ---------------------------------------------------------------- oracle

export interface Expected {
  readonly winner: GenRecord;
  /** Where the winner's bytes appear: "file:line" (several for duplicates and re-drops). */
  readonly positions: ReadonlySet<string>;
}

/** Latest wins per id (version, then event time), computed from the inputs alone. */
export function oracle(files: readonly GenFile[]): { expected: Map<string, Expected>; invalid: number } {
  const best = new Map<string, GenRecord>();
  const positions = new Map<string, Set<string>>();
  for (const f of files) {
    f.records.forEach((r, i) => {
      // Re-drops count too: which copy of the same bytes lands first depends on crashes and scan order.
      if (!r.valid) return;
      const key = `${r.id}\u0000${r.version}\u0000${r.eventTimeMs}`;
      let p = positions.get(key);
      if (!p) positions.set(key, (p = new Set()));
      p.add(`${f.name}:${i + 1}`);
      const cur = best.get(r.id);
      if (!cur || r.version > cur.version || (r.version === cur.version && r.eventTimeMs > cur.eventTimeMs))
        best.set(r.id, r);
    });
  }
  const expected = new Map<string, Expected>();
  for (const [id, w] of best)
    if (w.op === 'upsert')
      expected.set(id, {
        winner: w,
        positions: positions.get(`${id}\u0000${w.version}\u0000${w.eventTimeMs}`)!,
      });
  let invalid = 0;
  for (const f of files)
    if (files.find((g) => g.content === f.content) === f) invalid += f.records.filter((r) => !r.valid).length;
  return { expected, invalid };
}

export interface Violations {
  /** Committed batches per lane (both must be > 0 for the run to have exercised the two lanes). */
  lanes: Record<string, number>;
  /** Distinct workers that committed batches (PostgreSQL mode: batch claims; 0 with SQLite). */
  committers: number;
  lost: number;
  duplicate: number;
  stale: number;
  unexpected: number;
  provenance: number;
  ledger: number;
  quarantine: number;
  examples: string[];
}

export const totalViolations = (v: Violations): number =>
  v.lost + v.duplicate + v.stale + v.unexpected + v.provenance + v.ledger + v.quarantine;

/** Compares the serving table (and the ledger) with the oracle. */
export async function compare(
  ws: Workspace,
  files: readonly GenFile[],
  embedder: WorkerEmbedder,
  pgUrl?: string,
): Promise<Violations> {
  const v: Violations = {
    lanes: {},
    committers: 0,
    lost: 0,
    duplicate: 0,
    stale: 0,
    unexpected: 0,
    provenance: 0,
    ledger: 0,
    quarantine: 0,
    examples: [],
  };
  const note = (kind: keyof Omit<Violations, 'examples' | 'lanes' | 'committers'>, msg: string): void => {
    v[kind] += 1;
    if (v.examples.length < 12) v.examples.push(`${kind}: ${msg}`);
  };
  const { expected, invalid } = oracle(files);
  const rows = pgUrl ? await servingRowsPg(pgUrl, ws.data) : await servingRows(ws.data);
  const byKey = new Map<string, VectorRow[]>();
  for (const r of rows) {
    const k = rowKeyOf(r.id, r.chunk);
    const l = byKey.get(k) ?? [];
    l.push(r);
    byKey.set(k, l);
    if (r.rowKey !== k)
      note('provenance', `row_key ${JSON.stringify(r.rowKey)} does not match id/chunk ${r.id}/${r.chunk}`);
  }
  for (const [k, l] of byKey)
    if (l.length > 1) note('duplicate', `${l.length} rows for ${JSON.stringify(k)}`);

  const facts = await ledgerFacts(ws, pgUrl);
  const writers = new Set(facts.batches.filter((b) => b.state === 'committed').map((b) => b.batch_id));
  for (const r of facts.replays) writers.add(r);
  for (const b of facts.batches)
    if (b.state !== 'committed') note('ledger', `batch ${b.batch_id} is ${b.state}`);
  for (const o of facts.open.slice(0, 5))
    note(
      'ledger',
      `file ${o.id} is committed up to seq ${o.c ?? 'none'} of ${o.to_} (bronze max ${facts.maxSeq})`,
    );
  if (facts.open.length > 5) note('ledger', `${facts.open.length - 5} more file(s) not fully committed`);
  const lanesUsed = facts.lanes;
  v.committers = facts.committers;
  if (facts.quarantined !== invalid)
    note(
      'quarantine',
      `${facts.quarantined} quarantined record(s), the inputs hold ${invalid} invalid one(s)`,
    );
  if (facts.notLanded > 0) note('ledger', `${facts.notLanded} file(s) not landed cleanly`);

  // Expected chunks, from the model's own tokenizer; expected vectors, from the model.
  const ids = [...expected.keys()].sort();
  const chunks = await embedder.chunk(
    ids.map((id) => expected.get(id)!.winner.text),
    CHUNKING.maxTokens,
    CHUNKING.overlapTokens,
  );
  const want = new Map<string, { id: string; chunk: number; count: number; text: string; tokens: number }>();
  ids.forEach((id, i) =>
    chunks[i]!.forEach((c, j) =>
      want.set(rowKeyOf(id, j), { id, chunk: j, count: chunks[i]!.length, text: c.text, tokens: c.tokens }),
    ),
  );
  const wantList = [...want.values()];
  const vecs = await embedder.embed(wantList.map((w) => ({ text: normalizeText(w.text), tokens: w.tokens })));
  const wantVec = new Map(wantList.map((w, i) => [rowKeyOf(w.id, w.chunk), vecs[i]!]));

  for (const [k, w] of want) {
    const got = byKey.get(k)?.[0];
    if (!got) {
      note('lost', `${JSON.stringify(k)} (v${expected.get(w.id)!.winner.version}) is missing`);
      continue;
    }
    const e = expected.get(w.id)!.winner;
    const problems: string[] = [];
    if (got.sourceVersion !== e.version) problems.push(`version ${got.sourceVersion} != ${e.version}`);
    if (got.eventTimeMs !== e.eventTimeMs)
      problems.push(`event time ${got.eventTime} != ${iso(e.eventTimeMs)}`);
    if (got.text !== w.text) problems.push(`text differs`);
    if (got.chunkCount !== w.count) problems.push(`chunk_count ${got.chunkCount} != ${w.count}`);
    if ((JSON.parse(got.metadataJson) as { tag?: unknown }).tag !== e.tag)
      problems.push(`metadata ${got.metadataJson} (want tag ${e.tag})`);
    const ev = wantVec.get(k)!;
    let dot = 0;
    for (let i = 0; i < ev.length; i++) dot += ev[i]! * (got.vector[i] ?? 0);
    if (!(dot > 0.999)) problems.push(`vector cosine ${dot.toFixed(4)} to the text's embedding`);
    if (problems.length) note('stale', `${JSON.stringify(k)}: ${problems.join('; ')}`);
    // Provenance (I7).
    const prov: string[] = [];
    if (!expected.get(w.id)!.positions.has(`${got.file}:${got.line}`))
      prov.push(`file:line ${got.file}:${got.line} is not where v${e.version} came from`);
    if (!writers.has(got.batchId)) prov.push(`batch ${got.batchId} is not a committed batch or replay`);
    if (got.contentHash !== contentHash(MODEL_ID, w.text)) prov.push('content hash');
    if (got.modelId !== MODEL_ID || got.dim !== 100 || got.vector.length !== 100)
      prov.push(`model ${got.modelId}/${got.dim}`);
    if (got.pipelineVersion !== '1') prov.push(`pipeline version ${got.pipelineVersion}`);
    if (!(got.bronzeSeq > 0) || Number.isNaN(Date.parse(got.embeddedAt)))
      prov.push(`bronze_seq ${got.bronzeSeq} / embedded_at ${got.embeddedAt}`);
    if (prov.length) note('provenance', `${JSON.stringify(k)}: ${prov.join('; ')}`);
  }
  for (const k of byKey.keys())
    if (!want.has(k)) note('unexpected', `${JSON.stringify(k)} should not be in the table`);
  v.lanes = lanesUsed;
  return v;
}

/** What the oracle checks in the ledger, read from the store the run used. */
interface LedgerFacts {
  batches: { batch_id: string; state: string }[];
  replays: string[];
  maxSeq: number;
  /** Published files not fully committed to the serving table. */
  open: { id: number; to_: number; c: number | null }[];
  lanes: Record<string, number>;
  quarantined: number;
  notLanded: number;
  committers: number;
}

const FACTS_SQL = {
  batches: 'SELECT batch_id, state FROM batches',
  replays: 'SELECT replay_id FROM replays',
  maxSeq: 'SELECT COALESCE(MAX(seq),0) AS s FROM bronze',
  serving: 'SELECT table_name AS t FROM serving',
  open: `SELECT f.file_id AS id, f.seq_to AS to_, p.committed_to AS c FROM files f LEFT JOIN file_progress p ON p.file_id = f.file_id AND p.table_name = $1
         WHERE f.state IN ('verified','unverified') AND f.seq_to IS NOT NULL AND (p.committed_to IS NULL OR p.committed_to < f.seq_to)`,
  lanes: `SELECT lane, COUNT(*) AS n FROM batches WHERE state = 'committed' GROUP BY lane`,
  quarantined: 'SELECT COUNT(*) AS n FROM quarantine',
  notLanded: `SELECT COUNT(*) AS n FROM files WHERE state NOT IN ('verified','unverified')`,
  committers: `SELECT COUNT(DISTINCT claimed_by) AS n FROM batches WHERE state = 'committed'`,
};

async function ledgerFacts(ws: Workspace, pgUrl: string | undefined): Promise<LedgerFacts> {
  type Q = <R>(sql: string, params?: unknown[]) => Promise<R[]>;
  const read = async (q: Q): Promise<LedgerFacts> => {
    const serving = (await q<{ t: string }>(FACTS_SQL.serving))[0]?.t ?? '';
    return {
      batches: await q<{ batch_id: string; state: string }>(FACTS_SQL.batches),
      replays: (await q<{ replay_id: string }>(FACTS_SQL.replays)).map((r) => r.replay_id),
      maxSeq: Number((await q<{ s: number }>(FACTS_SQL.maxSeq))[0]!.s),
      open: await q<{ id: number; to_: number; c: number | null }>(FACTS_SQL.open, [serving]),
      lanes: Object.fromEntries(
        (await q<{ lane: string; n: number }>(FACTS_SQL.lanes)).map((l) => [l.lane, Number(l.n)]),
      ),
      quarantined: Number((await q<{ n: number }>(FACTS_SQL.quarantined))[0]!.n),
      notLanded: Number((await q<{ n: number }>(FACTS_SQL.notLanded))[0]!.n),
      committers: Number((await q<{ n: number }>(FACTS_SQL.committers))[0]!.n),
    };
  };
  if (pgUrl) {
    const db = await openPg(pgUrl, { poolMax: 1 });
    try {
      return await read(
        async <R>(sql: string, params: unknown[] = []) =>
          (await db.query<R & object>(sql, params)).rows as R[],
      );
    } finally {
      await db.close();
    }
  }
  const db = openSqlite(path.join(ws.data, 'seamline.db'), { synchronous: 'FULL', busyTimeoutMs: 5000 });
  try {
    return await read(<R>(sql: string, params: unknown[] = []) =>
      Promise.resolve(db.prepare(sql.replace(/\$\d+/g, '?')).all(...params) as R[]),
    );
  } finally {
    db.close();
  }
}

// ---------------------------------------------------------------- runner

export interface HarnessOptions {
  readonly seed: number;
  /** Stop after this many cycles… */
  readonly maxCycles: number;
  /** …or as soon as this many cycles ended in a SIGKILL (0 = run maxCycles). */
  readonly minKills?: number;
  /** SEAMLINE_UNSAFE value for every run (test-only breakage the oracle must catch). */
  readonly unsafe?: string;
  /** Only clean runs (no kills): for the unsafe checks. */
  readonly noKills?: boolean;
  /**
   * PostgreSQL mode (issue 16): the stores live in this (empty) database and every cycle runs TWO workers
   * at once on it and on the one shared data folder; a kill hits either of them (the other runs on).
   */
  readonly postgresUrl?: string;
  readonly log?: (line: string) => void;
  readonly keep?: boolean;
}

export interface HarnessReport {
  readonly seed: number;
  readonly cycles: number;
  readonly kills: number;
  readonly killsByMode: Record<string, number>;
  readonly cyclesByMode: Record<string, number>;
  readonly tailLosses: number;
  readonly files: number;
  readonly records: number;
  readonly errors: string[];
  readonly violations: Violations;
  readonly ms: number;
  readonly dir: string;
}

function harnessConfig(pgUrl?: string): Record<string, unknown> {
  return {
    ...(pgUrl ? { db: { kind: 'postgres', url: pgUrl } } : {}),
    log: { level: 'error' },
    chunking: CHUNKING,
    model: { id: MODEL_ID },
    // Two lanes busy: files of ≤ 8 records are live, backfills (20..60 records) go to the backlog lane and
    // are sliced into batches of ≤ 7 records, so live and backlog batches interleave over the same ids.
    processor: {
      maxRecords: 7,
      maxFiles: 2,
      triggerIntervalMs: 100,
      lanes: { liveMaxFileRecords: 8, startupToBacklog: false, liveMaxAgeMs: 3_600_000 },
      backlog: { timeBoxMs: 5, ingestTimeBoxMs: 5, initialRecords: 3, minRecords: 2, maxShare: 0.7 },
    },
    completeness: { stableWindowMs: 100 },
    landing: { rescanIntervalMs: 300, afterLanding: 'archive' },
    contract: { metadata: { tag: 'string' } },
    // The stream holds a few bad records on purpose; the quarantine gate is tested on its own.
    gates: { quarantineMinRecords: 1_000_000 },
    http: { port: 0 },
  };
}

/** Deletes the newest 1–2 table versions' manifests: what a power loss does to unsynced LanceDB commits. */
export function loseTail(dataDir: string, rnd: () => number): number {
  const lance = path.join(dataDir, 'lance');
  let tables: string[];
  try {
    tables = readdirSync(lance).filter((n) => n.endsWith('.lance'));
  } catch {
    return 0;
  }
  let lost = 0;
  for (const t of tables) {
    const dir = path.join(lance, t, '_versions');
    const versions = readdirSync(dir)
      .filter((n) => n.endsWith('.manifest'))
      .map((n) => ({ n, v: 18446744073709551615n - BigInt(n.replace('.manifest', '')) }))
      .sort((a, b) => (a.v < b.v ? 1 : -1));
    const k = Math.min(1 + Math.floor(rnd() * 2), versions.length - 2);
    for (let i = 0; i < k; i++) rmSync(path.join(dir, versions[i]!.n));
    rmSync(path.join(dir, 'latest_version_hint.json'), { force: true });
    lost += Math.max(0, k);
  }
  return lost;
}

async function runProcess(
  ws: Workspace,
  mode: CycleMode,
  rnd: () => number,
  unsafe: string | undefined,
): Promise<{ killed: boolean; code: number | null; stderr: string }> {
  const extra: Record<string, string> = {};
  if (unsafe) extra.SEAMLINE_UNSAFE = unsafe;
  if ((NAMED_POINTS as readonly string[]).includes(mode))
    extra.SEAMLINE_FAULT = `${mode}:${1 + Math.floor(rnd() * 2)}`;
  const daemon = mode === 'daemon-kill';
  const p = startCli(daemon ? ['run'] : ['ingest', '--once'], ws.env(extra));
  let timer: NodeJS.Timeout | undefined;
  if (mode === 'random-kill' || daemon)
    timer = setTimeout(() => p.child.kill('SIGKILL'), Math.floor((daemon ? 500 : 100) + rnd() * 1800));
  const hard = setTimeout(() => p.child.kill('SIGKILL'), 90_000);
  try {
    const r = await p.exited;
    return { killed: r.signal === 'SIGKILL', code: r.code, stderr: r.stderr };
  } finally {
    clearTimeout(timer);
    clearTimeout(hard);
  }
}

/**
 * PostgreSQL mode: two workers at once (both `ingest --once`, or both daemons). The fault point or the
 * random kill hits one of them, chosen at random; the other runs on (daemons: it is killed a little later).
 */
async function runTwoWorkers(
  ws: Workspace,
  mode: CycleMode,
  rnd: () => number,
  unsafe: string | undefined,
): Promise<{ killed: boolean; code: number | null; stderr: string }> {
  const base: Record<string, string> = unsafe ? { SEAMLINE_UNSAFE: unsafe } : {};
  const victim = rnd() < 0.5 ? 0 : 1;
  const fault: Record<string, string> = (NAMED_POINTS as readonly string[]).includes(mode)
    ? { SEAMLINE_FAULT: `${mode}:${1 + Math.floor(rnd() * 2)}` }
    : {};
  const daemon = mode === 'daemon-kill';
  const procs = [0, 1].map((i) =>
    startCli(daemon ? ['run'] : ['ingest', '--once'], ws.env({ ...base, ...(i === victim ? fault : {}) })),
  );
  const timers: NodeJS.Timeout[] = [];
  if (mode === 'random-kill' || daemon) {
    const at = Math.floor((daemon ? 800 : 300) + rnd() * 2500);
    timers.push(setTimeout(() => procs[victim]!.child.kill('SIGKILL'), at));
    if (daemon)
      timers.push(
        setTimeout(() => procs[1 - victim]!.child.kill('SIGKILL'), at + 300 + Math.floor(rnd() * 1500)),
      );
  }
  timers.push(setTimeout(() => procs.forEach((p) => p.child.kill('SIGKILL')), 120_000));
  try {
    const rs = await Promise.all(procs.map((p) => p.exited));
    const failed = rs.find((r) => r.signal !== 'SIGKILL' && r.code !== 0);
    return {
      killed: rs.some((r) => r.signal === 'SIGKILL'),
      code: failed ? failed.code : 0,
      stderr: failed ? failed.stderr : '',
    };
  } finally {
    timers.forEach(clearTimeout);
  }
}

/** Runs the whole harness in a fresh workspace and returns the report (the workspace is removed unless keep). */
export async function runHarness(o: HarnessOptions): Promise<HarnessReport> {
  const t0 = Date.now();
  const rnd = prng(o.seed ^ 0x9e3779b9);
  const gen = new StreamGen(o.seed);
  const ws = workspace(harnessConfig(o.postgresUrl));
  const log = o.log ?? (() => undefined);
  const killsByMode: Record<string, number> = {};
  const cyclesByMode: Record<string, number> = {};
  const errors: string[] = [];
  let kills = 0;
  let tailLosses = 0;
  let cycles = 0;
  const embedderP = WorkerEmbedder.start({
    modelId: MODEL_ID,
    modelsDir: path.join(packageRoot(), 'models'),
    dtype: 'auto',
    allowRemote: false,
    threads: 1,
    maxBatchTokens: 8192,
    maxBatchTexts: 64,
  });
  try {
    const modes: CycleMode[] = o.noKills
      ? ['clean']
      : [...NAMED_POINTS, 'random-kill', 'random-kill', 'daemon-kill', 'clean'];
    while (cycles < o.maxCycles && !(o.minKills && kills >= o.minKills)) {
      // Every mode once first, then a random mix that favours named points not yet killed at
      // (mid-chunk-cleanup and mid-reconcile are only reached when an id loses chunks / the table lost versions).
      const unhit = o.noKills ? [] : NAMED_POINTS.filter((p) => !killsByMode[p]);
      const mode: CycleMode =
        cycles < modes.length
          ? modes[cycles]!
          : unhit.length > 0 && rnd() < 0.5
            ? unhit[Math.floor(rnd() * unhit.length)]!
            : modes[Math.floor(rnd() * modes.length)]!;
      cycles += 1;
      const r = rnd();
      if (r < 0.85 || gen.files.length === 0)
        ws.drop(gen.nextFile().name, gen.files[gen.files.length - 1]!.content);
      else {
        const f = gen.redrop();
        if (f) ws.drop(f.name, f.content);
      }
      if (rnd() < 0.3) ws.drop(gen.nextFile().name, gen.files[gen.files.length - 1]!.content);
      // A backfill now and then (and in the first cycle): the backlog lane works while live files land.
      if (cycles === 1 || rnd() < 0.2) {
        const f = gen.nextFile(20 + Math.floor(rnd() * 41));
        ws.drop(f.name, f.content);
      }
      if (mode === 'mid-reconcile' || (!o.noKills && rnd() < 0.06)) tailLosses += loseTail(ws.data, rnd);
      const res = o.postgresUrl
        ? await runTwoWorkers(ws, mode, rnd, o.unsafe)
        : await runProcess(ws, mode, rnd, o.unsafe);
      cyclesByMode[mode] = (cyclesByMode[mode] ?? 0) + 1;
      if (res.killed) {
        kills += 1;
        killsByMode[mode] = (killsByMode[mode] ?? 0) + 1;
      }
      // Two workers: the one not killed must still succeed.
      if ((!res.killed || o.postgresUrl) && res.code !== 0)
        errors.push(
          `cycle ${cycles} (${mode}): exit ${res.code}: ${res.stderr.trim().split('\n').slice(-2).join(' | ').slice(0, 600)}`,
        );
      log(`cycle ${cycles} ${mode}: ${res.killed ? 'killed' : `exit ${res.code}`} (kills ${kills})`);
    }
    // Settle: a clean run lands and processes whatever is left (a broken pipeline may never settle).
    for (let i = 0; i < 3; i++) {
      const res = await runProcess(ws, 'clean', rnd, o.unsafe);
      if (res.code === 0) break;
      errors.push(
        `settle ${i + 1}: exit ${res.code}: ${res.stderr.trim().split('\n').slice(-2).join(' | ').slice(0, 600)}`,
      );
    }
    const embedder = await embedderP;
    const violations = await compare(ws, gen.files, embedder, o.postgresUrl);
    const records = gen.files.reduce((a, f) => a + f.records.length, 0);
    return {
      seed: o.seed,
      cycles,
      kills,
      killsByMode,
      cyclesByMode,
      tailLosses,
      files: gen.files.length,
      records,
      errors,
      violations,
      ms: Date.now() - t0,
      dir: ws.dir,
    };
  } finally {
    await (await embedderP.catch(() => null))?.close();
    if (!o.keep) ws.cleanup();
  }
}
