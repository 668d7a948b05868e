import path from 'node:path';
import { Loader } from '../landing/loader.js';
import { LandingService } from '../landing/service.js';
import { openWritersFor } from '../landing/writers.js';
import type { BacklogRules } from '../processor/lanes.js';
import type { MergeGate } from '../processor/merge-window.js';
import { Processor } from '../processor/processor.js';
import { PrefetchingEmbedder, TableWriterLease, type WorkerCoordination } from '../processor/workers.js';
import type { Embedder } from '../ports/embedder.js';
import { selfHolder } from '../runtime/holder.js';
import type { FaultHook } from '../runtime/fault.js';
import type { Runtime } from '../runtime/runtime.js';

export interface TestHooks {
  readonly fault: FaultHook;
  readonly unsafe: ReadonlySet<'no-guard' | 'no-dedupe'>;
}

export interface PipelineOptions {
  /** ingest --once: the one-shot backlog time box. */
  readonly oneShot?: boolean;
  /** The daemon's maintenance window, awaited before each merge (processor/merge-window.ts). */
  readonly mergeGate?: MergeGate;
}

/** Wires the loader, the landing service and the processor for the serving table's model. */
export async function buildPipeline(
  rt: Runtime,
  hooks: TestHooks,
  startedAtMs?: number,
  opts: PipelineOptions = {},
): Promise<{ landing: LandingService; processor: Processor }> {
  const c = rt.config;
  const landing = buildLanding(rt, hooks);
  const serving = await rt.tables.serving();
  const modelId = serving?.modelId ?? c.model.id;
  if (serving && serving.modelId !== c.model.id) {
    rt.logger.warn(
      { event: 'model.mismatch', serving_model: serving.modelId, configured_model: c.model.id },
      `the serving table ${serving.tableName} uses ${serving.modelId}; model.id is ${c.model.id}. Ingest keeps using ${serving.modelId}; run \`seamline reindex\` to switch.`,
    );
  }
  const workers = workersOf(rt, await rt.embedder(modelId));
  const processor = new Processor(
    {
      ...(workers ? { workers, embedder: workers.embedder } : { embedder: await rt.embedder(modelId) }),
      bronze: rt.bronze,
      ledger: rt.ledger,
      clock: rt.clock,
      logger: rt.logger,
      fault: hooks.fault,
      chunking: c.chunking,
      pipelineVersion: c.pipelineVersion,
      nowIso: () => new Date(rt.clock.nowMs()).toISOString(),
      ...(opts.mergeGate ? { mergeGate: opts.mergeGate } : {}),
    },
    {
      maxRecords: c.processor.maxRecords,
      maxFiles: c.processor.maxFiles,
      modelId,
      pipelineVersion: c.pipelineVersion,
      unsafe: hooks.unsafe,
      gates: c.gates,
      lanes: c.processor.lanes,
      backlog: backlogRulesOf(c.processor.backlog, opts.oneShot === true),
      startedAtMs,
    },
  );
  return { landing, processor };
}

/** The loader and the landing service (the open-writer probe shared between them). */
function buildLanding(rt: Runtime, hooks: TestHooks): LandingService {
  const c = rt.config;
  const writers = openWritersFor(c.completeness.openWriterCheck);
  const loader = new Loader(
    {
      bronze: rt.bronze,
      contract: rt.contract,
      clock: rt.clock,
      logger: rt.logger,
      fault: hooks.fault,
      writers,
      incidents: rt.ledger.incidents(),
    },
    {
      maxLineBytes: c.landing.maxLineBytes,
      quarantineRawBytes: c.landing.quarantineRawBytes,
      afterLanding: c.landing.afterLanding,
      archiveDir: path.join(c.dataDir, 'archive'),
      maxInflatedBytes: c.landing.maxInflatedBytes,
      maxLines: c.landing.maxLines,
      growthWatchMs: c.landing.growthWatchMs,
      stableWindowMs: c.completeness.stableWindowMs,
      closedQuietMs: c.completeness.closedQuietMs,
    },
  );
  return new LandingService(c.landingDir, c.landing.formats, c.completeness, loader, rt.clock, rt.logger, {
    concurrency: c.landing.concurrency,
    orphanManifestMs: c.landing.orphanManifestMs,
    writers,
    bronze: rt.bronze,
    afterLanding: c.landing.afterLanding,
  });
}

/**
 * The processor's backlog rules: the daemon's time box, or the one-shot ingest's (no live file can wait
 * behind an ingest batch, so it may embed longer and pay the fixed merge cost less often).
 */
function backlogRulesOf(
  b: Runtime['config']['processor']['backlog'],
  oneShot: boolean,
): Omit<BacklogRules, 'maxRecords'> {
  const { ingestTimeBoxMs, ...rules } = b;
  return oneShot ? { ...rules, timeBoxMs: ingestTimeBoxMs } : rules;
}

/**
 * With PostgreSQL every seamline process is one of several workers (docs/scale-out.md): it claims batches,
 * embeds before the table's writer lease and merges + commits under it. SQLite: the single writer (null).
 */
function workersOf(
  rt: Runtime,
  embedder: Embedder,
): { coordination: WorkerCoordination; embedder: PrefetchingEmbedder } | null {
  if (rt.config.db.kind !== 'postgres') return null;
  const owner = selfHolder();
  const lease = new TableWriterLease(rt.leases, rt.clock, owner, rt.logger);
  return {
    coordination: {
      owner,
      claimTtlMs: CLAIM_TTL_MS,
      asWriter: (tableName, fn, signal) => lease.asWriter(tableName, fn, signal),
    },
    embedder: new PrefetchingEmbedder(embedder),
  };
}

/** A batch claim's upper bound: it holds while its worker's lease lives, and at most this long. */
const CLAIM_TTL_MS = 10 * 60_000;
