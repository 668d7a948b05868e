import type { Logger } from 'pino';

export interface ProgressState {
  readonly phase: string;
  readonly table: string;
  readonly done: number;
  readonly total: number;
  /** Records done by this process (a resumed job starts from its cursor). */
  readonly doneHere: number;
  readonly elapsedMs: number;
}

/** Rate in records/s over this process and the time left at that rate (null when unknown). Pure. */
export function rateAndEta(s: ProgressState): { rate: number; etaMs: number | null } {
  const rate = s.elapsedMs > 0 ? (s.doneHere * 1000) / s.elapsedMs : 0;
  const left = Math.max(0, s.total - s.done);
  return { rate, etaMs: left === 0 ? 0 : rate > 0 ? Math.round((left / rate) * 1000) : null };
}

export function formatDuration(ms: number | null): string {
  if (ms === null) return '?';
  const s = Math.round(ms / 1000);
  if (s < 60) return `${s}s`;
  if (s < 3600) return `${Math.floor(s / 60)}m${String(s % 60).padStart(2, '0')}s`;
  return `${Math.floor(s / 3600)}h${String(Math.floor((s % 3600) / 60)).padStart(2, '0')}m`;
}

export function formatProgress(s: ProgressState): string {
  const { rate, etaMs } = rateAndEta(s);
  const pct = s.total > 0 ? Math.floor((100 * s.done) / s.total) : 100;
  return `reindex ${s.table} ${s.phase}: ${s.done}/${s.total} records (${pct}%), ${rate.toFixed(0)} rec/s, ETA ${formatDuration(etaMs)}`;
}

/**
 * On a terminal one progress line rewritten in place; otherwise a log line every `intervalMs`
 * (status --json reads the same figures from SQLite).
 */
export class ProgressReporter {
  private lastLogMs = -Infinity;
  private drawn = false;

  constructor(
    private readonly tty: boolean,
    private readonly write: (s: string) => void,
    private readonly log: Logger,
    private readonly intervalMs: number,
  ) {}

  update(s: ProgressState, nowMs: number): void {
    if (this.tty) {
      this.write(`\r\u001b[2K${formatProgress(s)}`);
      this.drawn = true;
      return;
    }
    if (nowMs - this.lastLogMs < this.intervalMs && s.done < s.total) return;
    this.lastLogMs = nowMs;
    const { rate, etaMs } = rateAndEta(s);
    this.log.info(
      {
        event: 'reindex.progress',
        phase: s.phase,
        table: s.table,
        done: s.done,
        total: s.total,
        rate_rps: Math.round(rate),
        eta_ms: etaMs,
      },
      formatProgress(s),
    );
  }

  /** Ends the in-place line so what follows starts on a fresh line. */
  end(): void {
    if (this.drawn) this.write('\n');
    this.drawn = false;
  }
}
