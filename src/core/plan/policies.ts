/**
 * Policies are filters over a plan being made, in the manner of external-dns's `plan/policy.go`:
 * each takes the draft changes and returns fewer (or adjusted) ones, with warnings for people.
 *
 * - ownership: never update or delete what rolemap does not own; never create over an unowned object
 *   of the same name; adopt one only when the role map says so.
 * - protection: protected principals are never touched.
 * - dangling: drop a membership or assignment whose user, group or permission set will not be there.
 * - safety: refuse a plan that deletes too much, or a directory that looks too small to trust.
 */
import type { Resource, ResourceKey, ResourceKind } from '../model/resources.js';
import { RESOURCE_KINDS, resourceKey } from '../model/resources.js';
import type { RoleMap } from '../model/role-map.js';
import type { DesiredState, UnreadableScope } from '../model/state.js';
import type { Refusal } from './change.js';
import { diffAttrs } from './diff.js';
import type { DraftChange } from './draft.js';
import { subject } from './draft.js';
import { DEPENDENT_KINDS, references } from './order.js';
import type { ResourceLookup } from './resource-index.js';

export interface PolicyContext {
  readonly desired: DesiredState;
  readonly actual: readonly Resource[];
  readonly actualByKey: ResourceLookup;
  readonly roleMap: RoleMap;
  readonly allowDeletes?: number | undefined;
  readonly approvedRefusal?: boolean | undefined;
  readonly address: (r: Resource) => string;
  readonly isProtected: (...names: readonly (string | undefined)[]) => string | undefined;
  /** Parts of AWS that could not be read: nothing is planned there (unreadable.ts). */
  readonly unreadable?: readonly UnreadableScope[] | undefined;
  /** The plan's clock (revocation instants). */
  readonly now?: Date | undefined;
}

export interface Drafting {
  readonly changes: readonly DraftChange[];
  readonly warnings: readonly string[];
  readonly refusal: Refusal | null;
}

export type PlanPolicy = (plan: Drafting, ctx: PolicyContext) => Drafting;

/** Kinds whose AWS name is unique per account, so an unowned object of the wanted name blocks a create. */
const NAMED_KINDS: ReadonlySet<ResourceKind> = new Set(['iam_role', 'identitystore_user', 'identitystore_group', 'sso_permission_set']);

const nameKey = (r: Resource): string => `${r.kind}|${r.account}|${r.name.toLowerCase()}`;

function adoptHint(kind: ResourceKind): string {
  switch (kind) {
    case 'iam_role':
      return 'set adopt: true on the role to take it over';
    case 'identitystore_user':
      return 'set identityCenter.adoptUsers: true to take it over';
    case 'identitystore_group':
      return 'set identityCenter.adoptGroups: true to take it over';
    default:
      return 'remove it or rename it in the role map';
  }
}

