/**
 * seamline as a library: open a pipeline over a data folder, ingest, search, read status, close.
 *
 * ```ts
 * import { openPipeline } from 'seamline';
 * const p = await openPipeline({ configFile: 'seamline.json' });
 * try {
 *   await p.ingest();
 *   const hits = await p.search('reset the router', { k: 3, mode: 'hybrid' });
 * } finally {
 *   await p.close();
 * }
 * ```
 */
export { openPipeline } from './api/pipeline.js';
export type { OpenPipelineOptions, Pipeline, SearchOptions } from './api/pipeline.js';
export type { IngestSummary, WaitingFile } from './api/types.js';
export type { DocumentResult, Passage, SearchMode, SearchResponse, SearchResult } from './search/search.js';
export type { Config } from './config/load.js';
export type { LogFormat } from './observability/logger.js';
export { ERROR_CODES, SeamlineError, isSeamlineError } from './errors/errors.js';
export type { ErrorCode } from './errors/errors.js';
