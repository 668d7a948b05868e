import path from 'node:path';
import type { Config } from '../config/load.js';
import { checkPaths } from '../config/paths.js';
import { buildContract } from '../contract/contract.js';
import type { Contract } from '../contract/types.js';
import { WorkerEmbedder } from '../embed/worker-embedder.js';
import { SeamlineError } from '../errors/errors.js';
import type { Bronze } from '../ports/bronze.js';
import type { Ledger } from '../ports/ledger.js';
import type { ReadModel } from '../ports/read-model.js';
import type { TableRegistry } from '../ports/registry.js';
import type { Stores } from '../ports/stores.js';
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
import { openStores } from '../store/open.js';
import { SQLITE_DB_FILE } from '../store/open.js';

export const DB_FILE = SQLITE_DB_FILE;
export const LANCE_DIR = 'lance';

/** Where the LanceDB tables live: store.uri (a folder or an object-store URI), else dataDir/lance. */
export function lanceUriOf(config: Pick<Config, 'dataDir' | 'store'>): string {
  return config.store.uri ?? path.join(config.dataDir, LANCE_DIR);
}

/** The one place concrete adapters are wired. Everything else receives ports. */
export interface Runtime {
  readonly config: Config;
  readonly logger: Logger;
  readonly clock: Clock;
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
  readonly readModel: ReadModel;
  readonly store: VectorStore;
  readonly contract: Contract;
  /** Loads (once) the embedder for a model id. */
  embedder(modelId?: string): Promise<Embedder>;
  /** The serving table, created (BASE_v1, configured model) on first use when `create` is set. */
  servingTable(create: boolean): Promise<VectorTable | null>;
  close(): Promise<void>;
}

/** What openRuntime may be given instead of opening it itself (tests hand in stores they inspect). */
export interface RuntimeOptions {
  /** Already open stores of `config.dataDir`; the runtime closes them with itself. */
  readonly stores?: Stores;
}

export async function openRuntime(
  config: Config,
  logger: Logger,
  opts: RuntimeOptions = {},
): Promise<Runtime> {
  checkPaths(config);
  const stores = opts.stores ?? (await openStores(config));
  let store: VectorStore;
  try {
    store = await LanceStore.open(lanceUriOf(config), {
      metadata: config.contract.metadata,
      storageOptions: config.store.storageOptions,
    });
  } catch (e) {
    await stores.close();
    throw e;
  }
  const { bronze, ledger, tables, readModel } = stores;
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
        spinning: config.model.spinning,
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
    const cur = await tables.serving();
    if (cur) {
      const t = await store.openTable(cur.tableName);
      if (!t)
        throw new SeamlineError(
          'STORE_FAILED',
          `serving table ${cur.tableName} is registered but missing from ${lanceUriOf(config)}; run seamline reindex or rollback`,
        );
      return t;
    }
    if (!create) return null;
    const emb = await embedder();
    const name = await tables.nextName(config.store.tableBaseName);
    let t: VectorTable;
    try {
      t = await store.createTable(name, emb.dim);
    } catch (e) {
      // Several workers: another one may be creating the same first table right now; wait for its pointer.
      for (let i = 0; i < 50; i++) {
        if (await tables.serving()) return servingTable(false);
        await systemClock.sleep(200);
      }
      throw e;
    }
    try {
      await tables.registerServing(name, emb.modelId, emb.dim, config.pipelineVersion, systemClock.nowMs());
    } catch (e) {
      // Several workers starting on an empty shared store: another one created the first table; use it.
      if (!(e instanceof SeamlineError && e.code === 'LEDGER_CONFLICT')) throw e;
      // Both picked the same next name, so the winner's table is this very table (one folder, one
      // name): dropping it would leave the pointer at a missing table. Drop only a table of our own.
      const winner = await tables.serving();
      if (winner && winner.tableName !== name) await store.dropTable(name).catch(() => undefined);
      return servingTable(false);
    }
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
    bronze,
    ledger,
    tables,
    leases: stores.leases,
    reindexJobs: stores.reindexJobs,
    optimizeRuns: stores.optimizeRuns,
    watch: chokidarWatch,
    setBusyTimeout: (ms) => stores.setLockWait(ms),
    readModel,
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
      await stores.close();
    },
  };
}
