/** Messages between the embedder client (main thread) and the embedding worker thread. */
export interface WorkerInit {
  readonly modelId: string;
  readonly modelsDir: string;
  readonly dtype: string;
  readonly allowRemote: boolean;
  readonly threads: number;
}

export type WorkerRequest =
  | { readonly type: 'tokenCounts'; readonly reqId: number; readonly words: readonly string[] }
  | { readonly type: 'embed'; readonly reqId: number; readonly texts: readonly string[] };

export type WorkerResponse =
  | { readonly type: 'ready'; readonly dim: number }
  | { readonly type: 'initError'; readonly message: string; readonly notFound: boolean }
  | { readonly type: 'tokenCounts'; readonly reqId: number; readonly counts: number[] }
  | {
      readonly type: 'embed';
      readonly reqId: number;
      readonly data: Float32Array;
      readonly dim: number;
      readonly paddedTokens: number;
    }
  | { readonly type: 'error'; readonly reqId: number; readonly message: string };
