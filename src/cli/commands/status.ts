import { collectStatus } from '../../observability/status.js';
import { openRuntime } from '../../runtime/runtime.js';
import type { Command } from '../context.js';
import { printOut } from '../output.js';

export const status: Command = async (ctx) => {
  const rt = await openRuntime(ctx.config, ctx.logger);
  try {
    const s = await collectStatus(rt);
    printOut(ctx.json, s, () => {
      const r = s.records as Record<string, number>;
      const f = s.files as { byState: Record<string, number>; completenessGap: number };
      const t = s.table as Record<string, unknown> | null;
      return [
        `records: read ${r.read} = landed ${r.landed} + quarantined ${r.quarantined}; bronze ${r.bronze}`,
        `files: ${Object.entries(f.byState).map(([k, v]) => `${k} ${v}`).join(', ') || 'none'}; completeness gap (no manifest): ${f.completenessGap}`,
        t ? `table ${String(t.name)} (${String(t.modelId)}, ${String(t.dim)}-d): ${String(t.rows)} rows, version ${String(t.version)}, backlog ${String(t.backlogRecords)} record(s)` : 'table: none yet',
      ].join('\n');
    });
    return 0;
  } finally {
    await rt.close();
  }
};

