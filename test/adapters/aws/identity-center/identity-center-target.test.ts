/**
 * The Identity Center target against the emulator with the real SDK clients:
 * readActual -> hand-built change -> apply -> readActual shows the result.
 */
import { CreateGroupCommand, CreateUserCommand, DescribeUserCommand, ListUsersCommand } from '@aws-sdk/client-identitystore';
import { GetInlinePolicyForPermissionSetCommand, ListAccountsForProvisionedPermissionSetCommand, ListInstancesCommand, ProvisionPermissionSetCommand } from '@aws-sdk/client-sso-admin';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { AsyncRequestFailedError, IdentityCenterTarget, InMemoryOwnershipRegistry, NotOwnedError, userOwnershipScope } from '../../../../src/adapters/aws/identity-center/index.js';
import { policiesEqual } from '../../../../src/core/model/policy.js';
import type { Resource } from '../../../../src/core/model/resources.js';
import type { RoleMap } from '../../../../src/core/model/role-map.js';
import type { Change } from '../../../../src/core/plan/change.js';
import { DEFAULT_IDENTITY_STORE_ID } from '../../../aws-emulator/services/identitystore.js';
import { DEFAULT_INSTANCE_ARN, failNextAsyncRequests } from '../../../aws-emulator/services/sso-admin.js';
import { startIdentityCenterEmulator } from '../../../support/identity-center-emulator.js';
import type { IcHarness } from '../../../support/identity-center-emulator.js';
import { InlinePolicyQuotaError } from '../../../../src/adapters/aws/identity-center/errors.js';
import { assignment, change, DEV, find, group, GUID, membership, ofKind, permissionSet, PROD, READ_POLICY, revocations, roleMap, user } from './fixtures.js';

const STORE = DEFAULT_IDENTITY_STORE_ID;
let h: IcHarness;
let registry: InMemoryOwnershipRegistry;
let target: IdentityCenterTarget;
let map: RoleMap;

function newTarget(rm: RoleMap = roleMap()): IdentityCenterTarget {
  map = rm;
  return new IdentityCenterTarget({
    identityStore: h.identityStore,
    ssoAdmin: h.ssoAdmin,
    registry,
    rateLimit: { rps: 1000 },
    poll: { initialMs: 5, maxMs: 40, timeoutMs: 10_000 },
    conflictRetry: { initialMs: 5, maxMs: 40, attempts: 5 },
  });
}

async function read(): Promise<readonly Resource[]> {
  return (await target.readActual(map)).resources;
}

async function applyAll(changes: readonly Change[]): Promise<string[]> {
  const ids: string[] = [];
  for (const c of changes) ids.push(...(await target.apply(c)).requestIds);
  return ids;
}

/** The joiners' world: two groups, two users, memberships, two permission sets, three assignments. */
const JOINERS = (): Change[] => [
  change('create', null, group(GUID.admins, 'Admins')),
  change('create', null, group(GUID.devs, 'Developers')),
  change('create', null, user(GUID.jdoe, 'jdoe@example.com')),
  change('create', null, user(GUID.asmith, 'asmith@example.com')),
  change('create', null, membership(GUID.admins, GUID.jdoe)),
  change('create', null, membership(GUID.devs, GUID.asmith)),
  change('create', null, permissionSet('Admin', { managedPolicyArns: ['arn:aws:iam::aws:policy/AdministratorAccess'] })),
  change('create', null, permissionSet('ReadOnly', { inlinePolicy: READ_POLICY, customerManagedPolicies: ['/team/ReadS3'], permissionsBoundary: 'customer:/boundaries/Standard' })),
  change('create', null, assignment('Admin', PROD, 'GROUP', GUID.admins)),
  change('create', null, assignment('Admin', DEV, 'GROUP', GUID.admins)),
  change('create', null, assignment('ReadOnly', DEV, 'GROUP', GUID.devs)),
];

