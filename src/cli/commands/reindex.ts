import path from 'node:path';
import { createInterface } from 'node:readline/promises';
import { SeamlineError } from '../../errors/errors.js';
import { formatDuration } from '../../reindex/progress.js';
import { estimateReindex, type ReindexEstimate } from '../../reindex/estimate.js';
import { runReindex } from '../../reindex/reindex.js';
import { runJob } from '../../runtime/job.js';
import { openRuntime } from '../../runtime/runtime.js';
import { reindexDepsOf } from '../../runtime/wiring.js';
import { hooksOf, type Command, type CommandContext } from '../context.js';
import { printOut } from '../output.js';

const estimateLines = (e: ReindexEstimate): string[] => [
  `reindex plan: ${e.sourceTable ?? '(nothing serving)'} (${e.sourceModelId ?? '-'}) → new table with ${e.modelId} (${e.dim}-d)`,
  `records ${e.records} (deleted ids ${e.deletedIds}), chunks ${e.chunks}, tokens ${e.tokens}`,
  `reusable vectors ${e.reusableVectors}, to embed ${e.toEmbed}`,
  `measured ${e.embedTextsPerSecond} texts/s on ${e.sampleTexts} sample text(s); cap ${e.maxRps > 0 ? `${e.maxRps} records/s` : 'none'}`,
  `estimated time ${formatDuration(e.estimatedMs)} (bound by ${e.boundBy})`,
];

/** reindex [--model ID] [--max-rps N] [--dry-run] [--yes]: blue/green rebuild, gates, atomic swap. */
export const reindex: Command = async (ctx) => {
  const c = ctx.config;
  const modelId = typeof ctx.values.model === 'string' ? ctx.values.model : c.model.id;
  let maxRps = c.reindex.maxRecordsPerSecond;
  if (ctx.values['max-rps'] !== undefined) {
    maxRps = Number(ctx.values['max-rps']);
    if (!Number.isFinite(maxRps) || maxRps < 0)
      throw new SeamlineError(
        'USAGE',
        `--max-rps must be a number ≥ 0 (0 = no cap), got "${String(ctx.values['max-rps'])}"`,
      );
  }
  const evaluationFile =
    c.reindex.gates.evaluationFile === undefined
      ? null
      : path.resolve(
          c.configFile ? path.dirname(c.configFile) : process.cwd(),
          c.reindex.gates.evaluationFile,
        );
  return runJob(
    {
      name: 'reindex',
      logger: ctx.logger,
      deadlineMs: c.shutdownDeadlineMs,
      drainMessage: 'stopping at the next page or round; the job stays resumable',
      abortReason: () =>
        new SeamlineError('ABORTED', 'reindex interrupted; run seamline reindex again to resume'),
    },
    (signal) => reindexJob(ctx, modelId, maxRps, evaluationFile, signal),
  );
};

async function reindexJob(
  ctx: CommandContext,
  modelId: string,
  maxRps: number,
  evaluationFile: string | null,
  signal: AbortSignal,
): Promise<number> {
  const rt = await openRuntime(ctx.config, ctx.logger);
  try {
    const interactive = process.stdin.isTTY === true && process.stderr.isTTY === true && !ctx.json;
    if (ctx.values['dry-run'] === true || (interactive && ctx.values.yes !== true)) {
      const e = await estimateReindex(reindexDepsOf(rt), modelId, maxRps);
      if (ctx.values['dry-run'] === true) {
        printOut(ctx.json, e, () => estimateLines(e).join('\n'));
        return 0;
      }
      process.stderr.write(`${estimateLines(e).join('\n')}\n`);
      const rl = createInterface({ input: process.stdin, output: process.stderr });
      const answer = await rl.question('build it and swap when the gates pass? [y/N] ');
      rl.close();
      if (!/^y(es)?$/i.test(answer.trim())) {
        process.stderr.write('nothing done\n');
        return 0;
      }
    }
    const r = await runReindex(
      reindexDepsOf(rt),
      {
        modelId,
        maxRps,
        evaluationFile,
        tty: process.stderr.isTTY === true && !ctx.json,
        write: (s) => process.stderr.write(s),
        fault: hooksOf(ctx).fault,
      },
      signal,
    );
    printOut(ctx.json, r, () =>
      [
        `${r.state === 'swapped' ? 'swapped' : 'NOT swapped'}: ${r.table} (${r.modelId}, ${r.dim}-d)${r.resumed ? ' [resumed]' : ''}; previous ${r.sourceTable} (${r.sourceModelId})`,
        `records ${r.records}, rows written ${r.rowsWritten}, embedded ${r.textsEmbedded}, reused ${r.textsReused}; catch-up rounds ${r.catchUpRounds} (up to seq ${r.caughtUpSeq}); ${formatDuration(r.durationMs)}`,
        ...r.gates.map((g) =>
          g.skipped
            ? `gate ${g.name}: skipped — ${g.skipped}`
            : `gate ${g.name}: ${g.passed ? 'passed' : 'FAILED'} — ${g.figure}`,
        ),
        ...(r.state === 'swapped'
          ? [`rollback: seamline rollback`]
          : [`serving is unchanged (${r.sourceTable}); ${r.table} is marked failed`]),
      ].join('\n'),
    );
    if (r.state !== 'swapped') {
      process.stderr.write(`seamline: GATE_FAILED: ${r.error ?? 'a gate failed'}\n`);
      return new SeamlineError('GATE_FAILED', r.error ?? '').exitCode;
    }
    return 0;
  } finally {
    await rt.close();
  }
}
