/**
 * Federated IAM roles: one role per (AD group, account) the role map names, explicitly or through
 * the ADFS pattern rule `AWS-<account id>-<role name>`.
 */
import type { DirectoryGroup, DirectorySnapshot, GroupRef } from '../model/directory.js';
import { OWNER_TAG } from '../model/ownership.js';
import type { PolicyDocument } from '../model/policy.js';
import type { ResourceOf } from '../model/resources.js';
import { groupLookup } from './group-lookup.js';
import type { AccountId, FederatedRoleSpec, RoleMap } from '../model/role-map.js';

export const SAML_AUDIENCE = 'https://signin.aws.amazon.com/saml';

/** What IAM accepts as a role name (CreateRole). */
const IAM_ROLE_NAME = /^[\w+=,.@-]{1,64}$/;

/**
 * The trust policy of a SAML-federated role. The IAM target compares what it reads against this
 * (semantically, see `policiesEqual`), so both sides must build it the same way: use this function.
 */
export function samlTrustPolicy(account: AccountId, provider: string, allowTagSession: boolean): PolicyDocument {
  return {
    Version: '2012-10-17',
    Statement: [
      {
        Effect: 'Allow',
        Principal: { Federated: `arn:aws:iam::${account}:saml-provider/${provider}` },
        Action: allowTagSession ? ['sts:AssumeRoleWithSAML', 'sts:TagSession'] : 'sts:AssumeRoleWithSAML',
        Condition: { StringEquals: { 'SAML:aud': SAML_AUDIENCE } },
      },
    ],
  };
}

/** A role spec resolved against the snapshot: the group it is for is present. */
export interface ResolvedRole {
  readonly spec: FederatedRoleSpec;
  readonly group: DirectoryGroup;
}

/**
 * Every (spec, group) pair the snapshot activates: explicit specs whose group is present, and one
 * spec per group matching a pattern whose `account` capture is a configured account. A pattern
 * match naming an unknown account is skipped (the config loader warns about the pattern itself).
 */
export function resolveFederatedRoles(snapshot: DirectorySnapshot, roleMap: RoleMap, find = groupLookup(snapshot), warnings: string[] = []): ResolvedRole[] {
  const out: ResolvedRole[] = [];
  for (const spec of roleMap.federatedRoles) {
    const group = find(spec.group);
    if (group !== undefined) out.push({ spec, group });
  }
  if (roleMap.federatedRolePatterns.length > 0) {
    const accounts = new Set(roleMap.accounts.map((a) => a.id));
    const patterns = roleMap.federatedRolePatterns.map((p) => ({ p, re: new RegExp(p.regex) }));
    for (const group of snapshot.groups) {
      for (const { p, re } of patterns) {
        const m = re.exec(group.name);
        const account = m?.groups?.['account'];
        const roleName = m?.groups?.['role'];
        if (account === undefined || roleName === undefined || !accounts.has(account)) continue;
        // IAM role names are 1-64 of [\w+=,.@-]: a name the pattern captures beyond that is never planned
        // (it would fail on every run), and says why once per run.
        if (!IAM_ROLE_NAME.test(roleName)) {
          warnings.push(`AD group ${group.name} matches the role pattern, but "${roleName}" cannot be an IAM role name (${roleName.length > 64 ? `${roleName.length} characters, at most 64` : 'only letters, digits and +=,.@_- are allowed'}): no role is planned for it`);
          continue;
        }
        out.push({ spec: { ...p.template, group: { by: 'guid', value: group.guid }, account, roleName }, group });
      }
    }
  }
  return out;
}

/**
 * Explicit role specs whose AD group is not in the snapshot (deleted, renamed when referenced by name,
 * or outside the group base). Their roles are kept: a role is declared by the map, and a group that
 * cannot be found must never turn into a deletion; nobody is entitled through it meanwhile.
 */
export function unresolvedFederatedRoles(snapshot: DirectorySnapshot, roleMap: RoleMap, find = groupLookup(snapshot)): FederatedRoleSpec[] {
  return roleMap.federatedRoles.filter((spec) => find(spec.group) === undefined);
}

export function describeGroupRef(ref: GroupRef): string {
  return `${ref.by}=${ref.value}`;
}

export function roleResource(spec: FederatedRoleSpec, group: DirectoryGroup | undefined, ownerId: string): ResourceOf<'iam_role'> {
  return {
    kind: 'iam_role',
    id: `${spec.account}/${spec.roleName}`,
    account: spec.account,
    name: spec.roleName,
    owned: true,
    principal: group ? { guid: group.guid, name: group.sAMAccountName } : undefined,
    attrs: {
      path: spec.path,
      description: spec.description,
      maxSessionDuration: spec.maxSessionDuration,
      permissionsBoundary: spec.permissionsBoundary,
      trustPolicy: samlTrustPolicy(spec.account, spec.samlProvider, spec.allowTagSession),
      managedPolicyArns: [...spec.managedPolicyArns],
      inlinePolicies: { ...spec.inlinePolicies },
      tags: { ...spec.tags, [OWNER_TAG]: ownerId },
    },
  };
}