beforeAll(async () => {
  h = await startIdentityCenterEmulator();
});
afterAll(async () => h.stop());
beforeEach(async () => {
  h.emulator.load({});
  h.emulator.clearFaults();
  h.emulator.resetCalls();
  h.emulator.asyncDelayMs = 15;
  registry = new InMemoryOwnershipRegistry();
  target = newTarget();
  await target.readActual(map);
});

describe('joiner', () => {
  it('creates groups, users, memberships, permission sets and assignments, each with request ids, and reads them back owned', async () => {
    const ids = await applyAll(JOINERS());
    expect(ids.length).toBeGreaterThanOrEqual(JOINERS().length);
    for (const id of ids) expect(id).toMatch(/^[0-9a-f-]{36}$/);

    const actual = await read();
    expect(find(actual, 'identitystore_user', GUID.jdoe)).toMatchObject({ owned: true, name: 'jdoe@example.com', attrs: user(GUID.jdoe, 'jdoe@example.com').attrs });
    expect(find(actual, 'identitystore_group', GUID.admins)).toMatchObject({ owned: true, attrs: group(GUID.admins, 'Admins').attrs });
    expect(find(actual, 'identitystore_membership', `${GUID.admins}/${GUID.jdoe}`)).toMatchObject({ owned: true, name: 'Admins/jdoe@example.com' });
    const ro = find(actual, 'sso_permission_set', 'ReadOnly');
    expect(ro?.owned).toBe(true);
    expect(ro?.attrs).toMatchObject({ customerManagedPolicies: ['/team/ReadS3'], permissionsBoundary: 'customer:/boundaries/Standard', sessionDuration: 'PT8H', tags: { 'rolemap:owner': 'test-owner' } });
    expect(policiesEqual(ro?.attrs.inlinePolicy ?? null, READ_POLICY)).toBe(true);
    expect(ofKind(actual, 'sso_account_assignment').map((a) => a.id).sort()).toEqual(
      [`Admin/${DEV}/GROUP:${GUID.admins}`, `Admin/${PROD}/GROUP:${GUID.admins}`, `ReadOnly/${DEV}/GROUP:${GUID.devs}`].sort(),
    );
    // The user's ownership lives in the registry, recorded on CreateUser.
    expect([...registry.owned(userOwnershipScope(STORE)).values()].sort()).toEqual([GUID.jdoe, GUID.asmith].sort());
  });

  it('is idempotent: what it reads after applying equals what it applied', async () => {
    const changes = JOINERS();
    await applyAll(changes);
    const actual = await read();
    for (const c of changes) {
      const want = c.after as Resource;
      const got = find(actual, want.kind, want.id);
      expect(got, want.id).toBeDefined();
      if (want.kind === 'sso_permission_set') {
        const { inlinePolicy, ...rest } = want.attrs;
        const { inlinePolicy: gotPolicy, ...gotRest } = (got as typeof want).attrs;
        expect(policiesEqual(inlinePolicy, gotPolicy)).toBe(true);
        expect({ ...gotRest, managedPolicyArns: [...gotRest.managedPolicyArns].sort() }).toEqual({ ...rest, managedPolicyArns: [...rest.managedPolicyArns].sort() });
      } else {
        expect(got?.attrs).toEqual(want.attrs);
      }
    }
    expect(ofKind(actual, 'sso_permission_set_revocations')).toEqual([]);
  });

  it('reads with few calls: list pages, memberships only of owned groups', async () => {
    await applyAll(JOINERS());
    await h.identityStore.send(new CreateGroupCommand({ IdentityStoreId: STORE, DisplayName: 'HandMade' }));
    target.resetCallCounts();
    await read();
    const calls = target.callCounts();
    expect(calls['ListUsers']).toBe(1);
    expect(calls['ListGroups']).toBe(1);
    expect(calls['ListGroupMemberships']).toBe(2);
    // 2 owned permission sets x 2 configured accounts
    expect(calls['ListAccountAssignments']).toBe(4);
  });
});

