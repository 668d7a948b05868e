/** Messages between the embedder client (main thread) and the embedding worker thread. */
export interface WorkerInit {
  readonly modelId: string;
  readonly modelsDir: string;
  readonly dtype: string;
  readonly allowRemote: boolean;
  /** ONNX Runtime intra-op threads (already resolved: `auto` = the machine's cores). */
  readonly threads: number;
  /** Let ONNX Runtime's intra-op threads spin while waiting for work (default false: see session-options.ts). */
  readonly spinning?: boolean;
  /** ONNX Runtime's log severity for the session (0 = verbose, to stderr); for diagnosis and tests. */
  readonly ortLogSeverity?: number;
}

export type WorkerRequest =
  | { readonly type: 'tokenCounts'; readonly reqId: number; readonly words: readonly string[] }
  | { readonly type: 'embed'; readonly reqId: number; readonly texts: readonly string[] }
  | { readonly type: 'memory'; readonly reqId: number };

/** The worker's own heap and caches (the process RSS holds them, with ONNX Runtime's native memory). */
export interface WorkerMemory {
  readonly heapUsedMiB: number;
  readonly heapTotalMiB: number;
  readonly externalMiB: number;
  readonly cachedWords: number;
}

export type WorkerResponse =
  | { readonly type: 'ready'; readonly dim: number; readonly tokenizeOnce: boolean }
  | { readonly type: 'initError'; readonly message: string; readonly notFound: boolean }
  | {
      readonly type: 'tokenCounts';
      readonly reqId: number;
      readonly counts: Int32Array;
      /** Worker time spent counting (tokenizing new words), ms. */
      readonly countMs: number;
    }
  | {
      readonly type: 'embed';
      readonly reqId: number;
      readonly data: Float32Array;
      readonly dim: number;
      readonly paddedTokens: number;
      /** Tokens fed to the model (special tokens included), after truncation. */
      readonly realTokens: number;
      /** Worker time (ms): packing ids, inside the model call, pooling + normalizing. */
      readonly packMs: number;
      readonly runMs: number;
      readonly poolMs: number;
    }
  | ({ readonly type: 'memory'; readonly reqId: number } & WorkerMemory)
  | { readonly type: 'error'; readonly reqId: number; readonly message: string };
