/**
 * The emulator's IAM and STS, spoken to by the real SDK v3 clients: each operation, the SDK's
 * typed exceptions, its paginators across page boundaries, and its retries against injected
 * throttling, 500s and a dropped connection.
 */
import {
  AttachRolePolicyCommand,
  CreateAccessKeyCommand,
  CreateLoginProfileCommand,
  CreateRoleCommand,
  CreateSAMLProviderCommand,
  CreateUserCommand,
  DeleteConflictException,
  DeleteLoginProfileCommand,
  DeleteRoleCommand,
  DeleteRolePermissionsBoundaryCommand,
  DeleteRolePolicyCommand,
  DeleteSAMLProviderCommand,
  DetachRolePolicyCommand,
  EntityAlreadyExistsException,
  GetAccessKeyLastUsedCommand,
  GetAccountAuthorizationDetailsCommand,
  GetLoginProfileCommand,
  GetRoleCommand,
  GetRolePolicyCommand,
  GetSAMLProviderCommand,
  GetUserCommand,
  IAMClient,
  IAMServiceException,
  LimitExceededException,
  ListAccessKeysCommand,
  ListAttachedRolePoliciesCommand,
  ListMFADevicesCommand,
  ListRolePoliciesCommand,
  ListRoleTagsCommand,
  ListRolesCommand,
  ListSAMLProvidersCommand,
  ListUserTagsCommand,
  ListUsersCommand,
  MalformedPolicyDocumentException,
  NoSuchEntityException,
  PutRolePermissionsBoundaryCommand,
  PutRolePolicyCommand,
  TagRoleCommand,
  TagUserCommand,
  UntagRoleCommand,
  UpdateAccessKeyCommand,
  UpdateAssumeRolePolicyCommand,
  UpdateRoleCommand,
  UpdateRoleDescriptionCommand,
  paginateGetAccountAuthorizationDetails,
  paginateListRoles,
  paginateListUsers,
} from '@aws-sdk/client-iam';
import { AssumeRoleCommand, GetCallerIdentityCommand, STSClient, STSServiceException } from '@aws-sdk/client-sts';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { startEmulator } from './index.js';
import type { Emulator } from './index.js';
import { iamAccount } from './services/iam.js';
import type { IamState } from './services/iam.js';

const HOME = '111111111111';
const CREDS = { accessKeyId: 'AKIAHOMEBASE00000001', secretAccessKey: 'not-a-secret' };
const METADATA = `<EntityDescriptor entityID="http://adfs.example/adfs/services/trust">${'x'.repeat(1000)}</EntityDescriptor>`;
const TRUST = JSON.stringify({
  Version: '2012-10-17',
  Statement: [{ Effect: 'Allow', Principal: { Federated: `arn:aws:iam::${HOME}:saml-provider/ADFS` }, Action: ['sts:AssumeRoleWithSAML'], Condition: { StringEquals: { 'SAML:aud': 'https://signin.aws.amazon.com/saml' } } }],
});
const DOC = JSON.stringify({ Version: '2012-10-17', Statement: [{ Effect: 'Allow', Action: 's3:GetObject', Resource: 'arn:aws:s3:::reports/*' }] });

let emulator: Emulator;
let iam: IAMClient;

function client(maxAttempts = 3): IAMClient {
  return new IAMClient({ region: 'us-east-1', endpoint: emulator.url, credentials: CREDS, retryMode: 'adaptive', maxAttempts });
}

beforeEach(async () => {
  emulator = await startEmulator({ homeAccount: HOME, baseCredentials: [CREDS] });
  iam = client();
  await iam.send(new CreateSAMLProviderCommand({ Name: 'ADFS', SAMLMetadataDocument: METADATA }));
});
afterEach(async () => {
  iam.destroy();
  await emulator.stop();
});

async function createRole(name: string, extra: Partial<ConstructorParameters<typeof CreateRoleCommand>[0]> = {}): Promise<void> {
  await iam.send(new CreateRoleCommand({ RoleName: name, AssumeRolePolicyDocument: TRUST, ...extra }));
}

