import type { Guid } from '../model/directory.js';
import type { Resource, ResourceKey, ResourceKind, PrincipalRef, AttrType } from '../model/resources.js';
import type { AccountId } from '../model/role-map.js';
import type { LeaverReason } from '../model/state.js';
import type { Action } from './action.js';

/** One attribute that differs between before and after, for updates. */
export interface AttrDiff {
  readonly name: string;
  readonly type: AttrType;
  readonly before: unknown;
  readonly after: unknown;
}

/**
 * One change in a plan.
 *
 * before/after by action: create has before null; delete has after null; update, revoke and disable
 * have both (revoke and disable may have before null when the revocation policy does not exist yet).
 * `reason` is for people reading the plan and the journal, never for deciding anything during apply.
 */
export interface Change {
  /** Position in the plan, 1-based, in dependency order. */
  readonly seq: number;
  readonly action: Action;
  readonly kind: ResourceKind;
  readonly key: ResourceKey;
  /** Human address, e.g. `iam_role.prod.Admin`. */
  readonly address: string;
  readonly account: AccountId;
  readonly before: Resource | null;
  readonly after: Resource | null;
  /** Attribute differences (update, revoke, disable); empty for create and delete. */
  readonly diffs: readonly AttrDiff[];
  readonly reason: string;
  readonly principal?: PrincipalRef | undefined;
  /**
   * An update AWS cannot make in place (an IAM role's path): the target destroys the object and creates
   * it again. Counted by the deletion threshold; rendered `-/+`.
   */
  readonly replace?: true | undefined;
  /** Set when the change exists because of a leaver. */
  readonly leaver?: { readonly guid: Guid; readonly name: string; readonly reason: LeaverReason } | undefined;
  /** seqs of changes that must succeed before this one may run. */
  readonly dependsOn: readonly number[];
}

export interface Refusal {
  readonly code: 'deletion-threshold' | 'directory-too-small';
  readonly message: string;
}

export const PLAN_FORMAT_VERSION = 1;

/** A plan is plain data: it can be printed, saved, journaled and applied later exactly as it is. */
export interface Plan {
  readonly formatVersion: typeof PLAN_FORMAT_VERSION;
  /** When the plan was made (passed in, the core has no clock). */
  readonly createdAt: string;
  readonly ownerId: string;
  readonly changes: readonly Change[];
  readonly warnings: readonly string[];
  /** Set when the safety checks refuse the plan; a refused plan is never applied. */
  readonly refusal: Refusal | null;
  /**
   * Digest of the actual state the plan was computed from; applying a saved plan refuses when it changed.
   * `calculatePlan` computes it on first read (an enumerable getter, so spreading, `JSON.stringify` and
   * `planToJson` see a plain string): a dry run that never saves, compares or approves a plan never pays it.
   */
  readonly actualDigest: string;
  readonly summary: PlanSummary;
}

export interface PlanSummary {
  readonly add: number;
  readonly change: number;
  readonly destroy: number;
  /** Distinct leavers with at least one change. */
  readonly leavers: number;
}
