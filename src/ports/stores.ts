import type { Bronze } from './bronze.js';
import type { Ledger } from './ledger.js';
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
  close(): Promise<void>;
}

/** How to open the stores: read-only for the listing commands beside a live daemon. */
export interface OpenStoresOptions {
  readonly readonly?: boolean;
}
