import { existsSync } from 'node:fs';
import path from 'node:path';
import type { Config } from '../config/load.js';
import type { OpenStoresOptions, Stores } from '../ports/stores.js';
import { openPgStores } from './postgres/open.js';
import { openSqliteStores, SQLITE_DB_FILE, type SqliteStores } from './sqlite/open.js';

export { SQLITE_DB_FILE };

/**
 * Where a store plugs in (docs/architecture.md#a-new-store): the one function that turns config into the
 * store ports. `db.kind` chooses: SQLite (one file in the data folder) is the embedded default; PostgreSQL
 * (`db: { kind: "postgres", url }`, issue 16) holds the same ports in one database shared by several
 * workers (docs/scale-out.md).
 */
export async function openStores(config: Config, opts: OpenStoresOptions = {}): Promise<Stores> {
  if (config.db.kind === 'postgres') {
    const s = await openPgStores(pgOptionsOf(config, false));
    return s!;
  }
  return openSqliteStoresFor(config, opts);
}

/**
 * The SQLite stores of a data folder, synchronously, with the connection exposed (tests that inspect the
 * file; the default store). Services call openStores.
 */
export function openSqliteStoresFor(config: Config, opts: OpenStoresOptions = {}): SqliteStores {
  return openSqliteStores(path.join(config.dataDir, SQLITE_DB_FILE), {
    ...config.sqlite,
    ...(opts.readonly ? { readonly: true } : {}),
  });
}

/**
 * Opens the stores of a data folder only when they exist (listing commands: a data folder with no
 * database yet is an empty listing, not an error). Read-only: no lock, no migration, beside a live daemon.
 */
export async function openExistingStores(config: Config): Promise<Stores | null> {
  if (config.db.kind === 'postgres') return openPgStores(pgOptionsOf(config, true));
  if (!existsSync(path.join(config.dataDir, SQLITE_DB_FILE))) return null;
  return openSqliteStoresFor(config, { readonly: true });
}

function pgOptionsOf(config: Config, existingOnly: boolean) {
  const d = config.db;
  return {
    // The schema refuses kind postgres without a url.
    url: d.url!,
    poolMax: d.poolMax,
    statementTimeoutMs: d.statementTimeoutMs,
    connectTimeoutMs: d.connectTimeoutMs,
    idleInTransactionTimeoutMs: d.idleInTransactionTimeoutMs,
    applicationName: `seamline:${process.pid}`,
    existingOnly,
  };
}
