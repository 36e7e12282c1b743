/**
 * Applying a plan later (`reconcile --plan FILE`, the daemon's approved refusal) applies it exactly
 * or not at all. Before anything is applied, run-once re-plans from the directory and AWS as they are
 * now, at the saved plan's time (so leavers' revocation instants and expiry dates come out the same),
 * and `verifiedSavedPlan` refuses (exit 4, `SavedPlanRefusedError`):
 *
 * 1. a plan made from another AWS state (its actual-state digest differs: `StalePlanError`);
 * 2. a plan whose content does not match the hash its file carries (edited after saving);
 * 3. a plan whose hash the journal never recorded as saved or refused (not made by rolemap as it is);
 * 4. a plan whose changes or refusal differ from the plan made now (`PlanMismatchError`).
 *
 * Each message names the reason and, when the content differs, where (change, attribute path).
 */
import type { Plan } from '../../core/plan/change.js';
import { planDifference, planHash, shortHash } from '../../core/plan/plan-hash.js';
import type { RunJournal } from '../../core/ports.js';
import { PlanMismatchError, StalePlanError, TamperedPlanError } from './errors.js';

export interface SavedPlanCheck {
  readonly saved: Plan;
  /** The plan the same directory and AWS state give now, made at the saved plan's time. */
  readonly fresh: Plan;
  /** The `planHash` the saved file carries (`--plan FILE`); absent for a plan read from the journal. */
  readonly carriedHash?: string | null | undefined;
  readonly journal?: Pick<RunJournal, 'isPlanRecorded'> | undefined;
  /** The plan's refusal was approved by an operator (daemon, `rolemap approve RUN`): apply it despite its refusal. */
  readonly approved: boolean;
}

/** The instant to re-plan a saved plan at: its own. */
export function savedPlanTime(saved: Plan): Date {
  return new Date(saved.createdAt);
}

/** The plan to apply (the saved one, its approved refusal lifted), or a `SavedPlanRefusedError`. */
export function verifiedSavedPlan(check: SavedPlanCheck): Plan {
  const { saved, fresh } = check;
  if (saved.actualDigest !== fresh.actualDigest) throw new StalePlanError(saved.actualDigest, fresh.actualDigest);
  const difference = planDifference(saved, fresh);
  const where = difference === null ? '' : `; it differs from the plan that the directory and AWS give now: ${difference}`;
  const hash = planHash(saved);
  if (check.carriedHash === null) {
    throw new TamperedPlanError(`the saved plan carries no planHash: it was not written by rolemap reconcile --plan-out (or was edited)${where}`);
  }
  if (check.carriedHash !== undefined && check.carriedHash !== hash) {
    throw new TamperedPlanError(
      `the saved plan was edited after rolemap saved it: its content hashes to ${shortHash(hash)}, not to the ${shortHash(check.carriedHash)} it carries${where}`,
    );
  }
  if (!(check.journal?.isPlanRecorded(hash) ?? false)) {
    throw new TamperedPlanError(
      `the saved plan's hash ${shortHash(hash)} is not recorded in the journal: rolemap never saved this plan (it was edited, or saved against another journal)${where}`,
    );
  }
  if (difference !== null) {
    throw new PlanMismatchError(`the saved plan is not the plan that the same directory and AWS state give now: ${difference}; make a new plan and review it`);
  }
  return check.approved && saved.refusal !== null ? { ...saved, refusal: null } : saved;
}
