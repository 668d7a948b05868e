import { lstat, rename, rm } from 'node:fs/promises';
import type { Logger } from 'pino';
import type { Bronze } from '../ports/bronze.js';
import type { Clock } from '../ports/clock.js';
import { decideReadiness, observe, type CompletenessPolicy, type FileObservation } from './completeness.js';
import type { LandOutcome, Loader } from './loader.js';
import { readManifest, readManifestFile } from './loader.js';
import { unmatchedManifestState, type ManifestState } from './manifests.js';
import type { LandingFormat } from './parse/types.js';
import { dataNamesOfManifest, manifestPathsOf, scanLanding, type Candidate, type Refusal } from './scan.js';
import { noWriterCheck, writerFactsFor, type OpenWriters, type WriterProbe } from './writers.js';

export interface WaitingFile {
  readonly rel: string;
  readonly reason: string;
  readonly detail: string;
}

/** A manifest in the landing folder that belongs to no data file there. */
export interface UnmatchedManifest {
  readonly rel: string;
  readonly state: ManifestState;
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

/** Whether completeness could use the open-writer check on the last pass (for status). */
export interface WriterCheckState {
  readonly available: boolean;
  readonly detail: string;
}

export interface LandingServiceOptions {
  /** Files landed at the same time (landing.concurrency). Default 1. */
  readonly concurrency?: number;
  /** Manifests matching nothing are 'waiting' this long, then 'orphan' (landing.orphanManifestMs). */
  readonly orphanManifestMs?: number;
  readonly writers?: OpenWriters;
  /** Catalog, to tell late manifests (their data file landed and moved) from orphans. */
  readonly bronze?: Bronze;
  /** Where landed files go (archive mode), so a late manifest can follow its data file. */
  readonly afterLanding?: 'archive' | 'delete' | 'keep';
}

/** Retry delays for a file whose landing failed (I/O error): 1 s doubling to 5 min. */
const RETRY_MIN_MS = 1000;
const RETRY_MAX_MS = 5 * 60_000;
const GROWTH_CHECK_EVERY_MS = 1000;

/**
 * One pass over the landing folder: observe every candidate, land the ones the completeness policy
 * says are ready. Watch events only make passes happen sooner; this scan is the source of truth.
 * A failure on one file is logged and retried with backoff; it never stops the others.
 *
 * Landings run concurrently up to `concurrency`, each in its own task: `pass()` starts what is
 * ready and returns at once (a heavy file never holds up the pass, nor the files behind it);
 * `tick()` is a pass that also waits for every landing in flight (ingest --once, tests).
 */
export class LandingService {
  private readonly observations = new Map<string, FileObservation>();
  private readonly refusedLogged = new Map<string, string>();
  private readonly retry = new Map<string, { atMs: number; delayMs: number }>();
  private readonly inFlight = new Map<string, Promise<void>>();
  /** Outcomes of landings finished since the last pass reported them. */
  private finished: LandOutcome[] = [];
  private lastWaiting: WaitingFile[] = [];
  private lastManifests: UnmatchedManifest[] = [];
  private readonly manifestLogged = new Map<string, ManifestState>();
  private writerCheck: WriterCheckState = { available: false, detail: 'no pass yet' };
  private readonly writers: OpenWriters;
  private readonly concurrency: number;
  /** Called when a landing task finishes (the daemon wakes its loops). */
  onSettled: (() => void) | null = null;

  constructor(
    private readonly root: string,
    private readonly formats: readonly LandingFormat[],
    private readonly policy: CompletenessPolicy,
    private readonly loader: Loader,
    private readonly clock: Clock,
    private readonly logger: Logger,
    private readonly opts: LandingServiceOptions = {},
  ) {
    this.writers = opts.writers ?? noWriterCheck();
    this.concurrency = Math.max(1, opts.concurrency ?? 1);
  }

  waiting(): readonly WaitingFile[] {
    return this.lastWaiting;
  }

  /** Manifests with no data file (waiting / orphan), as of the last pass. */
  unmatchedManifests(): readonly UnmatchedManifest[] {
    return this.lastManifests;
  }

  writerCheckState(): WriterCheckState {
    return this.writerCheck;
  }

  /** Landings in flight now. */
  busy(): number {
    return this.inFlight.size;
  }

  /** Resolves when no landing is in flight (shutdown: let started landings finish). */
  async idle(): Promise<void> {
    while (this.inFlight.size > 0) await Promise.all([...this.inFlight.values()]);
  }

  /** A pass that waits for every landing in flight before returning (old semantics). */
  async tick(signal?: AbortSignal): Promise<TickResult> {
    const r = await this.pass(signal);
    let landed = r.landed;
    for (;;) {
      if (this.inFlight.size > 0) {
        await Promise.all([...this.inFlight.values()]);
        landed = [...landed, ...this.drain()];
        continue;
      }
      // Files queued behind the bound start as slots free up.
      if (!this.lastWaiting.some((w) => w.reason === 'queued')) break;
      landed = [...landed, ...(await this.pass(signal)).landed];
    }
    landed = [...landed, ...this.drain()];
    this.lastWaiting = this.lastWaiting.filter((w) => w.reason !== 'landing' && w.reason !== 'queued');
    return { ...r, landed, waiting: this.lastWaiting };
  }

