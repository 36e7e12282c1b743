/**
 * The emulator judges requests as AWS does: SigV4 against the stored secret, the principal's
 * identity policies (and boundary) evaluated with the request context, role trust policies, STS
 * session rules, and the S3 probe. Real SDK v3 clients throughout.
 */
import {
  AttachUserPolicyCommand,
  CreateAccessKeyCommand,
  CreatePolicyCommand,
  CreateRoleCommand,
  CreateUserCommand,
  IAMClient,
  IAMServiceException,
  ListRolesCommand,
  PutRolePolicyCommand,
  PutUserPermissionsBoundaryCommand,
  PutUserPolicyCommand,
  UpdateAccessKeyCommand,
} from '@aws-sdk/client-iam';
import { CreateUserCommand as CreateIcUserCommand, IdentitystoreClient, IdentitystoreServiceException, ListUsersCommand } from '@aws-sdk/client-identitystore';
import { GetObjectCommand, PutObjectCommand, S3Client, S3ServiceException } from '@aws-sdk/client-s3';
import { AssumeRoleCommand, GetCallerIdentityCommand, GetSessionTokenCommand, STSClient, STSServiceException } from '@aws-sdk/client-sts';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { renderRevocationPolicy } from '../../src/adapters/aws/iam-roles/revocation-policy.js';
import { newId, probe, probeResult, rolePrincipal, startEmulator } from './index.js';
import type { Emulator, ProbeCredentials } from './index.js';
import { DEFAULT_IDENTITY_STORE_ID } from './services/identitystore.js';

const HOME = '111111111111';
const OTHER = '222222222222';
const ADMIN = { accessKeyId: 'AKIAJUDGEADMIN000001', secretAccessKey: 'judge-admin-secret' };
const S3_READ = 'arn:aws:iam::aws:policy/AmazonS3ReadOnlyAccess';
const REGION = 'eu-west-1';

let emulator: Emulator;
const clients: { destroy(): void }[] = [];

function track<T extends { destroy(): void }>(c: T): T {
  clients.push(c);
  return c;
}
const iam = (credentials: ProbeCredentials = ADMIN): IAMClient => track(new IAMClient({ endpoint: emulator.url, region: REGION, maxAttempts: 1, credentials }));
const sts = (credentials: ProbeCredentials = ADMIN): STSClient => track(new STSClient({ endpoint: emulator.url, region: REGION, maxAttempts: 1, credentials }));
const store = (credentials: ProbeCredentials = ADMIN): IdentitystoreClient => track(new IdentitystoreClient({ endpoint: emulator.url, region: REGION, maxAttempts: 1, credentials }));

function creds(c: { AccessKeyId?: string | undefined; SecretAccessKey?: string | undefined; SessionToken?: string | undefined } | undefined): ProbeCredentials {
  return { accessKeyId: c?.AccessKeyId ?? '', secretAccessKey: c?.SecretAccessKey ?? '', ...(c?.SessionToken !== undefined ? { sessionToken: c.SessionToken } : {}) };
}

async function failure(p: Promise<unknown>): Promise<{ name: string; message: string; status: number | undefined }> {
  const e = await p.then(
    () => undefined,
    (err: unknown) => err,
  );
  if (!(e instanceof IAMServiceException || e instanceof STSServiceException || e instanceof IdentitystoreServiceException || e instanceof S3ServiceException)) throw new Error(`expected an AWS error, got ${String(e)}`);
  return { name: e.name, message: e.message, status: e.$metadata.httpStatusCode };
}

/** An IAM user with access keys and the given inline policies. */
async function userWithKey(name: string, inline: Record<string, object> = {}, attached: string[] = []): Promise<ProbeCredentials> {
  const admin = iam();
  await admin.send(new CreateUserCommand({ UserName: name }));
  for (const [policyName, doc] of Object.entries(inline)) await admin.send(new PutUserPolicyCommand({ UserName: name, PolicyName: policyName, PolicyDocument: JSON.stringify(doc) }));
  for (const arn of attached) await admin.send(new AttachUserPolicyCommand({ UserName: name, PolicyArn: arn }));
  const { AccessKey: k } = await admin.send(new CreateAccessKeyCommand({ UserName: name }));
  return creds(k);
}

