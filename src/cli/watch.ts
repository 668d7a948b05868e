/** One reading of the backlog, taken from `status` every refresh. */
export interface DrainSample {
  readonly tMs: number;
  /** Records in bronze not yet reflected in the serving table. */
  readonly backlog: number;
  /** Highest bronze sequence (grows as files land). */
  readonly maxSeq: number;
  /** Files present in the landing folder but not landed yet. */
  readonly waitingFiles: number;
  readonly rows: number | null;
}

export interface DrainView {
  /** Records processed since the watch started. */
  readonly done: number;
  /** done + the backlog now. */
  readonly total: number;
  /** 0..1, or null when there was nothing to do. */
  readonly fraction: number | null;
  /** Records per second over the rate window, or null before two samples. */
  readonly rate: number | null;
  /** Seconds until the backlog is drained at that rate, or null. */
  readonly etaS: number | null;
  readonly backlog: number;
  readonly waitingFiles: number;
}

/** Records processed = bronze records minus the backlog (works with any planning order). */
const processed = (s: DrainSample): number => s.maxSeq - s.backlog;

/** Pure: progress, rate and ETA from the samples so far (first = start of the watch). */
export function drainView(samples: readonly DrainSample[], rateWindowMs = 10_000): DrainView | null {
  const last = samples.at(-1);
  const first = samples[0];
  if (!last || !first) return null;
  const done = Math.max(0, processed(last) - processed(first));
  const total = done + last.backlog;
  const from = samples.find((s) => s.tMs >= last.tMs - rateWindowMs) ?? first;
  const dt = (last.tMs - from.tMs) / 1000;
  const rate = dt > 0 ? Math.max(0, processed(last) - processed(from)) / dt : null;
  return {
    done,
    total,
    fraction: total > 0 ? done / total : null,
    rate,
    etaS: last.backlog === 0 ? 0 : rate && rate > 0 ? last.backlog / rate : null,
    backlog: last.backlog,
    waitingFiles: last.waitingFiles,
  };
}

const int = (n: number): string => Math.round(n).toLocaleString('en-US');

export function formatEta(s: number | null): string {
  if (s === null) return '–';
  if (s < 60) return `${Math.ceil(s)}s`;
  if (s < 3600) return `${Math.floor(s / 60)}m${String(Math.ceil(s % 60)).padStart(2, '0')}s`;
  return `${Math.floor(s / 3600)}h${String(Math.floor((s % 3600) / 60)).padStart(2, '0')}m`;
}

/** A text progress bar `[#####.....]` of the given inner width. */
export function progressBar(fraction: number, width: number): string {
  const f = Math.min(1, Math.max(0, fraction));
  const full = Math.round(f * width);
  return `[${'#'.repeat(full)}${'.'.repeat(width - full)}]`;
}

/**
 * Pure: the line `status --watch` shows. On a terminal, a bar sized to `columns` (the caller redraws
 * it in place); otherwise a plain, timestamped line per refresh for logs and pipes.
 */
export function renderDrain(
  samples: readonly DrainSample[],
  opts: { readonly tty: boolean; readonly columns?: number },
): string {
  const v = drainView(samples);
  const last = samples.at(-1);
  if (!v || !last) return 'waiting for the first status…';
  const rate = v.rate === null ? '– rec/s' : `${int(v.rate)} rec/s`;
  const pct = v.fraction === null ? '' : `${Math.floor(v.fraction * 100)}%`;
  const state = v.backlog === 0 ? 'drained' : `eta ${formatEta(v.etaS)}`;
  const waiting = v.waitingFiles > 0 ? `, ${v.waitingFiles} file(s) waiting` : '';
  const counts = `${int(v.done)}/${int(v.total)} records, backlog ${int(v.backlog)}`;
  if (!opts.tty)
    return `${new Date(last.tMs).toISOString()} ${counts}${pct ? ` (${pct})` : ''}, ${rate}, ${state}${waiting}`;
  const text = ` ${pct.padStart(4)} ${counts}  ${rate}  ${state}${waiting}`;
  const barWidth = Math.max(10, Math.min(40, (opts.columns ?? 80) - text.length - 3));
  return `${progressBar(v.fraction ?? 1, barWidth)}${text}`;
}