describe('mover', () => {
  it('moves a user between groups: one membership deleted, one created', async () => {
    await applyAll(JOINERS());
    let actual = await read();
    const old = find(actual, 'identitystore_membership', `${GUID.admins}/${GUID.jdoe}`);
    await applyAll([change('delete', old ?? null, null), change('create', null, membership(GUID.devs, GUID.jdoe))]);
    actual = await read();
    expect(find(actual, 'identitystore_membership', `${GUID.admins}/${GUID.jdoe}`)).toBeUndefined();
    expect(find(actual, 'identitystore_membership', `${GUID.devs}/${GUID.jdoe}`)).toBeDefined();
  });
});

describe('leaver', () => {
  it('in order: memberships removed, direct assignments deleted, sessions denied and re-provisioned, user deleted', async () => {
    await applyAll([...JOINERS(), change('create', null, assignment('ReadOnly', PROD, 'USER', GUID.jdoe))]);
    let actual = await read();
    const jdoe = find(actual, 'identitystore_user', GUID.jdoe);
    const userId = jdoe?.awsId ?? '';
    expect(userId).not.toBe('');

    // 1. remove from every managed group
    await applyAll([change('delete', find(actual, 'identitystore_membership', `${GUID.admins}/${GUID.jdoe}`) ?? null, null)]);
    actual = await read();
    expect(ofKind(actual, 'identitystore_membership').filter((m) => m.id.endsWith(GUID.jdoe))).toEqual([]);

    // 2. delete assignments made directly to the user
    const direct = find(actual, 'sso_account_assignment', `ReadOnly/${PROD}/USER:${GUID.jdoe}`);
    expect(direct).toBeDefined();
    await applyAll([change('delete', direct ?? null, null)]);
    actual = await read();
    expect(ofKind(actual, 'sso_account_assignment').filter((a) => a.id.includes('USER:'))).toEqual([]);

    // 3. deny live sessions on the permission sets the leaver held, then re-provision
    const instant = '2026-11-28T23:58:56.123Z';
    h.emulator.resetCalls();
    const out = await target.apply(change('revoke', null, revocations('Admin', { [userId]: instant })));
    expect(out.detail?.['provisioning']).toMatch(/SUCCEEDED on 2 account/);
    expect(h.emulator.calls()['sso:ProvisionPermissionSet']).toBe(1);
    actual = await read();
    expect(find(actual, 'sso_permission_set_revocations', 'Admin')?.attrs.entries).toEqual({ [userId]: instant });
    expect(find(actual, 'sso_permission_set', 'Admin')?.attrs.inlinePolicy).toBeNull();
    const adminArn = find(actual, 'sso_permission_set', 'Admin')?.awsId ?? '';
    const inline = JSON.parse((await h.ssoAdmin.send(new GetInlinePolicyForPermissionSetCommand({ InstanceArn: DEFAULT_INSTANCE_ARN, PermissionSetArn: adminArn }))).InlinePolicy ?? '{}') as { Statement: unknown[] };
    expect(inline.Statement).toEqual([
      expect.objectContaining({ Effect: 'Deny', Action: '*', Resource: '*', Condition: { StringEquals: { 'identitystore:UserId': userId } }, Sid: expect.stringMatching(/^RolemapRevoked20261128T235856123Z/) as unknown }),
    ]);
    const stale = await h.ssoAdmin.send(new ListAccountsForProvisionedPermissionSetCommand({ InstanceArn: DEFAULT_INSTANCE_ARN, PermissionSetArn: adminArn, ProvisioningStatus: 'LATEST_PERMISSION_SET_NOT_PROVISIONED' }));
    expect(stale.AccountIds).toEqual([]);

    // 4. delete the identity store user; the registry forgets it
    await applyAll([change('delete', find(actual, 'identitystore_user', GUID.jdoe) ?? null, null)]);
    actual = await read();
    expect(find(actual, 'identitystore_user', GUID.jdoe)).toBeUndefined();
    expect(registry.owned(userOwnershipScope(STORE)).has(userId)).toBe(false);

    // pruning the revocation later removes the statement and re-provisions again
    await target.apply(change('delete', find(actual, 'sso_permission_set_revocations', 'Admin') ?? null, null));
    actual = await read();
    expect(find(actual, 'sso_permission_set_revocations', 'Admin')).toBeUndefined();
  });

  it('keeps revocations apart from the configured inline policy and keeps the user stripped with remove-access', async () => {
    target = newTarget(roleMap({ identityCenter: 'remove-access' }));
    await target.readActual(map);
    await applyAll(JOINERS());
    let actual = await read();
    const asmithId = find(actual, 'identitystore_user', GUID.asmith)?.awsId ?? '';
    await applyAll([change('delete', find(actual, 'identitystore_membership', `${GUID.devs}/${GUID.asmith}`) ?? null, null), change('revoke', null, revocations('ReadOnly', { [asmithId]: '2026-11-29T00:00:00Z' }))]);
    actual = await read();
    expect(policiesEqual(find(actual, 'sso_permission_set', 'ReadOnly')?.attrs.inlinePolicy ?? null, READ_POLICY)).toBe(true);
    expect(find(actual, 'sso_permission_set_revocations', 'ReadOnly')?.attrs.entries).toEqual({ [asmithId]: '2026-11-29T00:00:00Z' });
    expect(find(actual, 'identitystore_user', GUID.asmith)).toMatchObject({ owned: true, awsId: asmithId });
    expect(ofKind(actual, 'identitystore_membership').filter((m) => m.id.endsWith(GUID.asmith))).toEqual([]);

    // a later change to the configured inline policy keeps the revocation statements
    const ro = find(actual, 'sso_permission_set', 'ReadOnly');
    const widened = { Version: '2012-10-17', Statement: [{ Effect: 'Allow', Action: 's3:*', Resource: '*' }] };
    await target.apply(change('update', ro ?? null, permissionSet('ReadOnly', { ...ro?.attrs, inlinePolicy: widened })));
    actual = await read();
    expect(policiesEqual(find(actual, 'sso_permission_set', 'ReadOnly')?.attrs.inlinePolicy ?? null, widened)).toBe(true);
    expect(find(actual, 'sso_permission_set_revocations', 'ReadOnly')?.attrs.entries).toEqual({ [asmithId]: '2026-11-29T00:00:00Z' });
  });
});

