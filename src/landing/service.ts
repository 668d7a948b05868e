import type { Logger } from 'pino';
import type { Clock } from '../ports/clock.js';
import { decideReadiness, observe, type CompletenessPolicy, type FileObservation } from './completeness.js';
import type { LandOutcome, Loader } from './loader.js';
import { readManifest } from './loader.js';
import type { LandingFormat } from './parse/types.js';
import { scanLanding } from './scan.js';

export interface WaitingFile {
  readonly rel: string;
  readonly reason: string;
  readonly detail: string;
}

export interface TickResult {
  readonly landed: LandOutcome[];
  readonly waiting: WaitingFile[];
  readonly refused: { rel: string; reason: string }[];
}

/**
 * One pass over the landing folder: observe every candidate, land the ones the completeness policy
 * says are ready. Watch events only make passes happen sooner; this scan is the source of truth.
 */
export class LandingService {
  private readonly observations = new Map<string, FileObservation>();
  private readonly refusedLogged = new Set<string>();
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
    for (const r of refused) {
      if (!this.refusedLogged.has(r.rel)) {
        this.refusedLogged.add(r.rel);
        this.logger.warn({ event: 'file.refused', file: r.rel, reason: r.reason }, `refused ${r.rel}: ${r.reason}`);
      }
    }
    const landed: LandOutcome[] = [];
    const waiting: WaitingFile[] = [];
    const seen = new Set<string>();
    for (const c of candidates) {
      signal?.throwIfAborted();
      seen.add(c.rel);
      const now = this.clock.nowMs();
      const obs = observe(this.observations.get(c.rel), c.size, c.mtimeMs, now);
      this.observations.set(c.rel, obs);
      const m = await readManifest(c.abs);
      const r = decideReadiness(obs, m.manifest, now, this.policy);
      if (!r.ready) {
        waiting.push({ rel: c.rel, reason: r.reason, detail: r.detail });
        continue;
      }
      const manifest = m.manifest === 'invalid' ? null : m.manifest;
      const out = await this.loader.land(c, manifest, m.raw, m.sha256);
      landed.push(out);
      if (out.kind !== 'changed-while-reading') this.observations.delete(c.rel);
    }
    for (const k of [...this.observations.keys()]) if (!seen.has(k)) this.observations.delete(k);
    this.lastWaiting = waiting;
    return { landed, waiting, refused };
  }
}
