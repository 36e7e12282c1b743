/**
 * Identity Center sign-in against the emulator with the real SDK clients: provisioning a permission set
 * to an account makes the `AWSReservedSSO_*` role there (a snapshot, refreshed only by provisioning), and
 * `portalCredentials` gives a person with an assignment (direct or through a group) a session of it.
 */
import { GetRoleCommand, GetRolePolicyCommand, IAMClient, ListAttachedRolePoliciesCommand, ListRolesCommand, ListSAMLProvidersCommand } from '@aws-sdk/client-iam';
import { CreateGroupCommand, CreateGroupMembershipCommand, CreateUserCommand, IdentitystoreClient } from '@aws-sdk/client-identitystore';
import {
  AttachCustomerManagedPolicyReferenceToPermissionSetCommand,
  AttachManagedPolicyToPermissionSetCommand,
  CreateAccountAssignmentCommand,
  CreatePermissionSetCommand,
  DeleteAccountAssignmentCommand,
  DeletePermissionSetCommand,
  DescribeAccountAssignmentCreationStatusCommand,
  DescribeAccountAssignmentDeletionStatusCommand,
  DescribePermissionSetProvisioningStatusCommand,
  ProvisionPermissionSetCommand,
  PutInlinePolicyToPermissionSetCommand,
  PutPermissionsBoundaryToPermissionSetCommand,
  SSOAdminClient,
  UpdatePermissionSetCommand,
} from '@aws-sdk/client-sso-admin';
import { GetCallerIdentityCommand, STSClient } from '@aws-sdk/client-sts';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { PortalError, portalCredentials } from '../support/portal.js';
import type { PortalSession } from '../support/portal.js';
import { basePrincipal, startEmulator } from './index.js';
import type { Emulator } from './index.js';
import { DEFAULT_IDENTITY_STORE_ID } from './services/identitystore.js';
import { DEFAULT_INSTANCE_ARN } from './services/sso-admin.js';
import type { SsoAdminState } from './services/sso-admin.js';

const MANAGEMENT = '111111111111';
const PROD = '222222222222';
const DEV = '333333333333';
const InstanceArn = DEFAULT_INSTANCE_ARN;
const IdentityStoreId = DEFAULT_IDENTITY_STORE_ID;
const BASE = { accessKeyId: 'AKIAEMULATORTEST', secretAccessKey: 'not-a-secret' };
const PROD_ADMIN = { accessKeyId: 'AKIAPRODADMIN0000001', secretAccessKey: 'prod-admin-not-a-secret' };
const INLINE = JSON.stringify({ Version: '2012-10-17', Statement: [{ Effect: 'Allow', Action: 's3:GetObject', Resource: '*' }] });

let emulator: Emulator;
let sso: SSOAdminClient;
let ids: IdentitystoreClient;
let prodIam: IAMClient;
let users: Record<'alice' | 'bob' | 'carol', string>;
let devs: string;
let psArn: string;

async function waitCreation(id: string | undefined): Promise<void> {
  for (;;) {
    const s = await sso.send(new DescribeAccountAssignmentCreationStatusCommand({ InstanceArn, AccountAssignmentCreationRequestId: id }));
    if (s.AccountAssignmentCreationStatus?.Status !== 'IN_PROGRESS') return expect(s.AccountAssignmentCreationStatus?.Status).toBe('SUCCEEDED');
  }
}
async function waitDeletion(id: string | undefined): Promise<void> {
  for (;;) {
    const s = await sso.send(new DescribeAccountAssignmentDeletionStatusCommand({ InstanceArn, AccountAssignmentDeletionRequestId: id }));
    if (s.AccountAssignmentDeletionStatus?.Status !== 'IN_PROGRESS') return expect(s.AccountAssignmentDeletionStatus?.Status).toBe('SUCCEEDED');
  }
}
async function provision(accountId: string): Promise<void> {
  const r = await sso.send(new ProvisionPermissionSetCommand({ InstanceArn, PermissionSetArn: psArn, TargetType: 'AWS_ACCOUNT', TargetId: accountId }));
  for (;;) {
    const s = await sso.send(new DescribePermissionSetProvisioningStatusCommand({ InstanceArn, ProvisionPermissionSetRequestId: r.PermissionSetProvisioningStatus?.RequestId }));
    if (s.PermissionSetProvisioningStatus?.Status !== 'IN_PROGRESS') return expect(s.PermissionSetProvisioningStatus?.Status).toBe('SUCCEEDED');
  }
}
async function assign(accountId: string, PrincipalType: 'USER' | 'GROUP', PrincipalId: string): Promise<void> {
  const r = await sso.send(new CreateAccountAssignmentCommand({ InstanceArn, PermissionSetArn: psArn, TargetType: 'AWS_ACCOUNT', TargetId: accountId, PrincipalType, PrincipalId }));
  await waitCreation(r.AccountAssignmentCreationStatus?.RequestId);
}
async function unassign(accountId: string, PrincipalType: 'USER' | 'GROUP', PrincipalId: string): Promise<void> {
  const r = await sso.send(new DeleteAccountAssignmentCommand({ InstanceArn, PermissionSetArn: psArn, TargetType: 'AWS_ACCOUNT', TargetId: accountId, PrincipalType, PrincipalId }));
  await waitDeletion(r.AccountAssignmentDeletionStatus?.RequestId);
}