const allow = (action: string | string[], resource: string | string[] = '*'): object => ({ Version: '2012-10-17', Statement: [{ Effect: 'Allow', Action: action, Resource: resource }] });
const trustHome = JSON.stringify({ Version: '2012-10-17', Statement: [{ Effect: 'Allow', Principal: { AWS: `arn:aws:iam::${HOME}:root` }, Action: 'sts:AssumeRole' }] });
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

beforeEach(async () => {
  emulator = await startEmulator({ homeAccount: HOME, baseCredentials: [ADMIN], memberAccounts: [OTHER] });
});

afterEach(async () => {
  for (const c of clients.splice(0)) c.destroy();
  await emulator.stop();
});

describe('SigV4: every request is authenticated against the stored secret', () => {
  it('an unknown access key is InvalidClientTokenId (query, 403) and UnrecognizedClientException (JSON, 400)', async () => {
    const stranger = { accessKeyId: 'AKIANOBODYKNOWSME001', secretAccessKey: 'whatever' };
    expect(await failure(sts(stranger).send(new GetCallerIdentityCommand({})))).toEqual({ name: 'InvalidClientTokenId', message: 'The security token included in the request is invalid.', status: 403 });
    expect(await failure(store(stranger).send(new ListUsersCommand({ IdentityStoreId: DEFAULT_IDENTITY_STORE_ID })))).toEqual({ name: 'UnrecognizedClientException', message: 'The security token included in the request is invalid.', status: 400 });
    expect(await probeResult(emulator.url, stranger)).toMatchObject({ outcome: 'denied', code: 'InvalidAccessKeyId' });
  });

  it('a wrong secret is SignatureDoesNotMatch (query, 403) and InvalidSignatureException (JSON, 400)', async () => {
    const forged = { ...ADMIN, secretAccessKey: 'not-the-secret' };
    const q = await failure(iam(forged).send(new ListRolesCommand({})));
    expect([q.name, q.status]).toEqual(['SignatureDoesNotMatch', 403]);
    expect(q.message).toMatch(/^The request signature we calculated does not match the signature you provided/);
    const j = await failure(store(forged).send(new ListUsersCommand({ IdentityStoreId: DEFAULT_IDENTITY_STORE_ID })));
    expect([j.name, j.status]).toEqual(['InvalidSignatureException', 400]);
    await expect(iam().send(new ListRolesCommand({}))).resolves.toBeDefined();
  });

  it('temporary credentials need their own session token, and stop at their expiry with ExpiredToken', async () => {
    await iam().send(new CreateRoleCommand({ RoleName: 'Reader', AssumeRolePolicyDocument: trustHome }));
    const { Credentials: c } = await sts().send(new AssumeRoleCommand({ RoleArn: `arn:aws:iam::${HOME}:role/Reader`, RoleSessionName: 'alice' }));
    const session = creds(c);
    expect((await sts(session).send(new GetCallerIdentityCommand({}))).Arn).toBe(`arn:aws:sts::${HOME}:assumed-role/Reader/alice`);
    const noToken = { accessKeyId: session.accessKeyId, secretAccessKey: session.secretAccessKey };
    expect((await failure(sts(noToken).send(new GetCallerIdentityCommand({})))).name).toBe('InvalidClientTokenId');
    expect((await failure(sts({ ...session, sessionToken: 'b3RoZXItdG9rZW4=' }).send(new GetCallerIdentityCommand({})))).name).toBe('InvalidClientTokenId');

    // A session whose expiry has passed (registered as STS would have minted it an hour ago).
    const expired = { accessKeyId: newId('ASIA'), secretAccessKey: 'expired-secret', sessionToken: 'expired-token' };
    const issued = new Date(Date.now() - 3600_000 - 1000).toISOString();
    const role = { roleName: 'Reader', roleId: 'AROAREADER0000000001' };
    emulator.registerCredentials({ ...expired, expiration: new Date(Date.now() - 1000).toISOString(), principal: rolePrincipal(HOME, role, 'bob', 'AssumeRole', { tokenIssueTime: issued }) });
    expect(await failure(sts(expired).send(new GetCallerIdentityCommand({})))).toEqual({ name: 'ExpiredToken', message: 'The security token included in the request is expired', status: 403 });
    expect((await failure(store(expired).send(new ListUsersCommand({ IdentityStoreId: DEFAULT_IDENTITY_STORE_ID })))).name).toBe('ExpiredTokenException');
    expect(await probeResult(emulator.url, expired)).toMatchObject({ outcome: 'denied', code: 'ExpiredToken' });
  });

  it('an Inactive access key is refused with InvalidClientTokenId; made Active again it works', async () => {
    const key = await userWithKey('ci-bot', { read: allow('iam:ListRoles') });
    await expect(iam(key).send(new ListRolesCommand({}))).resolves.toBeDefined();
    await iam().send(new UpdateAccessKeyCommand({ UserName: 'ci-bot', AccessKeyId: key.accessKeyId, Status: 'Inactive' }));
    expect(await failure(iam(key).send(new ListRolesCommand({})))).toMatchObject({ name: 'InvalidClientTokenId', status: 403 });
    await iam().send(new UpdateAccessKeyCommand({ UserName: 'ci-bot', AccessKeyId: key.accessKeyId, Status: 'Active' }));
    await expect(iam(key).send(new ListRolesCommand({}))).resolves.toBeDefined();
  });
});