describe('SAML providers', () => {
  it('creates, lists, gets and deletes', async () => {
    const arn = `arn:aws:iam::${HOME}:saml-provider/ADFS`;
    expect((await iam.send(new ListSAMLProvidersCommand({}))).SAMLProviderList?.map((p) => p.Arn)).toEqual([arn]);
    const got = await iam.send(new GetSAMLProviderCommand({ SAMLProviderArn: arn }));
    expect(got.SAMLMetadataDocument).toBe(METADATA);
    expect(got.ValidUntil).toBeInstanceOf(Date);
    await expect(iam.send(new CreateSAMLProviderCommand({ Name: 'ADFS', SAMLMetadataDocument: METADATA }))).rejects.toBeInstanceOf(EntityAlreadyExistsException);
    await iam.send(new DeleteSAMLProviderCommand({ SAMLProviderArn: arn }));
    await expect(iam.send(new GetSAMLProviderCommand({ SAMLProviderArn: arn }))).rejects.toBeInstanceOf(NoSuchEntityException);
    // A trust policy may not name a provider that does not exist.
    await expect(createRole('Orphan')).rejects.toBeInstanceOf(MalformedPolicyDocumentException);
  });
});

describe('roles', () => {
  it('creates and reads a role with every attribute, documents URL-encoded', async () => {
    const out = await iam.send(
      new CreateRoleCommand({
        RoleName: 'Admin',
        Path: '/federated/',
        AssumeRolePolicyDocument: TRUST,
        Description: 'Admins',
        MaxSessionDuration: 7200,
        PermissionsBoundary: 'arn:aws:iam::aws:policy/PowerUserAccess',
        Tags: [{ Key: 'rolemap:owner', Value: 'corp' }],
      }),
    );
    expect(out.Role).toMatchObject({ RoleName: 'Admin', Path: '/federated/', Arn: `arn:aws:iam::${HOME}:role/federated/Admin`, MaxSessionDuration: 7200 });
    expect(out.$metadata.requestId).toMatch(/^[0-9a-f-]{36}$/);
    const got = (await iam.send(new GetRoleCommand({ RoleName: 'admin' }))).Role!;
    expect(got.PermissionsBoundary).toEqual({ PermissionsBoundaryType: 'PermissionsBoundaryPolicy', PermissionsBoundaryArn: 'arn:aws:iam::aws:policy/PowerUserAccess' });
    expect(got.Tags).toEqual([{ Key: 'rolemap:owner', Value: 'corp' }]);
    // Stored in AWS's compact form (one-element Action list collapsed), returned URL-encoded.
    expect(got.AssumeRolePolicyDocument).toMatch(/^%7B%22Version%22/);
    expect(JSON.parse(decodeURIComponent(got.AssumeRolePolicyDocument!)).Statement[0].Action).toBe('sts:AssumeRoleWithSAML');
    await expect(createRole('ADMIN')).rejects.toBeInstanceOf(EntityAlreadyExistsException);
  });

  it('updates description, max session duration and trust policy', async () => {
    await createRole('Dev');
    await iam.send(new UpdateRoleCommand({ RoleName: 'Dev', Description: 'Developers', MaxSessionDuration: 43200 }));
    expect((await iam.send(new UpdateRoleDescriptionCommand({ RoleName: 'Dev', Description: 'Devs' }))).Role?.Description).toBe('Devs');
    const got = (await iam.send(new GetRoleCommand({ RoleName: 'Dev' }))).Role!;
    expect([got.Description, got.MaxSessionDuration]).toEqual(['Devs', 43200]);
    await expect(iam.send(new UpdateRoleCommand({ RoleName: 'Dev', MaxSessionDuration: 60 }))).rejects.toMatchObject({ name: 'ValidationError' });
    const other = TRUST.replace('sts:AssumeRoleWithSAML"', 'sts:AssumeRoleWithSAML","sts:TagSession"');
    await iam.send(new UpdateAssumeRolePolicyCommand({ RoleName: 'Dev', PolicyDocument: other }));
    expect(decodeURIComponent((await iam.send(new GetRoleCommand({ RoleName: 'Dev' }))).Role!.AssumeRolePolicyDocument!)).toContain('sts:TagSession');
    await expect(iam.send(new UpdateAssumeRolePolicyCommand({ RoleName: 'Dev', PolicyDocument: '{not json' }))).rejects.toBeInstanceOf(MalformedPolicyDocumentException);
    await expect(iam.send(new UpdateRoleCommand({ RoleName: 'Nope', Description: 'x' }))).rejects.toBeInstanceOf(NoSuchEntityException);
  });

  it('tags, boundary, managed and inline policies, and DeleteConflict until they are gone', async () => {
    await createRole('Ops');
    await iam.send(new TagRoleCommand({ RoleName: 'Ops', Tags: [{ Key: 'a', Value: '1' }, { Key: 'b', Value: '2' }] }));
    await iam.send(new UntagRoleCommand({ RoleName: 'Ops', TagKeys: ['a'] }));
    expect((await iam.send(new ListRoleTagsCommand({ RoleName: 'Ops' }))).Tags).toEqual([{ Key: 'b', Value: '2' }]);
    await iam.send(new PutRolePermissionsBoundaryCommand({ RoleName: 'Ops', PermissionsBoundary: 'arn:aws:iam::aws:policy/PowerUserAccess' }));
    await iam.send(new DeleteRolePermissionsBoundaryCommand({ RoleName: 'Ops' }));
    expect((await iam.send(new GetRoleCommand({ RoleName: 'Ops' }))).Role?.PermissionsBoundary).toBeUndefined();

    await iam.send(new AttachRolePolicyCommand({ RoleName: 'Ops', PolicyArn: 'arn:aws:iam::aws:policy/ReadOnlyAccess' }));
    expect((await iam.send(new ListAttachedRolePoliciesCommand({ RoleName: 'Ops' }))).AttachedPolicies).toEqual([{ PolicyName: 'ReadOnlyAccess', PolicyArn: 'arn:aws:iam::aws:policy/ReadOnlyAccess' }]);
    await iam.send(new PutRolePolicyCommand({ RoleName: 'Ops', PolicyName: 'reports', PolicyDocument: DOC }));
    expect((await iam.send(new ListRolePoliciesCommand({ RoleName: 'Ops' }))).PolicyNames).toEqual(['reports']);
    expect(decodeURIComponent((await iam.send(new GetRolePolicyCommand({ RoleName: 'Ops', PolicyName: 'reports' }))).PolicyDocument!)).toBe(DOC);

    await expect(iam.send(new DeleteRoleCommand({ RoleName: 'Ops' }))).rejects.toBeInstanceOf(DeleteConflictException);
    await iam.send(new DetachRolePolicyCommand({ RoleName: 'Ops', PolicyArn: 'arn:aws:iam::aws:policy/ReadOnlyAccess' }));
    await expect(iam.send(new DetachRolePolicyCommand({ RoleName: 'Ops', PolicyArn: 'arn:aws:iam::aws:policy/ReadOnlyAccess' }))).rejects.toBeInstanceOf(NoSuchEntityException);
    await expect(iam.send(new DeleteRoleCommand({ RoleName: 'Ops' }))).rejects.toBeInstanceOf(DeleteConflictException);
    await iam.send(new DeleteRolePolicyCommand({ RoleName: 'Ops', PolicyName: 'reports' }));
    await expect(iam.send(new GetRolePolicyCommand({ RoleName: 'Ops', PolicyName: 'reports' }))).rejects.toBeInstanceOf(NoSuchEntityException);
    await iam.send(new DeleteRoleCommand({ RoleName: 'Ops' }));
    await expect(iam.send(new GetRoleCommand({ RoleName: 'Ops' }))).rejects.toBeInstanceOf(NoSuchEntityException);
  });

  it('enforces quotas with LimitExceeded and bad input with ValidationError', async () => {
    // The SDK counts every *LimitExceeded* name as throttling and would retry it: one attempt here.
    const once = client(1);
    await createRole('Big');
    for (let i = 0; i < 10; i++) await iam.send(new AttachRolePolicyCommand({ RoleName: 'Big', PolicyArn: `arn:aws:iam::aws:policy/P${i}` }));
    await expect(once.send(new AttachRolePolicyCommand({ RoleName: 'Big', PolicyArn: 'arn:aws:iam::aws:policy/P10' }))).rejects.toBeInstanceOf(LimitExceededException);
    const huge = JSON.stringify({ Version: '2012-10-17', Statement: [{ Effect: 'Allow', Action: 's3:GetObject', Resource: Array.from({ length: 400 }, (_, i) => `arn:aws:s3:::bucket-${i}/*`) }] });
    await expect(once.send(new PutRolePolicyCommand({ RoleName: 'Big', PolicyName: 'huge', PolicyDocument: huge }))).rejects.toBeInstanceOf(LimitExceededException);
    once.destroy();
    const err = await createRole('bad name!').catch((e: unknown) => e);
    expect(err).toBeInstanceOf(IAMServiceException);
    expect((err as IAMServiceException).name).toBe('ValidationError');
    expect((err as IAMServiceException).$metadata.httpStatusCode).toBe(400);
  });
});