async function reservedRoles(): Promise<{ RoleName?: string | undefined; Path?: string | undefined; Arn?: string | undefined }[]> {
  return (await prodIam.send(new ListRolesCommand({ PathPrefix: '/aws-reserved/sso.amazonaws.com/' }))).Roles ?? [];
}

async function whoAmI(session: PortalSession): Promise<{ Arn?: string | undefined; UserId?: string | undefined }> {
  const sts = new STSClient({ endpoint: emulator.url, region: 'us-east-1', credentials: session.credentials, maxAttempts: 1 });
  try {
    return await sts.send(new GetCallerIdentityCommand({}));
  } finally {
    sts.destroy();
  }
}

async function refused(p: Promise<unknown>): Promise<PortalError> {
  const e = await p.then(
    () => undefined,
    (err: unknown) => err,
  );
  if (!(e instanceof PortalError)) throw new Error(`expected a PortalError, got ${String(e)}`);
  return e;
}

beforeEach(async () => {
  emulator = await startEmulator({ homeAccount: MANAGEMENT });
  emulator.asyncDelayMs = 0;
  // An administrator of the member account, to look at what Identity Center made there.
  emulator.registerCredentials({ ...PROD_ADMIN, principal: basePrincipal(PROD) });
  const opts = { endpoint: emulator.url, region: 'us-east-1', maxAttempts: 1 };
  sso = new SSOAdminClient({ ...opts, credentials: BASE });
  ids = new IdentitystoreClient({ ...opts, credentials: BASE });
  prodIam = new IAMClient({ ...opts, credentials: PROD_ADMIN });
  const mk = async (UserName: string): Promise<string> => (await ids.send(new CreateUserCommand({ IdentityStoreId, UserName, DisplayName: UserName, Name: { GivenName: UserName, FamilyName: 'Test' } }))).UserId ?? '';
  users = { alice: await mk('alice@corp.example'), bob: await mk('bob@corp.example'), carol: await mk('carol@corp.example') };
  devs = (await ids.send(new CreateGroupCommand({ IdentityStoreId, DisplayName: 'Developers' }))).GroupId ?? '';
  for (const u of [users.alice, users.bob]) await ids.send(new CreateGroupMembershipCommand({ IdentityStoreId, GroupId: devs, MemberId: { UserId: u } }));
  psArn = (await sso.send(new CreatePermissionSetCommand({ InstanceArn, Name: 'Developer', SessionDuration: 'PT4H' }))).PermissionSet?.PermissionSetArn ?? '';
  await sso.send(new AttachManagedPolicyToPermissionSetCommand({ InstanceArn, PermissionSetArn: psArn, ManagedPolicyArn: 'arn:aws:iam::aws:policy/ReadOnlyAccess' }));
  await sso.send(new AttachCustomerManagedPolicyReferenceToPermissionSetCommand({ InstanceArn, PermissionSetArn: psArn, CustomerManagedPolicyReference: { Name: 'team-data', Path: '/teams/' } }));
  await sso.send(new PutInlinePolicyToPermissionSetCommand({ InstanceArn, PermissionSetArn: psArn, InlinePolicy: INLINE }));
  await sso.send(new PutPermissionsBoundaryToPermissionSetCommand({ InstanceArn, PermissionSetArn: psArn, PermissionsBoundary: { ManagedPolicyArn: 'arn:aws:iam::aws:policy/PowerUserAccess' } }));
});

afterEach(async () => {
  for (const c of [sso, ids, prodIam]) c.destroy();
  await emulator.stop();
});

