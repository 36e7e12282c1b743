/**
 * calculatePlan: desired vs actual, then the leaver pass, then the policies, then dependency order.
 *
 *   desired  actual            change
 *   yes      no                create (unless an unowned object has the name: warning, or adopt)
 *   yes      yes, equal        nothing
 *   yes      yes, differs      update (unowned: warning, or adopt)
 *   no       yes, owned        delete (Identity Center users are kept with leavers.identityCenter remove-access)
 *   no       yes, unowned      nothing
 *   leaver's role / permission set  revoke (deny policy entry), pruned after the session duration
 *   leaver's linked IAM user        disable (keys Inactive, no console password)
 */
import type { Guid } from '../model/directory.js';
import type { Resource } from '../model/resources.js';
import { resourceAddress } from '../model/resources.js';
import type { RoleMap } from '../model/role-map.js';
import { aliasOf } from '../model/role-map.js';
import type { ActualState, DesiredState } from '../model/state.js';
import { describeLeaverEvent } from '../desired/leavers.js';
import type { Plan, PlanSummary } from './change.js';
import { PLAN_FORMAT_VERSION } from './change.js';
import { diffStates } from './diff.js';
import { stateDigest } from './digest.js';
import type { DraftChange } from './draft.js';
import { subject } from './draft.js';
import { leaverChanges } from './leavers.js';
import { rotationChanges } from '../posture/rotation.js';
import { orderChanges } from './order.js';
import type { PlanEntitlements } from './plan-entitlements.js';
import { packEntitlements } from './plan-entitlements.js';
import { ResourceIndex } from './resource-index.js';
import type { Drafting, PlanPolicy, PolicyContext } from './policies.js';
import { DEFAULT_POLICIES } from './policies.js';
import { markReplacements } from './replacements.js';
import { unreadablePolicy } from './unreadable.js';
import { heldPolicy } from './held.js';

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
  /** The filters to run; the default is ownership, protection, dangling references, safety. */
  readonly policies?: readonly PlanPolicy[] | undefined;
}

/** Case-insensitive match against safety.protectedPrincipals; returns the matching entry. */
export function protectedMatcher(roleMap: RoleMap): (...names: readonly (string | undefined)[]) => string | undefined {
  const set = new Map(roleMap.safety.protectedPrincipals.map((p) => [p.toLowerCase(), p]));
  return (...names) => {
    if (set.size === 0) return undefined;
    for (const n of names) {
      if (n === undefined || n === '') continue;
      const hit = set.get(n.toLowerCase());
      if (hit !== undefined) return hit;
    }
    return undefined;
  };
}

/** The diff: desired vs actual, through the ownership, protection and safety filters. Pure. */
export function calculatePlan(input: PlanInput): Plan {
  const { desired, actual, roleMap, now } = input;
  const alias = aliasOf(roleMap);
  const address = (r: Resource): string => resourceAddress(r, alias);
  const isProtected = protectedMatcher(roleMap);
  const actualByKey = new ResourceIndex(actual.resources);

  const generic = diffStates(desired.resources, actualByKey, { keepIdentityCenterUsers: roleMap.leavers.identityCenter === 'remove-access' });
  const deleting = new Set(generic.filter((c) => c.action === 'delete').map((c) => c.key));
  const leaverPass = leaverChanges({ desired, actualByKey, actual: actual.resources, roleMap, now, deleting, isProtected });
  const rotationDrafts = rotationChanges({ actualByKey, roleMap, now, isProtected, taken: new Set([...generic, ...leaverPass.changes].map((c) => c.key)) });
  const annotated = annotateLeavers(markReplacements([...generic, ...leaverPass.changes, ...rotationDrafts]), desired, now);

  const ctx: PolicyContext = { desired, actual: actual.resources, actualByKey, roleMap, allowDeletes: input.allowDeletes, approvedRefusal: input.approvedRefusal, address, isProtected, unreadable: actual.unreadable, now };
  let drafting: Drafting = { changes: annotated, warnings: leaverPass.warnings, refusal: null };
  // What could not be read is held before any other filter, whichever filters the caller chose.
  // So is what a group reference that stopped resolving holds (held.ts).
  for (const policy of [unreadablePolicy, heldPolicy, ...(input.policies ?? DEFAULT_POLICIES)]) drafting = policy(drafting, ctx);

  const changes = orderChanges(drafting.changes, (d) => address(subject(d)));
  // The digest of the actual state is needed only when the plan is saved, compared with a saved plan or
  // approved (daemon); hashing 100,000 resources in canonical order is about a third of planning time.
  // It is computed on first read, from the actual state's list (immutable input), and then kept: the plan
  // holds no index of the actual state for it, only the list the caller already holds.
  const actualResources = actual.resources;
  const entitlements = desired.entitlements;
  let digest: string | undefined;
  let packed: PlanEntitlements | undefined;
  return {
    formatVersion: PLAN_FORMAT_VERSION,
    createdAt: now.toISOString(),
    ownerId: roleMap.safety.ownerId,
    changes,
    warnings: mergeWarnings(actual.warnings, desired.warnings ?? [], drafting.warnings),
    refusal: drafting.refusal,
    get actualDigest(): string {
      digest ??= stateDigest(actualResources);
      return digest;
    },
    summary: summarize(drafting.changes, new Set(desired.leavers.map((l) => l.guid))),
    get entitlements(): PlanEntitlements {
      packed ??= packEntitlements(entitlements);
      return packed;
    },
  };
}