export const ownershipPolicy: PlanPolicy = (plan, ctx) => {
  const adoptable = ctx.desired.adoptable ?? new Set<ResourceKey>();
  const unownedByName = new Map<string, Resource>();
  const ownedByName = new Map<string, Resource>();
  // Only a create or a rename can collide by name: index names only when the plan has one.
  const renames = (c: DraftChange): boolean => c.action === 'update' && c.before !== null && c.after !== null && c.before.name.toLowerCase() !== c.after.name.toLowerCase();
  // And only the names those changes want: no key string per actual user, group and role.
  const wantedNames = new Set<string>();
  for (const c of plan.changes) if (NAMED_KINDS.has(c.kind) && (c.action === 'create' || renames(c))) wantedNames.add((c.after as Resource).name.toLowerCase());
  if (wantedNames.size > 0) {
    for (const kind of NAMED_KINDS) {
      for (const r of ctx.actualByKey.ofKind(kind)) {
        if (wantedNames.has(r.name.toLowerCase())) (r.owned ? ownedByName : unownedByName).set(nameKey(r), r);
      }
    }
  }
  const deleting = new Set(plan.changes.filter((c) => c.action === 'delete').map((c) => c.key));
  const claimed = new Map<string, ResourceKey>();
  const warnings = [...plan.warnings];
  const changes: DraftChange[] = [];
  const notOwned = (c: DraftChange, r: Resource): void => {
    warnings.push(`${ctx.address(r)}: exists but is not owned by rolemap; left alone (${adoptHint(c.kind)})`);
  };
  for (const c of plan.changes) {
    if (c.action === 'create' && NAMED_KINDS.has(c.kind)) {
      const wanted = c.after as Resource;
      const unowned = unownedByName.get(nameKey(wanted));
      if (unowned !== undefined) {
        if (!adoptable.has(c.key)) {
          notOwned(c, unowned);
          continue;
        }
        // Adoption: the unowned object becomes this desired resource (its AWS id kept, its rolemap id
        // the AD guid). The target marks it owned (description, tag or ownership registry).
        const after = { ...wanted, awsId: unowned.awsId } as Resource;
        changes.push({
          ...c,
          action: 'update',
          before: unowned,
          after,
          diffs: diffAttrs(c.kind, unowned.attrs, wanted.attrs),
          reason: `adopt: take over the existing unowned ${c.kind} ${unowned.name} (adopt is set in the role map)`,
        });
        continue;
      }
      const owned = ownedByName.get(nameKey(wanted));
      if (owned !== undefined && resourceKey(owned) !== c.key && !deleting.has(resourceKey(owned))) {
        warnings.push(`${ctx.address(wanted)}: the name is already used by ${resourceKey(owned)}, which rolemap also wants; not created`);
        continue;
      }
      // Two AD objects that map to one AWS name (two users with the same mail, say): the first one wins.
      const rival = claimed.get(nameKey(wanted));
      if (rival !== undefined) {
        warnings.push(`${ctx.address(wanted)}: ${c.key} and ${rival} both want this name; only ${rival} is created (fix the directory or the attribute mapping)`);
        continue;
      }
      claimed.set(nameKey(wanted), c.key);
    }
    if (NAMED_KINDS.has(c.kind) && renames(c) && c.before?.owned) {
      // A rename (same objectGUID, new name) cannot take a name another object holds.
      const wanted = c.after as Resource;
      const holder = unownedByName.get(nameKey(wanted)) ?? ownedByName.get(nameKey(wanted));
      if (holder !== undefined && resourceKey(holder) !== c.key && !deleting.has(resourceKey(holder))) {
        warnings.push(`${ctx.address(wanted)}: cannot rename ${c.before.name} to ${wanted.name}, the name is held by ${resourceKey(holder)}${holder.owned ? '' : ' (not owned by rolemap)'}; left unchanged`);
        continue;
      }
    }
    if ((c.action === 'update' || c.action === 'delete') && c.kind !== 'iam_user_credentials' && c.before !== null && !c.before.owned) {
      if (c.action === 'update' && adoptable.has(c.key)) {
        changes.push({ ...c, reason: `adopt: take over the existing unowned ${c.kind} ${c.before.name} (adopt is set in the role map); ${c.reason}` });
        continue;
      }
      notOwned(c, c.before);
      continue;
    }
    changes.push(c);
  }
  return { ...plan, changes, warnings };
};

/** Names a change concerns: resource and AD principal names and guids, both ends of a membership or assignment. */
function namesOf(c: DraftChange, ctx: PolicyContext): (string | undefined)[] {
  const r = subject(c);
  const names: (string | undefined)[] = [r.name, r.principal?.name, r.principal?.guid, c.leaver?.name, c.leaver?.guid];
  const guids: string[] = [];
  if (r.principal) guids.push(r.principal.guid);
  if (r.kind === 'identitystore_membership') {
    names.push(...r.name.split('/'), ...r.id.split('/'));
    guids.push(...r.id.split('/'));
  }
  if (r.kind === 'sso_account_assignment') {
    const principal = r.id.split('/').slice(2).join('/');
    const guid = principal.replace(/^(GROUP|USER):/, '');
    names.push(r.name.split('/').slice(2).join('/'), guid);
    guids.push(guid);
  }
  if (r.kind === 'identitystore_user' || r.kind === 'identitystore_group') guids.push(r.id);
  for (const g of guids) {
    const u = ctx.desired.directoryUsers.get(g);
    if (u) names.push(u.sAMAccountName, u.userPrincipalName);
  }
  return names;
}

