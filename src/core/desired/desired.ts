/**
 * What should exist, from the directory snapshot and the role map, at `now`; who holds what; who left.
 * Pure: no network, no clock, no file system.
 */
import type { DirectoryGroup, DirectorySnapshot, DirectoryUser, Guid } from '../model/directory.js';
import { isActive } from '../model/directory.js';
import type { Resource, ResourceKey, ResourceOf } from '../model/resources.js';
import { resourceKey } from '../model/resources.js';
import type { RoleMap } from '../model/role-map.js';
import { aliasOf } from '../model/role-map.js';
import type { DesiredState, Entitlement, UnresolvedReference } from '../model/state.js';
import type { Grant as EntitlementGrant, GrantHolders, Holder } from '../model/entitlements.js';
import { entitlementOf, GroupedEntitlements, grantsOf } from '../model/entitlements.js';
import type { EntitlementHistory } from '../ports.js';
import { resolveFederatedRoles, roleResource, unresolvedFederatedRoles } from './federated-roles.js';
import {
  assignmentResource,
  icGroupResource,
  icUserResource,
  membershipPrefixes,
  membershipResource,
  permissionSetResource,
} from './identity-center.js';
import { groupLookup } from './group-lookup.js';
import type { Standing } from './leavers.js';
import { findLeavers } from './leavers.js';
import { UsersByGuid } from './users-by-guid.js';
import { heldByReference, stillActive, unresolvedReference } from './unresolved.js';

/** A grant without its user: (account, role or permission set) through one group. */
interface Grant {
  readonly account: string;
  readonly kind: Entitlement['kind'];
  readonly target: string;
  readonly group: DirectoryGroup;
}

