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
      const f = s.files as {
        byState: Record<string, number>;
        completenessGap: number;
        waiting: number;
        waitingList: { rel: string; reason: string; detail: string }[];
      };
      const t = s.table as Record<string, unknown> | null;
      const incidents = (s.incidents as { status?: string }[] | undefined) ?? [];
      const open = incidents.filter((i) => i.status === 'open').length;
      return [
        `records: read ${r.read} = landed ${r.landed} + quarantined ${r.quarantined} + withheld ${r.withheld ?? 0} (from incomplete files); bronze ${r.bronze}`,
        `files: ${
          Object.entries(f.byState)
            .map(([k, v]) => `${k} ${v}`)
            .join(', ') || 'none'
        }; waiting ${f.waiting}; completeness gap (landed without manifest): ${f.completenessGap}`,
        ...f.waitingList.slice(0, 20).map((w) => `  waiting: ${w.rel}: ${w.detail}`),
        t
          ? `table ${String(t.name)} (${String(t.modelId)}, ${String(t.dim)}-d): ${String(t.rows)} rows, version ${String(t.version)}, backlog ${String(t.backlogRecords)} record(s)`
          : 'table: none yet',
        ...(open > 0 ? [`incidents: ${open} open (see status --json and docs/operations.md)`] : []),
        ...lanesLine(t),
      ].join('\n');
    });
    return 0;
  } finally {
    await rt.close();
  }
};

/** The processor lanes' backlog and, when violated, the freshness objective's reason (lane and stage). */
function lanesLine(t: Record<string, unknown> | null): string[] {
  const l = t?.lanes as
    { live: { records: number }; backlog: { records: number }; degraded: string | null } | undefined;
  if (!l) return [];
  return [
    `lanes: live ${l.live.records} record(s) waiting, backlog ${l.backlog.records}`,
    ...(l.degraded ? [l.degraded] : []),
  ];
}
