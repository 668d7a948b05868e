import type { Clock } from '../ports/clock.js';
import type { Ledger } from '../ports/ledger.js';
import type { Config } from '../config/load.js';
import { judgeFreshness, type FreshnessVerdict } from './freshness.js';

/** What the lane views read. */
export interface LaneStatusDeps {
  readonly config: Config;
  readonly clock: Clock;
  readonly ledger: Ledger;
}

/** The live lane's freshness objective judged from the ledger (survives restarts; same in status and /readyz). */
export async function freshnessOf(rt: LaneStatusDeps, tableName: string): Promise<FreshnessVerdict> {
  const o = rt.config.processor.freshness;
  const now = rt.clock.nowMs();
  return judgeFreshness(
    await rt.ledger.lanes().recentSearchable(tableName, now - o.windowMs),
    o,
    now,
    'live',
  );
}

/** What status reports about the lanes: backlog per lane, files not yet seen, the freshness verdict. */
export async function laneStatus(rt: LaneStatusDeps, tableName: string): Promise<Record<string, unknown>> {
  const lanes = rt.ledger.lanes();
  const backlog = await lanes.backlog(tableName);
  const freshness = await freshnessOf(rt, tableName);
  return {
    live: backlog.live,
    backlog: backlog.backlog,
    notYetSeen: await lanes.undiscovered(tableName),
    watermarkSeq: await lanes.watermark(tableName),
    freshness,
    degraded: freshness.reason,
  };
}
