/**
 * The posture reader against the emulator with the real SDK clients, in the three workload accounts
 * of the iam-roles world: what it reads, the findings the core makes of it (written out by hand), and
 * how few calls it takes.
 */
import { AttachRolePolicyCommand, AttachUserPolicyCommand, CreateAccessKeyCommand, CreateLoginProfileCommand, CreateRoleCommand, CreateUserCommand, PutRolePolicyCommand, UpdateAccountPasswordPolicyCommand } from '@aws-sdk/client-iam';
import { CreateGroupCommand, IdentitystoreClient } from '@aws-sdk/client-identitystore';
import { AttachManagedPolicyToPermissionSetCommand, CreateAccountAssignmentCommand, CreatePermissionSetCommand, DescribeAccountAssignmentCreationStatusCommand, SSOAdminClient } from '@aws-sdk/client-sso-admin';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { PostureReader } from '../../../../src/adapters/aws/posture/posture-reader.js';
import { DEFAULT_POSTURE_SETTINGS, computeFindings, leaverLinks } from '../../../../src/core/posture/index.js';
import { setAccessKey, setCredentialReport, setRoot, setUser } from '../../../aws-emulator/services/iam-posture.js';
import type { IamState } from '../../../aws-emulator/services/iam.js';
import { DEFAULT_INSTANCE_ARN } from '../../../aws-emulator/services/sso-admin.js';
import { BASE_CREDENTIALS, DEV, PROD, roleMap, startWorld } from '../iam-roles/fixtures.js';
import type { World } from '../iam-roles/fixtures.js';

const ADMIN = 'arn:aws:iam::aws:policy/AdministratorAccess';
const TRUST = JSON.stringify({ Version: '2012-10-17', Statement: [{ Effect: 'Allow', Principal: { AWS: 'arn:aws:iam::111111111111:root' }, Action: 'sts:AssumeRole' }] });
const link = { linkTag: 'ad-account', namePattern: '^(?<sam>[a-z0-9.]+)-legacy$' };

let world: World;
const iamState = (): IamState => world.emulator.state<IamState>('iam');

beforeEach(async () => {
  world = await startWorld();
});
afterEach(async () => {
  await world.stop();
});

function account(id: string): { id: string; alias: string } {
  const a = roleMap().accounts.find((x) => x.id === id);
  if (!a) throw new Error(id);
  return a;
}

