/**
 * What should exist, from the directory snapshot and the role map, at `now`; who holds what; who left.
 * Pure: no network, no clock, no file system.
 */
import type { DirectoryGroup, DirectorySnapshot, DirectoryUser, Guid } from '../model/directory.js';
import { isActive } from '../model/directory.js';
import type { Resource, ResourceKey, ResourceOf } from '../model/resources.js';
import { resourceKey } from '../model/resources.js';
import type { RoleMap } from '../model/role-map.js';
import type { DesiredState, Entitlement } from '../model/state.js';
import type { EntitlementHistory } from '../ports.js';
import { resolveFederatedRoles, roleResource } from './federated-roles.js';
import {
  assignmentResource,
  icGroupResource,
  icUserResource,
  membershipResource,
  permissionSetResource,
} from './identity-center.js';
import { groupLookup } from './group-lookup.js';
import { findLeavers } from './leavers.js';

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
  const add = (r: Resource): boolean => {
    const key = resourceKey(r);
    if (seen.has(key)) return false;
    seen.add(key);
    resources.push(r);
    return true;
  };

  // Federated roles: the role is the ticket; it exists while the map says so, members or not.
  for (const { spec, group } of resolveFederatedRoles(snapshot, roleMap)) {
    const role = roleResource(spec, group, ownerId);
    if (add(role) && spec.adopt) adoptable.add(resourceKey(role));
    grants.push({ account: spec.account, kind: 'iam_role', target: spec.roleName, group });
  }

  const usersByGuid = new Map<Guid, DirectoryUser>();
  for (const u of snapshot.users) usersByGuid.set(u.guid, u);
  const activeGuids = new Set<Guid>();
  for (const u of snapshot.users) if (isActive(u, now)) activeGuids.add(u.guid);

  const ic = roleMap.identityCenter;
  if (ic !== null) {
    const alias = new Map(roleMap.accounts.map((a) => [a.id, a.alias]));
    const find = groupLookup(snapshot);
    const psNames = new Set<string>();
    for (const ps of ic.permissionSets) {
      add(permissionSetResource(ps, ic, ownerId));
      psNames.add(ps.name);
    }
    const icGroups = new Map<Guid, ResourceOf<'identitystore_group'>>();
    const icUsers = new Map<Guid, ResourceOf<'identitystore_user'>>();
    for (const a of ic.assignments) {
      const group = find(a.group);
      if (group === undefined || !psNames.has(a.permissionSet)) continue;
      let icGroup = icGroups.get(group.guid);
      if (icGroup === undefined) {
        icGroup = icGroupResource(group, ic, ownerId);
        icGroups.set(group.guid, icGroup);
        add(icGroup);
        if (ic.adoptGroups) adoptable.add(resourceKey(icGroup));
        for (const m of group.members) {
          if (!activeGuids.has(m)) continue;
          let icUser = icUsers.get(m);
          if (icUser === undefined) {
            icUser = icUserResource(usersByGuid.get(m) as DirectoryUser, ic);
            icUsers.set(m, icUser);
            add(icUser);
            if (ic.adoptUsers) adoptable.add(resourceKey(icUser));
          }
          add(membershipResource(icGroup, icUser));
        }
      }
      for (const account of a.accounts) {
        add(assignmentResource(a.permissionSet, account, alias.get(account) ?? account, icGroup));
        grants.push({ account, kind: 'permission_set', target: a.permissionSet, group });
      }
    }
  }

  // Entitlements: every active transitive member of a granting group holds the grant.
  const entitlements: Entitlement[] = [];
  const grantsByGroup = new Map<Guid, Grant[]>();
  for (const g of grants) {
    const list = grantsByGroup.get(g.group.guid);
    if (list) list.push(g);
    else grantsByGroup.set(g.group.guid, [g]);
  }
  const entitle = (user: DirectoryUser, g: Grant): Entitlement => ({
    userGuid: user.guid,
    userName: user.sAMAccountName,
    account: g.account,
    kind: g.kind,
    target: g.target,
    viaGroupGuid: g.group.guid,
    viaGroupName: g.group.name,
  });
  const grantsOfUser = new Map<Guid, Grant[]>();
  for (const [, list] of grantsByGroup) {
    const group = (list[0] as Grant).group;
    for (const m of group.members) {
      const user = usersByGuid.get(m);
      if (user === undefined) continue;
      if (activeGuids.has(m)) for (const g of list) entitlements.push(entitle(user, g));
      else {
        const held = grantsOfUser.get(m);
        if (held) held.push(...list);
        else grantsOfUser.set(m, [...list]);
      }
    }
  }
  const current = new Set(entitlements.map((e) => e.userGuid));
  const leavers = findLeavers(snapshot, now, history, current, (user) => (grantsOfUser.get(user.guid) ?? []).map((g) => entitle(user, g)));

  return {
    resources,
    entitlements,
    leavers,
    directory: { users: snapshot.users.length, activeUsers: activeGuids.size, groups: snapshot.groups.length },
    directoryUsers: usersByGuid,
    adoptable,
  };
}
