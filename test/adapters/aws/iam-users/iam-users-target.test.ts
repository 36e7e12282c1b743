/**
 * Leavers' long-lived credentials: legacy IAM users linked to AD accounts, in three accounts,
 * against the emulator with the real SDK.
 */
import {
  CreateAccessKeyCommand,
  CreateLoginProfileCommand,
  CreateUserCommand,
  GetUserCommand,
  GetUserPolicyCommand,
  ListAccessKeysCommand,
} from '@aws-sdk/client-iam';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { AwsCallError } from '../../../../src/adapters/aws/call-error.js';
import { IamChangeRefusedError } from '../../../../src/adapters/aws/iam-roles/errors.js';
import { IamUserDisablePartlyFailedError, IamUsersTarget, linkedAdAccount } from '../../../../src/adapters/aws/iam-users/iam-users-target.js';
import type { ResourceOf } from '../../../../src/core/model/resources.js';
import type { IamState } from '../../../aws-emulator/services/iam.js';
import { DEV, PROD, SANDBOX, change, find, roleMap, startWorld } from '../iam-roles/fixtures.js';
import type { World } from '../iam-roles/fixtures.js';

let world: World;
let target: IamUsersTarget;
const NOW = new Date('2026-11-28T12:00:00.000Z');

async function legacyUser(account: string, userName: string, options: { tag?: string; keys?: number; password?: boolean } = {}): Promise<string[]> {
  const c = world.console(account);
  await c.send(new CreateUserCommand({ UserName: userName, ...(options.tag ? { Tags: [{ Key: 'ad-account', Value: options.tag }] } : {}) }));
  const keys: string[] = [];
  for (let i = 0; i < (options.keys ?? 0); i++) keys.push((await c.send(new CreateAccessKeyCommand({ UserName: userName }))).AccessKey!.AccessKeyId!);
  if (options.password) await c.send(new CreateLoginProfileCommand({ UserName: userName, Password: 'Correct-Horse-9', PasswordResetRequired: true }));
  return keys.sort();
}

beforeEach(async () => {
  world = await startWorld();
  target = new IamUsersTarget(world.clients, { clock: () => NOW });
});
afterEach(async () => {
  await world.stop();
});

describe('reading linked IAM users', () => {
  it('links by tag or by name pattern, reads keys and console password, and ignores everyone else', async () => {
    const jdoeKeys = await legacyUser(PROD, 'jdoe-ci', { tag: 'jdoe', keys: 2, password: true });
    await legacyUser(DEV, 'asmith-legacy', { keys: 1 });
    await legacyUser(SANDBOX, 'build-bot', { keys: 1 });

    const actual = await target.readActual(roleMap());
    expect(actual.resources.map((r) => r.id).sort()).toEqual([`${PROD}/jdoe-ci`, `${DEV}/asmith-legacy`]);
    const jdoe = find(actual.resources, 'iam_user_credentials', `${PROD}/jdoe-ci`)!;
    expect(jdoe).toMatchObject({ owned: false, name: 'jdoe-ci', principal: { guid: '', name: 'jdoe' } });
    expect(jdoe.awsId).toMatch(/^AIDA/);
    const { keyCreatedAt, ...compared } = jdoe.attrs;
    expect(compared).toEqual({ accessKeys: { [jdoeKeys[0]!]: 'Active', [jdoeKeys[1]!]: 'Active' }, loginProfile: true, sessionsRevokedBefore: null });
    // Each key's creation date, for posture.rotation (not a compared attribute).
    expect(Object.keys(keyCreatedAt ?? {}).sort()).toEqual(jdoeKeys);
    expect(find(actual.resources, 'iam_user_credentials', `${DEV}/asmith-legacy`)?.principal?.name).toBe('asmith');
  });

  it('warns about active keys older than the limit and about users without MFA', async () => {
    const [oldKey] = await legacyUser(PROD, 'jdoe-ci', { tag: 'jdoe', keys: 1, password: true });
    await legacyUser(PROD, 'mfa-user', { tag: 'mfa.user', password: true });
    const iam = world.emulator.state<IamState>('iam');
    const prod = iam.accounts[PROD]!;
    prod.users['jdoe-ci']!.accessKeys[0]!.createDate = '2026-07-01T00:00:00.000Z'; // 150 days before NOW
    prod.users['mfa-user']!.mfaDevices.push({ serialNumber: `arn:aws:iam::${PROD}:mfa/mfa-user`, enableDate: '2026-01-01T00:00:00.000Z' });

    const { warnings } = await target.readActual(roleMap());
    expect(warnings).toEqual([
      `iam_user_credentials.prod.jdoe-ci (AD jdoe): access key ${oldKey} is 150 days old (more than 90); rotate it`,
      'iam_user_credentials.prod.jdoe-ci (AD jdoe): no MFA device although it has a console password',
    ]);
  });

  it('reads nothing when the role map does not disable leavers\' credentials', async () => {
    await legacyUser(PROD, 'jdoe-ci', { tag: 'jdoe', keys: 1 });
    const base = roleMap();
    world.emulator.resetCalls();
    const off = await target.readActual({ ...base, leavers: { ...base.leavers, iamUsers: { ...base.leavers.iamUsers, disableCredentials: false } } });
    expect(off).toEqual({ resources: [], warnings: [] });
    expect(world.emulator.calls()).toEqual({});
  });

  it('links by the configured rules only', () => {
    const policy = roleMap().leavers.iamUsers;
    expect(linkedAdAccount({ UserName: 'x', Tags: [{ Key: 'ad-account', Value: 'jdoe@corp.example' }] }, policy)).toBe('jdoe@corp.example');
    expect(linkedAdAccount({ UserName: 'jdoe-legacy' }, policy)).toBe('jdoe');
    expect(linkedAdAccount({ UserName: 'jdoe-legacy-2' }, policy)).toBeUndefined();
    expect(linkedAdAccount({ UserName: 'jdoe-legacy' }, { ...policy, namePattern: null })).toBeUndefined();
  });
});