describe('paging', () => {
  it('ListRoles and GetAccountAuthorizationDetails page across boundaries with the SDK paginators', async () => {
    for (let i = 0; i < 23; i++) await createRole(`Role${String(i).padStart(2, '0')}`, { Tags: [{ Key: 'n', Value: String(i) }] });
    for (let i = 0; i < 4; i++) await iam.send(new CreateUserCommand({ UserName: `user${i}`, Tags: [{ Key: 'ad-account', Value: `u${i}` }] }));

    const pages: number[] = [];
    const names: string[] = [];
    for await (const page of paginateListRoles({ client: iam, pageSize: 10 }, {})) {
      pages.push(page.Roles?.length ?? 0);
      names.push(...(page.Roles ?? []).map((r) => r.RoleName ?? ''));
    }
    expect(pages).toEqual([10, 10, 3]);
    expect(new Set(names).size).toBe(23);

    const detailPages: number[] = [];
    const details: string[] = [];
    for await (const page of paginateGetAccountAuthorizationDetails({ client: iam, pageSize: 7 }, { Filter: ['Role', 'User'] })) {
      detailPages.push((page.RoleDetailList?.length ?? 0) + (page.UserDetailList?.length ?? 0));
      details.push(...(page.UserDetailList ?? []).map((u) => `user:${u.UserName}:${u.Tags?.[0]?.Value}`), ...(page.RoleDetailList ?? []).map((r) => `role:${r.RoleName}:${r.Tags?.[0]?.Value}`));
    }
    expect(detailPages).toEqual([7, 7, 7, 6]);
    expect(details).toHaveLength(27);
    expect(details).toContain('user:user3:u3');
    expect(details).toContain('role:Role22:22');

    const onlyRoles = await iam.send(new GetAccountAuthorizationDetailsCommand({ Filter: ['Role'], MaxItems: 100 }));
    expect([onlyRoles.RoleDetailList?.length, onlyRoles.UserDetailList?.length, onlyRoles.IsTruncated]).toEqual([23, 0, false]);

    const users: string[] = [];
    for await (const page of paginateListUsers({ client: iam, pageSize: 3 }, {})) users.push(...(page.Users ?? []).map((u) => u.UserName ?? ''));
    expect(users).toEqual(['user0', 'user1', 'user2', 'user3']);
  });

  it('neither repeats nor skips when a role is deleted between pages', async () => {
    for (let i = 0; i < 6; i++) await createRole(`R${i}`);
    const first = await iam.send(new ListRolesCommand({ MaxItems: 3 }));
    await iam.send(new DeleteRoleCommand({ RoleName: 'R1' }));
    const second = await iam.send(new ListRolesCommand({ MaxItems: 3, Marker: first.Marker }));
    expect([...(first.Roles ?? []), ...(second.Roles ?? [])].map((r) => r.RoleName)).toEqual(['R0', 'R1', 'R2', 'R3', 'R4', 'R5']);
    await expect(iam.send(new ListRolesCommand({ Marker: 'garbage' }))).rejects.toMatchObject({ name: 'ValidationError' });
  });
});