describe('provisioning a permission set to an account', () => {
  it('makes the AWSReservedSSO role with the set policies, trusting the account AWSSSO provider', async () => {
    expect(await reservedRoles()).toEqual([]);
    await assign(PROD, 'GROUP', devs);
    const [listed] = await reservedRoles();
    expect(listed?.RoleName).toMatch(/^AWSReservedSSO_Developer_[0-9a-f]{16}$/);
    expect(listed?.Path).toBe('/aws-reserved/sso.amazonaws.com/');
    const role = (await prodIam.send(new GetRoleCommand({ RoleName: listed?.RoleName }))).Role;
    // Identity Center's roles allow 12 hours; the portal's sessions last the set's duration (below).
    expect(role?.MaxSessionDuration).toBe(12 * 3600);
    expect(role?.PermissionsBoundary?.PermissionsBoundaryArn).toBe('arn:aws:iam::aws:policy/PowerUserAccess');
    const attached = (await prodIam.send(new ListAttachedRolePoliciesCommand({ RoleName: listed?.RoleName }))).AttachedPolicies?.map((a) => a.PolicyArn);
    expect(attached?.sort()).toEqual(['arn:aws:iam::222222222222:policy/teams/team-data', 'arn:aws:iam::aws:policy/ReadOnlyAccess']);
    const inline = await prodIam.send(new GetRolePolicyCommand({ RoleName: listed?.RoleName, PolicyName: 'AwsSSOInlinePolicy' }));
    expect(JSON.parse(decodeURIComponent(inline.PolicyDocument ?? ''))).toEqual(JSON.parse(INLINE));
    const providers = (await prodIam.send(new ListSAMLProvidersCommand({}))).SAMLProviderList?.map((p) => p.Arn) ?? [];
    expect(providers).toHaveLength(1);
    expect(providers[0]).toMatch(/^arn:aws:iam::222222222222:saml-provider\/AWSSSO_[0-9a-f]{16}_DO_NOT_DELETE$/);
    const trust = JSON.parse(decodeURIComponent(role?.AssumeRolePolicyDocument ?? '')) as { Statement: { Principal: { Federated: string }; Action: string[] }[] };
    expect(trust.Statement[0]?.Principal.Federated).toBe(providers[0]);
    expect(trust.Statement[0]?.Action).toContain('sts:AssumeRoleWithSAML');
    // Nothing in an account the set was not provisioned to.
    expect(emulator.state<{ accounts: Record<string, unknown> }>('iam').accounts[DEV]).toBeUndefined();
  });

  it('names the Identity Center region in the path outside us-east-1', async () => {
    emulator.state<SsoAdminState>('sso').region = 'eu-west-2';
    await provision(PROD);
    const roles = (await prodIam.send(new ListRolesCommand({}))).Roles ?? [];
    expect(roles.map((r) => r.Arn)).toEqual([expect.stringMatching(/^arn:aws:iam::222222222222:role\/aws-reserved\/sso\.amazonaws\.com\/eu-west-2\/AWSReservedSSO_Developer_[0-9a-f]{16}$/)]);
  });

  it('leaves the role as it was when the set changes, until it is provisioned again', async () => {
    await assign(PROD, 'GROUP', devs);
    const name = (await reservedRoles())[0]?.RoleName;
    const changed = JSON.stringify({ Version: '2012-10-17', Statement: [{ Effect: 'Deny', Action: '*', Resource: '*' }] });
    await sso.send(new PutInlinePolicyToPermissionSetCommand({ InstanceArn, PermissionSetArn: psArn, InlinePolicy: changed }));
    const before = await prodIam.send(new GetRolePolicyCommand({ RoleName: name, PolicyName: 'AwsSSOInlinePolicy' }));
    expect(JSON.parse(decodeURIComponent(before.PolicyDocument ?? ''))).toEqual(JSON.parse(INLINE));
    await provision(PROD);
    const after = await prodIam.send(new GetRolePolicyCommand({ RoleName: name, PolicyName: 'AwsSSOInlinePolicy' }));
    expect(JSON.parse(decodeURIComponent(after.PolicyDocument ?? ''))).toEqual(JSON.parse(changed));
    // Same role, refreshed in place.
    expect((await reservedRoles()).map((r) => r.RoleName)).toEqual([name]);
  });

  it('deletes the role with the last assignment in the account, and a new assignment makes a new one', async () => {
    await assign(PROD, 'GROUP', devs);
    await assign(PROD, 'USER', users.carol);
    const first = (await reservedRoles())[0]?.RoleName;
    await unassign(PROD, 'GROUP', devs);
    expect((await reservedRoles()).map((r) => r.RoleName)).toEqual([first]);
    await unassign(PROD, 'USER', users.carol);
    expect(await reservedRoles()).toEqual([]);
    await assign(PROD, 'USER', users.carol);
    const second = (await reservedRoles())[0]?.RoleName;
    expect(second).toMatch(/^AWSReservedSSO_Developer_[0-9a-f]{16}$/);
    expect(second).not.toBe(first);
  });

  it('provisions without an assignment too, and DeletePermissionSet takes the role with it', async () => {
    await provision(PROD);
    expect(await reservedRoles()).toHaveLength(1);
    await sso.send(new DeletePermissionSetCommand({ InstanceArn, PermissionSetArn: psArn }));
    expect(await reservedRoles()).toEqual([]);
  });
});

