import { setTimeout as sleep } from 'node:timers/promises';
import { collectStatus, type StatusDeps } from '../../observability/status.js';
import { openRuntime, type Runtime } from '../../runtime/runtime.js';
import type { Command, CommandContext } from '../context.js';
import { printOut } from '../output.js';
import { drainView, renderDrain, type DrainSample } from '../watch.js';

const sampleOf = (s: Record<string, unknown>, tMs: number): DrainSample => {
  const r = s.records as { maxSeq: number };
  const t = s.table as { backlogRecords: number; rows: number | null } | null;
  const f = s.files as { waiting: number };
  return {
    tMs,
    backlog: t ? t.backlogRecords : r.maxSeq,
    maxSeq: r.maxSeq,
    waitingFiles: f.waiting,
    rows: t?.rows ?? null,
  };
};

/**
 * status --watch: one sample per interval until SIGINT/SIGTERM. On a terminal the progress line is
 * redrawn in place; otherwise (or with --json) one line per refresh.
 */
async function watch(ctx: CommandContext, rt: StatusDeps): Promise<number> {
  const intervalMs = ctx.values.interval === undefined ? 1000 : Number(ctx.values.interval);
  const tty = process.stdout.isTTY === true && !ctx.json;
  const ctl = new AbortController();
  const stop = (): void => ctl.abort();
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
  const samples: DrainSample[] = [];
  try {
    while (!ctl.signal.aborted) {
      samples.push(sampleOf(await collectStatus(rt), rt.clock.nowMs()));
      // Keep the first sample (progress is since the start) and the last minute for the rate.
      if (samples.length > 2 && samples[1]!.tMs < samples.at(-1)!.tMs - 60_000) samples.splice(1, 1);
      if (ctx.json) process.stdout.write(`${JSON.stringify({ ...samples.at(-1), ...drainView(samples) })}\n`);
      else if (tty)
        process.stdout.write(`\r\x1b[K${renderDrain(samples, { tty, columns: process.stdout.columns })}`);
      else process.stdout.write(`${renderDrain(samples, { tty })}\n`);
      await sleep(intervalMs, undefined, { signal: ctl.signal }).catch(() => undefined);
    }
  } finally {
    process.off('SIGINT', stop);
    process.off('SIGTERM', stop);
    if (tty) process.stdout.write('\n');
  }
  return 0;
}

/** The status read side of a runtime (the reindex jobs port moves with the harness branch). */
const statusDepsOf = (rt: Runtime): StatusDeps => ({
  ...rt,
  latestReindex: () => rt.reindexJobs.latest(),
});

export const status: Command = async (ctx) => {
  const rt = await openRuntime(ctx.config, ctx.logger);
  try {
    const deps = statusDepsOf(rt);
    if (ctx.values.watch === true) return await watch(ctx, deps);
    const s = await collectStatus(deps);
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