describe('IAM users', () => {
  it('users, tags, access keys and their last use, login profiles, MFA devices', async () => {
    const created = await iam.send(new CreateUserCommand({ UserName: 'jdoe-ci', Tags: [{ Key: 'ad-account', Value: 'jdoe' }] }));
    expect(created.User?.Arn).toBe(`arn:aws:iam::${HOME}:user/jdoe-ci`);
    expect((await iam.send(new ListUsersCommand({}))).Users?.map((u) => u.UserName)).toEqual(['jdoe-ci']);
    expect((await iam.send(new GetUserCommand({ UserName: 'jdoe-ci' }))).User?.Tags).toEqual([{ Key: 'ad-account', Value: 'jdoe' }]);
    await iam.send(new TagUserCommand({ UserName: 'jdoe-ci', Tags: [{ Key: 'team', Value: 'ci' }] }));
    expect((await iam.send(new ListUserTagsCommand({ UserName: 'jdoe-ci' }))).Tags).toHaveLength(2);

    const key1 = (await iam.send(new CreateAccessKeyCommand({ UserName: 'jdoe-ci' }))).AccessKey!;
    expect(key1.SecretAccessKey).toHaveLength(40);
    const key2 = (await iam.send(new CreateAccessKeyCommand({ UserName: 'jdoe-ci' }))).AccessKey!;
    await expect(client(1).send(new CreateAccessKeyCommand({ UserName: 'jdoe-ci' }))).rejects.toBeInstanceOf(LimitExceededException);
    await iam.send(new UpdateAccessKeyCommand({ UserName: 'jdoe-ci', AccessKeyId: key1.AccessKeyId, Status: 'Inactive' }));
    const listed = (await iam.send(new ListAccessKeysCommand({ UserName: 'jdoe-ci' }))).AccessKeyMetadata!;
    expect(Object.fromEntries(listed.map((k) => [k.AccessKeyId, k.Status]))).toEqual({ [key1.AccessKeyId!]: 'Inactive', [key2.AccessKeyId!]: 'Active' });
    expect(JSON.stringify(emulator.dump())).not.toContain(key1.SecretAccessKey);
    expect((await iam.send(new GetAccessKeyLastUsedCommand({ AccessKeyId: key2.AccessKeyId }))).AccessKeyLastUsed).toEqual({ ServiceName: 'N/A', Region: 'N/A' });
    await expect(iam.send(new UpdateAccessKeyCommand({ UserName: 'jdoe-ci', AccessKeyId: 'AKIANOPE', Status: 'Inactive' }))).rejects.toBeInstanceOf(NoSuchEntityException);

    await expect(iam.send(new GetLoginProfileCommand({ UserName: 'jdoe-ci' }))).rejects.toBeInstanceOf(NoSuchEntityException);
    await iam.send(new CreateLoginProfileCommand({ UserName: 'jdoe-ci', Password: 'Correct-Horse-9', PasswordResetRequired: true }));
    expect((await iam.send(new GetLoginProfileCommand({ UserName: 'jdoe-ci' }))).LoginProfile?.PasswordResetRequired).toBe(true);
    expect(JSON.stringify(emulator.dump())).not.toContain('Correct-Horse-9');
    await iam.send(new DeleteLoginProfileCommand({ UserName: 'jdoe-ci' }));
    await expect(iam.send(new DeleteLoginProfileCommand({ UserName: 'jdoe-ci' }))).rejects.toBeInstanceOf(NoSuchEntityException);

    expect((await iam.send(new ListMFADevicesCommand({ UserName: 'jdoe-ci' }))).MFADevices).toEqual([]);
    emulator.state<IamState>('iam').accounts[HOME]!.users['jdoe-ci']!.mfaDevices.push({ serialNumber: `arn:aws:iam::${HOME}:mfa/jdoe`, enableDate: '2026-01-01T00:00:00.000Z' });
    expect((await iam.send(new ListMFADevicesCommand({ UserName: 'jdoe-ci' }))).MFADevices?.map((d) => d.SerialNumber)).toEqual([`arn:aws:iam::${HOME}:mfa/jdoe`]);

    // A new access key authenticates as that account.
    const asUser = new STSClient({ region: 'us-east-1', endpoint: emulator.url, credentials: { accessKeyId: key2.AccessKeyId!, secretAccessKey: key2.SecretAccessKey! } });
    const me = await asUser.send(new GetCallerIdentityCommand({}));
    expect([me.Account, me.Arn]).toEqual([HOME, `arn:aws:iam::${HOME}:user/jdoe-ci`]);
    asUser.destroy();
  });
});

