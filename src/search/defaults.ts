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
  'local/glove-sif-100d': { method: 'rrf', vectorWeight: 0.3 },
  'local/use-lite-512d': { method: 'rrf', vectorWeight: 0.3 },
};

/** For a model not in the table: weighted RRF with equal weights (plain RRF). */
export const FALLBACK_FUSION: Omit<FusionSettings, 'rrfK'> = { method: 'rrf', vectorWeight: 0.5 };

/** The fusion for a model: config overrides, else the documented default, else the fallback. Pure. */
export function fusionFor(modelId: string, o: FusionOverrides, rrfK: number): FusionSettings {
  const d = FUSION_DEFAULTS[modelId] ?? FALLBACK_FUSION;
  return { method: o.method ?? d.method, vectorWeight: o.vectorWeight ?? d.vectorWeight, rrfK };
}
