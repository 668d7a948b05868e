import { SeamlineError } from '../../errors/errors.js';
import { openRuntime } from '../../runtime/runtime.js';
import type { Command } from '../context.js';
import { printOut } from '../output.js';

/** rollback: points serving back at the previous table in one store transaction. */
export const rollback: Command = async (ctx) => {
  const rt = await openRuntime(ctx.config, ctx.logger);
  try {
    const cur = await rt.tables.serving();
    if (!cur)
      throw new SeamlineError('USAGE', `nothing is serving in ${ctx.config.dataDir}; nothing to roll back`);
    const onDisk = new Set(await rt.store.listTables());
    const r = await rt.tables.rollback(rt.clock.nowMs(), (name) => onDisk.has(name));
    if (!r) {
      const why =
        cur.previous === null
          ? 'there is no previous table'
          : `the previous table ${cur.previous} is failed or no longer on disk (retention removed it)`;
      throw new SeamlineError('USAGE', `cannot roll back from ${cur.tableName}: ${why}`);
    }
    const now = (await rt.tables.serving())!;
    ctx.logger.info(
      { event: 'table.rollback', from: r.from, to: r.to },
      `serving ${r.to} again (was ${r.from})`,
    );
    printOut(
      ctx.json,
      { from: r.from, to: r.to, modelId: now.modelId, dim: now.dim, previous: now.previous },
      () =>
        `serving ${r.to} (${now.modelId}, ${now.dim}-d) again; ${r.from} is now the previous table (seamline rollback again to return to it)`,
    );
    return 0;
  } finally {
    await rt.close();
  }
};
