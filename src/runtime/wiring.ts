import type { OptimizerDeps } from '../optimize/optimizer.js';
import type { ReindexDeps } from '../reindex/deps.js';
import type { Runtime } from './runtime.js';

/** The ports the reindex job takes, picked from the runtime (services never receive the runtime). */
export const reindexDepsOf = (rt: Runtime): ReindexDeps => ({
  config: rt.config,
  logger: rt.logger,
  clock: rt.clock,
  leases: rt.leases,
  jobs: rt.reindexJobs,
  store: rt.store,
  bronze: rt.bronze,
  ledger: rt.ledger,
  embedder: (id) => rt.embedder(id),
});

/** The ports one optimize pass takes. */
export const optimizerDepsOf = (rt: Runtime): OptimizerDeps => ({
  runs: rt.optimizeRuns,
  leases: rt.leases,
  tables: rt.tables,
  store: rt.store,
  clock: rt.clock,
  logger: rt.logger,
});
