/**
 * Identity Center: groups, users, flattened memberships, permission sets and account assignments.
 * Identity Center has no nested groups, so every transitive AD member becomes a direct member.
 */
import type { DirectoryGroup, DirectoryUser } from '../model/directory.js';
import { OWNER_TAG, groupDescription } from '../model/ownership.js';
import { NO_ATTRS, type ResourceOf } from '../model/resources.js';
import type { AccountId, IdentityCenterSpec, PermissionSetSpec, UserAttributeMapping } from '../model/role-map.js';

export function icGroupName(group: DirectoryGroup, mapping: UserAttributeMapping): string {
  return mapping.groupDisplayName === 'sAMAccountName' ? group.sAMAccountName : group.name;
}

/** Identity Center user name; falls back to the sAMAccountName when the mapped attribute is empty. */
export function icUserName(user: DirectoryUser, mapping: UserAttributeMapping): string {
  switch (mapping.userName) {
    case 'userPrincipalName':
      return nonEmpty(user.userPrincipalName) ?? user.sAMAccountName;
    case 'mail':
      return nonEmpty(user.mail) ?? nonEmpty(user.userPrincipalName) ?? user.sAMAccountName;
    case 'sAMAccountName':
      return user.sAMAccountName;
  }
}

function nonEmpty(s: string | undefined): string | undefined {
  return s === undefined || s.trim() === '' ? undefined : s;
}

export function icUserResource(user: DirectoryUser, ic: IdentityCenterSpec): ResourceOf<'identitystore_user'> {
  const m = ic.userAttributes;
  // The full name is built only for a user without a display name (two arrays and a string per user otherwise).
  const fullName = (): string | undefined => nonEmpty([nonEmpty(user.givenName), nonEmpty(user.surname)].filter((s) => s !== undefined).join(' '));
  const displayName =
    m.displayName === 'displayName'
      ? (nonEmpty(user.displayName) ?? fullName() ?? user.sAMAccountName)
      : m.displayName === 'userPrincipalName'
        ? (nonEmpty(user.userPrincipalName) ?? user.sAMAccountName)
        : user.sAMAccountName;
  const userName = icUserName(user, m);
  const email = m.email === 'mail' ? (nonEmpty(user.mail) ?? null) : (nonEmpty(user.userPrincipalName) ?? null);
  return {
    kind: 'identitystore_user',
    id: user.guid,
    account: ic.account,
    name: userName,
    owned: true,
    principal: { guid: user.guid, name: user.sAMAccountName },
    attrs: {
      userName,
      displayName,
      // Identity Center requires both name parts; AD often leaves them empty for service accounts.
      givenName: nonEmpty(user.givenName) ?? displayName,
      familyName: nonEmpty(user.surname) ?? user.sAMAccountName,
      email,
    },
  };
}

export function icGroupResource(group: DirectoryGroup, ic: IdentityCenterSpec, ownerId: string): ResourceOf<'identitystore_group'> {
  const displayName = icGroupName(group, ic.userAttributes);
  return {
    kind: 'identitystore_group',
    id: group.guid,
    account: ic.account,
    name: displayName,
    owned: true,
    principal: { guid: group.guid, name: group.sAMAccountName },
    attrs: { displayName, description: groupDescription(ownerId, group.guid, group.name) },
  };
}

/** `<group id>/` and `<group name>/`, made once per group rather than once per membership. */
export interface MembershipPrefixes {
  readonly id: string;
  readonly name: string;
}

export function membershipPrefixes(group: ResourceOf<'identitystore_group'>): MembershipPrefixes {
  return { id: `${group.id}/`, name: `${group.name}/` };
}

export function membershipResource(
  group: ResourceOf<'identitystore_group'>,
  user: ResourceOf<'identitystore_user'>,
  prefixes: MembershipPrefixes = membershipPrefixes(group),
): ResourceOf<'identitystore_membership'> {
  return {
    kind: 'identitystore_membership',
    // Joined, not concatenated: \`a + b\` is a rope that the plan's lookup by id later flattens into a second
    // copy (~10 MB at 100,000 users); join writes the one flat string at once.
    id: [prefixes.id, user.id].join(''),
    account: group.account,
    name: prefixes.name + user.name,
    owned: true,
    principal: user.principal,
    attrs: NO_ATTRS,
    // No dependsOn: a membership's user and group follow from its id (`references()` in plan/order.ts);
    // at 100,000 users two key strings per membership are memory and time for nothing.
  };
}

/** `/team/` + `ReadS3` -> `/team/ReadS3`; a missing slash is added. */
export function customerPolicyRef(p: { readonly name: string; readonly path: string }): string {
  const path = p.path === '' ? '/' : p.path.endsWith('/') ? p.path : `${p.path}/`;
  return `${path.startsWith('/') ? '' : '/'}${path}${p.name}`;
}

export function permissionSetResource(ps: PermissionSetSpec, ic: IdentityCenterSpec, ownerId: string): ResourceOf<'sso_permission_set'> {
  const b = ps.permissionsBoundary;
  return {
    kind: 'sso_permission_set',
    id: ps.name,
    account: ic.account,
    name: ps.name,
    owned: true,
    attrs: {
      description: ps.description,
      sessionDuration: ps.sessionDuration,
      managedPolicyArns: [...ps.managedPolicyArns],
      customerManagedPolicies: ps.customerManagedPolicies.map(customerPolicyRef),
      inlinePolicy: ps.inlinePolicy,
      permissionsBoundary: b === null ? null : 'managedPolicyArn' in b ? b.managedPolicyArn : `customer:${customerPolicyRef(b.customerManaged)}`,
      tags: { ...ps.tags, [OWNER_TAG]: ownerId },
    },
  };
}

export function assignmentResource(
  ps: string,
  targetAccount: AccountId,
  accountAlias: string,
  group: ResourceOf<'identitystore_group'>,
): ResourceOf<'sso_account_assignment'> {
  return {
    kind: 'sso_account_assignment',
    id: `${ps}/${targetAccount}/GROUP:${group.id}`,
    account: group.account,
    name: `${ps}/${accountAlias}/${group.name}`,
    owned: true,
    principal: group.principal,
    attrs: NO_ATTRS, // its permission set and group follow from its id, as for memberships
  };
}
