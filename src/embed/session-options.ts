/**
 * ONNX Runtime session options of the embedding worker's model (passed to transformers.js as
 * `session_options`, which it spreads over its own defaults: log level and the `cpu` provider).
 *
 * Intra-op spinning is off by default: ORT's pool threads otherwise busy-wait between and after
 * parallel sections, and on a machine with as many cores as intra-op threads that spinning takes
 * the core seamline's own JavaScript (token counting, packing, pooling, merging) and the other
 * lanes need while a call runs (docs/decisions/embed-no-spinning.md). onnxruntime-node ≥ 1.18
 * passes `extra` to the session as config entries (`session.intra_op.allow_spinning`).
 */
export interface SessionOptionsInput {
  /** Intra-op threads, already resolved (`auto` = the cores). */
  readonly threads: number;
  /** Let ORT's pool threads spin while waiting for work (ORT's default). */
  readonly spinning: boolean;
  /** ORT log severity (0 = verbose … 4 = fatal); absent = transformers.js' default (from its env.logLevel). */
  readonly logSeverity?: number;
}

export function sessionOptions(o: SessionOptionsInput): Record<string, unknown> {
  return {
    intraOpNumThreads: o.threads,
    interOpNumThreads: 1,
    ...(o.spinning
      ? {}
      : {
          extra: {
            session: { intra_op: { allow_spinning: '0' }, inter_op: { allow_spinning: '0' } },
          },
        }),
    ...(o.logSeverity !== undefined ? { logSeverityLevel: o.logSeverity } : {}),
  };
}
