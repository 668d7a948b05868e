import path from 'node:path';
import { LanceStore } from '../../src/store/lance.js';
import { openSqlite } from '../../src/store/sqlite/db.js';
import { RegistrySql as TableRegistry } from '../../src/store/sqlite/registry.js';
import type { VectorRow } from '../../src/ports/vector-store.js';

/** Reads every row of the serving table of a data folder (through our own adapters, read-only use). */
export async function servingRows(dataDir: string): Promise<VectorRow[]> {
  const db = openSqlite(path.join(dataDir, 'seamline.db'), { synchronous: 'FULL', busyTimeoutMs: 5000 });
  try {
    const serving = new TableRegistry(db).serving();
    return serving ? await tableRows(dataDir, serving.tableName) : [];
  } finally {
    db.close();
  }
}

/** Every row of one table under dataDir/lance ([] when it does not exist). */
async function tableRows(dataDir: string, tableName: string): Promise<VectorRow[]> {
  const store = await LanceStore.open(path.join(dataDir, 'lance'));
  try {
    const t = await store.openTable(tableName);
    if (!t) return [];
    const rows: VectorRow[] = [];
    for await (const b of t.scanAll('all')) rows.push(...b);
    return rows;
  } finally {
    store.close();
  }
}

/** Every row of the serving table of a data folder whose stores live in PostgreSQL at `url`. */
export async function servingRowsPg(url: string, dataDir: string): Promise<VectorRow[]> {
  const { openPgStores } = await import('../../src/store/postgres/open.js');
  const { PG_TEST_OPTIONS } = await import('./postgres.js');
  const s = (await openPgStores({ ...PG_TEST_OPTIONS, url, poolMax: 1, existingOnly: true }))!;
  try {
    const serving = await s.tables.serving();
    return serving ? await tableRows(dataDir, serving.tableName) : [];
  } finally {
    await s.close();
  }
}