describe('the portal GetRoleCredentials', () => {
  it('gives a group member a session of the reserved role named after their UserName', async () => {
    await assign(PROD, 'GROUP', devs);
    const before = Date.now();
    const session = await portalCredentials(emulator, { userId: users.alice, permissionSetName: 'Developer', accountId: PROD });
    const roleName = (await reservedRoles())[0]?.RoleName ?? '';
    const roleId = (await prodIam.send(new GetRoleCommand({ RoleName: roleName }))).Role?.RoleId;
    expect(session.roleName).toBe(roleName);
    expect(session.arn).toBe(`arn:aws:sts::${PROD}:assumed-role/${roleName}/alice@corp.example`);
    expect(await whoAmI(session)).toMatchObject({ Arn: session.arn, UserId: `${roleId}:alice@corp.example` });
    // The set's session duration, as provisioned.
    expect(session.credentials.expiration.getTime() - before).toBeGreaterThan(4 * 3600_000 - 10_000);
    expect(session.credentials.expiration.getTime() - before).toBeLessThanOrEqual(4 * 3600_000 + 1000);
    await sso.send(new UpdatePermissionSetCommand({ InstanceArn, PermissionSetArn: psArn, SessionDuration: 'PT8H' }));
    const stillFour = await portalCredentials(emulator, { userId: users.alice, permissionSetName: 'Developer', accountId: PROD });
    expect(stillFour.credentials.expiration.getTime() - Date.now()).toBeLessThanOrEqual(4 * 3600_000 + 1000);
    await provision(PROD);
    const eight = await portalCredentials(emulator, { userId: users.alice, permissionSetName: 'Developer', accountId: PROD });
    expect(eight.credentials.expiration.getTime() - Date.now()).toBeGreaterThan(8 * 3600_000 - 10_000);
    // The request context carries identitystore:UserId.
    expect(emulator.credentialsFor(session.credentials.accessKeyId)?.principal.extraContext).toEqual({ 'identitystore:UserId': users.alice });
  });

  it('works from another process through the control endpoint, by permission set ARN', async () => {
    await assign(PROD, 'USER', users.carol);
    const session = await portalCredentials(emulator.url, { userId: users.carol, permissionSetArn: psArn, accountId: PROD });
    expect((await whoAmI(session)).Arn).toMatch(/assumed-role\/AWSReservedSSO_Developer_[0-9a-f]{16}\/carol@corp\.example$/);
  });

  it('refuses a user without an assignment for that set on that account', async () => {
    await assign(PROD, 'GROUP', devs);
    expect((await refused(portalCredentials(emulator, { userId: users.carol, permissionSetName: 'Developer', accountId: PROD }))).name).toBe('ForbiddenException');
    expect((await refused(portalCredentials(emulator, { userId: users.alice, permissionSetName: 'Developer', accountId: DEV }))).name).toBe('ForbiddenException');
    expect((await refused(portalCredentials(emulator.url, { userId: users.carol, permissionSetName: 'Developer', accountId: PROD }))).name).toBe('ForbiddenException');
    expect((await refused(portalCredentials(emulator, { userId: 'not-a-user', permissionSetName: 'Developer', accountId: PROD }))).name).toBe('UnauthorizedException');
  });

  it('refuses once the assignment is gone, while a session already issued lives on', async () => {
    await assign(PROD, 'USER', users.bob);
    const live = await portalCredentials(emulator, { userId: users.bob, permissionSetName: 'Developer', accountId: PROD });
    await assign(PROD, 'USER', users.carol);
    await unassign(PROD, 'USER', users.bob);
    expect((await refused(portalCredentials(emulator, { userId: users.bob, permissionSetName: 'Developer', accountId: PROD }))).name).toBe('ForbiddenException');
    expect((await whoAmI(live)).Arn).toContain('/bob@corp.example');
  });
});
