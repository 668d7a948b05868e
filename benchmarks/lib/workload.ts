import { createHash } from 'node:crypto';
import { renameSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { rng, words } from './texts.js';

export interface GenRecord {
  readonly id: string;
  readonly version: number;
  readonly event_time: string;
  readonly text: string;
}

/** Mixed-length records (half short, a long tail), deterministic from the seed; ids prefix-i. */
export function records(modelsDir: string, prefix: string, n: number, seed: number): GenRecord[] {
  const r = rng(seed);
  const v = words(modelsDir);
  const out: GenRecord[] = [];
  for (let i = 0; i < n; i++) {
    const x = r();
    const [lo, hi] = x < 0.5 ? [5, 12] : x < 0.8 ? [25, 45] : [70, 95];
    const len = lo + Math.floor(r() * (hi - lo + 1));
    const w: string[] = [];
    for (let k = 0; k < len; k++) w.push(v[Math.floor(Math.pow(r(), 2.2) * v.length)]!);
    out.push({
      id: `${prefix}-${i}`,
      version: 1,
      event_time: new Date(Date.UTC(2026, 0, 1) + i * 1000).toISOString(),
      text: w.join(' '),
    });
  }
  return out;
}

/**
 * Drops a JSONL file with a sidecar manifest (records, bytes, sha256) so the loader may land it at once:
 * manifest first, then the data file by rename. Returns the wall-clock ms the file became complete.
 */
export function dropWithManifest(landing: string, name: string, recs: readonly GenRecord[]): number {
  const body = recs.map((x) => JSON.stringify(x)).join('\n') + '\n';
  const sha = createHash('sha256').update(body).digest('hex');
  const file = path.join(landing, `${name}.jsonl`);
  const mf = path.join(landing, `${name}.manifest.json`);
  writeFileSync(
    `${mf}.tmp`,
    JSON.stringify({ records: recs.length, sha256: sha, bytes: Buffer.byteLength(body) }),
  );
  renameSync(`${mf}.tmp`, mf);
  writeFileSync(`${file}.tmp`, body);
  renameSync(`${file}.tmp`, file);
  return Date.now();
}
