/**
 * Conformance of the emulator's SSO Admin with the real SDK v3 client: each operation, the asynchronous
 * requests and their statuses, typed exceptions, paginators, adaptive-retry recovery from throttling.
 */
import {
  AttachCustomerManagedPolicyReferenceToPermissionSetCommand,
  AttachManagedPolicyToPermissionSetCommand,
  ConflictException,
  CreateAccountAssignmentCommand,
  CreatePermissionSetCommand,
  DeleteAccountAssignmentCommand,
  DeleteInlinePolicyFromPermissionSetCommand,
  DeletePermissionSetCommand,
  DeletePermissionsBoundaryFromPermissionSetCommand,
  DescribeAccountAssignmentCreationStatusCommand,
  DescribeAccountAssignmentDeletionStatusCommand,
  DescribePermissionSetCommand,
  DescribePermissionSetProvisioningStatusCommand,
  DetachCustomerManagedPolicyReferenceFromPermissionSetCommand,
  DetachManagedPolicyFromPermissionSetCommand,
  GetInlinePolicyForPermissionSetCommand,
  GetPermissionsBoundaryForPermissionSetCommand,
  ListAccountAssignmentsCommand,
  ListAccountAssignmentsForPrincipalCommand,
  ListAccountsForProvisionedPermissionSetCommand,
  ListCustomerManagedPolicyReferencesInPermissionSetCommand,
  ListInstancesCommand,
  ListManagedPoliciesInPermissionSetCommand,
  ListPermissionSetsCommand,
  ListPermissionSetsProvisionedToAccountCommand,
  ListTagsForResourceCommand,
  paginateListAccountAssignments,
  paginateListPermissionSets,
  ProvisionPermissionSetCommand,
  PutInlinePolicyToPermissionSetCommand,
  PutPermissionsBoundaryToPermissionSetCommand,
  ResourceNotFoundException,
  SSOAdminClient,
  TagResourceCommand,
  ThrottlingException,
  UntagResourceCommand,
  UpdatePermissionSetCommand,
  ValidationException,
} from '@aws-sdk/client-sso-admin';
import { CreateGroupCommand } from '@aws-sdk/client-identitystore';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { DEFAULT_IDENTITY_STORE_ID } from './services/identitystore.js';
import { DEFAULT_INSTANCE_ARN, failNextAsyncRequests, setAsyncTiming } from './services/sso-admin.js';
import { startIdentityCenterEmulator } from '../support/identity-center-emulator.js';
import type { IcHarness } from '../support/identity-center-emulator.js';

const InstanceArn = DEFAULT_INSTANCE_ARN;
const ACCOUNT = '222222222222';
let h: IcHarness;

beforeAll(async () => {
  h = await startIdentityCenterEmulator();
});
afterAll(async () => h.stop());
beforeEach(() => {
  h.emulator.load({});
  h.emulator.clearFaults();
  h.emulator.resetCalls();
  h.emulator.asyncDelayMs = 30;
});

/** A client that does not retry, to see the error AWS answers. */
function oneShot(): SSOAdminClient {
  return new SSOAdminClient({ region: 'us-east-1', endpoint: h.emulator.url, maxAttempts: 1, credentials: { accessKeyId: 'AKIAEMULATORTEST', secretAccessKey: 'not-a-secret' } });
}

async function createPs(name: string): Promise<string> {
  const out = await h.ssoAdmin.send(new CreatePermissionSetCommand({ InstanceArn, Name: name, SessionDuration: 'PT2H', Tags: [{ Key: 'rolemap:owner', Value: 'test' }] }));
  return out.PermissionSet?.PermissionSetArn ?? '';
}
async function createGroup(name: string): Promise<string> {
  return (await h.identityStore.send(new CreateGroupCommand({ IdentityStoreId: DEFAULT_IDENTITY_STORE_ID, DisplayName: name }))).GroupId ?? '';
}
async function waitCreation(requestId: string): Promise<{ Status?: string; FailureReason?: string }> {
  for (;;) {
    const st = (await h.ssoAdmin.send(new DescribeAccountAssignmentCreationStatusCommand({ InstanceArn, AccountAssignmentCreationRequestId: requestId }))).AccountAssignmentCreationStatus ?? {};
    if (st.Status !== 'IN_PROGRESS') return st;
    await new Promise((r) => setTimeout(r, 10));
  }
}

