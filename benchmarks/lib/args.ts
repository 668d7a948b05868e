import { parseArgs } from 'node:util';

/** Flags every benchmark understands. `--quick` shrinks the work to a CI smoke run (not a timing gate). */
export interface CommonFlags {
  readonly quick: boolean;
  /** Folder the JSON and SVG results go to. Default: benchmarks/results under the current directory. */
  readonly out: string;
  readonly json: boolean;
}

type Spec = Record<string, { type: 'string' | 'boolean'; default?: string | boolean }>;

/** Parses argv with node:util parseArgs; numbers are parsed by the caller with num(). */
export function parseFlags<S extends Spec>(
  spec: S,
  argv: readonly string[] = process.argv.slice(2),
): CommonFlags & Record<keyof S, string | boolean | undefined> {
  const { values } = parseArgs({
    args: [...argv],
    options: {
      quick: { type: 'boolean', default: false },
      out: { type: 'string', default: 'benchmarks/results' },
      json: { type: 'boolean', default: false },
      ...spec,
    },
    strict: true,
    allowPositionals: false,
  });
  return values as unknown as CommonFlags & Record<keyof S, string | boolean | undefined>;
}

/** A numeric flag, or its default when absent. Throws with the flag name on garbage. */
export function num(v: string | boolean | undefined, def: number, name: string): number {
  if (v === undefined || typeof v === 'boolean') return def;
  const n = Number(v);
  if (!Number.isFinite(n)) throw new Error(`--${name} must be a number, got ${JSON.stringify(v)}`);
  return n;
}

/** A comma-separated list flag (e.g. --batch 1,8,32). */
export function list(v: string | boolean | undefined, def: readonly string[]): string[] {
  if (v === undefined || typeof v === 'boolean') return [...def];
  return v
    .split(',')
    .map((s) => s.trim())
    .filter((s) => s.length > 0);
}
