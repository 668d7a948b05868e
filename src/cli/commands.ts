import { mkdir } from 'node:fs/promises';
import { setTimeout as sleep } from 'node:timers/promises';
import type { Config, TestHookSpec } from '../config/load.js';
import { startDaemon } from '../daemon/daemon.js';
import { buildPipeline, type TestHooks } from '../daemon/pipeline.js';
import { SeamlineError } from '../errors/errors.js';
import type { Logger } from '../observability/logger.js';
import { collectStatus } from '../observability/status.js';
import { faultHook } from '../runtime/fault.js';
import { acquireWriter, Leases, WRITER_LEASE } from '../runtime/lock.js';
import { openRuntime } from '../runtime/runtime.js';
import { search, type SearchMode } from '../search/search.js';
import { printOut } from './output.js';

export interface CommandContext {
  readonly config: Config;
  readonly logger: Logger;
  readonly runId: string;
  readonly json: boolean;
  readonly args: readonly string[];
  readonly values: Readonly<Record<string, string | boolean | string[] | undefined>>;
  readonly hooks: TestHookSpec;
}

export type Command = (ctx: CommandContext) => Promise<number>;

const hooksOf = (ctx: CommandContext): TestHooks => ({ fault: faultHook(ctx.hooks.fault), unsafe: ctx.hooks.unsafe });

/** ingest --once: land every complete file present, process all of bronze, exit. */
const ingest: Command = async (ctx) => {
  if (ctx.values.once !== true) throw new SeamlineError('USAGE', 'ingest needs --once (use `seamline run` for the continuous daemon)');
  const rt = await openRuntime(ctx.config, ctx.logger);
  const leases = new Leases(rt.db);
  try {
    const holder = acquireWriter(leases, ctx.config.dataDir, rt.clock.nowMs());
    try {
      await mkdir(ctx.config.landingDir, { recursive: true });
      rt.bronze.recoverLanding();
      const table = (await rt.servingTable(true))!;
      const { landing, processor } = await buildPipeline(rt, hooksOf(ctx));
      let landed = 0;
      let waiting = landing.waiting();
      // Files still settling get up to a few stability windows; files waiting for a manifest are reported.
      for (let pass = 0; pass < 20; pass++) {
        const r = await landing.tick();
        landed += r.landed.filter((o) => o.kind === 'landed').length;
        waiting = r.waiting;
        if (!r.waiting.some((w) => w.reason === 'unstable') && !r.landed.some((o) => o.kind === 'changed-while-reading')) break;
        await sleep(Math.max(50, Math.min(ctx.config.completeness.stableWindowMs, 1000)));
      }
      const batches = await processor.drain(table);
      const summary = {
        filesLanded: landed,
        waiting,
        batches: batches.length,
        records: batches.reduce((a, b) => a + b.recordsIn, 0),
        inserted: batches.reduce((a, b) => a + b.result.inserted, 0),
        updated: batches.reduce((a, b) => a + b.result.updated, 0),
        deleted: batches.reduce((a, b) => a + b.result.deleted, 0),
        embedded: batches.reduce((a, b) => a + b.result.embedded, 0),
        reused: batches.reduce((a, b) => a + b.result.reused, 0),
        table: table.name,
        tableRows: await table.countRows(),
        tableVersion: await table.version(),
      };
      printOut(ctx.json, summary, () =>
        [
          `landed ${summary.filesLanded} file(s); ${summary.batches} batch(es), ${summary.records} record(s)`,
          `table ${summary.table}: +${summary.inserted} inserted, ${summary.updated} updated, ${summary.deleted} deleted (embedded ${summary.embedded}, reused ${summary.reused}); ${summary.tableRows} rows, version ${summary.tableVersion}`,
          ...waiting.map((w) => `waiting: ${w.rel}: ${w.detail}`),
        ].join('\n'),
      );
      return 0;
    } finally {
      leases.release(WRITER_LEASE, holder);
    }
  } finally {
    await rt.close();
  }
};