/** Mark every change about a leaver (their IC user, their memberships, direct assignments) and say why. */
function annotateLeavers(drafts: readonly DraftChange[], desired: DesiredState, now: Date): DraftChange[] {
  if (desired.leavers.length === 0) return [...drafts];
  const leavers = new Map(desired.leavers.map((l) => [l.guid, l]));
  // What happened to each leaver, said once per leaver rather than once per change about them.
  const events = new Map<Guid, string>();
  return drafts.map((d) => {
    if (d.leaver !== undefined) return d;
    const r = subject(d);
    let guid: Guid | undefined = r.principal?.guid;
    if (r.kind === 'identitystore_user') guid = r.id;
    if (r.kind === 'identitystore_membership') guid = r.id.split('/')[1];
    if (r.kind === 'sso_account_assignment' && r.id.includes('/USER:')) guid = r.id.slice(r.id.indexOf('/USER:') + 6);
    const l = guid === undefined ? undefined : leavers.get(guid);
    if (l === undefined) return d;
    let event = events.get(l.guid);
    if (event === undefined) {
      event = describeLeaverEvent(l, now);
      events.set(l.guid, event);
    }
    return withLeaver(d, { guid: l.guid, name: l.sAMAccountName, reason: l.reason }, `${event}: ${d.reason}`);
  });
}

/**
 * `{ ...d, leaver, reason }`, the same fields in the same order, copied one by one: V8 gives an object spread
 * with extra properties about three times the bytes of the object, and thousands of a leaver's changes pass here.
 */
function withLeaver(d: DraftChange, leaver: NonNullable<DraftChange['leaver']>, reason: string): DraftChange {
  const c: Record<string, unknown> = {};
  for (const k in d) if (Object.hasOwn(d, k)) c[k] = d[k as keyof DraftChange];
  c['leaver'] = leaver;
  c['reason'] = reason;
  return c as unknown as DraftChange;
}

/**
 * The plan's warnings: the targets' first, then desired state's, then the filters' (deduplicated,
 * sorted). A filter's "left alone" for an object a target already reported as left alone (with more
 * detail: the other owner's tag, how to adopt) is the same fact said twice, and is dropped.
 */
function mergeWarnings(actual: readonly string[], desired: readonly string[], drafting: readonly string[]): string[] {
  const addressOf = (w: string): string => w.slice(0, w.indexOf(': '));
  const leftAlone = new Set(actual.filter((w) => w.includes('left alone') && w.includes(': ')).map(addressOf));
  const own = [...new Set(drafting)].filter((w) => !(w.includes('left alone') && leftAlone.has(addressOf(w)))).sort();
  return [...actual, ...desired, ...own];
}

function summarize(changes: readonly DraftChange[], leaverGuids: ReadonlySet<string>): PlanSummary {
  const leavers = new Set<string>();
  let add = 0;
  let change = 0;
  let destroy = 0;
  for (const c of changes) {
    if (c.action === 'create') add++;
    else if (c.action === 'delete') destroy++;
    else if (c.replace) {
      add++;
      destroy++;
    } else change++;
    if (c.leaver) leavers.add(c.leaver.guid);
    for (const g of c.concerns ?? []) if (leaverGuids.has(g)) leavers.add(g); // movers are not leavers
  }
  return { add, change, destroy, leavers: leavers.size };
}
