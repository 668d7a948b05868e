import type { Bronze } from '../ports/bronze.js';
import type { Config } from '../config/load.js';
import type { FaultHook } from '../runtime/fault.js';
import type { GateResult } from './gates.js';
import type { Ledger } from '../ports/ledger.js';
import type { Logger } from '../observability/logger.js';
import type { Clock } from '../ports/clock.js';
import type { Embedder } from '../ports/embedder.js';
import type { LeaseStore } from '../ports/leases.js';
import type { ReindexStore } from '../ports/reindex-store.js';
import type { VectorStore } from '../ports/vector-store.js';

/** The ports the reindex job uses (wired by runtime/wiring.ts). */
export interface ReindexDeps {
  readonly config: Config;
  readonly logger: Logger;
  readonly clock: Clock;
  readonly leases: LeaseStore;
  readonly jobs: ReindexStore;
  readonly store: VectorStore;
  /** Bronze and the ledger feed materialize (the same code path as the processor). */
  readonly bronze: Bronze;
  readonly ledger: Ledger;
  embedder(modelId?: string): Promise<Embedder>;
}

export interface ReindexOptions {
  /** Model of the new table. Default: config model.id. */
  readonly modelId: string;
  /** Throughput cap in records/s (0 = none). Default: config reindex.maxRecordsPerSecond. */
  readonly maxRps: number;
  /** Absolute path of the evaluation file, or null. */
  readonly evaluationFile: string | null;
  readonly tty: boolean;
  readonly write: (s: string) => void;
  readonly fault: FaultHook;
}

export interface ReindexReport {
  readonly jobId: number;
  readonly state: 'swapped' | 'failed';
  readonly resumed: boolean;
  readonly table: string;
  readonly sourceTable: string;
  readonly modelId: string;
  readonly dim: number;
  readonly sourceModelId: string;
  readonly records: number;
  readonly rowsWritten: number;
  readonly textsEmbedded: number;
  readonly textsReused: number;
  readonly catchUpRounds: number;
  readonly caughtUpSeq: number;
  readonly gates: readonly GateResult[];
  readonly durationMs: number;
  readonly error: string | null;
}

/** What the model, pipeline and chunking of a build are: a job only resumes under the same key. */
export function settingsKeyOf(config: Config, modelId: string): string {
  return JSON.stringify({
    modelId,
    pipelineVersion: config.pipelineVersion,
    maxTokens: config.chunking.maxTokens,
    overlapTokens: config.chunking.overlapTokens,
  });
}
