import { mkdirSync, realpathSync, statSync } from 'node:fs';
import path from 'node:path';
import { SeamlineError } from '../errors/errors.js';

/** Virtual file systems: a data or landing folder there is always a mistake (and /proc loops mkdir). */
const VIRTUAL_ROOTS = ['/proc', '/sys', '/dev'];

const invalid = (msg: string): SeamlineError => new SeamlineError('CONFIG_INVALID', msg);

/** Resolves symlinks of the longest existing prefix, so `a/../b` and symlinked folders compare equal. */
function realish(p: string): string {
  const rest: string[] = [];
  let cur = path.resolve(p);
  for (;;) {
    try {
      return path.join(realpathSync(cur), ...rest.reverse());
    } catch {
      const up = path.dirname(cur);
      if (up === cur) return path.resolve(p);
      rest.push(path.basename(cur));
      cur = up;
    }
  }
}

const inside = (child: string, parent: string): boolean => {
  const rel = path.relative(parent, child);
  return rel !== '' && !rel.startsWith('..') && !path.isAbsolute(rel);
};

const kind = (p: string): 'dir' | 'other' | 'missing' => {
  try {
    return statSync(p).isDirectory() ? 'dir' : 'other';
  } catch {
    return 'missing';
  }
};

export interface PathsToCheck {
  readonly dataDir: string;
  readonly landingDir: string;
  /** True when landingDir came from the file or env; the default `./landing` is created on first use. */
  readonly landingDirExplicit: boolean;
}

/**
 * Refuses folder layouts that point at themselves or at nothing (CONFIG_INVALID, key named): dataDir
 * and landingDir equal or nested, either on a virtual file system, either an existing non-folder, or
 * an explicitly configured landingDir that does not exist (a typo would watch an empty folder). The
 * default landingDir and any dataDir are created when missing.
 */
export function checkPaths(c: PathsToCheck): void {
  const data = realish(c.dataDir);
  const landing = realish(c.landingDir);
  for (const [key, p] of [
    ['dataDir', data],
    ['landingDir', landing],
  ] as const) {
    const root = VIRTUAL_ROOTS.find((r) => p === r || inside(p, r));
    if (root)
      throw invalid(`${key}: ${p} is on the virtual file system ${root}; choose a folder on a real disk`);
  }
  if (data === landing)
    throw invalid(
      `landingDir and dataDir are the same folder (${data}): landed files would be archived into the folder being watched; use two separate folders`,
    );
  if (inside(landing, data))
    throw invalid(`landingDir (${landing}) is inside dataDir (${data}); use two separate folders`);
  if (inside(data, landing))
    throw invalid(
      `dataDir (${data}) is inside landingDir (${landing}): archived files would be re-scanned; use two separate folders`,
    );
  const dk = kind(c.dataDir);
  if (dk === 'other') throw invalid(`dataDir: ${c.dataDir} exists and is not a folder`);
  const lk = kind(c.landingDir);
  if (lk === 'other') throw invalid(`landingDir: ${c.landingDir} exists and is not a folder`);
  if (lk === 'missing') {
    if (c.landingDirExplicit)
      throw invalid(
        `landingDir: ${c.landingDir} does not exist; create it (mkdir -p ${JSON.stringify(c.landingDir)}) or fix the path`,
      );
    mkdirOrRefuse('landingDir', c.landingDir);
  }
  if (dk === 'missing') mkdirOrRefuse('dataDir', c.dataDir);
}

function mkdirOrRefuse(key: string, p: string): void {
  try {
    mkdirSync(p, { recursive: true });
  } catch (e) {
    throw new SeamlineError('CONFIG_INVALID', `${key}: cannot create ${p}: ${(e as Error).message}`, {
      cause: e,
    });
  }
}
