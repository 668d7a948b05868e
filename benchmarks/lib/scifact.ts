// The BEIR SciFact train split, read from ../shared at run time (never copied into the repo), and
// landed into a seamline data folder through the real CLI (`seamline ingest --once`).
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

export const REPO_ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..', '..');
/** Where CI has the data: `../shared/data/scifact-train` beside the clone. */
export const DEFAULT_SCIFACT_DIR = path.resolve(REPO_ROOT, '..', 'shared', 'data', 'scifact-train');

/** The data folder: --data, else SEAMLINE_SCIFACT_DIR, else the default; null when it is not there. */
export function scifactDir(flag: string | undefined): string | null {
  const dir = flag ?? process.env.SEAMLINE_SCIFACT_DIR ?? DEFAULT_SCIFACT_DIR;
  return existsSync(path.join(dir, 'corpus.jsonl')) && existsSync(path.join(dir, 'qrels', 'train.tsv'))
    ? dir
    : null;
}

export interface LandedSet {
  readonly configFile: string;
  readonly dataDir: string;
  readonly records: number;
}

/** The config a benchmark folder runs with: default chunking, title + text embedded, title as metadata. */
export function benchConfig(root: string, modelId: string): Record<string, unknown> {
  return {
    dataDir: path.join(root, 'data'),
    landingDir: path.join(root, 'landing'),
    model: { id: modelId, modelsDir: path.join(REPO_ROOT, 'models') },
    contract: {
      idField: 'id',
      versionField: 'version',
      eventTimeField: 'event_time',
      textFields: ['title', 'text'],
      metadata: { title: 'string' },
      unknownFields: 'drop',
    },
    completeness: { requireManifest: false, stableWindowMs: 0 },
    landing: { afterLanding: 'keep' },
    log: { level: 'warn' },
    http: { enabled: false },
  };
}

/**
 * Lands the corpus under `root` with `modelId` (one JSONL file, version 1) and runs
 * `seamline ingest --once`. Reuses a folder that already holds the same corpus and model.
 */
export function landScifact(dir: string, root: string, modelId: string, reuse: boolean): LandedSet {
  const marker = path.join(root, 'landed.json');
  const configFile = path.join(root, 'seamline.json');
  const corpus = readFileSync(path.join(dir, 'corpus.jsonl'), 'utf8')
    .split('\n')
    .filter((l) => l.trim());
  if (reuse && existsSync(marker)) {
    const m = JSON.parse(readFileSync(marker, 'utf8')) as { modelId: string; records: number };
    if (m.modelId === modelId && m.records === corpus.length)
      return { configFile, dataDir: path.join(root, 'data'), records: m.records };
  }
  rmSync(root, { recursive: true, force: true });
  mkdirSync(path.join(root, 'landing'), { recursive: true });
  writeFileSync(configFile, JSON.stringify(benchConfig(root, modelId), null, 2));
  const lines = corpus.map((l) => {
    const d = JSON.parse(l) as { _id: string; title: string; text: string };
    return JSON.stringify({
      id: d._id,
      version: 1,
      event_time: '2020-01-01T00:00:00Z',
      title: d.title,
      text: d.text,
    });
  });
  writeFileSync(path.join(root, 'landing', 'scifact-corpus.jsonl'), lines.join('\n') + '\n');
  const r = spawnSync(
    process.execPath,
    [
      path.join(REPO_ROOT, 'dist', 'src', 'cli', 'main.js'),
      'ingest',
      '--once',
      '--config',
      configFile,
      '--json',
    ],
    { stdio: ['ignore', 'pipe', 'inherit'], encoding: 'utf8', maxBuffer: 64 << 20 },
  );
  if (r.status !== 0) throw new Error(`seamline ingest --once failed (exit ${r.status}): ${r.stdout}`);
  writeFileSync(marker, JSON.stringify({ modelId, records: corpus.length }));
  return { configFile, dataDir: path.join(root, 'data'), records: corpus.length };
}