/** run: the daemon, until SIGTERM/SIGINT (a second signal forces exit). */
const run: Command = async (ctx) => {
  const rt = await openRuntime(ctx.config, ctx.logger);
  const d = startDaemon(rt, hooksOf(ctx));
  let signals = 0;
  const onSignal = (sig: NodeJS.Signals): void => {
    signals += 1;
    if (signals > 1) {
      ctx.logger.warn({ event: 'daemon.forced_exit', signal: sig }, 'second signal: exiting now');
      process.exit(130);
    }
    ctx.logger.info({ event: 'daemon.draining', signal: sig }, 'draining: finishing the batch in flight');
    d.stop();
    setTimeout(() => {
      ctx.logger.error({ event: 'daemon.deadline', deadline_ms: ctx.config.shutdownDeadlineMs }, 'shutdown deadline passed; exiting');
      process.exit(1);
    }, ctx.config.shutdownDeadlineMs).unref();
  };
  process.on('SIGTERM', onSignal);
  process.on('SIGINT', onSignal);
  try {
    await d.done;
  } finally {
    await rt.close();
    ctx.logger.info({ event: 'daemon.stopped' }, 'daemon stopped');
  }
  return 0;
};

const searchCmd: Command = async (ctx) => {
  const text = ctx.args.join(' ');
  if (text.trim() === '') throw new SeamlineError('USAGE', 'search needs a query text: seamline search "TEXT" [-k N]');
  const k = ctx.values.k === undefined ? 10 : Number(ctx.values.k);
  const mode = (ctx.values.mode ?? 'vector') as SearchMode;
  if (!['vector', 'fts', 'hybrid'].includes(mode)) throw new SeamlineError('USAGE', `--mode must be vector, fts or hybrid, got "${String(mode)}"`);
  const rt = await openRuntime(ctx.config, ctx.logger);
  try {
    const table = await rt.servingTable(false);
    const serving = rt.tables.serving();
    if (!table || !serving) throw new SeamlineError('USAGE', `nothing is indexed yet in ${ctx.config.dataDir}: drop files into ${ctx.config.landingDir} and run seamline ingest --once`);
    const embedder = await rt.embedder(serving.modelId);
    const results = await search(table, embedder, { text, k, mode });
    printOut(ctx.json, { query: text, k, mode, table: table.name, results }, () =>
      results.length === 0
        ? 'no results'
        : results.map((r, i) => `${i + 1}. ${r.id}#${r.chunk}  score=${r.score.toFixed(4)}  v${r.provenance.sourceVersion}  ${r.provenance.file}:${r.provenance.line}\n   ${r.text.length > 160 ? `${r.text.slice(0, 157)}...` : r.text}`).join('\n'),
    );
    return 0;
  } finally {
    await rt.close();
  }
};

const status: Command = async (ctx) => {
  const rt = await openRuntime(ctx.config, ctx.logger);
  try {
    const s = await collectStatus(rt);
    printOut(ctx.json, s, () => {
      const r = s.records as Record<string, number>;
      const f = s.files as { byState: Record<string, number>; completenessGap: number };
      const t = s.table as Record<string, unknown> | null;
      return [
        `records: read ${r.read} = landed ${r.landed} + quarantined ${r.quarantined}; bronze ${r.bronze}`,
        `files: ${Object.entries(f.byState).map(([k, v]) => `${k} ${v}`).join(', ') || 'none'}; completeness gap (no manifest): ${f.completenessGap}`,
        t ? `table ${String(t.name)} (${String(t.modelId)}, ${String(t.dim)}-d): ${String(t.rows)} rows, version ${String(t.version)}, backlog ${String(t.backlogRecords)} record(s)` : 'table: none yet',
      ].join('\n');
    });
    return 0;
  } finally {
    await rt.close();
  }
};

export const COMMANDS: Readonly<Record<string, Command>> = { ingest, run, search: searchCmd, status };
