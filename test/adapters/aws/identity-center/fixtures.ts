/**
 * Named fixtures for the Identity Center target tests: a role map, desired resources and hand-built changes.
 */
import { groupDescription } from '../../../../src/core/model/ownership.js';
import type { PolicyDocument } from '../../../../src/core/model/policy.js';
import { resourceAddress, resourceKey } from '../../../../src/core/model/resources.js';
import type { PermissionSetAttrs, Resource, ResourceKind, ResourceOf } from '../../../../src/core/model/resources.js';
import type { PermissionSetSpec, RoleMap } from '../../../../src/core/model/role-map.js';
import type { Action } from '../../../../src/core/plan/action.js';
import type { Change } from '../../../../src/core/plan/change.js';
import { DEFAULT_IDENTITY_STORE_ID } from '../../../aws-emulator/services/identitystore.js';
import { DEFAULT_INSTANCE_ARN } from '../../../aws-emulator/services/sso-admin.js';
import { IC_ACCOUNT } from '../../../support/identity-center-emulator.js';

export const OWNER = 'test-owner';
export const PROD = '222222222222';
export const DEV = '333333333333';

export const GUID = {
  admins: '0a000000-0000-4000-8000-000000000001',
  devs: '0a000000-0000-4000-8000-000000000002',
  jdoe: '0b000000-0000-4000-8000-000000000001',
  asmith: '0b000000-0000-4000-8000-000000000002',
} as const;

export const READ_POLICY: PolicyDocument = { Version: '2012-10-17', Statement: [{ Effect: 'Allow', Action: ['s3:GetObject', 's3:ListBucket'], Resource: '*' }] };

export function permissionSetSpec(name: string): PermissionSetSpec {
  return { name, description: `${name} access`, sessionDuration: 'PT8H', managedPolicyArns: [], customerManagedPolicies: [], inlinePolicy: null, permissionsBoundary: null, tags: {} };
}

export function roleMap(options: { adoptUsers?: boolean; adoptGroups?: boolean; identityCenter?: 'delete' | 'remove-access' } = {}): RoleMap {
  return {
    accounts: [
      { alias: 'prod', id: PROD },
      { alias: 'dev', id: DEV },
    ],
    federatedRoles: [],
    federatedRolePatterns: [],
    identityCenter: {
      instanceArn: DEFAULT_INSTANCE_ARN,
      identityStoreId: DEFAULT_IDENTITY_STORE_ID,
      account: IC_ACCOUNT,
      permissionSets: [permissionSetSpec('Admin'), permissionSetSpec('ReadOnly')],
      assignments: [
        { group: { by: 'guid', value: GUID.admins }, permissionSet: 'Admin', accounts: [PROD, DEV] },
        { group: { by: 'guid', value: GUID.devs }, permissionSet: 'ReadOnly', accounts: [DEV] },
      ],
      userAttributes: { userName: 'userPrincipalName', displayName: 'displayName', email: 'mail', groupDisplayName: 'name' },
      adoptUsers: options.adoptUsers ?? false,
      adoptGroups: options.adoptGroups ?? false,
    },
    leavers: {
      identityCenter: options.identityCenter ?? 'delete',
      revokeSessions: true,
      roleSessionName: 'userPrincipalName',
      iamUsers: { disableCredentials: true, linkTag: 'ad-user', namePattern: null, keyAgeWarningDays: 90 },
    },
    safety: { ownerId: OWNER, maxDeletes: 1000, maxDeletePercent: 100, minDirectoryUsers: 0, protectedPrincipals: [] },
  };
}

export function user(guid: string, userName: string, extra: Partial<ResourceOf<'identitystore_user'>['attrs']> = {}): ResourceOf<'identitystore_user'> {
  const local = userName.split('@')[0] ?? userName;
  return {
    kind: 'identitystore_user',
    id: guid,
    account: IC_ACCOUNT,
    name: userName,
    attrs: { userName, displayName: local, givenName: local, familyName: 'Test', email: `${local}@example.com`, ...extra },
    owned: true,
  };
}

export function group(guid: string, name: string): ResourceOf<'identitystore_group'> {
  return { kind: 'identitystore_group', id: guid, account: IC_ACCOUNT, name, attrs: { displayName: name, description: groupDescription(OWNER, guid, name) }, owned: true };
}

export function membership(groupGuid: string, userGuid: string, names = `${groupGuid}/${userGuid}`): ResourceOf<'identitystore_membership'> {
  return { kind: 'identitystore_membership', id: `${groupGuid}/${userGuid}`, account: IC_ACCOUNT, name: names, attrs: {}, owned: true };
}

export function permissionSet(name: string, attrs: Partial<PermissionSetAttrs> = {}): ResourceOf<'sso_permission_set'> {
  return {
    kind: 'sso_permission_set',
    id: name,
    account: IC_ACCOUNT,
    name,
    attrs: { description: `${name} access`, sessionDuration: 'PT8H', managedPolicyArns: [], customerManagedPolicies: [], inlinePolicy: null, permissionsBoundary: null, tags: { 'rolemap:owner': OWNER }, ...attrs },
    owned: true,
  };
}

export function revocations(name: string, entries: Record<string, string>): ResourceOf<'sso_permission_set_revocations'> {
  return { kind: 'sso_permission_set_revocations', id: name, account: IC_ACCOUNT, name, attrs: { entries }, owned: true };
}

export function assignment(ps: string, account: string, type: 'GROUP' | 'USER', guid: string): ResourceOf<'sso_account_assignment'> {
  return { kind: 'sso_account_assignment', id: `${ps}/${account}/${type}:${guid}`, account: IC_ACCOUNT, name: `${ps}/${account}/${guid}`, attrs: {}, owned: true };
}

let seq = 0;
export function change(action: Action, before: Resource | null, after: Resource | null): Change {
  const r = (after ?? before) as Resource;
  return { seq: ++seq, action, kind: r.kind, key: resourceKey(r), address: resourceAddress(r), account: r.account, before, after, diffs: [], reason: 'test', dependsOn: [] };
}

export function find<K extends ResourceKind>(resources: readonly Resource[], kind: K, id: string): ResourceOf<K> | undefined {
  return resources.find((r) => r.kind === kind && r.id === id) as ResourceOf<K> | undefined;
}

export function ofKind<K extends ResourceKind>(resources: readonly Resource[], kind: K): ResourceOf<K>[] {
  return resources.filter((r) => r.kind === kind) as ResourceOf<K>[];
}
