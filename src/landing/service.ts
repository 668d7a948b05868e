import type { Logger } from 'pino';
import type { Clock } from '../ports/clock.js';
import { decideReadiness, observe, type CompletenessPolicy, type FileObservation } from './completeness.js';
import type { LandOutcome, Loader } from './loader.js';
import { readManifest } from './loader.js';
import type { LandingFormat } from './parse/types.js';
import { scanLanding, type Refusal } from './scan.js';

export interface WaitingFile {
  readonly rel: string;
  readonly reason: string;
  readonly detail: string;
}

export interface TickResult {
  /** Outcomes of files acted on in this pass (files already decided and unchanged are not listed). */
  readonly landed: LandOutcome[];
  readonly waiting: WaitingFile[];
  readonly refused: Refusal[];
  /** Files present whose earlier decision still holds (not re-hashed). */
  readonly unchanged: number;
}

/** Retry delays for a file whose landing failed (I/O error): 1 s doubling to 5 min. */
const RETRY_MIN_MS = 1000;
const RETRY_MAX_MS = 5 * 60_000;

/**
 * One pass over the landing folder: observe every candidate, land the ones the completeness policy
 * says are ready. Watch events only make passes happen sooner; this scan is the source of truth.
 * A failure on one file is logged and retried with backoff; it never stops the others.
 */
export class LandingService {
  private readonly observations = new Map<string, FileObservation>();
  private readonly refusedLogged = new Map<string, string>();
  private readonly retry = new Map<string, { atMs: number; delayMs: number }>();
  private lastWaiting: WaitingFile[] = [];

  constructor(
    private readonly root: string,
    private readonly formats: readonly LandingFormat[],
    private readonly policy: CompletenessPolicy,
    private readonly loader: Loader,
    private readonly clock: Clock,
    private readonly logger: Logger,
  ) {}

  waiting(): readonly WaitingFile[] {
    return this.lastWaiting;
  }

  async tick(signal?: AbortSignal): Promise<TickResult> {
    const { candidates, refused } = await scanLanding(this.root, this.formats);
    const refusedNow = new Set<string>();
    for (const r of refused) {
      refusedNow.add(r.rel);
      if (this.refusedLogged.get(r.rel) !== r.reason) {
        this.refusedLogged.set(r.rel, r.reason);
        this.logger.warn(
          { event: 'file.refused', file: r.rel, reason: r.reason },
          `refused ${r.rel}: ${r.reason}`,
        );
      }
    }
    for (const k of [...this.refusedLogged.keys()]) if (!refusedNow.has(k)) this.refusedLogged.delete(k);
    const landed: LandOutcome[] = [];
    const waiting: WaitingFile[] = [];
    const seen = new Set<string>();
    let unchanged = 0;
    for (const c of candidates) {
      signal?.throwIfAborted();
      seen.add(c.rel);
      const now = this.clock.nowMs();
      const obs = observe(this.observations.get(c.rel), c.size, c.mtimeMs, now);
      this.observations.set(c.rel, obs);
      const r0 = this.retry.get(c.rel);
      if (r0 && now < r0.atMs) {
        waiting.push({
          rel: c.rel,
          reason: 'retry-backoff',
          detail: `landing failed; next attempt in ${r0.atMs - now} ms`,
        });
        continue;
      }
      let out: LandOutcome;
      try {
        const m = await readManifest(c.abs);
        const r = decideReadiness(obs, m.manifest, now, this.policy);
        if (!r.ready) {
          waiting.push({
            rel: c.rel,
            reason: r.reason,
            detail: r.reason === 'manifest-invalid' && m.problem ? `${r.detail}: ${m.problem}` : r.detail,
          });
          continue;
        }
        const manifest = m.manifest === 'invalid' ? null : m.manifest;
        out = await this.loader.land(c, manifest, m.raw, m.sha256);
      } catch (e) {
        out = { kind: 'failed', detail: (e as Error).message };
        this.logger.error(
          { event: 'file.land_failed', file: c.rel, err: (e as Error).message },
          `landing ${c.rel} failed: ${(e as Error).message}`,
        );
      }
      if (out.kind === 'unchanged') {
        unchanged += 1;
        continue;
      }
      if (out.kind === 'refused') {
        refused.push({ rel: c.rel, reason: out.reason });
        continue;
      }
      landed.push(out);
      if (out.kind === 'failed') {
        const delayMs = Math.min(RETRY_MAX_MS, (r0?.delayMs ?? RETRY_MIN_MS / 2) * 2);
        this.retry.set(c.rel, { atMs: now + delayMs, delayMs });
        waiting.push({
          rel: c.rel,
          reason: 'retry-backoff',
          detail: `${out.detail}; next attempt in ${delayMs} ms`,
        });
        continue;
      }
      this.retry.delete(c.rel);
      if (out.kind !== 'changed-while-reading') this.observations.delete(c.rel);
    }
    for (const k of [...this.observations.keys()]) if (!seen.has(k)) this.observations.delete(k);
    for (const k of [...this.retry.keys()]) if (!seen.has(k)) this.retry.delete(k);
    this.loader.prune(seen);
    this.lastWaiting = waiting;
    return { landed, waiting, refused, unchanged };
  }
}
