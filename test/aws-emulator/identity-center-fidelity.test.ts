/**
 * Answers the emulator's SSO Admin and Identity Store give where AWS's documentation says what they
 * answer: the Identity Center quotas page (limits.html) and the API references of the operations.
 * docs/emulator.md has the table.
 */
import { ConflictException as IdsConflictException, CreateGroupCommand, CreateUserCommand, UpdateUserCommand, ValidationException as IdsValidationException } from '@aws-sdk/client-identitystore';
import {
  CreateAccountAssignmentCommand,
  CreatePermissionSetCommand,
  DescribeAccountAssignmentCreationStatusCommand,
  DescribeAccountAssignmentDeletionStatusCommand,
  DescribePermissionSetCommand,
  DescribePermissionSetProvisioningStatusCommand,
  DeleteAccountAssignmentCommand,
  ProvisionPermissionSetCommand,
  PutInlinePolicyToPermissionSetCommand,
  SSOAdminClient,
  ThrottlingException,
  UpdatePermissionSetCommand,
} from '@aws-sdk/client-sso-admin';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { DEFAULT_IDENTITY_STORE_ID } from './services/identitystore.js';
import { DEFAULT_INSTANCE_ARN, setAsyncTiming } from './services/sso-admin.js';
import { startIdentityCenterEmulator } from '../support/identity-center-emulator.js';
import type { IcHarness } from '../support/identity-center-emulator.js';

const InstanceArn = DEFAULT_INSTANCE_ARN;
const IdentityStoreId = DEFAULT_IDENTITY_STORE_ID;
const ACCOUNT = '222222222222';
let h: IcHarness;
let once: SSOAdminClient;

beforeAll(async () => {
  h = await startIdentityCenterEmulator();
  once = new SSOAdminClient({ region: 'us-east-1', endpoint: h.emulator.url, maxAttempts: 1, credentials: { accessKeyId: 'AKIAEMULATORTEST', secretAccessKey: 'not-a-secret' } });
});
afterAll(async () => {
  once.destroy();
  await h.stop();
});
beforeEach(() => {
  h.emulator.load({});
  h.emulator.asyncDelayMs = 20;
});

async function failure(p: Promise<unknown>): Promise<{ name: string; message: string; status: number | undefined }> {
  const e = (await p.then(
    () => {
      throw new Error('expected the call to fail');
    },
    (err: unknown) => err,
  )) as { name: string; message: string; $metadata?: { httpStatusCode?: number } };
  return { name: e.name, message: e.message, status: e.$metadata?.httpStatusCode };
}
async function createPs(name: string): Promise<string> {
  return (await h.ssoAdmin.send(new CreatePermissionSetCommand({ InstanceArn, Name: name }))).PermissionSet?.PermissionSetArn ?? '';
}
async function createGroup(name: string): Promise<string> {
  return (await h.identityStore.send(new CreateGroupCommand({ IdentityStoreId, DisplayName: name }))).GroupId ?? '';
}
const policyOf = (resources: number): string => JSON.stringify({ Version: '2012-10-17', Statement: [{ Effect: 'Allow', Action: 's3:GetObject', Resource: Array.from({ length: resources }, (_, i) => `arn:aws:s3:::bucket-${String(i).padStart(4, '0')}/*`) }] });

describe('permission set inline policy (limits.html, API_PutInlinePolicyToPermissionSet.html)', () => {
  it('at most 10,240 non-whitespace characters, whitespace not counted', async () => {
    const arn = await createPs('Big');
    // 420 resources of 27 characters: about 11,800 characters without whitespace.
    const err = await failure(once.send(new PutInlinePolicyToPermissionSetCommand({ InstanceArn, PermissionSetArn: arn, InlinePolicy: policyOf(420) })));
    const size = policyOf(420).replace(/\s/g, '').length;
    expect(err).toEqual({
      name: 'ValidationException',
      message: `Current size of the non-whitespace characters present in the InlinePolicy Document is ${size} bytes which has exceeded the maximum limit of 10240 bytes`,
      status: 400,
    });
    // 340 of them, pretty-printed: under 10,240 without whitespace, well over it with.
    const pretty = JSON.stringify(JSON.parse(policyOf(340)), null, 10);
    expect(pretty.length).toBeGreaterThan(10240);
    await h.ssoAdmin.send(new PutInlinePolicyToPermissionSetCommand({ InstanceArn, PermissionSetArn: arn, InlinePolicy: pretty }));
  });
});

