import type { RoleMap } from '../model/role-map.js';
import type { ActualState, DesiredState } from '../model/state.js';
import type { Plan } from './change.js';

export interface PlanInput {
  readonly desired: DesiredState;
  readonly actual: ActualState;
  readonly roleMap: RoleMap;
  /** The moment the plan is made: revocation instants, pruning, key-age warnings. */
  readonly now: Date;
  /** Operator override of the deletion threshold for this plan (`--allow-deletes N`). */
  readonly allowDeletes?: number | undefined;
  /** Operator approval of a previously refused plan (daemon `approve RUN`). */
  readonly approvedRefusal?: boolean | undefined;
}

/** The diff: desired vs actual, through the ownership, protection and safety filters. Pure. */
export function calculatePlan(_input: PlanInput): Plan {
  throw new Error('not implemented yet');
}