describe("disabling a leaver's credentials", () => {
  it('sets every key Inactive and deletes the console password, keeping the user', async () => {
    const keys = await legacyUser(PROD, 'jdoe-ci', { tag: 'jdoe', keys: 2, password: true });
    const before = find((await target.readActual(roleMap())).resources, 'iam_user_credentials', `${PROD}/jdoe-ci`)!;
    const after: ResourceOf<'iam_user_credentials'> = {
      ...before,
      attrs: { accessKeys: Object.fromEntries(keys.map((k) => [k, 'Inactive' as const])), loginProfile: false },
    };
    const { requestIds } = await target.apply({ ...change('disable', before, after, 'jdoe disabled in AD'), leaver: { guid: 'g-jdoe', name: 'jdoe', reason: 'disabled' } });
    expect(requestIds).toHaveLength(3); // two UpdateAccessKey, one DeleteLoginProfile

    const reread = find((await target.readActual(roleMap())).resources, 'iam_user_credentials', `${PROD}/jdoe-ci`)!;
    const { keyCreatedAt: _created, ...reread2 } = reread.attrs;
    const { keyCreatedAt: _wanted, ...wanted } = after.attrs;
    expect(reread2).toEqual({ ...wanted, sessionsRevokedBefore: null });
    const c = world.console(PROD);
    expect((await c.send(new GetUserCommand({ UserName: 'jdoe-ci' }))).User?.UserName).toBe('jdoe-ci');
    expect((await c.send(new ListAccessKeysCommand({ UserName: 'jdoe-ci' }))).AccessKeyMetadata?.map((k) => k.Status)).toEqual(['Inactive', 'Inactive']);

    // Applying the same change again changes nothing more (a console password deleted meanwhile is fine too).
    world.emulator.resetCalls();
    await target.apply(change('disable', reread, after));
    expect(Object.keys(world.emulator.calls())).toEqual([]);
  });

  it('tolerates a console password deleted by hand since the plan', async () => {
    await legacyUser(DEV, 'asmith-legacy', { password: true });
    const before = find((await target.readActual(roleMap())).resources, 'iam_user_credentials', `${DEV}/asmith-legacy`)!;
    delete world.emulator.state<IamState>('iam').accounts[DEV]!.users['asmith-legacy']!.loginProfile;
    await expect(target.apply(change('disable', before, { ...before, attrs: { accessKeys: {}, loginProfile: false } }))).resolves.toEqual({ requestIds: [] });
  });

  it('never re-activates keys, creates passwords, or creates or deletes users', async () => {
    const [key] = await legacyUser(PROD, 'jdoe-ci', { tag: 'jdoe', keys: 1 });
    const r = find((await target.readActual(roleMap())).resources, 'iam_user_credentials', `${PROD}/jdoe-ci`)!;
    const inactive = { ...r, attrs: { accessKeys: { [key!]: 'Inactive' as const }, loginProfile: false } };
    await expect(target.apply(change('update', inactive, r))).rejects.toBeInstanceOf(IamChangeRefusedError);
    await expect(target.apply(change('update', r, { ...r, attrs: { ...r.attrs, loginProfile: true } }))).rejects.toBeInstanceOf(IamChangeRefusedError);
    await expect(target.apply(change('delete', r, null))).rejects.toBeInstanceOf(IamChangeRefusedError);
    await expect(target.apply(change('create', null, r))).rejects.toBeInstanceOf(IamChangeRefusedError);
  });

  it('denies the temporary credentials issued before the revocation, with a user-level deny on aws:TokenIssueTime (issue 12, defect 9)', async () => {
    const keys = await legacyUser(PROD, 'jdoe-ci', { tag: 'jdoe', keys: 1, password: true });
    const before = find((await target.readActual(roleMap())).resources, 'iam_user_credentials', `${PROD}/jdoe-ci`)!;
    const instant = '2026-11-28T12:00:00.000Z';
    const after: ResourceOf<'iam_user_credentials'> = { ...before, attrs: { accessKeys: { [keys[0]!]: 'Inactive' }, loginProfile: false, sessionsRevokedBefore: instant } };
    const { requestIds } = await target.apply(change('disable', before, after));
    expect(requestIds).toHaveLength(3); // PutUserPolicy, UpdateAccessKey, DeleteLoginProfile
    const policy = await world.console(PROD).send(new GetUserPolicyCommand({ UserName: 'jdoe-ci', PolicyName: 'rolemap-revoked-sessions' }));
    expect(JSON.parse(decodeURIComponent(policy.PolicyDocument ?? ''))).toEqual({
      Version: '2012-10-17',
      Statement: [{ Sid: 'RolemapRevokedSessions', Effect: 'Deny', Action: '*', Resource: '*', Condition: { DateLessThan: { 'aws:TokenIssueTime': instant } } }],
    });
    const { keyCreatedAt: _created, ...reread } = find((await target.readActual(roleMap())).resources, 'iam_user_credentials', `${PROD}/jdoe-ci`)?.attrs ?? {};
    expect(reread).toEqual(after.attrs);
  });

  it('a refused deny never keeps a key active: every step is tried, the change fails naming the one that did not work', async () => {
    const keys = await legacyUser(PROD, 'jdoe-ci', { tag: 'jdoe', keys: 1 });
    const before = find((await target.readActual(roleMap())).resources, 'iam_user_credentials', `${PROD}/jdoe-ci`)!;
    world.emulator.injectFault({ kind: 'error', operation: 'PutUserPolicy', code: 'AccessDenied', status: 403, message: 'not allowed' });
    const after: ResourceOf<'iam_user_credentials'> = { ...before, attrs: { accessKeys: { [keys[0]!]: 'Inactive' }, loginProfile: false, sessionsRevokedBefore: '2026-11-28T12:00:00.000Z' } };
    const err = await target.apply(change('disable', before, after)).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(IamUserDisablePartlyFailedError);
    expect((err as Error).message).toMatch(/deny of temporary credentials failed: .*not allowed.*\(the other steps were carried out\)/);
    expect((err as IamUserDisablePartlyFailedError).requestIds).toHaveLength(1);
    expect(world.emulator.state<IamState>('iam').accounts[PROD]?.users['jdoe-ci']?.accessKeys[0]?.status).toBe('Inactive');
  });

  it('recovers from a 500 and reports a failure with its request id', async () => {
    const [key] = await legacyUser(PROD, 'jdoe-ci', { tag: 'jdoe', keys: 1, password: true });
    const r = find((await target.readActual(roleMap())).resources, 'iam_user_credentials', `${PROD}/jdoe-ci`)!;
    const off = { ...r, attrs: { accessKeys: { [key!]: 'Inactive' as const }, loginProfile: false } };
    world.emulator.injectFault({ kind: 'http500', operation: 'UpdateAccessKey', times: 1 });
    world.emulator.injectFault({ kind: 'error', operation: 'DeleteLoginProfile', code: 'EntityTemporarilyUnmodifiable', status: 409, message: 'Login profile is being changed' });
    const err = await target.apply(change('disable', r, off)).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(AwsCallError);
    expect((err as AwsCallError).operation).toBe('DeleteLoginProfile');
    expect((err as AwsCallError).completedRequestIds).toHaveLength(1); // the key was deactivated after one 500
    expect((err as AwsCallError).retryable).toBe(true);
    expect(world.emulator.state<IamState>('iam').accounts[PROD]?.users['jdoe-ci']?.accessKeys[0]?.status).toBe('Inactive');
  });
});