  /** Starts landing what is ready (up to the concurrency bound) and returns without waiting for it. */
  async pass(signal?: AbortSignal): Promise<TickResult> {
    const { candidates, refused, manifests } = await scanLanding(this.root, this.formats);
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
    const waiting: WaitingFile[] = [];
    const seen = new Set<string>();
    let unchanged = 0;
    // The /proc walk is asked for only when a file would be ready were nobody writing it: a file
    // still changing needs no walk (docs/decisions/processor-event-loop.md).
    let probe: WriterProbe | null = null;
    const NO_WRITERS = { kind: 'checked', writerPids: [] } as const;
    for (const c of candidates) {
      signal?.throwIfAborted();
      seen.add(c.rel);
      if (this.inFlight.has(c.rel)) {
        waiting.push({ rel: c.rel, reason: 'landing', detail: 'being landed now' });
        continue;
      }
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
      let m;
      try {
        m = await readManifest(c.abs);
      } catch (e) {
        this.logger.error(
          { event: 'file.land_failed', file: c.rel, err: e },
          `landing ${c.rel} failed: ${(e as Error).message}`,
        );
        this.settle(c, { kind: 'failed', detail: (e as Error).message, error: e }, r0, now, waiting);
        continue;
      }
      let r;
      if (c.dev !== undefined && c.ino !== undefined) {
        const key = { dev: c.dev, ino: c.ino };
        // Not ready even if nobody writes it: not ready whatever the walk finds (a writer or no
        // certainty only make it wait longer), so the walk is skipped.
        r = decideReadiness(obs, m.manifest, now, this.policy, NO_WRITERS);
        if (r.ready) {
          probe ??= await this.probeWriters(candidates);
          r = decideReadiness(obs, m.manifest, now, this.policy, writerFactsFor(probe, key));
        }
      } else
        r = decideReadiness(obs, m.manifest, now, this.policy, {
          kind: 'unavailable',
          reason: 'no file identity',
        });
      if (!r.ready) {
        waiting.push({
          rel: c.rel,
          reason: r.reason,
          detail: r.reason === 'manifest-invalid' && m.problem ? `${r.detail}: ${m.problem}` : r.detail,
        });
        continue;
      }
      if (this.inFlight.size >= this.concurrency) {
        waiting.push({
          rel: c.rel,
          reason: 'queued',
          detail: `complete; waiting for a landing slot (landing.concurrency = ${this.concurrency})`,
        });
        continue;
      }
      if (this.loader.decided(c, m.sha256)) {
        unchanged += 1;
        continue;
      }
      const manifest = m.manifest === 'invalid' ? null : m.manifest;
      const task = this.loader
        .land(c, manifest, m.raw, m.sha256, { atMs: now, by: r.by })
        .catch((e: unknown): LandOutcome => {
          this.logger.error(
            { event: 'file.land_failed', file: c.rel, err: e },
            `landing ${c.rel} failed: ${(e as Error).message}`,
          );
          return { kind: 'failed', detail: (e as Error).message, error: e };
        })
        .then((out) => {
          this.inFlight.delete(c.rel);
          if (out.kind !== 'unchanged') this.settle(c, out, r0, this.clock.nowMs(), null);
          this.onSettled?.();
        });
      this.inFlight.set(c.rel, task);
      waiting.push({ rel: c.rel, reason: 'landing', detail: 'being landed now' });
    }
    for (const k of [...this.observations.keys()]) if (!seen.has(k)) this.observations.delete(k);
    for (const k of [...this.retry.keys()]) if (!seen.has(k)) this.retry.delete(k);
    for (const k of this.inFlight.keys()) seen.add(k);
    this.loader.prune(seen);
    try {
      // Archived and pending-delete files are stat'ed at most once a second (there can be many).
      const now = this.clock.nowMs();
      if (now - this.lastGrowthCheckMs >= GROWTH_CHECK_EVERY_MS || now < this.lastGrowthCheckMs) {
        this.lastGrowthCheckMs = now;
        this.finished.push(...(await this.loader.watchGrowth()));
      }
    } catch (e) {
      this.logger.error({ event: 'landing.growth_failed', err: e }, 'growth check failed');
    }
    this.lastManifests = await this.sweepManifests(manifests, candidates);
    for (const w of this.retryWaiting) waiting.push(w);
    this.retryWaiting = [];
    this.lastWaiting = waiting;
    return { landed: this.drain(), waiting, refused, unchanged };
  }

  private retryWaiting: WaitingFile[] = [];
  private lastGrowthCheckMs = Number.NEGATIVE_INFINITY;

  private drain(): LandOutcome[] {
    const out = this.finished;
    this.finished = [];
    return out;
  }