describe('permission set inline policy grammar (reference_policies_grammar.html)', () => {
  it('statements need Effect, Action and Resource and no Principal: ValidationException "Invalid PermissionsPolicy Document"', async () => {
    const arn = await createPs('Grammar');
    const put = (InlinePolicy: string): Promise<unknown> => once.send(new PutInlinePolicyToPermissionSetCommand({ InstanceArn, PermissionSetArn: arn, InlinePolicy }));
    const statement = (st: Record<string, unknown>): string => JSON.stringify({ Version: '2012-10-17', Statement: [st] });
    for (const bad of ['{"Statement":', statement({ Action: 's3:GetObject', Resource: '*' }), statement({ Effect: 'Allow', Resource: '*' }), statement({ Effect: 'Allow', Action: 's3:GetObject' }), statement({ Effect: 'Allow', Principal: '*', Action: 's3:GetObject', Resource: '*' })]) {
      const err = await failure(put(bad));
      expect(err.name, bad).toBe('ValidationException');
      expect(err.message, bad).toMatch(/^Invalid PermissionsPolicy Document/);
    }
    await h.ssoAdmin.send(new PutInlinePolicyToPermissionSetCommand({ InstanceArn, PermissionSetArn: arn, InlinePolicy: statement({ Effect: 'Deny', NotAction: 'iam:*', Resource: '*' }) }));
  });
});

describe('permission set Description (API_CreatePermissionSet.html, API_UpdatePermissionSet.html)', () => {
  it('is 1 to 700 characters of [\\u0009\\u000A\\u000D\\u0020-\\u007E\\u00A1-\\u00FF]', async () => {
    const arn = await createPs('Desc');
    const update = (Description: string): Promise<unknown> => once.send(new UpdatePermissionSetCommand({ InstanceArn, PermissionSetArn: arn, Description }));
    expect(await failure(update(''))).toEqual({
      name: 'ValidationException',
      message: "1 validation error detected: Value '' at 'description' failed to satisfy constraint: Member must have length greater than or equal to 1",
      status: 400,
    });
    expect(await failure(update('x'.repeat(701)))).toMatchObject({ name: 'ValidationException', status: 400 });
    expect(await failure(update('Admins \u2603'))).toMatchObject({ name: 'ValidationException', status: 400 });
    expect(await failure(once.send(new CreatePermissionSetCommand({ InstanceArn, Name: 'Empty', Description: '' })))).toMatchObject({ name: 'ValidationException', status: 400 });
    await update('Ärzte und Pflege');
    expect((await h.ssoAdmin.send(new DescribePermissionSetCommand({ InstanceArn, PermissionSetArn: arn }))).PermissionSet?.Description).toBe('Ärzte und Pflege');
  });
});

describe('provisioning (limits.html: one permission set in an account updated at a time)', () => {
  it('a second permission set provisioned to the same account while one is in progress is a ConflictException', async () => {
    h.emulator.asyncDelayMs = 5_000;
    const a = await createPs('A');
    const b = await createPs('B');
    await h.ssoAdmin.send(new ProvisionPermissionSetCommand({ InstanceArn, PermissionSetArn: a, TargetType: 'AWS_ACCOUNT', TargetId: ACCOUNT }));
    const err = await failure(once.send(new ProvisionPermissionSetCommand({ InstanceArn, PermissionSetArn: b, TargetType: 'AWS_ACCOUNT', TargetId: ACCOUNT })));
    expect(err).toMatchObject({ name: 'ConflictException', status: 400 });
    // Another account is free.
    await h.ssoAdmin.send(new ProvisionPermissionSetCommand({ InstanceArn, PermissionSetArn: b, TargetType: 'AWS_ACCOUNT', TargetId: '333333333333' }));
  });
});