export function computeDesired(snapshot: DirectorySnapshot, roleMap: RoleMap, now: Date, history: EntitlementHistory): DesiredState {
  const ownerId = roleMap.safety.ownerId;
  const resources: Resource[] = [];
  const seen = new Set<ResourceKey>();
  const adoptable = new Set<ResourceKey>();
  const grants: Grant[] = [];
  const warnings: string[] = [];
  // References that stopped resolving: their last entitlements are kept (unresolved.ts).
  const unresolved: UnresolvedReference[] = [];
  const heldEntitlements: Entitlement[] = [];
  const add = (r: Resource): boolean => {
    const key = resourceKey(r);
    if (seen.has(key)) return false;
    seen.add(key);
    resources.push(r);
    return true;
  };

  // Federated roles: the role is the ticket; it exists while the map says so, members or not.
  const find = groupLookup(snapshot);
  for (const { spec, group } of resolveFederatedRoles(snapshot, roleMap, find, warnings)) {
    const role = roleResource(spec, group, ownerId);
    if (add(role) && spec.adopt) adoptable.add(resourceKey(role));
    grants.push({ account: spec.account, kind: 'iam_role', target: spec.roleName, group });
  }

  for (const spec of unresolvedFederatedRoles(snapshot, roleMap, find)) {
    const role = roleResource(spec, undefined, ownerId);
    if (add(role) && spec.adopt) adoptable.add(resourceKey(role));
    const held = heldByReference(spec.group, 'iam_role', spec.roleName, history);
    heldEntitlements.push(...stillActive(held.entitlements.filter((e) => e.account === spec.account), snapshot, now));
    const u = unresolvedReference(spec.group, `role ${spec.roleName} in ${spec.account}`, held.guid, snapshot);
    unresolved.push(u);
    warnings.push(u.message);
  }

  // Users by position in the snapshot: flags in byte arrays rather than sets of 100,000 user objects.
  const users = snapshot.users;
  const usersByGuid = new UsersByGuid(users);
  const active = new Uint8Array(users.length);
  let activeUsers = 0;
  for (let i = 0; i < users.length; i++) {
    if (isActive(users[i] as DirectoryUser, now)) {
      active[i] = 1;
      activeUsers++;
    }
  }
  // Each group's members resolved to user positions once (one guid lookup per membership, the bulk of the work).
  // A member listed twice counts once (a stamp per group), so every membership is unique by construction.
  // Kept as 32-bit positions sized to the group, not growing arrays of numbers (half the bytes, no regrowth).
  const resolved = new Map<Guid, Int32Array>();
  const stamp = new Int32Array(users.length);
  let groupNo = 0;
  const membersOf = (group: DirectoryGroup): Int32Array => {
    let list = resolved.get(group.guid);
    if (list === undefined) {
      const positions = new Int32Array(group.members.length);
      let n = 0;
      groupNo++;
      for (const m of group.members) {
        const i = usersByGuid.positionOf(m);
        if (i >= 0 && stamp[i] !== groupNo) {
          stamp[i] = groupNo;
          positions[n++] = i;
        }
      }
      list = n === positions.length ? positions : positions.slice(0, n);
      resolved.set(group.guid, list);
    }
    return list;
  };

  const ic = roleMap.identityCenter;
  if (ic !== null) {
    const alias = aliasOf(roleMap);
    const psNames = new Set<string>();
    for (const ps of ic.permissionSets) {
      add(permissionSetResource(ps, ic, ownerId));
      psNames.add(ps.name);
    }
    const icGroups = new Map<Guid, ResourceOf<'identitystore_group'>>();
    const icUsers: (ResourceOf<'identitystore_user'> | undefined)[] = new Array(users.length);
    for (const a of ic.assignments) {
      const group = find(a.group);
      if (group === undefined) {
        // Held, not deleted: the plan keeps its Identity Center group, memberships and assignments (plan/held.ts).
        const held = heldByReference(a.group, 'permission_set', a.permissionSet, history);
        heldEntitlements.push(...stillActive(held.entitlements.filter((e) => a.accounts.includes(e.account)), snapshot, now));
        const u = unresolvedReference(a.group, `permission set ${a.permissionSet}`, held.guid, snapshot);
        unresolved.push(u);
        warnings.push(u.message);
        continue;
      }
      if (!psNames.has(a.permissionSet)) continue;
      let icGroup = icGroups.get(group.guid);
      if (icGroup === undefined) {
        icGroup = icGroupResource(group, ic, ownerId);
        icGroups.set(group.guid, icGroup);
        resources.push(icGroup); // unique by construction, like users and memberships below
        if (ic.adoptGroups) adoptable.add(resourceKey(icGroup));
        const prefixes = membershipPrefixes(icGroup);
        for (const i of membersOf(group)) {
          if (active[i] !== 1) continue;
          let icUser = icUsers[i];
          if (icUser === undefined) {
            icUser = icUserResource(users[i] as DirectoryUser, ic);
            icUsers[i] = icUser;
            resources.push(icUser);
            if (ic.adoptUsers) adoptable.add(resourceKey(icUser));
          }
          resources.push(membershipResource(icGroup, icUser, prefixes));
        }
      }
      for (const account of a.accounts) {
        add(assignmentResource(a.permissionSet, account, alias(account), icGroup));
        grants.push({ account, kind: 'permission_set', target: a.permissionSet, group });
      }
    }
  }

  // Entitlements: every active transitive member of a granting group holds the grant. Kept per grant
  // (model/entitlements.ts): a group's grants share one holder list, and each person's names are one
  // object shared by every grant they hold, instead of ~440,000 objects at 100,000 users.
  const grantList: GrantHolders[] = [];
  const grantsByGroup = new Map<Guid, Grant[]>();
  for (const g of grants) {
    const list = grantsByGroup.get(g.group.guid);
    if (list) list.push(g);
    else grantsByGroup.set(g.group.guid, [g]);
  }
  const grantOf = (g: Grant): EntitlementGrant => ({ account: g.account, kind: g.kind, target: g.target, viaGroupGuid: g.group.guid, viaGroupName: g.group.name });
  const holderAt: (Holder | undefined)[] = new Array(users.length);
  const holderOf = (i: number): Holder => {
    let h = holderAt[i];
    if (h === undefined) {
      const user = users[i] as DirectoryUser;
      h = { userGuid: user.guid, userName: user.sAMAccountName, userPrincipalName: user.userPrincipalName, mail: user.mail };
      holderAt[i] = h;
    }
    return h;
  };
  const grantsOfUser = new Map<Guid, Grant[]>();
  const holding = new Uint8Array(users.length);
  // What gives each (kind, account, role or permission set) now: the groups that grant it (their active members
  // hold it) and the positions of entitlements held through a reference that stopped resolving. The mover
  // check (`standing` below) marks one target's holders at a time from these, instead of a set of holders
  // per target (~440,000 entries at 100,000 users, for a check that reads each target once).
  const giversOf = new Map<string, { groups: DirectoryGroup[]; held: number[] }>();
  const giversAt = (kind: Entitlement['kind'], account: string, target: string): { groups: DirectoryGroup[]; held: number[] } => {
    const key = targetKey(kind, account, target);
    let givers = giversOf.get(key);
    if (givers === undefined) {
      givers = { groups: [], held: [] };
      giversOf.set(key, givers);
    }
    return givers;
  };
  for (const list of grantsByGroup.values()) {
    const group = (list[0] as Grant).group;
    for (const g of list) {
      const givers = giversAt(g.kind, g.account, g.target).groups;
      if (givers[givers.length - 1] !== group) givers.push(group);
    }
    const holders: Holder[] = [];
    for (const i of membersOf(group)) {
      if (active[i] === 1) {
        holding[i] = 1; // holds something now
        holders.push(holderOf(i));
      } else {
        const user = users[i] as DirectoryUser;
        const held = grantsOfUser.get(user.guid);
        if (held) held.push(...list);
        else grantsOfUser.set(user.guid, [...list]);
      }
    }
    if (holders.length > 0) for (const g of list) grantList.push({ grant: grantOf(g), holders });
  }
  // Entitlements through a reference that stopped resolving are held as they were.
  if (heldEntitlements.length > 0) {
    const keyOf = (e: Entitlement): string => [e.userGuid, e.account, e.kind, e.target].join('\u0000');
    const have = new Set<string>();
    for (const { grant, holders } of grantList) for (const h of holders) have.add(keyOf({ ...grant, ...h }));
    const kept: Entitlement[] = [];
    for (const e of heldEntitlements) {
      if (have.has(keyOf(e))) continue;
      have.add(keyOf(e));
      kept.push(e);
      const i = usersByGuid.positionOf(e.userGuid);
      if (i >= 0) {
        holding[i] = 1;
        // Still held for the mover check too: a held mapping never cuts sessions.
        giversAt(e.kind, e.account, e.target).held.push(i);
      }
    }
    grantList.push(...grantsOf(kept));
  }
  const entitlements = new GroupedEntitlements(grantList);
  // Who holds something now, by guid: the flag at the user's position (no set of 100,000 guids).
  const holdsNow = (guid: Guid): boolean => {
    const i = usersByGuid.positionOf(guid);
    return i >= 0 && holding[i] === 1;
  };
  // One guid lookup per last-run entitlement. The holders of one target at a time are marked in a stamp
  // array: findLeavers reads the history grant by grant, so a target is marked once per run of its grants;
  // a check whose target is no longer the marked one marks it again, so any order of calls stays right.
  const mark = new Int32Array(users.length);
  let markNo = 0;
  let markedKey: string | undefined;
  const markHolders = (key: string): void => {
    markNo++;
    markedKey = key;
    const givers = giversOf.get(key);
    if (givers === undefined) return;
    for (const group of givers.groups) for (const i of membersOf(group)) if (active[i] === 1) mark[i] = markNo;
    for (const i of givers.held) mark[i] = markNo;
  };
  const standing = (grant: EntitlementGrant): ((guid: Guid) => Standing) => {
    const key = targetKey(grant.kind, grant.account, grant.target);
    return (guid) => {
      const i = usersByGuid.positionOf(guid);
      if (i < 0 || holding[i] !== 1) return 'none';
      if (markedKey !== key) markHolders(key);
      return mark[i] === markNo ? 'kept' : 'lost';
    };
  };
  const entitle = (user: DirectoryUser, g: Grant): Entitlement => entitlementOf(grantOf(g), { userGuid: user.guid, userName: user.sAMAccountName, userPrincipalName: user.userPrincipalName, mail: user.mail });
  const { leavers, movers } = findLeavers(snapshot, now, history, holdsNow, usersByGuid, (user) => (grantsOfUser.get(user.guid) ?? []).map((g) => entitle(user, g)), standing);

  return {
    resources,
    entitlements,
    leavers,
    movers,
    directory: { users: snapshot.users.length, activeUsers, groups: snapshot.groups.length },
    directoryUsers: usersByGuid,
    adoptable,
    warnings,
    ...(unresolved.length > 0 ? { unresolved } : {}),
  };
}

function targetKey(kind: Entitlement['kind'], account: string, target: string): string {
  return `${kind}\u0000${account}\u0000${target}`;
}