describe('authorization: identity policies, explicit deny, permissions boundaries', () => {
  it('allows what a policy allows, denies the rest in AWS words, and an explicit deny wins over any allow', async () => {
    const key = await userWithKey('dev', { read: allow(['iam:ListRoles', 'iam:GetRole']) });
    await expect(iam(key).send(new ListRolesCommand({}))).resolves.toBeDefined();
    expect(await failure(iam(key).send(new CreateRoleCommand({ RoleName: 'Sneaky', AssumeRolePolicyDocument: trustHome })))).toEqual({
      name: 'AccessDenied',
      status: 403,
      message: `User: arn:aws:iam::${HOME}:user/dev is not authorized to perform: iam:CreateRole on resource: arn:aws:iam::${HOME}:role/Sneaky because no identity-based policy allows the iam:CreateRole action`,
    });
    // AdministratorAccess attached, and an explicit deny inline: the deny decides.
    await iam().send(new AttachUserPolicyCommand({ UserName: 'dev', PolicyArn: 'arn:aws:iam::aws:policy/AdministratorAccess' }));
    await expect(iam(key).send(new CreateRoleCommand({ RoleName: 'Allowed', AssumeRolePolicyDocument: trustHome }))).resolves.toBeDefined();
    await iam().send(new PutUserPolicyCommand({ UserName: 'dev', PolicyName: 'no-roles', PolicyDocument: JSON.stringify({ Version: '2012-10-17', Statement: [{ Effect: 'Deny', Action: 'iam:CreateRole', Resource: `arn:aws:iam::${HOME}:role/*` }] }) }));
    expect((await failure(iam(key).send(new CreateRoleCommand({ RoleName: 'Denied', AssumeRolePolicyDocument: trustHome })))).message).toBe(
      `User: arn:aws:iam::${HOME}:user/dev is not authorized to perform: iam:CreateRole on resource: arn:aws:iam::${HOME}:role/Denied with an explicit deny in an identity-based policy`,
    );
    // NotAction: everything but IAM.
    const key2 = await userWithKey('not-iam', { most: { Version: '2012-10-17', Statement: [{ Effect: 'Allow', NotAction: 'iam:*', Resource: '*' }] } });
    expect(await probe(emulator.url, key2)).toBe('allowed');
    expect((await failure(iam(key2).send(new ListRolesCommand({})))).name).toBe('AccessDenied');
  });

  it('a permissions boundary caps what the identity policies allow', async () => {
    const { Policy: boundary } = await iam().send(new CreatePolicyCommand({ PolicyName: 'ReadRolesOnly', PolicyDocument: JSON.stringify(allow(['iam:ListRoles', 's3:GetObject'])) }));
    const key = await userWithKey('bounded', {}, ['arn:aws:iam::aws:policy/AdministratorAccess']);
    await expect(iam(key).send(new CreateRoleCommand({ RoleName: 'BeforeBoundary', AssumeRolePolicyDocument: trustHome }))).resolves.toBeDefined();
    await iam().send(new PutUserPermissionsBoundaryCommand({ UserName: 'bounded', PermissionsBoundary: boundary?.Arn }));
    await expect(iam(key).send(new ListRolesCommand({}))).resolves.toBeDefined();
    expect(await probe(emulator.url, key)).toBe('allowed');
    expect((await failure(iam(key).send(new CreateRoleCommand({ RoleName: 'AfterBoundary', AssumeRolePolicyDocument: trustHome })))).message).toBe(
      `User: arn:aws:iam::${HOME}:user/bounded is not authorized to perform: iam:CreateRole on resource: arn:aws:iam::${HOME}:role/AfterBoundary because no permissions boundary allows the iam:CreateRole action`,
    );
  });

  it('Identity Store calls are authorized on the resources AWS lists, and denied with AccessDeniedException (400)', async () => {
    const key = await userWithKey('ic-reader', { read: allow(['identitystore:ListUsers']) });
    await expect(store(key).send(new ListUsersCommand({ IdentityStoreId: DEFAULT_IDENTITY_STORE_ID }))).resolves.toBeDefined();
    expect(await failure(store(key).send(new CreateIcUserCommand({ IdentityStoreId: DEFAULT_IDENTITY_STORE_ID, UserName: 'x', DisplayName: 'X', Name: { GivenName: 'X', FamilyName: 'Y' } })))).toEqual({
      name: 'AccessDeniedException',
      status: 400,
      message: `User: arn:aws:iam::${HOME}:user/ic-reader is not authorized to perform: identitystore:CreateUser on resource: arn:aws:identitystore::${HOME}:identitystore/${DEFAULT_IDENTITY_STORE_ID} because no identity-based policy allows the identitystore:CreateUser action`,
    });
    // Allowed on another store only: still denied on this one.
    await iam().send(new PutUserPolicyCommand({ UserName: 'ic-reader', PolicyName: 'other-store', PolicyDocument: JSON.stringify(allow('identitystore:CreateUser', `arn:aws:identitystore::${HOME}:identitystore/d-0000000000`)) }));
    expect((await failure(store(key).send(new CreateIcUserCommand({ IdentityStoreId: DEFAULT_IDENTITY_STORE_ID, UserName: 'x', DisplayName: 'X', Name: { GivenName: 'X', FamilyName: 'Y' } })))).name).toBe('AccessDeniedException');
  });
});

