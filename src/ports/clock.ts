/** Injected time source: pure code takes nowMs, adapters take a Clock. */
export interface Clock {
  nowMs(): number;
}

export const systemClock: Clock = { nowMs: () => Date.now() };
