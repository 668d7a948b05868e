import type { JobState, ReindexJob, SwapOutcome } from '../ports/reindex-store.js';
import type { GateResult } from './gates.js';

/**
 * The reindex job as a state machine. The recorded state (the job row) says which phase a job is in;
 * the facts say what the world looks like now. `nextStep` is pure: the driver gathers facts, asks for
 * the next step, runs it (one small function per step), and asks again.
 *
 *   building ──(key state exhausted)──► catching_up ⇄ (catch-up rounds)
 *   catching_up ──(caught up, no gates yet)──► gating ──(passed)──► swap ──(swapped)──► done
 *                                              gating ──(failed)──► reject (table failed, serving untouched)
 *   swap ──(the source committed meanwhile)──► catch-up, then swap again
 *   swap ──(serving moved: rollback, another swap)──► conflict (table failed)
 */

/** What the world looks like before a step. Only the fields of the current phase are read. */
export interface Facts {
  /** Shutdown requested: stop at this step boundary, resumable. */
  readonly aborted: boolean;
  /** building: key-state rows after the cursor (0 = everything is built). */
  readonly pageRows: number;
  /** The source table's commit mark now (both lanes). */
  readonly commitMark: number;
  /** Gate results of this attempt (gates run again after a resume), null before they ran. */
  readonly gates: readonly GateResult[] | null;
  /** Outcome of the last swap attempt of this attempt, null before one. */
  readonly lastSwap: SwapOutcome | null;
  /** Catch-up rounds run so far by this attempt, and the bound. */
  readonly rounds: number;
  readonly maxRounds: number;
}

export type Step =
  | { readonly kind: 'abort' }
  | { readonly kind: 'build-page' }
  | { readonly kind: 'end-build' }
  | { readonly kind: 'catch-up'; readonly from: number; readonly to: number }
  /** Ingest keeps committing faster than catch-up converges: stop, resumable (retryable conflict). */
  | { readonly kind: 'stuck'; readonly rounds: number }
  | { readonly kind: 'run-gates' }
  | { readonly kind: 'reject'; readonly failed: readonly GateResult[] }
  | { readonly kind: 'conflict'; readonly servingNow: string | null }
  | { readonly kind: 'swap' }
  | { readonly kind: 'done'; readonly state: JobState };

export type RecordedState = Pick<ReindexJob, 'state' | 'caughtUpSeq'>;

/** Pure: the next step of a job in `job.state` given `f`. */
export function nextStep(job: RecordedState, f: Facts): Step {
  if (job.state === 'swapped' || job.state === 'failed' || job.state === 'abandoned')
    return { kind: 'done', state: job.state };
  if (f.lastSwap?.kind === 'swapped') return { kind: 'done', state: 'swapped' };
  // The swap already refused: the job is failed, not left resumable, even when a shutdown is pending.
  if (f.lastSwap?.kind === 'serving-moved') return { kind: 'conflict', servingNow: f.lastSwap.servingNow };
  if (f.aborted) return { kind: 'abort' };
  if (job.state === 'building') return f.pageRows > 0 ? { kind: 'build-page' } : { kind: 'end-build' };
  return afterBuild(job, f);
}

/** catching_up / gating: converge on the source, gate once, then swap only when nothing is left. */
function afterBuild(job: RecordedState, f: Facts): Step {
  const failed = (f.gates ?? []).filter((g) => !g.passed);
  if (failed.length > 0) return { kind: 'reject', failed };
  if (f.commitMark > job.caughtUpSeq) {
    if (f.rounds >= f.maxRounds) return { kind: 'stuck', rounds: f.rounds };
    return { kind: 'catch-up', from: job.caughtUpSeq, to: f.commitMark };
  }
  if (f.gates === null) return { kind: 'run-gates' };
  return { kind: 'swap' };
}

export type ResumeDecision =
  | { readonly kind: 'resume' }
  | { readonly kind: 'abandon'; readonly why: string }
  | { readonly kind: 'create' };

/** Pure: resume the unfinished job when it builds the same thing from the same source; else abandon it. */
export function resumeDecision(
  active: Pick<ReindexJob, 'settingsKey' | 'sourceTable'> | null,
  now: { readonly settingsKey: string; readonly servingTable: string; readonly tableState: string | null },
): ResumeDecision {
  if (!active) return { kind: 'create' };
  if (
    active.settingsKey === now.settingsKey &&
    active.sourceTable === now.servingTable &&
    now.tableState === 'building'
  )
    return { kind: 'resume' };
  return {
    kind: 'abandon',
    why:
      active.sourceTable !== now.servingTable
        ? `serving moved from ${active.sourceTable} to ${now.servingTable}`
        : 'model, pipeline version or chunking changed',
  };
}