/** Polls an asynchronous request's status until it is no longer IN_PROGRESS. */
async function settled(status: () => Promise<{ Status?: string | undefined }>): Promise<{ Status?: string | undefined }> {
  for (;;) {
    const st = await status();
    if (st.Status !== 'IN_PROGRESS') return st;
    await new Promise((r) => setTimeout(r, 10));
  }
}

describe('SSO Admin permission sets', () => {
  it('lists the instance with its identity store', async () => {
    const out = await h.ssoAdmin.send(new ListInstancesCommand({}));
    expect(out.Instances).toEqual([expect.objectContaining({ InstanceArn, IdentityStoreId: DEFAULT_IDENTITY_STORE_ID })]);
  });

  it('creates, describes, updates, tags, attaches policies, inline policy and boundary, and deletes', async () => {
    const arn = await createPs('ReadOnly');
    expect(arn).toMatch(/^arn:aws:sso:::permissionSet\/ssoins-\w+\/ps-[0-9a-f]{16}$/);
    await expect(h.ssoAdmin.send(new CreatePermissionSetCommand({ InstanceArn, Name: 'ReadOnly' }))).rejects.toBeInstanceOf(ConflictException);
    await h.ssoAdmin.send(new UpdatePermissionSetCommand({ InstanceArn, PermissionSetArn: arn, Description: 'read', SessionDuration: 'PT8H' }));
    expect((await h.ssoAdmin.send(new DescribePermissionSetCommand({ InstanceArn, PermissionSetArn: arn }))).PermissionSet).toMatchObject({ Name: 'ReadOnly', Description: 'read', SessionDuration: 'PT8H' });
    await expect(h.ssoAdmin.send(new UpdatePermissionSetCommand({ InstanceArn, PermissionSetArn: arn, SessionDuration: 'PT13H' }))).rejects.toBeInstanceOf(ValidationException);

    await h.ssoAdmin.send(new TagResourceCommand({ InstanceArn, ResourceArn: arn, Tags: [{ Key: 'team', Value: 'a' }] }));
    await h.ssoAdmin.send(new UntagResourceCommand({ InstanceArn, ResourceArn: arn, TagKeys: ['rolemap:owner'] }));
    expect((await h.ssoAdmin.send(new ListTagsForResourceCommand({ InstanceArn, ResourceArn: arn }))).Tags).toEqual([{ Key: 'team', Value: 'a' }]);

    const managed = 'arn:aws:iam::aws:policy/ReadOnlyAccess';
    await h.ssoAdmin.send(new AttachManagedPolicyToPermissionSetCommand({ InstanceArn, PermissionSetArn: arn, ManagedPolicyArn: managed }));
    await expect(h.ssoAdmin.send(new AttachManagedPolicyToPermissionSetCommand({ InstanceArn, PermissionSetArn: arn, ManagedPolicyArn: managed }))).rejects.toBeInstanceOf(ConflictException);
    expect((await h.ssoAdmin.send(new ListManagedPoliciesInPermissionSetCommand({ InstanceArn, PermissionSetArn: arn }))).AttachedManagedPolicies).toEqual([{ Name: 'ReadOnlyAccess', Arn: managed }]);
    await h.ssoAdmin.send(new DetachManagedPolicyFromPermissionSetCommand({ InstanceArn, PermissionSetArn: arn, ManagedPolicyArn: managed }));
    expect((await h.ssoAdmin.send(new ListManagedPoliciesInPermissionSetCommand({ InstanceArn, PermissionSetArn: arn }))).AttachedManagedPolicies).toEqual([]);

    const ref = { Name: 'ReadS3', Path: '/team/' };
    await h.ssoAdmin.send(new AttachCustomerManagedPolicyReferenceToPermissionSetCommand({ InstanceArn, PermissionSetArn: arn, CustomerManagedPolicyReference: ref }));
    expect((await h.ssoAdmin.send(new ListCustomerManagedPolicyReferencesInPermissionSetCommand({ InstanceArn, PermissionSetArn: arn }))).CustomerManagedPolicyReferences).toEqual([ref]);
    await h.ssoAdmin.send(new DetachCustomerManagedPolicyReferenceFromPermissionSetCommand({ InstanceArn, PermissionSetArn: arn, CustomerManagedPolicyReference: ref }));

    const doc = JSON.stringify({ Version: '2012-10-17', Statement: [{ Effect: 'Allow', Action: 's3:GetObject', Resource: '*' }] });
    expect((await h.ssoAdmin.send(new GetInlinePolicyForPermissionSetCommand({ InstanceArn, PermissionSetArn: arn }))).InlinePolicy ?? '').toBe('');
    await h.ssoAdmin.send(new PutInlinePolicyToPermissionSetCommand({ InstanceArn, PermissionSetArn: arn, InlinePolicy: doc }));
    expect((await h.ssoAdmin.send(new GetInlinePolicyForPermissionSetCommand({ InstanceArn, PermissionSetArn: arn }))).InlinePolicy).toBe(doc);
    await expect(h.ssoAdmin.send(new PutInlinePolicyToPermissionSetCommand({ InstanceArn, PermissionSetArn: arn, InlinePolicy: '{not json' }))).rejects.toBeInstanceOf(ValidationException);
    await h.ssoAdmin.send(new DeleteInlinePolicyFromPermissionSetCommand({ InstanceArn, PermissionSetArn: arn }));

    await expect(h.ssoAdmin.send(new GetPermissionsBoundaryForPermissionSetCommand({ InstanceArn, PermissionSetArn: arn }))).rejects.toBeInstanceOf(ResourceNotFoundException);
    await h.ssoAdmin.send(new PutPermissionsBoundaryToPermissionSetCommand({ InstanceArn, PermissionSetArn: arn, PermissionsBoundary: { CustomerManagedPolicyReference: { Name: 'Boundary' } } }));
    expect((await h.ssoAdmin.send(new GetPermissionsBoundaryForPermissionSetCommand({ InstanceArn, PermissionSetArn: arn }))).PermissionsBoundary).toEqual({ CustomerManagedPolicyReference: { Name: 'Boundary', Path: '/' } });
    await h.ssoAdmin.send(new DeletePermissionsBoundaryFromPermissionSetCommand({ InstanceArn, PermissionSetArn: arn }));

    await h.ssoAdmin.send(new DeletePermissionSetCommand({ InstanceArn, PermissionSetArn: arn }));
    await expect(h.ssoAdmin.send(new DescribePermissionSetCommand({ InstanceArn, PermissionSetArn: arn }))).rejects.toBeInstanceOf(ResourceNotFoundException);
  });

  it('pages permission sets across boundaries and refuses MaxResults over 100', async () => {
    for (let i = 0; i < 23; i++) await createPs(`ps${i}`);
    const arns: string[] = [];
    for await (const page of paginateListPermissionSets({ client: h.ssoAdmin, pageSize: 10 }, { InstanceArn })) arns.push(...(page.PermissionSets ?? []));
    expect(new Set(arns).size).toBe(23);
    expect(h.emulator.calls()['sso:ListPermissionSets']).toBe(3);
    await expect(h.ssoAdmin.send(new ListPermissionSetsCommand({ InstanceArn, MaxResults: 101 }))).rejects.toBeInstanceOf(ValidationException);
  });
});