describe('the inline-policy quota (issue 12, defect 6)', () => {
  it('refuses revocations that would not fit, naming the set, the size and the quota, and leaves the set’s own policy intact', async () => {
    await target.readActual(map);
    await applyAll(JOINERS());
    const before = await read();
    const ids = Array.from({ length: 260 }, (_, i) => `${i.toString(16).padStart(10, '0')}-00000000-0000-4000-8000-${i.toString(16).padStart(12, '0')}`);
    const entries = Object.fromEntries(ids.map((id) => [id, '2026-11-29T00:00:00.000Z']));
    h.emulator.resetCalls();
    const failing = target.apply(change('revoke', null, revocations('ReadOnly', entries)));
    await expect(failing).rejects.toBeInstanceOf(InlinePolicyQuotaError);
    await expect(failing).rejects.toThrow(/permission set ReadOnly would be 1\d{4} non-whitespace characters with the revocations, over Identity Center's quota of 10240; nothing was changed/);
    const calls = h.emulator.calls();
    expect(calls['sso:PutInlinePolicyToPermissionSet'] ?? 0).toBe(0);
    expect(calls['sso:ProvisionPermissionSet'] ?? 0).toBe(0);
    const after = await read();
    expect(policiesEqual(find(after, 'sso_permission_set', 'ReadOnly')?.attrs.inlinePolicy ?? null, find(before, 'sso_permission_set', 'ReadOnly')?.attrs.inlinePolicy ?? null)).toBe(true);
  });
});

describe('renames', () => {
  it('renames a user with UpdateUser: same UserId, memberships and direct assignments kept', async () => {
    await applyAll([...JOINERS(), change('create', null, assignment('ReadOnly', PROD, 'USER', GUID.jdoe))]);
    let actual = await read();
    const before = find(actual, 'identitystore_user', GUID.jdoe);
    h.emulator.resetCalls();
    await target.apply(change('update', before ?? null, user(GUID.jdoe, 'jane.doe@example.com', { displayName: 'Jane Doe', familyName: 'Doe' })));
    expect(h.emulator.calls()).toMatchObject({ 'identitystore:UpdateUser': 1 });
    expect(h.emulator.calls()['identitystore:DeleteUser']).toBeUndefined();
    actual = await read();
    const after = find(actual, 'identitystore_user', GUID.jdoe);
    expect(after).toMatchObject({ awsId: before?.awsId, name: 'jane.doe@example.com', attrs: { userName: 'jane.doe@example.com', displayName: 'Jane Doe', familyName: 'Doe' } });
    expect(find(actual, 'identitystore_membership', `${GUID.admins}/${GUID.jdoe}`)).toBeDefined();
    expect(find(actual, 'sso_account_assignment', `ReadOnly/${PROD}/USER:${GUID.jdoe}`)).toBeDefined();
  });

  it('renames a group with UpdateGroup: same GroupId, identity from the description, assignments kept', async () => {
    await applyAll(JOINERS());
    let actual = await read();
    const before = find(actual, 'identitystore_group', GUID.admins);
    await target.apply(change('update', before ?? null, group(GUID.admins, 'Platform Admins')));
    actual = await read();
    expect(find(actual, 'identitystore_group', GUID.admins)).toMatchObject({ awsId: before?.awsId, name: 'Platform Admins', owned: true });
    expect(find(actual, 'sso_account_assignment', `Admin/${PROD}/GROUP:${GUID.admins}`)).toBeDefined();
    expect(find(actual, 'identitystore_membership', `${GUID.admins}/${GUID.jdoe}`)?.name).toBe('Platform Admins/jdoe@example.com');
  });
});

describe('ownership', () => {
  it('reads unowned users and groups as unowned, never reads their memberships, and refuses to change them', async () => {
    const handUser = (await h.identityStore.send(new CreateUserCommand({ IdentityStoreId: STORE, UserName: 'breakglass', DisplayName: 'Break Glass', Name: { GivenName: 'Break', FamilyName: 'Glass' } }))).UserId ?? '';
    const handGroup = (await h.identityStore.send(new CreateGroupCommand({ IdentityStoreId: STORE, DisplayName: 'AWSControlTowerAdmins', Description: 'Control Tower' }))).GroupId ?? '';
    const actual = await read();
    const u = find(actual, 'identitystore_user', `unowned:${handUser}`);
    const g = find(actual, 'identitystore_group', `unowned:${handGroup}`);
    expect(u?.owned).toBe(false);
    expect(g?.owned).toBe(false);
    expect(target.callCounts()['ListGroupMemberships']).toBeUndefined();

    await expect(target.apply(change('delete', u ?? null, null))).rejects.toBeInstanceOf(NotOwnedError);
    await expect(target.apply(change('update', g ?? null, { ...(g as Resource), attrs: { displayName: 'x', description: '' } } as Resource))).rejects.toBeInstanceOf(NotOwnedError);
    expect((await h.identityStore.send(new DescribeUserCommand({ IdentityStoreId: STORE, UserId: handUser }))).UserName).toBe('breakglass');
    expect(h.emulator.calls()['identitystore:DeleteUser']).toBeUndefined();
    expect(h.emulator.calls()['identitystore:UpdateGroup']).toBeUndefined();
  });

  it('a group with another owner’s marker is not ours', async () => {
    await h.identityStore.send(new CreateGroupCommand({ IdentityStoreId: STORE, DisplayName: 'Theirs', Description: `Managed by rolemap (owner other); AD objectGUID ${GUID.devs}; AD group Theirs` }));
    const actual = await read();
    expect(ofKind(actual, 'identitystore_group').map((g) => [g.name, g.owned])).toEqual([['Theirs', false]]);
  });

  it('a copied marker does not make a second group ours: one owned, the other unowned with a warning', async () => {
    const marked = group(GUID.admins, 'Admins').attrs.description;
    await h.identityStore.send(new CreateGroupCommand({ IdentityStoreId: STORE, DisplayName: 'Admins', Description: marked }));
    await h.identityStore.send(new CreateGroupCommand({ IdentityStoreId: STORE, DisplayName: 'Admins copy', Description: marked }));
    const state = await target.readActual(map);
    expect(ofKind(state.resources, 'identitystore_group').map((g) => [g.name, g.owned, g.id === GUID.admins])).toEqual([
      ['Admins', true, true],
      ['Admins copy', false, false],
    ]);
    expect(state.warnings).toEqual([expect.stringMatching(/two identity store groups carry rolemap's marker/)]);
  });

  it('refuses to adopt an existing user without opt-in, and adopts it with adoptUsers', async () => {
    const existing = (await h.identityStore.send(new CreateUserCommand({ IdentityStoreId: STORE, UserName: 'jdoe@example.com', DisplayName: 'J', Name: { GivenName: 'J', FamilyName: 'D' } }))).UserId ?? '';
    const err = await target.apply(change('create', null, user(GUID.jdoe, 'jdoe@example.com'))).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(NotOwnedError);
    expect(String((err as Error).message)).toMatch(/adoptUsers/);
    expect((err as NotOwnedError).requestId).toMatch(/^[0-9a-f-]{36}$/);
    let actual = await read();
    const unowned = find(actual, 'identitystore_user', `unowned:${existing}`);
    await expect(target.apply(change('update', unowned ?? null, user(GUID.jdoe, 'jdoe@example.com')))).rejects.toBeInstanceOf(NotOwnedError);
    expect(registry.owned(userOwnershipScope(STORE)).size).toBe(0);

    target = newTarget(roleMap({ adoptUsers: true }));
    actual = await read();
    const out = await target.apply(change('update', find(actual, 'identitystore_user', `unowned:${existing}`) ?? null, user(GUID.jdoe, 'jdoe@example.com')));
    expect(out.detail?.['adopted']).toBe(existing);
    actual = await read();
    expect(find(actual, 'identitystore_user', GUID.jdoe)).toMatchObject({ owned: true, awsId: existing, attrs: user(GUID.jdoe, 'jdoe@example.com').attrs });
  });
});

describe('group adoption', () => {
  it('refuses to take over a hand-made group of the wanted name without adoptGroups, and marks it with it', async () => {
    const existing = (await h.identityStore.send(new CreateGroupCommand({ IdentityStoreId: STORE, DisplayName: 'Admins', Description: 'made by hand' }))).GroupId ?? '';
    await expect(target.apply(change('create', null, group(GUID.admins, 'Admins')))).rejects.toBeInstanceOf(NotOwnedError);
    let actual = await read();
    await expect(target.apply(change('update', find(actual, 'identitystore_group', `unowned:${existing}`) ?? null, group(GUID.admins, 'Admins')))).rejects.toBeInstanceOf(NotOwnedError);

    target = newTarget(roleMap({ adoptGroups: true }));
    actual = await read();
    await target.apply(change('update', find(actual, 'identitystore_group', `unowned:${existing}`) ?? null, group(GUID.admins, 'Admins')));
    actual = await read();
    expect(find(actual, 'identitystore_group', GUID.admins)).toMatchObject({ owned: true, awsId: existing });
  });
});

describe('permission sets and assignments', () => {
  it('re-provisions a changed permission set to every account where it is provisioned', async () => {
    await applyAll(JOINERS());
    let actual = await read();
    const admin = find(actual, 'sso_permission_set', 'Admin');
    h.emulator.resetCalls();
    const out = await target.apply(
      change('update', admin ?? null, permissionSet('Admin', { ...admin?.attrs, description: 'Full admin', managedPolicyArns: ['arn:aws:iam::aws:policy/PowerUserAccess'], tags: { ...admin?.attrs.tags, team: 'platform' } })),
    );
    const calls = h.emulator.calls();
    expect(calls).toMatchObject({ 'sso:UpdatePermissionSet': 1, 'sso:AttachManagedPolicyToPermissionSet': 1, 'sso:DetachManagedPolicyFromPermissionSet': 1, 'sso:TagResource': 1, 'sso:ProvisionPermissionSet': 1 });
    expect(out.requestIds.length).toBe(5);
    expect(out.detail?.['provisioning']).toMatch(/SUCCEEDED on 2 account/);
    actual = await read();
    expect(find(actual, 'sso_permission_set', 'Admin')?.attrs).toMatchObject({ description: 'Full admin', managedPolicyArns: ['arn:aws:iam::aws:policy/PowerUserAccess'], tags: { team: 'platform', 'rolemap:owner': 'test-owner' } });
    const stale = await h.ssoAdmin.send(new ListAccountsForProvisionedPermissionSetCommand({ InstanceArn: DEFAULT_INSTANCE_ARN, PermissionSetArn: admin?.awsId, ProvisioningStatus: 'LATEST_PERMISSION_SET_NOT_PROVISIONED' }));
    expect(stale.AccountIds).toEqual([]);
  });

  it('never removes its own owner tag, even when the wanted tags lack it', async () => {
    await applyAll(JOINERS());
    const actual = await read();
    const admin = find(actual, 'sso_permission_set', 'Admin');
    await target.apply(change('update', admin ?? null, permissionSet('Admin', { ...admin?.attrs, tags: {} })));
    expect(find(await read(), 'sso_permission_set', 'Admin')?.owned).toBe(true);
  });

  it('surfaces a FAILED assignment with AWS’s FailureReason and the request id', async () => {
    await applyAll(JOINERS().slice(0, 8));
    failNextAsyncRequests(h.emulator, 1, 'The SCP of the target account denies iam:CreateRole', ['create']);
    const err = await target.apply(change('create', null, assignment('Admin', PROD, 'GROUP', GUID.admins))).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(AsyncRequestFailedError);
    const failed = err as AsyncRequestFailedError;
    expect(failed.failureReason).toBe('The SCP of the target account denies iam:CreateRole');
    expect(failed.requestId).toMatch(/^[0-9a-f-]{36}$/);
    expect(failed.asyncRequestId).toMatch(/^[0-9a-f-]{36}$/);
    expect(failed.requestIds).toEqual([failed.requestId]);
    expect(failed.retryable).toBe(false);
    expect(find(await read(), 'sso_account_assignment', `Admin/${PROD}/GROUP:${GUID.admins}`)).toBeUndefined();
  });

  it('retries ConflictException with backoff', async () => {
    await applyAll(JOINERS().slice(0, 8));
    h.emulator.injectFault({ kind: 'error', code: 'ConflictException', status: 400, service: 'sso', operation: 'CreateAccountAssignment', times: 2, message: 'conflicting operation in progress' });
    h.emulator.resetCalls();
    await target.apply(change('create', null, assignment('Admin', PROD, 'GROUP', GUID.admins)));
    expect(h.emulator.calls()['sso:CreateAccountAssignment']).toBe(3);
    expect(find(await read(), 'sso_account_assignment', `Admin/${PROD}/GROUP:${GUID.admins}`)).toBeDefined();
  });

  it('never conflicts with itself: assignments on a permission set wait for its re-provisioning', async () => {
    await applyAll(JOINERS());
    const jdoeId = find(await read(), 'identitystore_user', GUID.jdoe)?.awsId ?? '';
    h.emulator.asyncDelayMs = 100;
    h.emulator.resetCalls();
    const revoking = target.apply(change('revoke', null, revocations('Admin', { [jdoeId]: '2026-11-29T00:00:00.000Z' })));
    const assigning = ['444444444441', '444444444442'].map((a) => target.apply(change('create', null, assignment('Admin', a, 'GROUP', GUID.devs))));
    await Promise.all([revoking, ...assigning]);
    expect(h.emulator.calls()['sso:CreateAccountAssignment']).toBe(2);
    expect(h.emulator.calls()['sso:ProvisionPermissionSet']).toBe(1);
  });

  it('retries the ConflictException AWS answers while someone else provisions the permission set', async () => {
    await applyAll(JOINERS());
    const adminArn = find(await read(), 'sso_permission_set', 'Admin')?.awsId ?? '';
    h.emulator.asyncDelayMs = 50;
    target = new IdentityCenterTarget({ identityStore: h.identityStore, ssoAdmin: h.ssoAdmin, registry, rateLimit: { rps: 1000 }, poll: { initialMs: 5, maxMs: 40, timeoutMs: 10_000 }, conflictRetry: { initialMs: 10, maxMs: 40, attempts: 10 } });
    await target.readActual(map);
    await h.ssoAdmin.send(new ProvisionPermissionSetCommand({ InstanceArn: DEFAULT_INSTANCE_ARN, PermissionSetArn: adminArn, TargetType: 'ALL_PROVISIONED_ACCOUNTS' }));
    h.emulator.resetCalls();
    await target.apply(change('create', null, assignment('Admin', '444444444441', 'GROUP', GUID.devs)));
    expect(h.emulator.calls()['sso:CreateAccountAssignment']).toBeGreaterThan(1);
  });

  it('keeps at most 10 assignment operations in flight (the emulator throttles the 11th)', async () => {
    await applyAll(JOINERS().slice(0, 8));
    h.emulator.asyncDelayMs = 120;
    h.emulator.resetCalls();
    const accounts = Array.from({ length: 25 }, (_, i) => String(400000000000 + i));
    await Promise.all(accounts.map((a) => target.apply(change('create', null, assignment('Admin', a, 'GROUP', GUID.admins)))));
    expect(h.emulator.throttledCount()).toBe(0);
    expect(h.emulator.calls()['sso:CreateAccountAssignment']).toBe(25);
  });

  it('learns ids it has not read (a saved plan applied by a fresh process)', async () => {
    await applyAll(JOINERS().slice(0, 4));
    const fresh = new IdentityCenterTarget({ identityStore: h.identityStore, ssoAdmin: h.ssoAdmin, registry, roleMap: map, rateLimit: { rps: 1000 }, poll: { initialMs: 5, maxMs: 40, timeoutMs: 10_000 } });
    await fresh.apply(change('create', null, membership(GUID.devs, GUID.jdoe)));
    expect(find(await read(), 'identitystore_membership', `${GUID.devs}/${GUID.jdoe}`)).toBeDefined();
  });

  it('spaces the calls of both clients by one shared token bucket', async () => {
    const limited = new IdentityCenterTarget({ identityStore: h.identityStore, ssoAdmin: h.ssoAdmin, registry, rateLimit: { rps: 10, burst: 1 } });
    const started = Date.now();
    await Promise.all([
      h.identityStore.send(new ListUsersCommand({ IdentityStoreId: STORE })),
      h.ssoAdmin.send(new ListInstancesCommand({})),
      h.identityStore.send(new ListUsersCommand({ IdentityStoreId: STORE })),
      h.ssoAdmin.send(new ListInstancesCommand({})),
      h.identityStore.send(new ListUsersCommand({ IdentityStoreId: STORE })),
      h.ssoAdmin.send(new ListInstancesCommand({})),
    ]);
    // 6 calls at 10 per second with no burst: the last one waits for 5 intervals of 100 ms.
    expect(Date.now() - started).toBeGreaterThanOrEqual(480);
    expect(limited.totalCalls()).toBe(6);
  });

  it('counts calls of both clients through the shared rate limiter', async () => {
    target.resetCallCounts();
    await h.identityStore.send(new ListUsersCommand({ IdentityStoreId: STORE }));
    await read();
    expect(target.callCounts()['ListUsers']).toBe(2);
    expect(target.callCounts()['ListPermissionSets']).toBe(1);
  });
});