export const protectionPolicy: PlanPolicy = (plan, ctx) => {
  const warnings = [...plan.warnings];
  const changes = plan.changes.filter((c) => {
    const hit = ctx.isProtected(...namesOf(c, ctx));
    if (hit === undefined) return true;
    warnings.push(`${ctx.address(subject(c))}: ${hit} is a protected principal; ${c.action} skipped`);
    return false;
  });
  return { ...plan, changes, warnings };
};

/**
 * References must hold after the plan. A membership, assignment or revocation is only created or
 * updated when what it hangs on exists (owned) or is being made; an object is only deleted when
 * nothing rolemap owns still hangs on it (a protected member keeps its group).
 */
export const danglingPolicy: PlanPolicy = (plan, ctx) => {
  const making = new Set(plan.changes.filter((c) => c.action === 'create' || c.action === 'update').map((c) => c.key));
  let changes = [...plan.changes];
  const warnings = [...plan.warnings];
  // Who still hangs on each object the plan deletes (only those matter, so only those are indexed).
  const deleted = new Set(changes.filter((c) => c.action === 'delete').map((c) => c.key));
  const referrers = new Map<ResourceKey, ResourceKey[]>();
  if (deleted.size > 0) {
    const found = new Map<ResourceKey, { slot: number; key: ResourceKey }[]>();
    const note = (ref: ResourceKey, r: Resource): void => {
      const at = { slot: ctx.actualByKey.slotOf(r.kind, r.id), key: resourceKey(r) };
      const list = found.get(ref);
      if (list) list.push(at);
      else found.set(ref, [at]);
    };
    // Memberships are the bulk of a state: match them on their id parts without building keys.
    const deletedGroups = new Set<string>();
    const deletedUsers = new Set<string>();
    for (const k of deleted) {
      if (k.startsWith('identitystore_group:')) deletedGroups.add(k.slice('identitystore_group:'.length));
      if (k.startsWith('identitystore_user:')) deletedUsers.add(k.slice('identitystore_user:'.length));
    }
    // A target lists a group's memberships one after another: the group part of the last id is kept and
    // compared in place, rather than sliced out and hashed for each of 100,000 memberships.
    let lastGroup: string | undefined;
    let lastGroupDeleted = false;
    // Only kinds that hang on others, and kinds where some resource declares what it hangs on, are read.
    for (const kind of RESOURCE_KINDS) {
      if (!DEPENDENT_KINDS.has(kind) && !ctx.actualByKey.declaresDependencies(kind)) continue;
      for (const r of ctx.actualByKey.ofKind(kind)) {
        if (!r.owned) continue;
        const declared = r.dependsOn !== undefined && r.dependsOn.length > 0;
        if (r.kind === 'identitystore_membership' && !declared) {
          const slash = r.id.indexOf('/');
          if (deletedGroups.size > 0) {
            if (lastGroup === undefined || slash !== lastGroup.length || !r.id.startsWith(lastGroup)) {
              lastGroup = r.id.slice(0, slash);
              lastGroupDeleted = deletedGroups.has(lastGroup);
            }
            if (lastGroupDeleted) note(`identitystore_group:${lastGroup}`, r);
          }
          if (deletedUsers.size > 0 && deletedUsers.has(r.id.slice(slash + 1))) note(`identitystore_user:${r.id.slice(slash + 1)}`, r);
          continue;
        }
        if (!DEPENDENT_KINDS.has(r.kind) && !declared) continue;
        for (const ref of references(r.kind, r.id, r.dependsOn)) if (deleted.has(ref)) note(ref, r);
      }
    }
    // Referrers in the order the target listed them, as a walk over the whole state would find them.
    for (const [ref, list] of found) referrers.set(ref, list.sort((a, b) => a.slot - b.slot).map((x) => x.key));
  }
  for (;;) {
    const deleting = new Set(changes.filter((c) => c.action === 'delete').map((c) => c.key));
    const present = (key: ResourceKey): boolean => making.has(key) || (ctx.actualByKey.get(key)?.owned === true && !deleting.has(key));
    const kept = changes.filter((c) => {
      if (c.action === 'disable') return true;
      if (c.action === 'delete') {
        const blocker = (referrers.get(c.key) ?? []).find((k) => !deleting.has(k));
        if (blocker !== undefined) warnings.push(`${ctx.address(subject(c))}: not deleted while ${blocker} (left unchanged) still depends on it`);
        return blocker === undefined;
      }
      const r = subject(c);
      return references(r.kind, r.id, r.dependsOn).every(present);
    });
    if (kept.length === changes.length) break;
    changes = kept;
  }
  return { ...plan, changes, warnings };
};