describe('SSO Admin asynchronous requests', () => {
  it('creates an assignment IN_PROGRESS, then SUCCEEDED: listed, and the permission set provisioned to the account', async () => {
    // In progress until polled once, however slow the machine: what is checked before the poll cannot see it done.
    setAsyncTiming(h.emulator, { create: { polls: 1 }, provision: { polls: 1 } });
    const arn = await createPs('Admin');
    const groupId = await createGroup('Admins');
    const out = await h.ssoAdmin.send(new CreateAccountAssignmentCommand({ InstanceArn, TargetId: ACCOUNT, TargetType: 'AWS_ACCOUNT', PermissionSetArn: arn, PrincipalType: 'GROUP', PrincipalId: groupId }));
    expect(out.AccountAssignmentCreationStatus?.Status).toBe('IN_PROGRESS');
    expect((await h.ssoAdmin.send(new ListAccountAssignmentsCommand({ InstanceArn, AccountId: ACCOUNT, PermissionSetArn: arn }))).AccountAssignments).toEqual([]);
    const st = await waitCreation(out.AccountAssignmentCreationStatus?.RequestId ?? '');
    expect(st.Status).toBe('SUCCEEDED');
    expect((await h.ssoAdmin.send(new ListAccountAssignmentsCommand({ InstanceArn, AccountId: ACCOUNT, PermissionSetArn: arn }))).AccountAssignments).toEqual([
      { AccountId: ACCOUNT, PermissionSetArn: arn, PrincipalType: 'GROUP', PrincipalId: groupId },
    ]);
    expect((await h.ssoAdmin.send(new ListAccountAssignmentsForPrincipalCommand({ InstanceArn, PrincipalId: groupId, PrincipalType: 'GROUP' }))).AccountAssignments).toHaveLength(1);
    expect((await h.ssoAdmin.send(new ListPermissionSetsProvisionedToAccountCommand({ InstanceArn, AccountId: ACCOUNT }))).PermissionSets).toEqual([arn]);
    expect((await h.ssoAdmin.send(new ListAccountsForProvisionedPermissionSetCommand({ InstanceArn, PermissionSetArn: arn }))).AccountIds).toEqual([ACCOUNT]);

    // A change makes the account out of date until ProvisionPermissionSet has run.
    await h.ssoAdmin.send(new UpdatePermissionSetCommand({ InstanceArn, PermissionSetArn: arn, Description: 'changed' }));
    expect((await h.ssoAdmin.send(new ListAccountsForProvisionedPermissionSetCommand({ InstanceArn, PermissionSetArn: arn, ProvisioningStatus: 'LATEST_PERMISSION_SET_NOT_PROVISIONED' }))).AccountIds).toEqual([ACCOUNT]);
    const prov = await h.ssoAdmin.send(new ProvisionPermissionSetCommand({ InstanceArn, PermissionSetArn: arn, TargetType: 'ALL_PROVISIONED_ACCOUNTS' }));
    expect(prov.PermissionSetProvisioningStatus?.Status).toBe('IN_PROGRESS');
    // Concurrent operations on the permission set conflict while it is being provisioned.
    await expect(h.ssoAdmin.send(new UpdatePermissionSetCommand({ InstanceArn, PermissionSetArn: arn, Description: 'again' }))).rejects.toBeInstanceOf(ConflictException);
    await expect(h.ssoAdmin.send(new ProvisionPermissionSetCommand({ InstanceArn, PermissionSetArn: arn, TargetType: 'ALL_PROVISIONED_ACCOUNTS' }))).rejects.toBeInstanceOf(ConflictException);
    await new Promise((r) => setTimeout(r, 50));
    const provisioning = { InstanceArn, ProvisionPermissionSetRequestId: prov.PermissionSetProvisioningStatus?.RequestId };
    expect((await h.ssoAdmin.send(new DescribePermissionSetProvisioningStatusCommand(provisioning))).PermissionSetProvisioningStatus?.Status).toBe('IN_PROGRESS');
    const done = await h.ssoAdmin.send(new DescribePermissionSetProvisioningStatusCommand(provisioning));
    expect(done.PermissionSetProvisioningStatus?.Status).toBe('SUCCEEDED');
    expect((await h.ssoAdmin.send(new ListAccountsForProvisionedPermissionSetCommand({ InstanceArn, PermissionSetArn: arn, ProvisioningStatus: 'LATEST_PERMISSION_SET_NOT_PROVISIONED' }))).AccountIds).toEqual([]);

    await expect(h.ssoAdmin.send(new DeletePermissionSetCommand({ InstanceArn, PermissionSetArn: arn }))).rejects.toBeInstanceOf(ConflictException);
    const del = await h.ssoAdmin.send(new DeleteAccountAssignmentCommand({ InstanceArn, TargetId: ACCOUNT, TargetType: 'AWS_ACCOUNT', PermissionSetArn: arn, PrincipalType: 'GROUP', PrincipalId: groupId }));
    const delDone = await settled(async () => (await h.ssoAdmin.send(new DescribeAccountAssignmentDeletionStatusCommand({ InstanceArn, AccountAssignmentDeletionRequestId: del.AccountAssignmentDeletionStatus?.RequestId }))).AccountAssignmentDeletionStatus ?? {});
    expect(delDone.Status).toBe('SUCCEEDED');
    expect((await h.ssoAdmin.send(new ListAccountAssignmentsCommand({ InstanceArn, AccountId: ACCOUNT, PermissionSetArn: arn }))).AccountAssignments).toEqual([]);
  });

  it('ends FAILED with a FailureReason: on request (failNextAsyncRequests) and for a principal that does not exist', async () => {
    const arn = await createPs('Dev');
    const groupId = await createGroup('Devs');
    failNextAsyncRequests(h.emulator, 1, 'Access denied by SCP', ['create']);
    const a = await h.ssoAdmin.send(new CreateAccountAssignmentCommand({ InstanceArn, TargetId: ACCOUNT, TargetType: 'AWS_ACCOUNT', PermissionSetArn: arn, PrincipalType: 'GROUP', PrincipalId: groupId }));
    expect(await waitCreation(a.AccountAssignmentCreationStatus?.RequestId ?? '')).toMatchObject({ Status: 'FAILED', FailureReason: 'Access denied by SCP' });
    // The same switch over HTTP, for a demo or a test in another process.
    const res = await fetch(`${h.emulator.url}/__emulator/service/sso/failNext`, { method: 'POST', body: JSON.stringify({ count: 1, reason: 'Over the quota', kinds: ['delete'] }) });
    expect(res.status).toBe(200);
    expect(h.emulator.state<{ failNext: unknown }>('sso').failNext).toEqual({ count: 1, reason: 'Over the quota', kinds: ['delete'] });
    h.emulator.state<{ failNext: unknown }>('sso').failNext = null;
    const b = await h.ssoAdmin.send(new CreateAccountAssignmentCommand({ InstanceArn, TargetId: ACCOUNT, TargetType: 'AWS_ACCOUNT', PermissionSetArn: arn, PrincipalType: 'USER', PrincipalId: 'missing' }));
    expect((await waitCreation(b.AccountAssignmentCreationStatus?.RequestId ?? '')).FailureReason).toMatch(/does not exist/);
    expect((await h.ssoAdmin.send(new ListAccountAssignmentsCommand({ InstanceArn, AccountId: ACCOUNT, PermissionSetArn: arn }))).AccountAssignments).toEqual([]);
  });

  it('allows at most 10 CreateAccountAssignment in progress, then throttles', async () => {
    h.emulator.asyncDelayMs = 5_000;
    const arn = await createPs('Many');
    const groupId = await createGroup('G');
    for (let i = 0; i < 10; i++) {
      await h.ssoAdmin.send(new CreateAccountAssignmentCommand({ InstanceArn, TargetId: String(300000000000 + i), TargetType: 'AWS_ACCOUNT', PermissionSetArn: arn, PrincipalType: 'GROUP', PrincipalId: groupId }));
    }
    const err = await oneShot()
      .send(new CreateAccountAssignmentCommand({ InstanceArn, TargetId: '399999999999', TargetType: 'AWS_ACCOUNT', PermissionSetArn: arn, PrincipalType: 'GROUP', PrincipalId: groupId }))
      .catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ThrottlingException);
    expect((err as ThrottlingException).message).toMatch(/at most 10/);
  });

  it('pages assignments and recovers from injected throttling with adaptive retry', async () => {
    const arn = await createPs('Paged');
    const groups: string[] = [];
    for (let i = 0; i < 12; i++) groups.push(await createGroup(`pg${i}`));
    for (const g of groups) await h.ssoAdmin.send(new CreateAccountAssignmentCommand({ InstanceArn, TargetId: ACCOUNT, TargetType: 'AWS_ACCOUNT', PermissionSetArn: arn, PrincipalType: 'GROUP', PrincipalId: g }));
    await new Promise((r) => setTimeout(r, 60));
    h.emulator.injectFault({ kind: 'throttle', service: 'sso', operation: 'ListAccountAssignments', times: 2 });
    const ids: string[] = [];
    for await (const page of paginateListAccountAssignments({ client: h.ssoAdmin, pageSize: 5 }, { InstanceArn, AccountId: ACCOUNT, PermissionSetArn: arn })) {
      ids.push(...(page.AccountAssignments ?? []).map((x) => x.PrincipalId ?? ''));
    }
    expect(ids.sort()).toEqual([...groups].sort());
    expect(h.emulator.throttledCount()).toBe(2);
    const thrown = await (async () => {
      h.emulator.injectFault({ kind: 'throttle', service: 'sso', operation: 'ListInstances' });
      return oneShot().send(new ListInstancesCommand({})).catch((e: unknown) => e);
    })();
    expect(thrown).toBeInstanceOf(ThrottlingException);
  });
});