describe('asynchronous requests that take more than one poll (configurable)', () => {
  it('stay IN_PROGRESS for the configured number of polls of each kind, then succeed', async () => {
    h.emulator.asyncDelayMs = 0;
    setAsyncTiming(h.emulator, { create: { polls: 3 }, delete: { polls: 2 }, provision: { polls: 1 } });
    const ps = await createPs('Slow');
    const group = await createGroup('Slow');
    const target = { InstanceArn, PermissionSetArn: ps, TargetType: 'AWS_ACCOUNT' as const, TargetId: ACCOUNT, PrincipalType: 'GROUP' as const, PrincipalId: group };
    const id = (await h.ssoAdmin.send(new CreateAccountAssignmentCommand(target))).AccountAssignmentCreationStatus?.RequestId ?? '';
    const seen: string[] = [];
    for (let i = 0; i < 4; i++) seen.push((await h.ssoAdmin.send(new DescribeAccountAssignmentCreationStatusCommand({ InstanceArn, AccountAssignmentCreationRequestId: id }))).AccountAssignmentCreationStatus?.Status ?? '');
    expect(seen).toEqual(['IN_PROGRESS', 'IN_PROGRESS', 'IN_PROGRESS', 'SUCCEEDED']);

    const del = (await h.ssoAdmin.send(new DeleteAccountAssignmentCommand(target))).AccountAssignmentDeletionStatus?.RequestId ?? '';
    const deletion: string[] = [];
    for (let i = 0; i < 3; i++) deletion.push((await h.ssoAdmin.send(new DescribeAccountAssignmentDeletionStatusCommand({ InstanceArn, AccountAssignmentDeletionRequestId: del }))).AccountAssignmentDeletionStatus?.Status ?? '');
    expect(deletion).toEqual(['IN_PROGRESS', 'IN_PROGRESS', 'SUCCEEDED']);

    const prov = (await h.ssoAdmin.send(new ProvisionPermissionSetCommand({ InstanceArn, PermissionSetArn: ps, TargetType: 'AWS_ACCOUNT', TargetId: ACCOUNT }))).PermissionSetProvisioningStatus?.RequestId ?? '';
    const provisioning: string[] = [];
    for (let i = 0; i < 2; i++) provisioning.push((await h.ssoAdmin.send(new DescribePermissionSetProvisioningStatusCommand({ InstanceArn, ProvisionPermissionSetRequestId: prov }))).PermissionSetProvisioningStatus?.Status ?? '');
    expect(provisioning).toEqual(['IN_PROGRESS', 'SUCCEEDED']);
  });

  it('can be set per kind in milliseconds, from another process too', async () => {
    h.emulator.asyncDelayMs = 0;
    const res = await fetch(`${h.emulator.url}/__emulator/service/sso/asyncTiming`, { method: 'POST', body: JSON.stringify({ create: { delayMs: 60_000 } }) });
    expect(res.status).toBe(200);
    const ps = await createPs('Later');
    const group = await createGroup('Later');
    const id = (await h.ssoAdmin.send(new CreateAccountAssignmentCommand({ InstanceArn, PermissionSetArn: ps, TargetType: 'AWS_ACCOUNT', TargetId: ACCOUNT, PrincipalType: 'GROUP', PrincipalId: group }))).AccountAssignmentCreationStatus?.RequestId ?? '';
    await new Promise((r) => setTimeout(r, 30));
    expect((await h.ssoAdmin.send(new DescribeAccountAssignmentCreationStatusCommand({ InstanceArn, AccountAssignmentCreationRequestId: id }))).AccountAssignmentCreationStatus?.Status).toBe('IN_PROGRESS');
  });
});

