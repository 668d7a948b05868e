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
}

export type Readiness =
  | { readonly ready: true; readonly verified: boolean }
  | {
      readonly ready: false;
      readonly reason: 'unstable' | 'manifest-missing' | 'manifest-invalid';
      readonly detail: string;
    };

/**
 * Decides whether a file is complete enough to land. Pure: a function of observations, the sidecar
 * manifest (if any) and time.
 * - A manifest stating `bytes` that the file has reached makes it ready at once (the writer said so).
 * - Otherwise the file is ready once size and mtime have been stable for the window; with a manifest
 *   whose `bytes` still differs it waits until then, and the loader then records it `incomplete`.
 * - Without a manifest, `requireManifest` makes it wait (reported as waiting).
 * Records and sha256 are checked while landing (they need the bytes).
 */
export function decideReadiness(
  obs: FileObservation,
  manifest: Manifest | null | 'invalid',
  nowMs: number,
  policy: CompletenessPolicy,
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
  if (manifest !== null && manifest.bytes !== undefined && manifest.bytes === obs.size)
    return { ready: true, verified: true };
  const stableFor = nowMs - obs.stableSinceMs;
  if (stableFor < policy.stableWindowMs) {
    // Reason stays 'unstable' (callers such as ingest --once keep polling unstable files).
    if (manifest?.bytes !== undefined)
      return {
        ready: false,
        reason: 'unstable',
        detail: `manifest says ${manifest.bytes} bytes, file has ${obs.size} so far (stable for ${stableFor} ms of ${policy.stableWindowMs} ms)`,
      };
    return {
      ready: false,
      reason: 'unstable',
      detail: `size/mtime stable for ${stableFor} ms of ${policy.stableWindowMs} ms`,
    };
  }
  return { ready: true, verified: manifest !== null };
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
