import type { Runtime } from '../runtime/runtime.js';
import { judgeFreshness, type FreshnessVerdict } from './freshness.js';

/** The live lane's freshness objective judged from the ledger (survives restarts; same in status and /readyz). */
export function freshnessOf(rt: Runtime, tableName: string): FreshnessVerdict {
  const o = rt.config.processor.freshness;
  const now = rt.clock.nowMs();
  return judgeFreshness(rt.ledger.lanes().recentSearchable(tableName, now - o.windowMs), o, now, 'live');
}

/** What status reports about the lanes: backlog per lane, files not yet seen, the freshness verdict. */
export function laneStatus(rt: Runtime, tableName: string): Record<string, unknown> {
  const lanes = rt.ledger.lanes();
  const backlog = lanes.backlog(tableName);
  const freshness = freshnessOf(rt, tableName);
  return {
    live: backlog.live,
    backlog: backlog.backlog,
    notYetSeen: lanes.undiscovered(tableName),
    watermarkSeq: lanes.watermark(tableName),
    freshness,
    degraded: freshness.reason,
  };
}
