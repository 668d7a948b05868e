import { toSeamlineError, type ErrorCode, type SeamlineError } from '../errors/errors.js';
import type { Clock } from '../ports/clock.js';

/** How a background lane retries a failed step. Defaults: see DEFAULT_RETRY_POLICY. */
export interface RetryPolicy {
  /** First delay after a failure, ms. */
  readonly baseMs: number;
  /** Upper bound of any delay, ms (also the wait before retrying after a non-retryable error). */
  readonly maxMs: number;
  /** Fraction of each delay that is random (0 = none, 1 = "full jitter"); spreads retries of many processes. */
  readonly jitter: number;
  /** Consecutive retryable failures after which the lane counts as stalled (1 = immediately). */
  readonly stallAfterFailures: number;
}

export const DEFAULT_RETRY_POLICY: RetryPolicy = {
  baseMs: 200,
  maxMs: 30_000,
  jitter: 0.5,
  stallAfterFailures: 3,
};

/** Codes that mean "the environment is broken" (disk full): a stall from the first failure. */
const STALL_AT_ONCE: ReadonlySet<ErrorCode> = new Set<ErrorCode>(['DISK_FULL']);

/**
 * Pure: the delay before retry number `attempt` (1-based): exponential from baseMs, capped at maxMs,
 * with the top `jitter` fraction drawn from `random()` ∈ [0, 1).
 */
export function backoffDelayMs(attempt: number, p: RetryPolicy, random: () => number): number {
  const exp = Math.min(p.maxMs, p.baseMs * 2 ** Math.max(0, Math.min(attempt - 1, 30)));
  const j = Math.max(0, Math.min(1, p.jitter));
  return Math.round(exp * (1 - j) + exp * j * random());
}

/** A lane that cannot make progress: what /readyz, /status and the incident show. */
export interface Stall {
  readonly lane: string;
  readonly code: ErrorCode;
  readonly message: string;
  readonly sinceMs: number;
  readonly failures: number;
  /** True when the last error was not retryable: the lane stopped that work and waits maxMs. */
  readonly halted: boolean;
}

export type Verdict =
  /** Wait delayMs, then retry. */
  | {
      readonly kind: 'retry';
      readonly delayMs: number;
      readonly stall: Stall | null;
      readonly opened: boolean;
    }
  /** Not retryable: stop that work; look again after delayMs (maxMs). */
  | { readonly kind: 'halt'; readonly delayMs: number; readonly stall: Stall; readonly opened: boolean };

/**
 * Failure bookkeeping of one background lane (pure state + injected clock and random): consecutive
 * failures, the backoff verdict, and when a run of failures becomes a stall. success() ends it.
 */
export class LaneHealth {
  private failures = 0;
  private firstFailureMs = 0;
  private stall: Stall | null = null;

  constructor(
    readonly lane: string,
    private readonly policy: RetryPolicy,
    private readonly clock: Clock,
    private readonly random: () => number = Math.random,
  ) {}

  failure(e: unknown): Verdict {
    const err: SeamlineError = toSeamlineError(e);
    const now = this.clock.nowMs();
    if (this.failures === 0) this.firstFailureMs = now;
    this.failures += 1;
    const halted = !err.retryable;
    const stalled = halted || STALL_AT_ONCE.has(err.code) || this.failures >= this.policy.stallAfterFailures;
    let opened = false;
    if (stalled) {
      opened = this.stall === null;
      this.stall = {
        lane: this.lane,
        code: err.code,
        message: err.message,
        sinceMs: this.stall?.sinceMs ?? this.firstFailureMs,
        failures: this.failures,
        halted,
      };
    }
    if (halted) return { kind: 'halt', delayMs: this.policy.maxMs, stall: this.stall!, opened };
    return {
      kind: 'retry',
      delayMs: backoffDelayMs(this.failures, this.policy, this.random),
      stall: this.stall,
      opened,
    };
  }

  /** A step succeeded: resets the count; returns the stall that just ended, if any. */
  success(): Stall | null {
    const ended = this.stall;
    this.failures = 0;
    this.stall = null;
    return ended;
  }

  current(): Stall | null {
    return this.stall;
  }
}