/**
 * Deletes: what the deletion threshold counts (a replacement's delete included). Revocation
 * housekeeping is not counted, nor are a leaver's reversible steps (session denies, key
 * deactivation, see reversibleCount): a directory outage cannot cause those in numbers the
 * minimum-directory-size check lets through, and holding them back would keep a leaver's access.
 */
export function destructiveCount(changes: readonly DraftChange[]): number {
  return changes.filter(
    (c) =>
      (c.action === 'delete' && c.kind !== 'iam_role_revocations' && c.kind !== 'sso_permission_set_revocations') ||
      c.replace === true ||
      // posture.rotation's key deactivations are no leaver's: a clock or a read gone wrong could make them many.
      (c.action === 'disable' && c.leaver === undefined),
  ).length;
}

/** A leaver's reversible steps: session denies (revoke) and credential disables (keys Inactive). Counted apart, never refused. */
export function reversibleCount(changes: readonly DraftChange[]): number {
  return changes.filter((c) => c.action === 'revoke' || (c.action === 'disable' && c.leaver !== undefined)).length;
}

export const safetyPolicy: PlanPolicy = (plan, ctx) => {
  if (ctx.approvedRefusal) return plan;
  const s = ctx.roleMap.safety;
  const users = ctx.desired.directory.users;
  if (users < s.minDirectoryUsers) {
    return {
      ...plan,
      refusal: {
        code: 'directory-too-small',
        message:
          `The directory returned ${users} users, fewer than safety.minDirectoryUsers (${s.minDirectoryUsers}). ` +
          'A source that briefly returns too little must never lead to everyone being removed: check the directory ' +
          'and its search base, or lower safety.minDirectoryUsers if the directory really shrank.',
      },
    };
  }
  const n = destructiveCount(plan.changes);
  if (n === 0 || (ctx.allowDeletes !== undefined && ctx.allowDeletes >= n)) return plan;
  const managed = ctx.actual.filter((r) => r.owned || r.kind === 'iam_user_credentials').length;
  const overAbsolute = n > s.maxDeletes;
  // The percentage only above the floor: one deletion of three objects is not an outage's signature.
  const floor = s.maxDeletePercentFloor ?? 0;
  const overPercent = managed > floor && n * 100 > s.maxDeletePercent * managed;
  if (!overAbsolute && !overPercent) return plan;
  const pct = managed === 0 ? 100 : Math.round((n * 1000) / managed) / 10;
  const reversible = reversibleCount(plan.changes);
  const rotations = plan.changes.filter((c) => c.action === 'disable' && c.leaver === undefined).length;
  return {
    ...plan,
    refusal: {
      code: 'deletion-threshold',
      message:
        `The plan deletes ${rotations > 0 ? `or deactivates (posture.rotation: ${rotations} key change${rotations === 1 ? '' : 's'}) ` : ''}${n} of the ${managed} objects rolemap manages (${pct}%), past the threshold ` +
        `(safety.maxDeletes ${s.maxDeletes}, safety.maxDeletePercent ${s.maxDeletePercent}% above ${floor} managed objects)` +
        `${reversible > 0 ? `; besides, ${reversible} reversible leaver step${reversible === 1 ? '' : 's'} (session denies, key deactivations), not counted` : ''}. ` +
        `If this is intended, run again with --allow-deletes ${n}.`,
    },
  };
};

export const DEFAULT_POLICIES: readonly PlanPolicy[] = [ownershipPolicy, protectionPolicy, danglingPolicy, safetyPolicy];
