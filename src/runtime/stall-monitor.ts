import type { Incidents } from '../ports/ledger.js';
import type { Logger } from '../observability/logger.js';
import type { Clock } from '../ports/clock.js';
import { LaneHealth, type RetryPolicy, type Stall, type Verdict } from './stall.js';

/** Incident batch id of a lane's stall (one open incident per lane; guard = the error code). */
export const stallIncidentId = (lane: string): string => `stall:${lane}`;

/**
 * The daemon's view of its background lanes (landing, processor, lease): logs every failed step with
 * its code and retry verdict, keeps the stalls /readyz and /status report, and mirrors each stall as
 * an incident that closes itself on recovery. Incident writes are best effort (the database may be
 * the thing that is stalled): a write that fails is retried on the next event.
 */
export class StallMonitor {
  private readonly lanes = new Map<string, LaneHealth>();
  private readonly persisted = new Set<string>();
  /** Incident writes not done yet, run in order one at a time (the incidents port is asynchronous). */
  private pending: (() => Promise<void>)[] = [];
  private chain: Promise<void> = Promise.resolve();

  constructor(
    private readonly deps: {
      readonly incidents: () => Incidents;
      readonly logger: Logger;
      readonly clock: Clock;
      readonly policy: RetryPolicy;
      readonly random?: () => number;
    },
  ) {}

  private lane(name: string): LaneHealth {
    let l = this.lanes.get(name);
    if (!l) {
      l = new LaneHealth(name, this.deps.policy, this.deps.clock, this.deps.random);
      this.lanes.set(name, l);
    }
    return l;
  }

  /** A step of `lane` failed: log, maybe open/refresh the stall incident, return what to do. */
  failed(lane: string, e: unknown): Verdict {
    const v = this.lane(lane).failure(e);
    const s = v.stall;
    const log = this.deps.logger;
    const fields = {
      event: v.kind === 'halt' ? 'lane.halted' : 'lane.retry',
      lane,
      code: s?.code ?? (e as { code?: string } | null)?.code ?? 'INTERNAL',
      retryable: v.kind === 'retry',
      delay_ms: v.delayMs,
      err: e,
    };
    if (v.kind === 'halt')
      log.error(
        fields,
        `${lane} stopped: ${s!.code} is not retryable (${s!.message}); looking again in ${v.delayMs} ms`,
      );
    else log.warn(fields, `${lane} step failed; retrying in ${v.delayMs} ms`);
    if (s && v.opened)
      log.error(
        { event: 'stall.opened', lane, code: s.code, failures: s.failures, since_ms: s.sinceMs },
        `${lane} is stalled: ${s.code}: ${s.message}`,
      );
    if (s) this.persistOpen(s);
    this.flush();
    return v;
  }

  /** A step of `lane` succeeded: closes its stall (and incident), if any. */
  succeeded(lane: string): void {
    const l = this.lanes.get(lane);
    const ended = l?.success() ?? null;
    if (ended) {
      const ms = this.deps.clock.nowMs() - ended.sinceMs;
      this.deps.logger.info(
        { event: 'stall.closed', lane, code: ended.code, stalled_ms: ms },
        `${lane} recovered after ${ms} ms stalled (${ended.code})`,
      );
      this.pending.push(async () => {
        if (!this.persisted.has(lane)) {
          await this.record(ended);
          this.persisted.add(lane);
        }
        await this.deps.incidents().close(stallIncidentId(lane), 'resolved', this.deps.clock.nowMs());
        this.persisted.delete(lane);
      });
    }
    if (this.pending.length > 0) this.flush();
  }

  stalls(): Stall[] {
    return [...this.lanes.values()].map((l) => l.current()).filter((s): s is Stall => s !== null);
  }

  /** Why the daemon is not ready, one line per stalled lane. */
  reasons(): string[] {
    return this.stalls().map(
      (s) =>
        `${s.lane} ${s.halted ? 'stopped' : 'stalled'} since ${new Date(s.sinceMs).toISOString()} (${s.failures} failures): ${s.code}: ${s.message}`,
    );
  }

  private persistOpen(s: Stall): void {
    this.pending.push(async () => {
      try {
        await this.record(s);
        this.persisted.add(s.lane);
      } catch (e) {
        this.deps.logger.warn(
          { event: 'stall.incident_deferred', lane: s.lane, err: e },
          'could not write the stall incident yet; will retry',
        );
      }
    });
  }

  private async record(s: Stall): Promise<void> {
    const bound = (this.deps.logger.bindings() as { run_id?: unknown }).run_id;
    await this.deps.incidents().record({
      atMs: this.deps.clock.nowMs(),
      pipeline: `daemon:${s.lane}`,
      runId: typeof bound === 'string' ? bound : 'unknown',
      batchId: stallIncidentId(s.lane),
      failureMode: 'stall',
      affectedRows: 0,
      guard: s.code,
      message: `${s.lane} ${s.halted ? 'stopped' : 'stalled'} since ${new Date(s.sinceMs).toISOString()}: ${s.message}`,
    });
  }

  /** Runs the queued writes in order; the first failure stops the run and keeps the rest for the next event. */
  private flush(): void {
    this.chain = this.chain
      .then(async () => {
        while (this.pending.length > 0) {
          try {
            await this.pending[0]!();
            this.pending.shift();
          } catch (e) {
            this.deps.logger.warn(
              { event: 'stall.incident_deferred', err: e },
              'could not close a stall incident yet; will retry',
            );
            return;
          }
        }
      })
      .catch(() => undefined);
  }

  /** Resolves once the incident writes queued so far have been tried (tests, shutdown). */
  settled(): Promise<void> {
    return this.chain;
  }
}
