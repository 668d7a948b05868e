import { SeamlineError } from '../errors/errors.js';

/** Quality gate thresholds (config `gates`; defaults and meaning documented in the schema). */
export interface GateConfig {
  readonly maxQuarantineRatio: number;
  readonly quarantineMinRecords: number;
  readonly outputFactor: number;
  readonly outputMinRows: number;
  readonly outputWindow: number;
  readonly outputMinHistory: number;
  readonly waive: readonly string[];
}

export type FailureMode =
  'quarantine_ratio' | 'output_anomaly' | 'bad_vectors' | 'merge_mismatch' | 'ledger_conflict';

/** Why a gate refused a batch: what the incident record stores. */
export interface GateVerdict {
  readonly failureMode: FailureMode;
  readonly affectedRows: number;
  /** The guard that tripped, with its threshold, e.g. "gates.maxQuarantineRatio=0.5". */
  readonly guard: string;
  readonly message: string;
}

/** A quality gate refused to publish a batch. The batch stays unpublished (state failed). */
export class GateError extends SeamlineError {
  readonly failureMode: FailureMode;
  readonly affectedRows: number;
  readonly guard: string;
  constructor(v: GateVerdict) {
    super('GATE_FAILED', v.message, {
      details: { failureMode: v.failureMode, affectedRows: v.affectedRows, guard: v.guard },
    });
    this.failureMode = v.failureMode;
    this.affectedRows = v.affectedRows;
    this.guard = v.guard;
  }
}

/** Quarantine ratio of the batch's input files. Pure. Null when the batch passes. */
export function quarantineGate(
  input: { readonly files: number; readonly read: number; readonly quarantined: number },
  g: GateConfig,
): GateVerdict | null {
  if (input.read < g.quarantineMinRecords || input.read === 0) return null;
  const ratio = input.quarantined / input.read;
  if (ratio <= g.maxQuarantineRatio) return null;
  return {
    failureMode: 'quarantine_ratio',
    affectedRows: input.quarantined,
    guard: `gates.maxQuarantineRatio=${g.maxQuarantineRatio}`,
    message: `${input.quarantined} of ${input.read} records (${(ratio * 100).toFixed(1)}%) in the batch's ${input.files} input file(s) were quarantined, above gates.maxQuarantineRatio=${g.maxQuarantineRatio}; batch not published`,
  };
}

export function median(xs: readonly number[]): number {
  if (xs.length === 0) return 0;
  const s = [...xs].sort((a, b) => a - b);
  const m = Math.floor(s.length / 2);
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
}

/**
 * Output anomaly: rows this batch would change per input record, against the median of recent
 * committed batches (per record, so a big backlog batch is not an anomaly by size alone). Pure.
 */
export function outputGate(
  rowsOut: number,
  recordsIn: number,
  history: readonly { readonly recordsIn: number; readonly rowsOut: number }[],
  g: GateConfig,
): GateVerdict | null {
  if (rowsOut < g.outputMinRows || recordsIn === 0) return null;
  const ratios = history.filter((h) => h.recordsIn > 0).map((h) => h.rowsOut / h.recordsIn);
  if (ratios.length < g.outputMinHistory) return null;
  const base = Math.max(median(ratios), 1 / 64);
  const ratio = rowsOut / recordsIn;
  if (ratio <= g.outputFactor * base) return null;
  return {
    failureMode: 'output_anomaly',
    affectedRows: rowsOut,
    guard: `gates.outputFactor=${g.outputFactor}`,
    message: `the batch would change ${rowsOut} rows for ${recordsIn} records (${ratio.toFixed(2)} per record), more than gates.outputFactor=${g.outputFactor} × the recent median ${base.toFixed(2)}; batch not published`,
  };
}

/** NaN or wrong-dimension vectors are never published (not waivable). Pure. */
export function vectorGate(vectors: Iterable<Float32Array>, dim: number): GateVerdict | null {
  let bad = 0;
  for (const v of vectors) if (v.length !== dim || v.some((x) => !Number.isFinite(x))) bad += 1;
  if (bad === 0) return null;
  return {
    failureMode: 'bad_vectors',
    affectedRows: bad,
    guard: `vector dim=${dim}, finite`,
    message: `${bad} vector(s) are NaN or not ${dim}-dimensional; batch not published`,
  };
}
