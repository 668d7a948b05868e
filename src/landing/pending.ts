import type { Bronze } from '../bronze/bronze.js';
import { decideReadiness, type CompletenessPolicy } from './completeness.js';
import { readManifest } from './loader.js';
import type { LandingFormat } from './parse/types.js';
import { scanLanding, type Refusal } from './scan.js';
import type { WaitingFile } from './service.js';

/**
 * What is in the landing folder but not landed yet, as seen from any process (status does not share
 * memory with the daemon): files the catalog has not decided for their current size/mtime/manifest,
 * each with the reason it waits. Stability is judged from the file's mtime (a fresh process has no
 * earlier observations). Read-only: never hashes, parses or moves anything.
 */
export async function landingBacklog(
  root: string,
  formats: readonly LandingFormat[],
  bronze: Bronze,
  policy: CompletenessPolicy,
  nowMs: number,
): Promise<{ waiting: WaitingFile[]; refused: Refusal[] }> {
  let scan;
  try {
    scan = await scanLanding(root, formats);
  } catch {
    return { waiting: [], refused: [] }; // no landing folder yet
  }
  const waiting: WaitingFile[] = [];
  for (const c of scan.candidates) {
    const m = await readManifest(c.abs);
    const last = bronze.latestFileByPath(c.rel);
    if (
      last &&
      last.size === c.size &&
      last.mtimeMs === Math.trunc(c.mtimeMs) &&
      last.manifestSha256 === m.sha256 &&
      last.state !== 'failed' &&
      last.state !== 'landing'
    )
      continue;
    const r = decideReadiness(
      { size: c.size, mtimeMs: c.mtimeMs, stableSinceMs: c.mtimeMs },
      m.manifest,
      nowMs,
      policy,
    );
    if (r.ready)
      waiting.push({
        rel: c.rel,
        reason: 'pending',
        detail: 'complete; the loader lands it on its next pass',
      });
    else
      waiting.push({
        rel: c.rel,
        reason: r.reason,
        detail: r.reason === 'manifest-invalid' && m.problem ? `${r.detail}: ${m.problem}` : r.detail,
      });
  }
  return { waiting, refused: scan.refused };
}
