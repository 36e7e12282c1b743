/**
 * The leaver fast lane's plan: only what the leavers need, at once, from what is already known.
 *
 * Input is the directory as the lane sees it (the last full read brought up to date by incremental
 * reads), the journal's entitlement history, and the AWS state last known (the last full read of AWS
 * with every change applied since), so no AWS read is needed. The leavers are found exactly as a
 * full run finds them (computeDesired against the history), and the plan is the full run's plan
 * (calculatePlan) cut down, before the safety checks, to the changes about those leavers: their
 * session revocations, their Identity Center memberships, user and direct assignments, their linked
 * IAM users' credentials. Everything else (joiners, drift) waits for the next full run, which then
 * confirms. The safety policies (ownership, protection, the deletion threshold) run on what is left.
 *
 * Pure: no I/O, no clock (`now` is passed in).
 */
import type { Entitlements } from '../model/entitlements.js';
import { computeDesired } from '../desired/desired.js';
import type { DirectorySnapshot, Guid } from '../model/directory.js';
import type { RoleMap } from '../model/role-map.js';
import type { ActualState, Entitlement, Leaver } from '../model/state.js';
import type { Plan } from '../plan/change.js';
import type { DraftChange } from '../plan/draft.js';
import { calculatePlan } from '../plan/plan.js';
import type { PlanPolicy } from '../plan/policies.js';
import { DEFAULT_POLICIES } from '../plan/policies.js';
import type { EntitlementHistory } from '../ports.js';

export interface LeaverPlanInput {
  readonly snapshot: DirectorySnapshot;
  readonly roleMap: RoleMap;
  readonly now: Date;
  readonly history: EntitlementHistory;
  /** The AWS state last known (not read for this plan). */
  readonly actual: ActualState;
  /**
   * Only the session revocations (deny entries): no deletes, no disables. What the lane applies when
   * the whole plan is past the deletion threshold: cutting live sessions deletes nothing and is
   * undone by removing an entry, while the deletions wait for an operator's approval of the full run.
   */
  readonly sessionsOnly?: boolean | undefined;
}

export interface LeaverPlan {
  readonly leavers: readonly Leaver[];
  /** Empty changes when nobody left. */
  readonly plan: Plan;
  /** The leavers each change is about, by change key (a revocation may concern several). */
  readonly concerns: ReadonlyMap<string, readonly Guid[]>;
}

/** The planning step of the lane, behind a type so that another core planner can take its place. */
export type LeaverPlanner = (input: LeaverPlanInput) => LeaverPlan;

const REVOCATION_KINDS: ReadonlySet<string> = new Set(['iam_role_revocations', 'sso_permission_set_revocations']);

/** Keeps only drafts about the given leavers (only their revocations with `sessionsOnly`); records whom each is about. */
function onlyAbout(guids: ReadonlySet<Guid>, concerns: Map<string, Guid[]>, sessionsOnly: boolean): PlanPolicy {
  return (drafting) => {
    const kept: DraftChange[] = [];
    for (const d of drafting.changes) {
      if (sessionsOnly && (d.action !== 'revoke' || !REVOCATION_KINDS.has(d.kind))) continue;
      const about = new Set<Guid>();
      if (d.leaver && guids.has(d.leaver.guid)) about.add(d.leaver.guid);
      for (const g of d.concerns ?? []) if (guids.has(g)) about.add(g);
      if (about.size === 0) continue;
      concerns.set(d.key, [...about]);
      kept.push(d);
    }
    return { ...drafting, changes: kept };
  };
}

export const planLeaverRevocations: LeaverPlanner = (input) => {
  const { snapshot, roleMap, now, history, actual } = input;
  const concerns = new Map<string, Guid[]>();
  // Without a history nobody is known to have held anything: the first full run decides.
  const desired = computeDesired(snapshot, roleMap, now, history);
  const leavers = history.last === null ? [] : desired.leavers;
  const guids = new Set(leavers.map((l) => l.guid));
  const plan = calculatePlan({ desired: { ...desired, leavers }, actual, roleMap, now, policies: [onlyAbout(guids, concerns, input.sessionsOnly ?? false), ...DEFAULT_POLICIES] });
  return { leavers, plan, concerns };
};

/**
 * The history after the lane's apply: the leavers whose every change applied (or who needed none)
 * are taken out, so they are not found again; the others stay and are retried at the next poll.
 */
export function historyAfter(last: Entitlements, leavers: readonly Leaver[], unfinished: ReadonlySet<Guid>): Entitlement[] {
  const done = new Set(leavers.filter((l) => !unfinished.has(l.guid)).map((l) => l.guid));
  return Array.from(last).filter((e) => !done.has(e.userGuid));
}
