import type { Stores } from '../../ports/stores.js';
import { BronzeSql, SqliteBronze } from './bronze.js';
import { openSqlite, type OpenSqliteOptions, type Sqlite } from './db.js';
import { LedgerSql, SqliteLedger } from './ledger.js';
import { SqliteReadModel } from './read-model.js';
import { RegistrySql, SqliteTableRegistry } from './registry.js';

/** The SQLite database file inside a data folder. */
export const SQLITE_DB_FILE = 'seamline.db';

/** The stores of one SQLite file as ports, plus the handle the harness-owned adapters still take. */
export interface SqliteStores extends Stores {
  readonly bronze: SqliteBronze;
  readonly ledger: SqliteLedger;
  readonly tables: SqliteTableRegistry;
  readonly readModel: SqliteReadModel;
  /**
   * The connection, for the SQLite adapters of leases, the writer lock, reindex jobs and optimize runs
   * wired by the runtime (they move behind ports with the harness branch). Services never take it.
   */
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
    close() {
      if (!closed) {
        closed = true;
        db.close();
      }
      return Promise.resolve();
    },
  };
}