describe('STS', () => {
  function sts(credentials = CREDS): STSClient {
    return new STSClient({ region: 'us-east-1', endpoint: emulator.url, credentials });
  }

  it('AssumeRole mints credentials that act in the role account', async () => {
    // The role exists in 222222222222 and trusts the home account (its identity policy allows everything there).
    iamAccount(emulator.state<IamState>('iam'), '222222222222').roles['rolemap'] = {
      roleName: 'rolemap',
      roleId: 'AROAROLEMAPTEST000001',
      path: '/',
      createDate: '2026-01-01T00:00:00.000Z',
      assumeRolePolicyDocument: JSON.stringify({ Version: '2012-10-17', Statement: [{ Effect: 'Allow', Principal: { AWS: `arn:aws:iam::${HOME}:root` }, Action: 'sts:AssumeRole' }] }),
      maxSessionDuration: 3600,
      tags: [],
      attachedPolicies: ['arn:aws:iam::aws:policy/IAMFullAccess'],
      inlinePolicies: {},
    };
    const base = sts();
    expect((await base.send(new GetCallerIdentityCommand({}))).Account).toBe(HOME);
    const out = await base.send(new AssumeRoleCommand({ RoleArn: 'arn:aws:iam::222222222222:role/rolemap', RoleSessionName: 'rolemap-corp' }));
    expect(out.AssumedRoleUser?.Arn).toBe('arn:aws:sts::222222222222:assumed-role/rolemap/rolemap-corp');
    expect(out.AssumedRoleUser?.AssumedRoleId).toBe('AROAROLEMAPTEST000001:rolemap-corp');
    expect(out.Credentials?.Expiration?.getTime()).toBeGreaterThan(Date.now() + 3500_000);
    const c = out.Credentials!;
    const assumed = { accessKeyId: c.AccessKeyId!, secretAccessKey: c.SecretAccessKey!, sessionToken: c.SessionToken! };
    const who = await sts(assumed).send(new GetCallerIdentityCommand({}));
    expect([who.Account, who.Arn]).toEqual(['222222222222', 'arn:aws:sts::222222222222:assumed-role/rolemap/rolemap-corp']);
    const there = new IAMClient({ region: 'us-east-1', endpoint: emulator.url, credentials: assumed });
    await there.send(new CreateUserCommand({ UserName: 'only-in-222' }));
    expect(Object.keys(emulator.state<IamState>('iam').accounts['222222222222']?.users ?? {})).toEqual(['only-in-222']);
    expect(Object.keys(emulator.state<IamState>('iam').accounts[HOME]?.users ?? {})).toEqual([]);
    // No secret is kept in the state.
    expect(JSON.stringify(emulator.dump())).not.toContain(c.SecretAccessKey);
  });

  it('checks the trust policy and the external id, and refuses roles that do not exist', async () => {
    const trustHome = (cond?: object): string =>
      JSON.stringify({ Version: '2012-10-17', Statement: [{ Effect: 'Allow', Principal: { AWS: `arn:aws:iam::${HOME}:root` }, Action: 'sts:AssumeRole', ...(cond ? { Condition: cond } : {}) }] });
    await iam.send(new CreateRoleCommand({ RoleName: 'reconciler', AssumeRolePolicyDocument: trustHome({ StringEquals: { 'sts:ExternalId': 'ext-1' } }) }));
    await iam.send(new CreateRoleCommand({ RoleName: 'closed', AssumeRolePolicyDocument: JSON.stringify({ Version: '2012-10-17', Statement: [{ Effect: 'Allow', Principal: { AWS: 'arn:aws:iam::999999999999:root' }, Action: 'sts:AssumeRole' }] }) }));
    const base = sts();
    const role = (n: string): string => `arn:aws:iam::${HOME}:role/${n}`;
    await expect(base.send(new AssumeRoleCommand({ RoleArn: role('reconciler'), RoleSessionName: 's1', ExternalId: 'ext-1' }))).resolves.toBeDefined();
    const wrong = await base.send(new AssumeRoleCommand({ RoleArn: role('reconciler'), RoleSessionName: 's1', ExternalId: 'nope' })).catch((e: unknown) => e);
    expect(wrong).toBeInstanceOf(STSServiceException);
    expect((wrong as STSServiceException).name).toBe('AccessDenied');
    expect((wrong as STSServiceException).message).toBe(`User: arn:aws:iam::${HOME}:user/emulator-admin is not authorized to perform: sts:AssumeRole on resource: ${role('reconciler')}`);
    await expect(base.send(new AssumeRoleCommand({ RoleArn: role('reconciler'), RoleSessionName: 's1' }))).rejects.toMatchObject({ name: 'AccessDenied' });
    await expect(base.send(new AssumeRoleCommand({ RoleArn: role('closed'), RoleSessionName: 's1' }))).rejects.toMatchObject({ name: 'AccessDenied' });
    await expect(base.send(new AssumeRoleCommand({ RoleArn: role('unknown'), RoleSessionName: 's1' }))).rejects.toMatchObject({ name: 'AccessDenied' });
  });
});