describe('PostureReader', () => {
  it('reads root, the credential report, the password policy and the administrators; the findings are the expected ones', async () => {
    const c = world.console(PROD);
    const now = new Date();
    const daysAgo = (d: number): string => new Date(now.getTime() - d * 86_400_000).toISOString();
    setRoot(iamState(), { account: PROD, mfaEnabled: false, passwordLastUsed: daysAgo(2), accessKeys: [{ createDate: daysAgo(800) }] });
    await c.send(new UpdateAccountPasswordPolicyCommand({ MinimumPasswordLength: 8, PasswordReusePrevention: 24 }));
    // ops: admin through AdministratorAccess, console password without MFA, a 120-day-old key used yesterday
    await c.send(new CreateUserCommand({ UserName: 'ops' }));
    await c.send(new AttachUserPolicyCommand({ UserName: 'ops', PolicyArn: ADMIN }));
    await c.send(new CreateLoginProfileCommand({ UserName: 'ops', Password: 'Correct-Horse-9' }));
    const opsKey = (await c.send(new CreateAccessKeyCommand({ UserName: 'ops' }))).AccessKey?.AccessKeyId ?? '';
    setAccessKey(iamState(), { account: PROD, accessKeyId: opsKey, createDate: daysAgo(120), lastUsed: { date: daysAgo(1), serviceName: 's3', region: 'eu-west-1' } });
    // jdoe-legacy: linked by name to AD jdoe (disabled), two active keys, MFA, no password
    await c.send(new CreateUserCommand({ UserName: 'jdoe-legacy' }));
    setUser(iamState(), { account: PROD, userName: 'jdoe-legacy', mfaDevices: 1 });
    await c.send(new CreateAccessKeyCommand({ UserName: 'jdoe-legacy' }));
    await c.send(new CreateAccessKeyCommand({ UserName: 'jdoe-legacy' }));
    // roles: one with AdministratorAccess, one with an inline Allow * on *, one read-only
    await c.send(new CreateRoleCommand({ RoleName: 'BreakGlass', AssumeRolePolicyDocument: TRUST }));
    await c.send(new AttachRolePolicyCommand({ RoleName: 'BreakGlass', PolicyArn: ADMIN }));
    await c.send(new CreateRoleCommand({ RoleName: 'Wildcard', AssumeRolePolicyDocument: TRUST }));
    await c.send(new PutRolePolicyCommand({ RoleName: 'Wildcard', PolicyName: 'all', PolicyDocument: JSON.stringify({ Version: '2012-10-17', Statement: [{ Effect: 'Allow', Action: ['*'], Resource: '*' }] }) }));
    await c.send(new CreateRoleCommand({ RoleName: 'Reader', AssumeRolePolicyDocument: TRUST }));
    await c.send(new AttachRolePolicyCommand({ RoleName: 'Reader', PolicyArn: 'arn:aws:iam::aws:policy/ReadOnlyAccess' }));

    const reader = new PostureReader(world.clients, { link, identityCenterInstanceArn: null, pollMs: 1 });
    const read = await reader.readAccount(account(PROD));
    expect(read).toMatchObject({ rootMfaEnabled: false, rootAccessKeysPresent: true, passwordPolicy: { minimumLength: 8, reusePrevention: 24, maxAgeDays: null } });
    expect(read.admins).toEqual([
      { principal: 'role/BreakGlass', via: 'AdministratorAccess' },
      { principal: 'role/Wildcard', via: 'inline policy all allows * on *' },
      { principal: 'user/ops', via: 'AdministratorAccess' },
    ]);
    expect(read.linkedUsers).toEqual([{ userName: 'jdoe-legacy', adName: 'jdoe' }]);
    expect(read.report.map((r) => r.user)).toEqual(['<root_account>', 'jdoe-legacy', 'ops']);

    const links = leaverLinks(read.linkedUsers, [{ guid: 'g', dn: 'CN=jdoe', sAMAccountName: 'jdoe', disabled: true }], now);
    const findings = computeFindings({ ...read, leaverLinks: links }, DEFAULT_POSTURE_SETTINGS, now);
    expect(findings.map((f) => `${f.id} ${f.severity}`)).toEqual([
      `access-key-too-old:${PROD}:user/ops/key1 medium`,
      `console-without-mfa:${PROD}:user/ops high`,
      `leaver-iam-user:${PROD}:user/jdoe-legacy high`,
      `password-policy-weak:${PROD}:account medium`,
      `root-access-keys:${PROD}:root critical`,
      `root-mfa-off:${PROD}:root critical`,
      `root-used-recently:${PROD}:root high`,
      `two-active-keys:${PROD}:user/jdoe-legacy low`,
    ]);
  });

  it('waits out ReportInProgress, and the calls do not grow with the number of users', async () => {
    const c = world.console(DEV);
    for (let i = 0; i < 30; i++) await c.send(new CreateUserCommand({ UserName: `u${i}` }));
    setCredentialReport(iamState(), { credentialReportPolls: 2 });
    world.emulator.resetCalls();
    const reader = new PostureReader(world.clients, { link, identityCenterInstanceArn: null, pollMs: 10, pageSize: 10 });
    const read = await reader.readAccount(account(DEV));
    expect(read.report).toHaveLength(31);
    const calls = world.emulator.calls();
    expect(calls['iam:GenerateCredentialReport']).toBe(1);
    expect(calls['iam:GetCredentialReport']).toBe(3);
    expect(calls['iam:GetAccountSummary']).toBe(1);
    expect(calls['iam:GetAccountPasswordPolicy']).toBe(1);
    // 30 users + the reconciler role + nothing else, 10 a page
    expect(calls['iam:GetAccountAuthorizationDetails']).toBe(4);
    expect(Object.keys(calls).filter((k) => k.startsWith('iam:') && !['iam:GenerateCredentialReport', 'iam:GetCredentialReport', 'iam:GetAccountSummary', 'iam:GetAccountPasswordPolicy', 'iam:GetAccountAuthorizationDetails'].includes(k))).toEqual([]);
    expect(read.calls).toBe(Object.entries(calls).filter(([k]) => k.startsWith('iam:')).reduce((n, [, v]) => n + v, 0));
  });

  it('counts the assignments of an administrator permission set on the account, not those of others', async () => {
    const opts = { region: 'us-east-1', endpoint: world.emulator.url, credentials: BASE_CREDENTIALS };
    const store = new IdentitystoreClient(opts);
    const sso = new SSOAdminClient(opts);
    try {
      const g = await store.send(new CreateGroupCommand({ IdentityStoreId: 'd-9067000000', DisplayName: 'Admins' }));
      const ps = (await sso.send(new CreatePermissionSetCommand({ InstanceArn: DEFAULT_INSTANCE_ARN, Name: 'Admin' }))).PermissionSet?.PermissionSetArn ?? '';
      await sso.send(new AttachManagedPolicyToPermissionSetCommand({ InstanceArn: DEFAULT_INSTANCE_ARN, PermissionSetArn: ps, ManagedPolicyArn: ADMIN }));
      const req = await sso.send(new CreateAccountAssignmentCommand({ InstanceArn: DEFAULT_INSTANCE_ARN, PermissionSetArn: ps, TargetId: PROD, TargetType: 'AWS_ACCOUNT', PrincipalType: 'GROUP', PrincipalId: g.GroupId ?? '' }));
      for (let i = 0; i < 50; i++) {
        const s = await sso.send(new DescribeAccountAssignmentCreationStatusCommand({ InstanceArn: DEFAULT_INSTANCE_ARN, AccountAssignmentCreationRequestId: req.AccountAssignmentCreationStatus?.RequestId ?? '' }));
        if (s.AccountAssignmentCreationStatus?.Status !== 'IN_PROGRESS') break;
        await new Promise((r) => setTimeout(r, 10));
      }
      const reader = new PostureReader({ iam: (a) => world.clients.iam(a), ssoAdmin: () => sso }, { link, identityCenterInstanceArn: DEFAULT_INSTANCE_ARN, pollMs: 1 });
      expect((await reader.readAccount(account(PROD))).admins).toEqual([{ principal: `permission-set/Admin/GROUP:${g.GroupId ?? ''}`, via: 'permission set Admin: AdministratorAccess' }]);
      expect((await reader.readAccount(account(DEV))).admins).toEqual([]);
    } finally {
      store.destroy();
      sso.destroy();
    }
  });
});
