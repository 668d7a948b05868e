import { SeamlineError } from '../../errors/errors.js';
import type { BatchActivity } from '../../observability/activity.js';
import type { Command } from '../context.js';
import { printOut } from '../output.js';
import {
  iso,
  limitOf,
  noPositionals,
  openForListing,
  secs,
  stringFlag,
  textTable,
} from './activity-common.js';

const STATES = ['planned', 'committed', 'failed'];

/** `seamline batches [--limit N] [--state S]`: recent micro-batches, newest first: state, lane, counts, duration. */
export const batches: Command = async (ctx) => {
  noPositionals(ctx, 'batches');
  const limit = limitOf(ctx);
  const state = stringFlag(ctx, 'state');
  if (state !== undefined && !STATES.includes(state))
    throw new SeamlineError(
      'USAGE',
      `--state ${JSON.stringify(state)}: expected one of ${STATES.join(', ')}`,
    );
  const stores = await openForListing(ctx);
  let list: BatchActivity[] = [];
  try {
    if (stores) list = await stores.readModel.recentBatches({ limit, ...(state ? { state } : {}) });
  } finally {
    await stores?.close();
  }
  printOut(ctx.json, { batches: list }, () =>
    list.length === 0
      ? 'no batches yet'
      : textTable(
          [
            'BATCH',
            'TABLE',
            'STATE',
            'LANE',
            'SEQ',
            'RECORDS',
            'INS/UPD/DEL',
            'EMBEDDED',
            'PLANNED AT',
            'DURATION',
            'ERROR',
          ],
          list.map((b) => [
            b.batchId,
            b.table,
            b.attempts > 1 ? `${b.state} (${b.attempts} attempts)` : b.state,
            b.lane ?? '-',
            `${b.seqFrom}-${b.seqTo}`,
            String(b.records ?? '-'),
            `${b.rowsInserted ?? '-'}/${b.rowsUpdated ?? '-'}/${b.rowsDeleted ?? '-'}`,
            `${b.textsEmbedded ?? '-'} (+${b.textsReused ?? 0} reused)`,
            iso(b.plannedAtMs),
            secs(b.durationMs),
            b.error ?? '',
          ]),
          48,
        ),
  );
  return 0;
};
