import { lstat, readdir, realpath } from 'node:fs/promises';
import path from 'node:path';
import { formatOf } from './parse/index.js';
import type { LandingFormat } from './parse/types.js';

export interface Candidate {
  /** Path relative to the landing folder, with forward slashes. */
  readonly rel: string;
  readonly abs: string;
  readonly format: LandingFormat;
  readonly size: number;
  readonly mtimeMs: number;
  /** Identity (device, inode); absent when the caller built the candidate without a stat. */
  readonly dev?: number;
  readonly ino?: number;
}

export interface Refusal {
  readonly rel: string;
  readonly reason: string;
}

/** Names the loader never treats as landing files: hidden, temporary, partial, and manifests. */
export function isIgnoredName(name: string): boolean {
  return (
    name.startsWith('.') ||
    name.endsWith('.tmp') ||
    name.endsWith('.partial') ||
    name.endsWith('.manifest.json')
  );
}

const FORMAT_SUFFIX = /\.(jsonl\.gz|jsonl|csv)$/;

/**
 * The two accepted manifest names of a data file, short form first: `NAME.manifest.json` (format
 * suffix replaced) and `NAME.jsonl.manifest.json` (file name + suffix).
 */
export function manifestPathsOf(abs: string): readonly [string, string] {
  return [`${abs.replace(FORMAT_SUFFIX, '')}.manifest.json`, `${abs}.manifest.json`];
}

/** The short manifest name (kept for callers that need one name). */
export function manifestPathOf(abs: string): string {
  return manifestPathsOf(abs)[0];
}

/** The data file names (relative) a manifest can belong to, under either naming. Pure. */
export function dataNamesOfManifest(rel: string): string[] {
  const base = rel.slice(0, -'.manifest.json'.length);
  if (FORMAT_SUFFIX.test(base)) return [base];
  return [`${base}.jsonl`, `${base}.jsonl.gz`, `${base}.csv`];
}

export interface ManifestFile {
  readonly rel: string;
  readonly abs: string;
  readonly mtimeMs: number;
}

/** True when `target` is the root or inside it (both already resolved). */
export function isInside(root: string, target: string): boolean {
  const rel = path.relative(root, target);
  return rel === '' || (!rel.startsWith('..') && !path.isAbsolute(rel));
}

/**
 * Lists landing candidates under root (recursively). Symlinks are never followed: nothing outside
 * the landing folder is read (I10); they are reported as refusals with a reason.
 */
export async function scanLanding(
  root: string,
  formats: readonly LandingFormat[],
): Promise<{ candidates: Candidate[]; refused: Refusal[]; manifests: ManifestFile[] }> {
  const realRoot = await realpath(root);
  const candidates: Candidate[] = [];
  const refused: Refusal[] = [];
  const manifests: ManifestFile[] = [];
  async function walk(dir: string): Promise<void> {
    let entries;
    try {
      entries = await readdir(dir, { withFileTypes: true });
    } catch {
      return; // removed while scanning
    }
    for (const ent of entries) {
      const abs = path.join(dir, ent.name);
      const rel = path.relative(realRoot, abs).split(path.sep).join('/');
      if (ent.name.endsWith('.manifest.json') && !ent.name.startsWith('.') && ent.isFile()) {
        const mt = await lstat(abs).catch(() => null);
        if (mt) manifests.push({ rel, abs, mtimeMs: mt.mtimeMs });
        continue;
      }
      if (isIgnoredName(ent.name)) continue;
      let st;
      try {
        st = await lstat(abs);
      } catch {
        continue;
      }
      if (st.isSymbolicLink()) {
        let target = '(unresolvable)';
        try {
          target = await realpath(abs);
        } catch {
          /* dangling */
        }
        refused.push({
          rel,
          reason: isInside(realRoot, target)
            ? `symlink (to ${target}): symlinks are not followed; move the file itself into the landing folder`
            : `symlink pointing outside the landing folder (to ${target}): refused`,
        });
        continue;
      }
      if (st.isDirectory()) {
        await walk(abs);
        continue;
      }
      if (!st.isFile()) continue;
      const format = formatOf(ent.name);
      if (format === null || !formats.includes(format)) continue;
      candidates.push({ rel, abs, format, size: st.size, mtimeMs: st.mtimeMs, dev: st.dev, ino: st.ino });
    }
  }
  await walk(realRoot);
  candidates.sort((a, b) => a.mtimeMs - b.mtimeMs || a.rel.localeCompare(b.rel));
  return { candidates, refused, manifests };
}
