import type { Clock } from '../ports/clock.js';

/** A sleep that a wake() (or the stop signal) cuts short; a wake() while awake is not lost. */
export class Wakeup {
  private pending = false;
  private cut: AbortController | null = null;

  constructor(
    private readonly signal: AbortSignal,
    private readonly clock: Clock,
  ) {
    signal.addEventListener('abort', () => this.wake(), { once: true });
  }

  wake(): void {
    this.pending = true;
    this.cut?.abort();
  }

  async sleep(ms: number): Promise<void> {
    if (this.pending || this.signal.aborted) {
      this.pending = false;
      return;
    }
    this.cut = new AbortController();
    await this.clock.sleep(ms, this.cut.signal);
    this.cut = null;
    this.pending = false;
  }
}