describe('faults and throttling', () => {
  it('the adaptive retry mode recovers from IAM token-bucket throttling', async () => {
    await createRole('Hot');
    // A burst of 3 at 5 a second: of 5 calls at once, 2 are throttled. (After a throttle the adaptive
    // mode's client-side limiter starts again from half a call a second, so keep the numbers small.)
    emulator.setThrottle('iam', { rps: 5, burst: 3 });
    const patient = client(10);
    const results = await Promise.all(Array.from({ length: 5 }, () => patient.send(new GetRoleCommand({ RoleName: 'Hot' }))));
    expect(results.every((r) => r.Role?.RoleName === 'Hot')).toBe(true);
    expect(emulator.throttledCount()).toBeGreaterThan(0);
    expect(Math.max(...results.map((r) => r.$metadata.attempts ?? 1))).toBeGreaterThan(1);
    patient.destroy();
  });

  it('throttling that outlasts the attempts surfaces as the Throttling error', async () => {
    emulator.injectFault({ kind: 'throttle', operation: 'ListRoles' });
    const err = await client(2).send(new ListRolesCommand({})).catch((e: unknown) => e);
    expect((err as IAMServiceException).name).toBe('Throttling');
    expect((err as IAMServiceException).$metadata.attempts).toBe(2);
  });

  it('retries 500s and a connection dropped mid-response', async () => {
    emulator.injectFault({ kind: 'http500', operation: 'ListRoles', times: 2 });
    const out = await iam.send(new ListRolesCommand({}));
    expect(out.$metadata.attempts).toBe(3);
    emulator.injectFault({ kind: 'drop', operation: 'ListSAMLProviders', times: 1 });
    const again = await iam.send(new ListSAMLProvidersCommand({}));
    expect(again.SAMLProviderList).toHaveLength(1);
    expect(emulator.calls()['iam:ListSAMLProviders']).toBe(2);
  });

  it('dumps and loads its state', async () => {
    await createRole('Kept', { Tags: [{ Key: 'k', Value: 'v' }] });
    const dump = emulator.dump();
    await iam.send(new DeleteRoleCommand({ RoleName: 'Kept' }));
    emulator.load(dump as Parameters<Emulator['load']>[0]);
    expect((await iam.send(new GetRoleCommand({ RoleName: 'Kept' }))).Role?.Tags).toEqual([{ Key: 'k', Value: 'v' }]);
  });
});
