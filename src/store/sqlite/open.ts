import type { Stores } from '../../ports/stores.js';
import { BronzeSql, SqliteBronze } from './bronze.js';
import { openSqlite, setBusyTimeout, type OpenSqliteOptions, type Sqlite } from './db.js';
import { SqliteLeases } from './leases.js';
import { SqliteOptimizeRuns } from './optimize-runs.js';
import { SqliteReindexStore } from './reindex-store.js';
import { LedgerSql, SqliteLedger } from './ledger.js';
import { SqliteReadModel } from './read-model.js';
import { RegistrySql, SqliteTableRegistry } from './registry.js';

/** The SQLite database file inside a data folder. */
export const SQLITE_DB_FILE = 'seamline.db';

/** The stores of one SQLite file as ports, plus the connection (for tests and the adapters' own use). */
export interface SqliteStores extends Stores {
  readonly bronze: SqliteBronze;
  readonly ledger: SqliteLedger;
  readonly tables: SqliteTableRegistry;
  readonly readModel: SqliteReadModel;
  readonly leases: SqliteLeases;
  /** The connection: tests inspect it; services never take it (they receive the ports). */
  readonly db: Sqlite;
}

/** Opens (creating and migrating unless read-only) one SQLite file and builds every adapter over it. */
export function openSqliteStores(file: string, opts: OpenSqliteOptions): SqliteStores {
  return sqliteStoresOf(openSqlite(file, opts));
}

/** The adapters over an open connection (closing the stores closes it). */
export function sqliteStoresOf(db: Sqlite): SqliteStores {
  let closed = false;
  return {
    db,
    bronze: new SqliteBronze(new BronzeSql(db)),
    ledger: new SqliteLedger(new LedgerSql(db)),
    tables: new SqliteTableRegistry(new RegistrySql(db)),
    readModel: new SqliteReadModel(db),
    leases: new SqliteLeases(db),
    reindexJobs: new SqliteReindexStore(db),
    optimizeRuns: new SqliteOptimizeRuns(db),
    setLockWait: (ms) => setBusyTimeout(db, ms),
    close() {
      if (!closed) {
        closed = true;
        db.close();
      }
      return Promise.resolve();
    },
  };
}