describe('revocation: a deny on aws:userid with aws:TokenIssueTime before now, as rolemap writes it', () => {
  it('cuts exactly that session of the role, not another session of the same role, and not a session opened after the instant', async () => {
    await iam().send(new CreateRoleCommand({ RoleName: 'Analyst', AssumeRolePolicyDocument: trustHome }));
    await iam().send(new PutRolePolicyCommand({ RoleName: 'Analyst', PolicyName: 'read', PolicyDocument: JSON.stringify(allow('s3:GetObject')) }));
    const login = async (session: string): Promise<ProbeCredentials> => creds((await sts().send(new AssumeRoleCommand({ RoleArn: `arn:aws:iam::${HOME}:role/Analyst`, RoleSessionName: session }))).Credentials);
    const asmith = await login('asmith@corp.example');
    const jdoe = await login('jdoe@corp.example');
    expect([await probe(emulator.url, asmith), await probe(emulator.url, jdoe)]).toEqual(['allowed', 'allowed']);

    await sleep(5);
    const instant = new Date().toISOString();
    await sleep(5);
    const policy = renderRevocationPolicy({ 'asmith@corp.example': instant });
    await iam().send(new PutRolePolicyCommand({ RoleName: 'Analyst', PolicyName: 'rolemap-revoked-sessions', PolicyDocument: JSON.stringify(policy) }));

    const cut = await probeResult(emulator.url, asmith);
    expect(cut.outcome).toBe('denied');
    expect(cut.message).toBe(`User: arn:aws:sts::${HOME}:assumed-role/Analyst/asmith@corp.example is not authorized to perform: s3:GetObject on resource: arn:aws:s3:::emulator-probe/probe.txt with an explicit deny in an identity-based policy`);
    expect(await probe(emulator.url, jdoe)).toBe('allowed');
    // A token issued after the instant is not covered (it would need working AD credentials).
    expect(await probe(emulator.url, await login('asmith@corp.example'))).toBe('allowed');
  });
});

