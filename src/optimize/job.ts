import {
  runOptimizePass,
  type OptimizeReport,
  type OptimizerDeps,
  type OptimizerOptions,
} from './optimizer.js';

export interface JobSummary {
  readonly passes: number;
  readonly byStatus: Readonly<Record<string, number>>;
}

/**
 * The optimize job: one pass every intervalMs until the signal aborts. A failed pass is recorded and
 * logged, never fatal. On abort the pass in flight stops at its next action boundary and releases
 * the lease (graceful SIGTERM).
 */
export async function runOptimizeJob(
  deps: OptimizerDeps,
  o: OptimizerOptions,
  signal: AbortSignal,
  onPass?: (r: OptimizeReport) => void,
): Promise<JobSummary> {
  const byStatus: Record<string, number> = {};
  let passes = 0;
  deps.logger.info(
    { event: 'optimize.job_started', interval_ms: o.intervalMs },
    `optimize job: a pass every ${o.intervalMs} ms`,
  );
  while (!signal.aborted) {
    const r = await runOptimizePass(deps, o, signal);
    passes += 1;
    byStatus[r.status] = (byStatus[r.status] ?? 0) + 1;
    onPass?.(r);
    await deps.clock.sleep(o.intervalMs, signal);
  }
  deps.logger.info({ event: 'optimize.job_stopped', passes, by_status: byStatus }, 'optimize job stopped');
  return { passes, byStatus };
}
