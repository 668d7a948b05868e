import type { Stores } from '../../ports/stores.js';
import { holderDead, selfHolder } from '../../runtime/holder.js';
import { PgBronze } from './bronze.js';
import { PgDatabase, type PostgresOptions } from './connect.js';
import { PgLeases } from './leases.js';
import { PgLedger } from './ledger.js';
import { migratePostgres } from './migrations.js';
import { PgOptimizeRuns } from './optimize-runs.js';
import { PgReadModel } from './read-model.js';
import { PgTableRegistry } from './registry.js';
import { PgReindexStore } from './reindex-store.js';

/** The stores of one PostgreSQL database as ports, plus the pool (for tests; services never take it). */
export interface PgStores extends Stores {
  readonly bronze: PgBronze;
  readonly ledger: PgLedger;
  readonly tables: PgTableRegistry;
  readonly readModel: PgReadModel;
  readonly leases: PgLeases;
  readonly db: PgDatabase;
}

export interface OpenPgStoresOptions extends PostgresOptions {
  /**
   * The listing commands beside live workers: no migration, and `null` when the database has no seamline
   * schema yet (an empty listing, as SQLite's missing file).
   */
  readonly existingOnly?: boolean;
}

/** Opens a pool on the database, migrates it (unless `existingOnly`) and builds every adapter over it. */
export async function openPgStores(opts: OpenPgStoresOptions): Promise<PgStores | null> {
  const db = await PgDatabase.open(opts);
  try {
    if (opts.existingOnly) {
      const r = await db.query<{ t: string | null }>(`SELECT to_regclass('schema_migrations')::text AS t`);
      if (r.rows[0]?.t === null || r.rows[0]?.t === undefined) {
        await db.close();
        return null;
      }
    } else await migratePostgres(db);
  } catch (e) {
    await db.close();
    throw e;
  }
  return pgStoresOf(db);
}

/** The adapters over an open pool (closing the stores ends it). */
export function pgStoresOf(db: PgDatabase, owner: string = selfHolder()): PgStores {
  return {
    db,
    bronze: new PgBronze(db, { owner, holderDead }),
    ledger: new PgLedger(db, holderDead),
    tables: new PgTableRegistry(db),
    readModel: new PgReadModel(db),
    leases: new PgLeases(db, holderDead),
    reindexJobs: new PgReindexStore(db),
    optimizeRuns: new PgOptimizeRuns(db),
    setLockWait: (ms) => db.setLockWait(ms),
    close: () => db.close(),
  };
}