describe('GetSessionToken: an IAM user\'s temporary credentials', () => {
  it('act as the user, survive UpdateAccessKey Inactive as on AWS, and die under a user-level deny on aws:TokenIssueTime', async () => {
    const key = await userWithKey('leaver', {}, [S3_READ]);
    const other = await userWithKey('stayer', {}, [S3_READ]);
    const { Credentials: c } = await sts(key).send(new GetSessionTokenCommand({ DurationSeconds: 129600 }));
    expect(c?.Expiration?.getTime()).toBeGreaterThan(Date.now() + 129000_000);
    const session = creds(c);
    const otherSession = creds((await sts(other).send(new GetSessionTokenCommand({}))).Credentials);
    expect((await sts(session).send(new GetCallerIdentityCommand({}))).Arn).toBe(`arn:aws:iam::${HOME}:user/leaver`);
    expect(await probe(emulator.url, session)).toBe('allowed');
    // Without MFA it cannot call IAM (AWS answers InvalidClientTokenId), nor GetSessionToken again.
    expect((await failure(iam(session).send(new ListRolesCommand({})))).name).toBe('InvalidClientTokenId');
    expect((await failure(sts(session).send(new GetSessionTokenCommand({})))).message).toBe('Cannot call GetSessionToken with session credentials');

    await iam().send(new UpdateAccessKeyCommand({ UserName: 'leaver', AccessKeyId: key.accessKeyId, Status: 'Inactive' }));
    expect(await probeResult(emulator.url, key)).toMatchObject({ outcome: 'denied', code: 'InvalidAccessKeyId' });
    expect(await probe(emulator.url, session)).toBe('allowed');

    await sleep(5);
    const revoke = { Version: '2012-10-17', Statement: [{ Effect: 'Deny', Action: '*', Resource: '*', Condition: { DateLessThan: { 'aws:TokenIssueTime': new Date().toISOString() } } }] };
    await iam().send(new PutUserPolicyCommand({ UserName: 'leaver', PolicyName: 'rolemap-revoked-sessions', PolicyDocument: JSON.stringify(revoke) }));
    expect(await probe(emulator.url, session)).toBe('denied');
    expect(await probe(emulator.url, otherSession)).toBe('allowed');
  });

  it('keeps DurationSeconds within 900..129600', async () => {
    const key = await userWithKey('u1', {}, [S3_READ]);
    expect((await failure(sts(key).send(new GetSessionTokenCommand({ DurationSeconds: 129601 })))).name).toBe('ValidationError');
    expect((await failure(sts(key).send(new GetSessionTokenCommand({ DurationSeconds: 899 })))).name).toBe('ValidationError');
  });
});

