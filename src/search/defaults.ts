import type { FusionMethod, FusionSettings } from './fusion.js';

/** Config overrides of the fusion default (null = the model's documented default). */
export interface FusionOverrides {
  readonly method: FusionMethod | null;
  readonly vectorWeight: number | null;
}

/**
 * Documented hybrid defaults per model, chosen by the sweep on the SciFact train split
 * (`npm run bench:retrieval`, docs/retrieval.md). A weak embedding model gets a small vector weight:
 * measured, not assumed.
 */
export const FUSION_DEFAULTS: Readonly<Record<string, Omit<FusionSettings, 'rrfK'>>> = {
  // Sweep best 0.6967 vs fts 0.6953: the static vectors add little, so they get a small say.
  'local/glove-sif-100d': { method: 'minmax', vectorWeight: 0.05 },
  // Sweep best 0.7099 vs fts 0.6953 (weights 0.1–0.35 all beat fts).
  'local/use-lite-512d': { method: 'minmax', vectorWeight: 0.25 },
};

/**
 * For a model not measured here: the better-measured model's setting (normalized-score fusion won for
 * both models). Measure your own with `seamline eval` and set search.vectorWeight / search.fusion.
 */
export const FALLBACK_FUSION: Omit<FusionSettings, 'rrfK'> = { method: 'minmax', vectorWeight: 0.25 };

/** The fusion for a model: config overrides, else the documented default, else the fallback. Pure. */
export function fusionFor(modelId: string, o: FusionOverrides, rrfK: number): FusionSettings {
  const d = FUSION_DEFAULTS[modelId] ?? FALLBACK_FUSION;
  return { method: o.method ?? d.method, vectorWeight: o.vectorWeight ?? d.vectorWeight, rrfK };
}
