/**
 * A token bucket over records: the reindex build asks how long to wait before it may go on, so its
 * throughput stays under a cap and the live daemon keeps the CPU it needs. Pure: the caller passes nowMs.
 */
export class RateLimiter {
  private tokens: number;
  private lastMs: number | null = null;

  /**
   * @param perSecond records per second; 0 (or less) = no cap.
   * @param burst records that may pass at once (default: one second's worth) — a page larger than
   *   the burst still passes, it just pays for itself with a longer wait afterwards.
   */
  constructor(
    readonly perSecond: number,
    private readonly burst = perSecond,
  ) {
    this.tokens = burst;
  }

  /** Takes n records; returns how many ms to wait before the next take (0 = go on). */
  take(n: number, nowMs: number): number {
    if (this.perSecond <= 0) return 0;
    if (this.lastMs !== null)
      this.tokens = Math.min(this.burst, this.tokens + ((nowMs - this.lastMs) * this.perSecond) / 1000);
    this.lastMs = nowMs;
    this.tokens -= n;
    return this.tokens >= 0 ? 0 : Math.ceil((-this.tokens * 1000) / this.perSecond);
  }
}
