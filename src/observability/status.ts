import { landingBacklog } from '../landing/pending.js';
import { openWritersFor } from '../landing/writers.js';
import type { Bronze } from '../ports/bronze.js';
import type { Clock } from '../ports/clock.js';
import type { Ledger } from '../ports/ledger.js';
import type { ReadModel } from '../ports/read-model.js';
import type { TableRegistry } from '../ports/registry.js';
import type { VectorStore } from '../ports/vector-store.js';
import type { Config } from '../config/load.js';
import { laneStatus } from './lanes-status.js';

/** What status reads: the store ports, the vector store, config and clock (a Runtime has them all). */
export interface StatusDeps {
  readonly config: Config;
  readonly clock: Clock;
  readonly bronze: Bronze;
  readonly ledger: Ledger;
  readonly tables: TableRegistry;
  readonly readModel: ReadModel;
  readonly store: VectorStore;
  /** The latest reindex job (the reindex jobs port), or null. */
  readonly latestReindex: () => unknown;
}

/** Everything `status --json` and GET /status report. Counts per stage, read from the stores and the table. */
export async function collectStatus(
  rt: StatusDeps,
  extra: Record<string, unknown> = {},
): Promise<Record<string, unknown>> {
  const serving = await rt.tables.serving();
  const totals = await rt.bronze.totals();
  const files = await rt.bronze.files();
  const maxSeq = await rt.bronze.maxSeq();
  let table: Record<string, unknown> | null = null;
  if (serving) {
    const t = await rt.store.openTable(serving.tableName);
    const committedUpTo = await rt.ledger.committedUpTo(serving.tableName);
    table = {
      name: serving.tableName,
      previous: serving.previous,
      modelId: serving.modelId,
      dim: serving.dim,
      rows: t ? await t.countRows() : null,
      version: t ? await t.version() : null,
      stats: t ? await t.stats() : null,
      committedUpToSeq: committedUpTo,
      // Records of landed files not yet searchable (both lanes, plus files the processor has not seen yet).
      backlogRecords: await (async () => {
        const l = rt.ledger.lanes();
        const b = await l.backlog(serving.tableName);
        return b.live.records + b.backlog.records + (await l.undiscovered(serving.tableName)).records;
      })(),
      // The processor's two lanes: backlog per lane and the live lane's freshness objective (docs/processor.md).
      lanes: await laneStatus(rt, serving.tableName),
      batches: await rt.ledger.batchTotals(serving.tableName),
      indexes: t ? await t.indexes() : [],
      versions: t ? await t.versionCount() : null,
      // Ledger counters (what /metrics exports): published records, failures, embed reuse, optimize, gates.
      counters: await rt.readModel.ledgerCounters(serving.tableName),
    };
  }
  const unverified = files.filter((f) => f.state === 'unverified').length;
  // Landing accounting: read = landed + quarantined + withheld (withheld: good records of incomplete files).
  const backlog = await landingBacklog(
    rt.config.landingDir,
    rt.config.landing.formats,
    rt.bronze,
    rt.config.completeness,
    rt.clock.nowMs(),
    {
      writers: openWritersFor(rt.config.completeness.openWriterCheck),
      orphanManifestMs: rt.config.landing.orphanManifestMs,
    },
  );
  const manifestEvents = await rt.bronze.manifestEventCounts();
  const qByCode = await rt.bronze.quarantineByCode();
  const nState = (st: string): number => totals.files[st] ?? 0;
  return {
    dataDir: rt.config.dataDir,
    landingDir: rt.config.landingDir,
    records: {
      read: totals.read,
      landed: totals.landed,
      quarantined: totals.quarantined,
      withheld: totals.withheld,
      bronze: totals.bronzeRecords,
      maxSeq,
      quarantineByCode: qByCode,
    },
    files: {
      byState: totals.files,
      verified: nState('verified'),
      unverified: nState('unverified'),
      incomplete: nState('incomplete'),
      waiting: backlog.waiting.length,
      completenessGap: unverified,
      waitingList: backlog.waiting,
      refused: backlog.refused,
      // Rows landing bytes appended to a file after it landed (growth after landing).
      continuations: files.filter((f) => f.continuationOf !== null).length,
      list: files.map((f) => ({
        fileId: f.fileId,
        path: f.path,
        state: f.state,
        detail: f.detail,
        read: f.recordsRead,
        landed: f.recordsLanded,
        quarantined: f.recordsQuarantined,
        withheld: f.recordsRead - f.recordsLanded - f.recordsQuarantined,
        newFields: f.newFields,
        seqFrom: f.seqFrom,
        seqTo: f.seqTo,
        continuationOf: f.continuationOf,
        fromByte: f.fromByte,
        landedBytes: f.landedBytes,
        completeAtMs: f.completeAtMs,
        completeBy: f.completeBy,
      })),
    },
    // Landing: how completeness is decided, limits, and manifests that match no data file or came late.
    landing: {
      writerCheck: backlog.writerCheck,
      concurrency: rt.config.landing.concurrency,
      limits: {
        maxInflatedBytes: rt.config.landing.maxInflatedBytes,
        maxLines: rt.config.landing.maxLines,
        refused: { FILE_TOO_LARGE: qByCode.FILE_TOO_LARGE ?? 0, TOO_MANY_LINES: qByCode.TOO_MANY_LINES ?? 0 },
      },
      manifests: {
        waiting: backlog.manifests.filter((m) => m.state === 'waiting').length,
        orphan: backlog.manifests.filter((m) => m.state === 'orphan').length,
        lateMatch: manifestEvents['late-match'] ?? 0,
        lateMismatch: manifestEvents['late-mismatch'] ?? 0,
        unmatched: backlog.manifests,
        late: await rt.bronze.manifestEvents(20),
      },
    },
    keys: await rt.ledger.keyStateCounts(),
    table,
    tables: await rt.tables.list(),
    // The latest reindex job (build progress, catch-up, gates, outcome), or null.
    reindex: await rt.latestReindex(),
    // Batches a gate refused (open) and how they ended (resolved / waived); newest first.
    incidents: await rt.ledger.incidents().list(50),
    ...extra,
  };
}