  /** Books a finished landing: outcome list, retry backoff for failures. */
  private settle(
    c: Candidate,
    out: LandOutcome,
    r0: { atMs: number; delayMs: number } | undefined,
    now: number,
    waiting: WaitingFile[] | null,
  ): void {
    if (out.kind === 'refused' || out.kind === 'busy' || out.kind === 'gone') return;
    this.finished.push(out);
    if (out.kind === 'failed') {
      const delayMs = Math.min(RETRY_MAX_MS, (r0?.delayMs ?? RETRY_MIN_MS / 2) * 2);
      this.retry.set(c.rel, { atMs: now + delayMs, delayMs });
      (waiting ?? this.retryWaiting).push({
        rel: c.rel,
        reason: 'retry-backoff',
        detail: `${out.detail}; next attempt in ${delayMs} ms`,
      });
      return;
    }
    this.retry.delete(c.rel);
    if (out.kind !== 'changed-while-reading') this.observations.delete(c.rel);
  }

  private async probeWriters(candidates: readonly Candidate[]): Promise<WriterProbe> {
    const keys = candidates.flatMap((c) =>
      c.dev !== undefined && c.ino !== undefined && !this.inFlight.has(c.rel)
        ? [{ dev: c.dev, ino: c.ino }]
        : [],
    );
    if (keys.length === 0) return { kind: 'checked', writers: new Map() };
    const p = await this.writers.probe(keys);
    const next: WriterCheckState =
      p.kind === 'checked'
        ? {
            available: true,
            detail: 'open writers are read from /proc: a closed file lands after completeness.closedQuietMs',
          }
        : { available: false, detail: `${p.reason}; completeness.stableWindowMs applies` };
    if (next.available !== this.writerCheck.available || next.detail !== this.writerCheck.detail) {
      if (!next.available)
        this.logger.warn({ event: 'landing.writer_check_unavailable', reason: next.detail }, next.detail);
      this.writerCheck = next;
    }
    return p;
  }

  /**
   * Manifests that belong to no data file in the folder: late (their data file landed and moved on)
   * are checked against the catalog and follow it into the archive; the others wait, then turn orphan.
   */
  private async sweepManifests(
    manifests: readonly { rel: string; abs: string; mtimeMs: number }[],
    candidates: readonly Candidate[],
  ): Promise<UnmatchedManifest[]> {
    const matched = new Set<string>();
    for (const c of candidates) for (const m of manifestPathsOf(c.abs)) matched.add(m);
    const out: UnmatchedManifest[] = [];
    const now = this.clock.nowMs();
    const present = new Set<string>();
    for (const mf of manifests) {
      if (matched.has(mf.abs)) continue;
      present.add(mf.rel);
      const landed = this.opts.bronze
        ? (
            await Promise.all(dataNamesOfManifest(mf.rel).map((n) => this.opts.bronze!.latestFileByPath(n)))
          ).find((f) => f !== null && (f.state === 'verified' || f.state === 'unverified'))
        : undefined;
      if (landed) {
        const m = await readManifestFile(mf.abs).catch(() => null);
        if (m && m.manifest !== null && m.manifest !== 'invalid' && m.sha256 !== null) {
          await this.loader.lateManifest(mf.rel, m.manifest, m.sha256, landed);
          // Its data file is gone (archived or deleted): the manifest follows it.
          if (this.opts.afterLanding !== 'keep') await this.moveLateManifest(mf.abs, landed.storedPath);
          continue;
        }
      }
      const state = unmatchedManifestState(mf.mtimeMs, now, this.opts.orphanManifestMs ?? 60_000);
      const detail =
        state === 'waiting'
          ? `no data file ${dataNamesOfManifest(mf.rel).join(' / ')} yet`
          : `no data file ${dataNamesOfManifest(mf.rel).join(' / ')} and nothing landed under that name`;
      out.push({ rel: mf.rel, state, detail });
      if (this.manifestLogged.get(mf.rel) !== state) {
        this.manifestLogged.set(mf.rel, state);
        // A manifest written before its data file is a normal client order: info while it waits, a
        // warning only once it is an orphan (landing.orphanManifestMs).
        this.logger[state === 'orphan' ? 'warn' : 'info'](
          { event: `manifest.${state}`, manifest: mf.rel },
          `manifest ${mf.rel}: ${detail}`,
        );
      }
    }
    for (const k of [...this.manifestLogged.keys()]) if (!present.has(k)) this.manifestLogged.delete(k);
    return out;
  }

  private async moveLateManifest(abs: string, storedPath: string | null): Promise<void> {
    try {
      if (storedPath === null) return void (await rm(abs, { force: true }));
      const taken = await lstat(`${storedPath}.manifest.json`).then(
        () => true,
        () => false,
      );
      await rename(abs, taken ? `${storedPath}.late.manifest.json` : `${storedPath}.manifest.json`);
    } catch (e) {
      this.logger.warn(
        { event: 'manifest.move_failed', manifest: abs, err: e },
        'could not move a late manifest',
      );
    }
  }
}
