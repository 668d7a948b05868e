import { loadConfig, type Config } from '../config/load.js';
import { SeamlineError } from '../errors/errors.js';
import { createLogger, newRunId, type LogFormat, type Logger } from '../observability/logger.js';
import { collectStatus } from '../observability/status.js';
import { noFaults } from '../runtime/fault.js';
import { openRuntime, type Runtime } from '../runtime/runtime.js';
import { search, searchLimitsOf, type SearchRequest, type SearchResponse } from '../search/search.js';
import { ingestOnce } from './ingest.js';
import type { IngestSummary } from './types.js';

export interface OpenPipelineOptions {
  /** Path of a JSON config file (relative paths in it resolve against its folder). */
  readonly configFile?: string;
  /** Config as an object instead of a file (same keys as the file; see docs/config.md). */
  readonly config?: Readonly<Record<string, unknown>>;
  /** Base for relative paths of `config`. Default: process.cwd(). */
  readonly cwd?: string;
  /**
   * Environment for `SEAMLINE_*` overrides. Default: none (a library is configured by its caller);
   * pass `process.env` to behave like the CLI.
   */
  readonly env?: NodeJS.ProcessEnv;
  /** A pino logger to use; default: one to stderr at `log.level` in `log.format`. */
  readonly logger?: Logger;
  /** Overrides `log.format` of the config for the default logger. */
  readonly logFormat?: LogFormat;
}

/**
 * Search options; `query` is the first argument of `search`. Defaults: k 10 documents, mode
 * `search.defaultMode` (hybrid), no filters, the model's documented fusion (docs/retrieval.md).
 */
export type SearchOptions = Partial<Omit<SearchRequest, 'query'>>;

/** An open seamline data folder: ingest, search, status, close. */
export interface Pipeline {
  /** The frozen, validated configuration in use. */
  readonly config: Config;
  /** Lands every complete file in the landing folder and processes all of bronze (`ingest --once`). */
  ingest(): Promise<IngestSummary>;
  /**
   * Queries the serving table (the same implementation as `seamline search` and POST /search): `results`
   * are documents with their best chunks as passages (or chunk rows with `granularity: 'chunk'`).
   */
  search(query: string, options?: SearchOptions): Promise<SearchResponse>;
  /** What `seamline status --json` prints. */
  status(): Promise<Record<string, unknown>>;
  /** Closes the embedder worker, LanceDB and SQLite; idempotent. */
  close(): Promise<void>;
}

/**
 * Opens a pipeline over a data folder from a config file or object. Reading (search, status) works
 * beside a running daemon; `ingest` needs the writer lease, so it fails with LOCKED while a daemon
 * holds the folder. Close it when done (in a `finally`).
 */
export async function openPipeline(options: OpenPipelineOptions = {}): Promise<Pipeline> {
  const config = loadConfig({
    ...(options.configFile !== undefined ? { file: options.configFile } : {}),
    ...(options.config !== undefined ? { values: options.config } : {}),
    ...(options.cwd !== undefined ? { cwd: options.cwd } : {}),
    env: options.env ?? {},
  });
  const logger =
    options.logger ??
    createLogger(config.log.level, newRunId(), 'api', { format: options.logFormat ?? config.log.format });
  const rt: Runtime = await openRuntime(config, logger);
  let closed: Promise<void> | null = null;
  const open = (): void => {
    if (closed) throw new SeamlineError('USAGE', 'the pipeline is closed');
  };
  return {
    config,
    ingest: async () => {
      open();
      return ingestOnce(rt, { fault: noFaults, unsafe: new Set() });
    },
    search: async (query, o = {}) => {
      open();
      const table = await rt.servingTable(false);
      const serving = await rt.tables.serving();
      if (!table || !serving)
        throw new SeamlineError(
          'USAGE',
          `nothing is indexed yet in ${config.dataDir}: drop files into ${config.landingDir} and call ingest()`,
        );
      const limits = searchLimitsOf(config);
      const req: SearchRequest = { k: 10, mode: limits.defaultMode, filters: [], ...o, query };
      // The model loads only when the mode needs it (fts does not).
      return search(table, () => rt.embedder(serving.modelId), req, limits);
    },
    status: async () => {
      open();
      return collectStatus({ ...rt, latestReindex: () => rt.reindexJobs.latest() });
    },
    close: () => (closed ??= rt.close()),
  };
}