describe('outstanding CreateAccountAssignment requests (limits.html, throttle limits: "a maximum rate of 10 outstanding async calls")', () => {
  it('the 11th while 10 are in progress is a ThrottlingException', async () => {
    h.emulator.asyncDelayMs = 60_000;
    const groups = await Promise.all(Array.from({ length: 11 }, (_, i) => createGroup(`G${i}`)));
    const sets = await Promise.all(Array.from({ length: 11 }, (_, i) => createPs(`PS${i}`)));
    for (let i = 0; i < 10; i++) {
      await h.ssoAdmin.send(new CreateAccountAssignmentCommand({ InstanceArn, PermissionSetArn: sets[i], TargetType: 'AWS_ACCOUNT', TargetId: ACCOUNT, PrincipalType: 'GROUP', PrincipalId: groups[i] }));
    }
    const err = await once.send(new CreateAccountAssignmentCommand({ InstanceArn, PermissionSetArn: sets[10], TargetType: 'AWS_ACCOUNT', TargetId: ACCOUNT, PrincipalType: 'GROUP', PrincipalId: groups[10] })).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ThrottlingException);
    expect((err as ThrottlingException).$metadata.httpStatusCode).toBe(400);
  });
});

describe('Identity Store user names and emails (IdentityStoreAPIReference/API_CreateUser.html)', () => {
  const user = (UserName: string, email?: string): CreateUserCommand =>
    new CreateUserCommand({ IdentityStoreId, UserName, DisplayName: 'X Y', Name: { GivenName: 'X', FamilyName: 'Y' }, ...(email !== undefined ? { Emails: [{ Value: email, Primary: true }] } : {}) });

  it('UserName: 1 to 128 letters, accented characters, symbols, numbers and punctuation', async () => {
    expect(await failure(h.identityStore.send(user('x'.repeat(129))))).toMatchObject({ name: 'ValidationException', status: 400 });
    expect(await failure(h.identityStore.send(user('two words')))).toMatchObject({ name: 'ValidationException', status: 400 });
    expect(await failure(h.identityStore.send(user('tab\there')))).toMatchObject({ name: 'ValidationException', status: 400 });
    await h.identityStore.send(user('zoë.müller@example.org'));
    await h.identityStore.send(user('x'.repeat(128)));
  });

  it('"Administrator and AWSAdministrators are reserved names and can\'t be used for users or groups"', async () => {
    for (const name of ['Administrator', 'AWSAdministrators', 'administrator']) {
      expect(await failure(h.identityStore.send(user(name)))).toMatchObject({ name: 'ValidationException', status: 400 });
      expect(await failure(h.identityStore.send(new CreateGroupCommand({ IdentityStoreId, DisplayName: name })))).toMatchObject({ name: 'ValidationException', status: 400 });
    }
    const id = (await h.identityStore.send(user('admin2'))).UserId ?? '';
    await expect(h.identityStore.send(new UpdateUserCommand({ IdentityStoreId, UserId: id, Operations: [{ AttributePath: 'userName', AttributeValue: 'Administrator' }] }))).rejects.toBeInstanceOf(IdsValidationException);
  });

  it('emails are non-empty and unique', async () => {
    expect(await failure(h.identityStore.send(user('noemail', '')))).toMatchObject({ name: 'ValidationException', status: 400 });
    await h.identityStore.send(user('first', 'same@example.org'));
    await expect(h.identityStore.send(user('second', 'SAME@example.org'))).rejects.toBeInstanceOf(IdsConflictException);
    await expect(h.identityStore.send(user('FIRST'))).rejects.toBeInstanceOf(IdsConflictException);
  });
});
