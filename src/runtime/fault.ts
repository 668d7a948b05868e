/**
 * Test-only fault injection (SEAMLINE_FAULT=<point>[:<n>]): the process SIGKILLs itself the n-th
 * time (default 1st) it reaches the named point. Points are listed in docs/testing.md.
 */
export const FAULT_POINTS = [
  'after-plan',
  'after-fold',
  'after-embed',
  'mid-chunk-cleanup',
  'after-merge',
  'after-commit',
  'mid-landing',
  'before-publish',
  'mid-reconcile',
  'mid-replay',
  'reindex-after-page',
  'reindex-after-catchup',
  'reindex-before-swap',
] as const;
export type FaultPoint = (typeof FAULT_POINTS)[number];

export type FaultHook = (point: FaultPoint) => void;

export const noFaults: FaultHook = () => undefined;

/** Builds the hook from the SEAMLINE_FAULT value (read by the config loader, passed in). */
export function faultHook(spec: string | undefined): FaultHook {
  if (!spec) return noFaults;
  const [point, nth] = spec.split(':');
  if (!(FAULT_POINTS as readonly string[]).includes(point ?? ''))
    throw new Error(`SEAMLINE_FAULT: unknown point "${point}" (known: ${FAULT_POINTS.join(', ')})`);
  const target = nth ? Number(nth) : 1;
  let hits = 0;
  return (p) => {
    if (p !== point) return;
    hits += 1;
    if (hits === target) process.kill(process.pid, 'SIGKILL');
  };
}
