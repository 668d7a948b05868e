import type { Bronze } from '../ports/bronze.js';
import { decideReadiness, type CompletenessPolicy } from './completeness.js';
import { readManifest } from './loader.js';
import { unmatchedManifestState } from './manifests.js';
import type { LandingFormat } from './parse/types.js';
import { dataNamesOfManifest, manifestPathsOf, scanLanding, type Refusal } from './scan.js';
import type { UnmatchedManifest, WaitingFile, WriterCheckState } from './service.js';
import { noWriterCheck, writerFactsFor, type OpenWriters } from './writers.js';

export interface LandingBacklog {
  waiting: WaitingFile[];
  refused: Refusal[];
  /** Manifests with no data file in the folder and nothing landed under their names. */
  manifests: UnmatchedManifest[];
  writerCheck: WriterCheckState;
}

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
  opts: { writers?: OpenWriters; orphanManifestMs?: number } = {},
): Promise<LandingBacklog> {
  let scan;
  const writers = opts.writers ?? noWriterCheck();
  try {
    scan = await scanLanding(root, formats);
  } catch {
    return {
      waiting: [],
      refused: [],
      manifests: [],
      writerCheck: { available: false, detail: 'no landing folder' },
    }; // no landing folder yet
  }
  const keys = scan.candidates.flatMap((c) =>
    c.dev !== undefined && c.ino !== undefined ? [{ dev: c.dev, ino: c.ino }] : [],
  );
  const probe = await writers.probe(keys.length ? keys : [{ dev: -1, ino: -1 }]);
  const writerCheck: WriterCheckState =
    probe.kind === 'checked'
      ? {
          available: true,
          detail: 'open writers are read from /proc: a closed file lands after completeness.closedQuietMs',
        }
      : { available: false, detail: `${probe.reason}; completeness.stableWindowMs applies` };
  const waiting: WaitingFile[] = [];
  const matched = new Set<string>();
  for (const c of scan.candidates) {
    for (const m of manifestPathsOf(c.abs)) matched.add(m);
    const m = await readManifest(c.abs);
    const last = await bronze.latestFileByPath(c.rel);
    if (
      last &&
      last.size === c.size &&
      last.mtimeMs === Math.trunc(c.mtimeMs) &&
      last.manifestSha256 === m.sha256 &&
      last.state !== 'failed' &&
      last.state !== 'landing'
    )
      continue;
    const facts =
      c.dev !== undefined && c.ino !== undefined
        ? writerFactsFor(probe, { dev: c.dev, ino: c.ino })
        : ({ kind: 'unavailable', reason: 'no file identity' } as const);
    const r = decideReadiness(
      { size: c.size, mtimeMs: c.mtimeMs, stableSinceMs: c.mtimeMs },
      m.manifest,
      nowMs,
      policy,
      facts,
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
  const manifests: UnmatchedManifest[] = [];
  for (const mf of scan.manifests) {
    if (matched.has(mf.abs)) continue;
    const names = dataNamesOfManifest(mf.rel);
    if ((await Promise.all(names.map((n) => bronze.latestFileByPath(n)))).some((f) => f !== null)) continue; // late: the daemon checks it
    const state = unmatchedManifestState(mf.mtimeMs, nowMs, opts.orphanManifestMs ?? 60_000);
    manifests.push({ rel: mf.rel, state, detail: `no data file ${names.join(' / ')}` });
  }
  return { waiting, refused: scan.refused, manifests, writerCheck };
}