describe('AssumeRole: the caller\'s permission and the role\'s trust policy', () => {
  it('is refused when the trust policy does not admit the caller, or the ExternalId is wrong; cross-account it also needs an identity policy', async () => {
    const partner = JSON.stringify({ Version: '2012-10-17', Statement: [{ Effect: 'Allow', Principal: { AWS: `arn:aws:iam::${HOME}:user/deployer` }, Action: 'sts:AssumeRole', Condition: { StringEquals: { 'sts:ExternalId': 'corp-7781' } } }] });
    const there = await (async () => {
      const { Credentials: c } = await sts().send(new AssumeRoleCommand({ RoleArn: `arn:aws:iam::${OTHER}:role/OrganizationAccountAccessRole`, RoleSessionName: 'admin' }));
      return iam(creds(c));
    })();
    await there.send(new CreateRoleCommand({ RoleName: 'Deploy', AssumeRolePolicyDocument: partner }));
    const roleArn = `arn:aws:iam::${OTHER}:role/Deploy`;
    const deployer = await userWithKey('deployer');
    const intruder = await userWithKey('intruder', { assume: allow('sts:AssumeRole') });

    // Trusted, right ExternalId, but no identity policy allows sts:AssumeRole across accounts.
    expect((await failure(sts(deployer).send(new AssumeRoleCommand({ RoleArn: roleArn, RoleSessionName: 'deploy', ExternalId: 'corp-7781' })))).message).toBe(
      `User: arn:aws:iam::${HOME}:user/deployer is not authorized to perform: sts:AssumeRole on resource: ${roleArn} because no identity-based policy allows the sts:AssumeRole action`,
    );
    await iam().send(new PutUserPolicyCommand({ UserName: 'deployer', PolicyName: 'assume', PolicyDocument: JSON.stringify(allow('sts:AssumeRole', roleArn)) }));
    await expect(sts(deployer).send(new AssumeRoleCommand({ RoleArn: roleArn, RoleSessionName: 'deploy', ExternalId: 'corp-7781' }))).resolves.toBeDefined();
    expect(await failure(sts(deployer).send(new AssumeRoleCommand({ RoleArn: roleArn, RoleSessionName: 'deploy', ExternalId: 'guess' })))).toEqual({
      name: 'AccessDenied',
      status: 403,
      message: `User: arn:aws:iam::${HOME}:user/deployer is not authorized to perform: sts:AssumeRole on resource: ${roleArn}`,
    });
    // Allowed by its own policy, but not named in the trust policy.
    expect((await failure(sts(intruder).send(new AssumeRoleCommand({ RoleArn: roleArn, RoleSessionName: 'intrude', ExternalId: 'corp-7781' })))).name).toBe('AccessDenied');
  });

  it('role chaining: a role session may assume a role for at most one hour', async () => {
    await iam().send(new CreateRoleCommand({ RoleName: 'First', AssumeRolePolicyDocument: trustHome }));
    await iam().send(new PutRolePolicyCommand({ RoleName: 'First', PolicyName: 'assume', PolicyDocument: JSON.stringify(allow('sts:AssumeRole')) }));
    await iam().send(new CreateRoleCommand({ RoleName: 'Second', AssumeRolePolicyDocument: trustHome, MaxSessionDuration: 43200 }));
    const second = `arn:aws:iam::${HOME}:role/Second`;
    await expect(sts().send(new AssumeRoleCommand({ RoleArn: second, RoleSessionName: 'direct', DurationSeconds: 7200 }))).resolves.toBeDefined();
    const first = creds((await sts().send(new AssumeRoleCommand({ RoleArn: `arn:aws:iam::${HOME}:role/First`, RoleSessionName: 'hop' }))).Credentials);
    expect(await failure(sts(first).send(new AssumeRoleCommand({ RoleArn: second, RoleSessionName: 'chained', DurationSeconds: 7200 })))).toEqual({
      name: 'ValidationError',
      status: 400,
      message: 'The requested DurationSeconds exceeds the 1 hour session limit for roles assumed by role chaining.',
    });
    const chained = await sts(first).send(new AssumeRoleCommand({ RoleArn: second, RoleSessionName: 'chained', DurationSeconds: 3600 }));
    expect(chained.AssumedRoleUser?.Arn).toBe(`arn:aws:sts::${HOME}:assumed-role/Second/chained`);
    expect(emulator.credentialsFor(chained.Credentials?.AccessKeyId ?? '')?.principal.roleChained).toBe(true);
  });
});

describe('the S3 probe endpoint', () => {
  it('serves GetObject to whoever may s3:GetObject, answers S3\'s AccessDenied otherwise, and PutObject honours conditional writes', async () => {
    expect(await probe(emulator.url, ADMIN)).toBe('allowed');
    const nobody = await userWithKey('nobody');
    expect(await probeResult(emulator.url, nobody)).toMatchObject({ outcome: 'denied', code: 'AccessDenied' });
    const s3 = track(new S3Client({ endpoint: emulator.url, region: REGION, forcePathStyle: true, maxAttempts: 1, credentials: ADMIN, requestChecksumCalculation: 'WHEN_REQUIRED' }));
    await s3.send(new PutObjectCommand({ Bucket: 'emulator-probe', Key: 'journal/0001.json', Body: '{"n":1}', IfNoneMatch: '*' }));
    expect((await failure(s3.send(new PutObjectCommand({ Bucket: 'emulator-probe', Key: 'journal/0001.json', Body: '{"n":2}', IfNoneMatch: '*' })))).status).toBe(412);
    expect(await (await s3.send(new GetObjectCommand({ Bucket: 'emulator-probe', Key: 'journal/0001.json' }))).Body?.transformToString()).toBe('{"n":1}');
    expect(await probe(emulator.url, nobody, { key: 'journal/0001.json' })).toBe('denied');
  });
});
