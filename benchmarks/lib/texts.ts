import { readFileSync } from 'node:fs';
import path from 'node:path';

export type LengthClass = 'short' | 'medium' | 'long' | 'mixed';
export const LENGTH_CLASSES: readonly LengthClass[] = ['short', 'medium', 'long', 'mixed'];

/** Word counts per class: long stays under the default chunk size (128 tokens), the embedder's real input. */
const WORDS: Record<Exclude<LengthClass, 'mixed'>, readonly [number, number]> = {
  short: [5, 12],
  medium: [25, 45],
  long: [70, 95],
};

/** Deterministic PRNG (mulberry32): the same seed gives the same texts on every machine. */
export function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

let vocab: string[] | null = null;

/** Real English words, frequency-ranked, from the vendored GloVe tokenizer's vocabulary (first 20k). */
export function words(modelsDir: string): string[] {
  if (vocab) return vocab;
  const tok = JSON.parse(
    readFileSync(path.join(modelsDir, 'local/glove-sif-100d/tokenizer.json'), 'utf8'),
  ) as { model: { vocab: Record<string, number> } };
  vocab = Object.entries(tok.model.vocab)
    .sort((a, b) => a[1] - b[1])
    .map(([w]) => w)
    .filter((w) => /^[a-z]{2,}$/.test(w))
    .slice(0, 20_000);
  return vocab;
}

/** A Zipf-like word pick: frequent words often, rare ones sometimes (as in prose). */
function sentence(r: () => number, vocabulary: readonly string[], n: number): string {
  const out: string[] = [];
  for (let i = 0; i < n; i++) {
    const idx = Math.floor(Math.pow(r(), 2.2) * vocabulary.length);
    out.push(vocabulary[idx]!);
  }
  const s = out.join(' ');
  return s.charAt(0).toUpperCase() + s.slice(1) + '.';
}

function classOf(r: () => number, cls: LengthClass): Exclude<LengthClass, 'mixed'> {
  if (cls !== 'mixed') return cls;
  // Mixed: mostly short records, a long tail (what ticket and chat feeds look like).
  const x = r();
  return x < 0.5 ? 'short' : x < 0.8 ? 'medium' : 'long';
}

/** n deterministic texts of a length class. */
export function makeTexts(modelsDir: string, cls: LengthClass, n: number, seed = 7): string[] {
  const r = rng(seed * 1000 + LENGTH_CLASSES.indexOf(cls));
  const v = words(modelsDir);
  const out: string[] = [];
  for (let i = 0; i < n; i++) {
    const [lo, hi] = WORDS[classOf(r, cls)];
    out.push(sentence(r, v, lo + Math.floor(r() * (hi - lo + 1))));
  }
  return out;
}
