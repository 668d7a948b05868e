/** One chunk of a text, sized in model tokens. */
export interface TextChunk {
  readonly text: string;
  readonly tokens: number;
}

export interface EmbedderInfo {
  readonly modelId: string;
  readonly dim: number;
}

export interface EmbedStats {
  readonly texts: number;
  readonly realTokens: number;
  readonly paddedTokens: number;
  readonly calls: number;
  /**
   * Where the embedding worker's time went (ms, summed over calls; absent in embedders without a
   * worker): ids packed into tensors, inside the model call (ONNX Runtime), pooling + normalizing,
   * and counting tokens for chunk().
   */
  readonly workerMs?: {
    readonly pack: number;
    readonly run: number;
    readonly pool: number;
    readonly count: number;
  };
}

/** The narrow port the processor embeds through. Implementations own threads and model files. */
export interface Embedder extends EmbedderInfo {
  /** Splits each text into chunks of at most maxTokens model tokens, consecutive chunks sharing overlapTokens. */
  chunk(texts: readonly string[], maxTokens: number, overlapTokens: number): Promise<TextChunk[][]>;
  /** Unit-length vectors, one per text, in input order. */
  embed(texts: readonly TextChunk[], signal?: AbortSignal): Promise<Float32Array[]>;
  /** Cumulative counters since start. */
  stats(): EmbedStats;
  close(): Promise<void>;
}
