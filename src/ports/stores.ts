import type { Bronze } from './bronze.js';
import type { Ledger } from './ledger.js';
import type { LeaseStore } from './leases.js';
import type { OptimizeRunStore } from './optimize-runs.js';
import type { ReindexStore } from './reindex-store.js';
import type { ReadModel } from './read-model.js';
import type { TableRegistry } from './registry.js';

/**
 * The stores of one data folder, as ports: what the composition root (src/store/open.ts) hands to
 * services. One backing store holds all of them (SQLite file, or one PostgreSQL database), so their
 * adapters can implement the atomic moves that span several of them (a batch commit closes incidents;
 * a reindex swap copies coverage) as single methods. `close()` is idempotent.
 */
export interface Stores {
  readonly bronze: Bronze;
  readonly ledger: Ledger;
  readonly tables: TableRegistry;
  readonly readModel: ReadModel;
  readonly leases: LeaseStore;
  readonly reindexJobs: ReindexStore;
  readonly optimizeRuns: OptimizeRunStore;
  /**
   * From here on, how long one statement may wait for a lock inside the store before it fails as
   * retryable (the caller retries asynchronously, so the event loop stays free). Long-lived processes
   * set it short (SQLite: busy_timeout; PostgreSQL: lock_timeout).
   */
  setLockWait(ms: number): void;
  close(): Promise<void>;
}

/** How to open the stores: read-only for the listing commands beside a live daemon. */
export interface OpenStoresOptions {
  readonly readonly?: boolean;
}
