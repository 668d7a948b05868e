import type { Manifest } from './completeness.js';

/** What was landed under a name, as a late manifest is checked against it. */
export interface LandedFacts {
  readonly records: number;
  readonly sha256: string;
  readonly bytes: number;
}

/**
 * Compares a manifest that arrived after its data file landed with what was landed. Pure.
 * Returns null when it agrees, else what it contradicts.
 */
export function lateManifestVerdict(m: Manifest, landed: LandedFacts): string | null {
  const bad: string[] = [];
  if (m.records !== landed.records)
    bad.push(`manifest says ${m.records} records, ${landed.records} were read`);
  if (m.sha256 !== undefined && m.sha256 !== landed.sha256)
    bad.push(`manifest sha256 ${m.sha256}, landed bytes have sha256 ${landed.sha256}`);
  if (m.bytes !== undefined && m.bytes !== landed.bytes)
    bad.push(`manifest says ${m.bytes} bytes, ${landed.bytes} were landed`);
  return bad.length ? bad.join('; ') : null;
}

export type ManifestState = 'waiting' | 'orphan';

/**
 * A manifest with no data file beside it and nothing landed under its names: waiting while young
 * (its data file may still be on the way), orphan after `orphanAfterMs`. Pure.
 */
export function unmatchedManifestState(mtimeMs: number, nowMs: number, orphanAfterMs: number): ManifestState {
  return nowMs - mtimeMs >= orphanAfterMs ? 'orphan' : 'waiting';
}
