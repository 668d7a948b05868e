/** What the loader has seen of a candidate file over time (plain data, no I/O). */
export interface FileObservation {
  readonly size: number;
  readonly mtimeMs: number;
  /** When size and mtime were first seen with their current values. */
  readonly stableSinceMs: number;
}

export interface Manifest {
  readonly records: number;
  readonly sha256?: string | undefined;
  readonly bytes?: number | undefined;
}

export interface CompletenessPolicy {
  readonly stableWindowMs: number;
  readonly requireManifest: boolean;
  /** Quiet period for a file no process holds open for writing (needs a usable writer check). */
  readonly closedQuietMs?: number;
}

/**
 * What the open-writer check (a port; on Linux /proc) knows about one file. `unavailable`: no
 * certainty (no /proc, or some processes' descriptors unreadable), so the stability window applies.
 */
export type WriterFacts =
  | { readonly kind: 'unavailable'; readonly reason: string }
  | { readonly kind: 'checked'; readonly writerPids: readonly number[] };

export type WaitReason = 'unstable' | 'open-for-writing' | 'manifest-missing' | 'manifest-invalid';

export type Readiness =
  | {
      readonly ready: true;
      readonly verified: boolean;
      /** Which rule made it complete (for logs and the catalog). */
      readonly by: 'manifest-bytes' | 'closed-and-quiet' | 'stable-window';
    }
  | { readonly ready: false; readonly reason: WaitReason; readonly detail: string };

/**
 * Decides whether a file is complete enough to land. Pure: a function of observations, the sidecar
 * manifest (if any), what the open-writer check saw, and time.
 * - A file some process holds open for writing is not complete, whatever the window or manifest says.
 * - A manifest stating `bytes` that the file has reached makes it ready at once (the writer said so).
 * - A file nobody holds open (the check worked) is ready once unchanged for `closedQuietMs`, counted
 *   from the earlier of the first sighting and its mtime (a file renamed into place lands at once).
 * - Otherwise (no check) the file is ready once size and mtime have been stable for the window.
 * - Without a manifest, `requireManifest` makes it wait (reported as waiting).
 * Records and sha256 are checked while landing (they need the bytes).
 */
export function decideReadiness(
  obs: FileObservation,
  manifest: Manifest | null | 'invalid',
  nowMs: number,
  policy: CompletenessPolicy,
  writers: WriterFacts = { kind: 'unavailable', reason: 'no open-writer check' },
): Readiness {
  if (manifest === 'invalid')
    return {
      ready: false,
      reason: 'manifest-invalid',
      detail:
        'the sidecar manifest is not valid JSON of the form {"records": N, "sha256"?: "hex", "bytes"?: N}',
    };
  if (manifest === null && policy.requireManifest) {
    return {
      ready: false,
      reason: 'manifest-missing',
      detail: 'completeness.requireManifest is on and there is no NAME.manifest.json yet',
    };
  }
  if (writers.kind === 'checked' && writers.writerPids.length > 0)
    return {
      ready: false,
      reason: 'open-for-writing',
      detail: `held open for writing by process ${writers.writerPids.join(', ')}; it lands once closed`,
    };
  if (manifest !== null && manifest.bytes !== undefined && manifest.bytes === obs.size)
    return { ready: true, verified: true, by: 'manifest-bytes' };
  const closed = writers.kind === 'checked' && policy.closedQuietMs !== undefined;
  const windowMs = closed ? Math.min(policy.closedQuietMs, policy.stableWindowMs) : policy.stableWindowMs;
  const since = closed && obs.mtimeMs <= nowMs ? Math.min(obs.stableSinceMs, obs.mtimeMs) : obs.stableSinceMs;
  const stableFor = nowMs - since;
  if (stableFor < windowMs) {
    // Reason stays 'unstable' (callers such as ingest --once keep polling unstable files).
    // 'quiet' holds whatever the writer check would say: callers may skip the check until it matters.
    const what = closed ? 'quiet' : 'size/mtime stable';
    if (manifest?.bytes !== undefined)
      return {
        ready: false,
        reason: 'unstable',
        detail: `manifest says ${manifest.bytes} bytes, file has ${obs.size} so far (${what} for ${stableFor} ms of ${windowMs} ms)`,
      };
    return { ready: false, reason: 'unstable', detail: `${what} for ${stableFor} ms of ${windowMs} ms` };
  }
  return { ready: true, verified: manifest !== null, by: closed ? 'closed-and-quiet' : 'stable-window' };
}

/** Folds a new stat into the observation: resets the stability clock when size or mtime moved. Pure. */
export function observe(
  prev: FileObservation | undefined,
  size: number,
  mtimeMs: number,
  nowMs: number,
): FileObservation {
  if (prev && prev.size === size && prev.mtimeMs === mtimeMs) return prev;
  return { size, mtimeMs, stableSinceMs: nowMs };
}
