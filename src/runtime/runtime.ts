import path from 'node:path';
import { Bronze } from '../bronze/bronze.js';
import type { Config } from '../config/load.js';
import { checkPaths } from '../config/paths.js';
import { buildContract } from '../contract/contract.js';
import type { Contract } from '../contract/types.js';
import { openSqlite, setBusyTimeout, type Sqlite } from '../store/sqlite/db.js';
import { WorkerEmbedder } from '../embed/worker-embedder.js';
import { SeamlineError } from '../errors/errors.js';
import { Ledger } from '../ledger/ledger.js';
import { TableRegistry } from '../ledger/tables.js';
import type { Logger } from '../observability/logger.js';
import { systemClock, type Clock } from '../ports/clock.js';
import type { Embedder } from '../ports/embedder.js';
import type { LeaseStore } from '../ports/leases.js';
import type { OptimizeRunStore } from '../ports/optimize-runs.js';
import type { ReindexStore } from '../ports/reindex-store.js';
import type { WatchFolder } from '../ports/watcher.js';
import { chokidarWatch } from './chokidar-watcher.js';
import type { VectorStore, VectorTable } from '../ports/vector-store.js';
import { LanceStore } from '../store/lance.js';
import { SqliteLeases } from '../store/sqlite/leases.js';
import { SqliteOptimizeRuns } from '../store/sqlite/optimize-runs.js';
import { SqliteReindexStore } from '../store/sqlite/reindex-store.js';

export const DB_FILE = 'seamline.db';
export const LANCE_DIR = 'lance';

/** The one place concrete adapters are wired. Everything else receives ports. */
export interface Runtime {
  readonly config: Config;
  readonly logger: Logger;
  readonly clock: Clock;
  readonly db: Sqlite;
  readonly bronze: Bronze;
  readonly ledger: Ledger;
  readonly tables: TableRegistry;
  readonly leases: LeaseStore;
  readonly reindexJobs: ReindexStore;
  readonly optimizeRuns: OptimizeRunStore;
  /** Watches the landing folder (chokidar). */
  readonly watch: WatchFolder;
  /** From here a lock held by another connection is waited out asynchronously (long-lived processes). */
  setBusyTimeout(ms: number): void;
  readonly store: VectorStore;
  readonly contract: Contract;
  /** Loads (once) the embedder for a model id. */
  embedder(modelId?: string): Promise<Embedder>;
  /** The serving table, created (BASE_v1, configured model) on first use when `create` is set. */
  servingTable(create: boolean): Promise<VectorTable | null>;
  close(): Promise<void>;
}

export async function openRuntime(config: Config, logger: Logger): Promise<Runtime> {
  checkPaths(config);
  const db = openSqlite(path.join(config.dataDir, DB_FILE), config.sqlite);
  let store: VectorStore;
  try {
    store = await LanceStore.open(path.join(config.dataDir, LANCE_DIR), {
      metadata: config.contract.metadata,
    });
  } catch (e) {
    db.close();
    throw e;
  }
  const bronze = new Bronze(db);
  const ledger = new Ledger(db);
  const tables = new TableRegistry(db);
  const embedders = new Map<string, Promise<Embedder>>();
  let closed = false;

  const embedder = (modelId: string = config.model.id): Promise<Embedder> => {
    let e = embedders.get(modelId);
    if (!e) {
      const t0 = Date.now();
      e = WorkerEmbedder.start({
        modelId,
        modelsDir: config.model.modelsDir,
        dtype: config.model.dtype,
        allowRemote: config.model.allowRemote,
        threads: config.model.threads,
        maxBatchTokens: config.embed.maxBatchTokens,
        maxBatchTexts: config.embed.maxBatchTexts,
      }).then((x) => {
        logger.info(
          { event: 'model.loaded', model_id: modelId, dim: x.dim, ms: Date.now() - t0 },
          `model ${modelId} loaded (${x.dim}-d)`,
        );
        return x;
      });
      embedders.set(modelId, e);
      e.catch(() => embedders.delete(modelId));
    }
    return e;
  };

  const servingTable = async (create: boolean): Promise<VectorTable | null> => {
    const cur = tables.serving();
    if (cur) {
      const t = await store.openTable(cur.tableName);
      if (!t)
        throw new SeamlineError(
          'STORE_FAILED',
          `serving table ${cur.tableName} is registered but missing from ${path.join(config.dataDir, LANCE_DIR)}; run seamline reindex or rollback`,
        );
      return t;
    }
    if (!create) return null;
    const emb = await embedder();
    const name = tables.nextName(config.store.tableBaseName);
    const t = await store.createTable(name, emb.dim);
    tables.register(name, emb.modelId, emb.dim, config.pipelineVersion, 'building', systemClock.nowMs());
    tables.swap(name, systemClock.nowMs());
    logger.info(
      { event: 'table.created', table: name, model_id: emb.modelId, dim: emb.dim },
      `created serving table ${name}`,
    );
    return t;
  };

  return {
    config,
    logger,
    clock: systemClock,
    db,
    bronze,
    ledger,
    tables,
    leases: new SqliteLeases(db),
    reindexJobs: new SqliteReindexStore(db),
    optimizeRuns: new SqliteOptimizeRuns(db),
    watch: chokidarWatch,
    setBusyTimeout: (ms) => setBusyTimeout(db, ms),
    store,
    contract: buildContract(config.contract as never),
    embedder,
    servingTable,
    async close() {
      if (closed) return;
      closed = true;
      for (const e of embedders.values()) {
        try {
          await (await e).close();
        } catch {
          /* a failed load has nothing to close */
        }
      }
      store.close();
      db.close();
    },
  };
}
