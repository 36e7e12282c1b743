/**
 * Builders for the core's inputs, so tests read like stories:
 *
 *   const alice = user('alice');
 *   const admins = group('AWS-Admins', [alice]);
 *   const map = roleMap({ federatedRoles: [role('AWS-Admins', PROD, 'Admin')] });
 *   const { plan } = planFor(snapshot([alice], [admins]), map, emptyActual);
 */
import { createHash } from 'node:crypto';
import type {
  ActualState,
  AssignmentSpec,
  DesiredState,
  DirectoryGroup,
  DirectorySnapshot,
  DirectoryUser,
  Entitlements,
  EntitlementHistory,
  FederatedRoleSpec,
  IdentityCenterSpec,
  PermissionSetSpec,
  Plan,
  Resource,
  RoleMap,
} from '../../src/core/index.js';
import { applyPlan, calculatePlan, computeDesired } from '../../src/core/index.js';
import type { PlanInput } from '../../src/core/plan/plan.js';
import { InMemoryTarget } from './in-memory-target.js';

export const NOW = new Date('2026-11-28T12:00:00.000Z');
export const PROD = '111111111111';
export const DEV = '222222222222';
export const SSO = '999999999999';
export const OWNER = 'test-owner';

/** A stable, valid-looking objectGUID derived from a name, so fixtures need no literal guids. */
export function guidFor(name: string): string {
  const h = createHash('md5').update(name).digest('hex');
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20, 32)}`;
}

const cap = (s: string): string => s.charAt(0).toUpperCase() + s.slice(1);

export function user(sam: string, overrides: Partial<DirectoryUser> = {}): DirectoryUser {
  return {
    guid: guidFor(`user:${sam}`),
    dn: `CN=${cap(sam)},OU=Users,DC=example,DC=com`,
    sAMAccountName: sam,
    userPrincipalName: `${sam}@example.com`,
    mail: `${sam}@example.com`,
    givenName: cap(sam),
    surname: 'Example',
    displayName: `${cap(sam)} Example`,
    disabled: false,
    ...overrides,
  };
}

export function group(name: string, members: readonly DirectoryUser[], overrides: Partial<DirectoryGroup> = {}): DirectoryGroup {
  return {
    guid: guidFor(`group:${name}`),
    dn: `CN=${name},OU=Groups,DC=example,DC=com`,
    sAMAccountName: name,
    name,
    members: members.map((m) => m.guid),
    ...overrides,
  };
}

export function snapshot(users: readonly DirectoryUser[], groups: readonly DirectoryGroup[]): DirectorySnapshot {
  return { source: 'test:builders', users, groups };
}

export function role(groupSam: string, account: string, roleName: string, overrides: Partial<FederatedRoleSpec> = {}): FederatedRoleSpec {
  return {
    group: { by: 'sAMAccountName', value: groupSam },
    account,
    roleName,
    path: '/',
    description: `${roleName} via AD group ${groupSam}`,
    maxSessionDuration: 3600,
    permissionsBoundary: null,
    managedPolicyArns: ['arn:aws:iam::aws:policy/ReadOnlyAccess'],
    inlinePolicies: {},
    tags: { team: 'platform' },
    samlProvider: 'ADFS',
    allowTagSession: false,
    adopt: false,
    ...overrides,
  };
}

export function permissionSet(name: string, overrides: Partial<PermissionSetSpec> = {}): PermissionSetSpec {
  return {
    name,
    description: `${name} permission set`,
    sessionDuration: 'PT8H',
    managedPolicyArns: ['arn:aws:iam::aws:policy/ReadOnlyAccess'],
    customerManagedPolicies: [],
    inlinePolicy: null,
    permissionsBoundary: null,
    tags: {},
    ...overrides,
  };
}

export function assignment(groupSam: string, permissionSetName: string, accounts: readonly string[]): AssignmentSpec {
  return { group: { by: 'sAMAccountName', value: groupSam }, permissionSet: permissionSetName, accounts };
}

export function identityCenter(overrides: Partial<IdentityCenterSpec> = {}): IdentityCenterSpec {
  return {
    instanceArn: 'arn:aws:sso:::instance/ssoins-1234567890abcdef',
    identityStoreId: 'd-1234567890',
    account: SSO,
    permissionSets: [],
    assignments: [],
    userAttributes: { userName: 'userPrincipalName', displayName: 'displayName', email: 'mail', groupDisplayName: 'name' },
    adoptUsers: false,
    adoptGroups: false,
    ...overrides,
  };
}

type RoleMapOverrides = Partial<Omit<RoleMap, 'leavers' | 'safety'>> & {
  leavers?: Partial<RoleMap['leavers']>;
  safety?: Partial<RoleMap['safety']>;
};

export function roleMap(overrides: RoleMapOverrides = {}): RoleMap {
  const { leavers, safety, ...rest } = overrides;
  return {
    accounts: [
      { alias: 'prod', id: PROD },
      { alias: 'dev', id: DEV },
      { alias: 'sso', id: SSO },
    ],
    federatedRoles: [],
    federatedRolePatterns: [],
    identityCenter: null,
    ...rest,
    leavers: {
      identityCenter: 'delete',
      revokeSessions: true,
      roleSessionName: 'userPrincipalName',
      iamUsers: { disableCredentials: true, linkTag: 'rolemap:ad-account', namePattern: null, keyAgeWarningDays: 90 },
      ...leavers,
    },
    safety: { ownerId: OWNER, maxDeletes: 1000, maxDeletePercent: 100, minDirectoryUsers: 0, protectedPrincipals: [], ...safety },
  };
}

export const NO_HISTORY: EntitlementHistory = { last: null };
export const emptyActual: ActualState = { resources: [], warnings: [] };

export function history(entitlements: Entitlements): EntitlementHistory {
  return { last: entitlements };
}

export function actual(resources: readonly Resource[], warnings: readonly string[] = []): ActualState {
  return { resources, warnings };
}

export interface PlanFor {
  readonly desired: DesiredState;
  readonly plan: Plan;
}

/** desired + plan in one step, the way run-once does it. */
export function planFor(
  snap: DirectorySnapshot,
  map: RoleMap,
  current: ActualState,
  options: { history?: EntitlementHistory; now?: Date } & Partial<Pick<PlanInput, 'allowDeletes' | 'approvedRefusal'>> = {},
): PlanFor {
  const now = options.now ?? NOW;
  const desired = computeDesired(snap, map, now, options.history ?? NO_HISTORY);
  const plan = calculatePlan({ desired, actual: current, roleMap: map, now, allowDeletes: options.allowDeletes, approvedRefusal: options.approvedRefusal });
  return { desired, plan };
}

/** `action address` lines, the shortest readable form of a plan for assertions. */
export function actions(plan: Plan): string[] {
  return plan.changes.map((c) => `${c.action} ${c.address}`);
}

/** Apply a plan to an in-memory AWS and return it: the world after `rolemap reconcile`. */
export async function applied(plan: Plan, target: InMemoryTarget): Promise<InMemoryTarget> {
  const report = await applyPlan(plan, { targetFor: () => target });
  if (report.failed > 0 || report.skipped > 0) {
    const bad = report.results.filter((r) => r.status !== 'applied').map((r) => `${r.change.address}: ${r.error}`);
    throw new Error(`apply did not go through:\n${bad.join('\n')}`);
  }
  return target;
}

/** An AWS that already matches the directory and role map (what a first successful run leaves). */
export async function converged(snap: DirectorySnapshot, map: RoleMap, options: { history?: EntitlementHistory; now?: Date } = {}): Promise<InMemoryTarget> {
  const { plan } = planFor(snap, map, emptyActual, options);
  return applied(plan, new InMemoryTarget());
}
