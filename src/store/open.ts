import { existsSync } from 'node:fs';
import path from 'node:path';
import type { Config } from '../config/load.js';
import type { OpenStoresOptions, Stores } from '../ports/stores.js';
import { openSqliteStores, SQLITE_DB_FILE, type SqliteStores } from './sqlite/open.js';

export { SQLITE_DB_FILE };

/**
 * Where a store plugs in (docs/architecture.md#a-new-store): the one function that turns config into the
 * store ports. SQLite (one file in the data folder) is the embedded default; a PostgreSQL adapter
 * (issue 16) adds its branch here, keyed on its config, returning the same `Stores`.
 */
export function openStores(config: Config, opts: OpenStoresOptions = {}): SqliteStores {
  return openSqliteStores(path.join(config.dataDir, SQLITE_DB_FILE), {
    ...config.sqlite,
    ...(opts.readonly ? { readonly: true } : {}),
  });
}

/**
 * Opens the stores of a data folder only when they exist (listing commands: a data folder with no
 * database yet is an empty listing, not an error). Read-only: no lock, no migration, beside a live daemon.
 */
export function openExistingStores(config: Config): Stores | null {
  if (!existsSync(path.join(config.dataDir, SQLITE_DB_FILE))) return null;
  return openStores(config, { readonly: true });
}
