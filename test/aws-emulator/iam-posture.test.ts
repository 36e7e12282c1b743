/**
 * The emulator's account-level credential posture through the real SDK client: GetAccountSummary,
 * the credential report (API_GenerateCredentialReport.html, API_GetCredentialReport.html and the
 * user guide's "Getting credential reports" page), GetAccessKeyLastUsed and the password policy.
 */
import {
  CreateAccessKeyCommand,
  CreateLoginProfileCommand,
  CreateUserCommand,
  DeleteAccountPasswordPolicyCommand,
  GenerateCredentialReportCommand,
  GetAccessKeyLastUsedCommand,
  GetAccountPasswordPolicyCommand,
  GetAccountSummaryCommand,
  GetCredentialReportCommand,
  IAMClient,
  NoSuchEntityException,
  UpdateAccountPasswordPolicyCommand,
} from '@aws-sdk/client-iam';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { startEmulator } from './index.js';
import type { Emulator } from './index.js';
import { CREDENTIAL_REPORT_COLUMNS, setAccessKey, setCredentialReport, setRoot, setUser } from './services/iam-posture.js';
import type { IamState } from './services/iam.js';

const HOME = '111111111111';
const CREDS = { accessKeyId: 'AKIAHOMEBASE00000001', secretAccessKey: 'not-a-secret' };

let emulator: Emulator;
let iam: IAMClient;
const state = (): IamState => emulator.state<IamState>('iam');

beforeEach(async () => {
  emulator = await startEmulator({ homeAccount: HOME, baseCredentials: [CREDS] });
  iam = new IAMClient({ region: 'us-east-1', endpoint: emulator.url, credentials: CREDS, maxAttempts: 1 });
});
afterEach(async () => {
  iam.destroy();
  await emulator.stop();
});

/** The SDK's exception name for the wire code (ReportNotPresent -> CredentialReportNotPresentException, ...) and the HTTP status. */
async function failure(p: Promise<unknown>): Promise<{ name: string; status: number | undefined }> {
  const e = (await p.then(
    () => {
      throw new Error('expected the call to fail');
    },
    (err: unknown) => err,
  )) as { name: string; $metadata?: { httpStatusCode?: number } };
  return { name: e.name, status: e.$metadata?.httpStatusCode };
}

async function report(): Promise<Record<string, string>[]> {
  const out = await iam.send(new GetCredentialReportCommand({}));
  expect(out.ReportFormat).toBe('text/csv');
  expect(out.GeneratedTime).toBeInstanceOf(Date);
  const text = Buffer.from(out.Content ?? new Uint8Array()).toString('utf8');
  const [header, ...rows] = text.split('\n');
  const cols = (header ?? '').split(',');
  return rows.map((r) => Object.fromEntries(r.split(',').map((v, i) => [cols[i] ?? '', v])));
}

describe('GetAccountSummary (API_GetAccountSummary.html)', () => {
  it('counts users and roles and says whether root has MFA and access keys', async () => {
    await iam.send(new CreateUserCommand({ UserName: 'alice' }));
    await iam.send(new CreateUserCommand({ UserName: 'bob' }));
    let map = (await iam.send(new GetAccountSummaryCommand({}))).SummaryMap ?? {};
    expect(map['Users']).toBe(2);
    expect(map['AccountMFAEnabled']).toBe(0);
    expect(map['AccountAccessKeysPresent']).toBe(0);
    expect(map['AccessKeysPerUserQuota']).toBe(2);
    setRoot(state(), { account: HOME, mfaEnabled: true, accessKeys: [{ createDate: '2020-01-01T00:00:00Z' }] });
    map = (await iam.send(new GetAccountSummaryCommand({}))).SummaryMap ?? {};
    expect(map['AccountMFAEnabled']).toBe(1);
    expect(map['AccountAccessKeysPresent']).toBe(1);
  });
});

describe('credential report (credential-reports.html)', () => {
  it('is not present before one is generated (ReportNotPresent, 410)', async () => {
    expect(await failure(iam.send(new GetCredentialReportCommand({})))).toEqual({ name: 'CredentialReportNotPresentException', status: 410 });
  });

  it('answers STARTED, then INPROGRESS and ReportInProgress (404) until ready, then COMPLETE', async () => {
    setCredentialReport(state(), { credentialReportDelayMs: 60_000 });
    expect((await iam.send(new GenerateCredentialReportCommand({}))).State).toBe('STARTED');
    expect((await iam.send(new GenerateCredentialReportCommand({}))).State).toBe('INPROGRESS');
    expect(await failure(iam.send(new GetCredentialReportCommand({})))).toEqual({ name: 'CredentialReportNotReadyException', status: 404 });
    // Sixty seconds later the report is ready and younger than four hours: COMPLETE, not a new one.
    setCredentialReport(state(), { account: HOME, ageMs: 61_000 });
    expect((await iam.send(new GenerateCredentialReportCommand({}))).State).toBe('COMPLETE');
    expect((await report())[0]?.['user']).toBe('<root_account>');
  });

  it('expires after four hours (ReportExpired, 410), and a new generation starts', async () => {
    await iam.send(new GenerateCredentialReportCommand({}));
    setCredentialReport(state(), { account: HOME, ageMs: 4 * 3_600_000 + 1 });
    expect(await failure(iam.send(new GetCredentialReportCommand({})))).toEqual({ name: 'CredentialReportExpiredException', status: 410 });
    expect((await iam.send(new GenerateCredentialReportCommand({}))).State).toBe('STARTED');
    expect(await report()).toHaveLength(1);
  });

  it("has the user guide's columns, a root row, and each user's password, MFA and keys", async () => {
    setRoot(state(), { account: HOME, mfaEnabled: false, passwordLastUsed: '2026-11-30T08:00:00Z', accessKeys: [{ createDate: '2019-05-01T00:00:00Z' }] });
    await iam.send(new CreateUserCommand({ UserName: 'alice' }));
    await iam.send(new CreateLoginProfileCommand({ UserName: 'alice', Password: 'correct-horse-battery' }));
    setUser(state(), { account: HOME, userName: 'alice', mfaDevices: 1, passwordLastUsed: '2026-11-01T10:00:00Z' });
    await iam.send(new CreateUserCommand({ UserName: 'bob' }));
    const k1 = (await iam.send(new CreateAccessKeyCommand({ UserName: 'bob' }))).AccessKey?.AccessKeyId ?? '';
    await iam.send(new CreateAccessKeyCommand({ UserName: 'bob' }));
    setAccessKey(state(), { account: HOME, accessKeyId: k1, createDate: '2026-01-02T03:04:05Z', lastUsed: { date: '2026-06-01T00:00:00Z', serviceName: 's3', region: 'eu-west-1' } });
    await iam.send(new GenerateCredentialReportCommand({}));
    const out = await iam.send(new GetCredentialReportCommand({}));
    const text = Buffer.from(out.Content ?? new Uint8Array()).toString('utf8');
    expect(text.split('\n')[0]).toBe(CREDENTIAL_REPORT_COLUMNS.join(','));
    expect(CREDENTIAL_REPORT_COLUMNS).toHaveLength(22);
    const [root, alice, bob] = await report();
    expect(root).toMatchObject({
      user: '<root_account>',
      arn: `arn:aws:iam::${HOME}:root`,
      password_enabled: 'not_supported',
      password_last_used: '2026-11-30T08:00:00+00:00',
      password_last_changed: 'not_supported',
      mfa_active: 'false',
      access_key_1_active: 'true',
      access_key_1_last_rotated: '2019-05-01T00:00:00+00:00',
      access_key_1_last_used_date: 'N/A',
      access_key_2_active: 'false',
    });
    expect(alice).toMatchObject({ user: 'alice', arn: `arn:aws:iam::${HOME}:user/alice`, password_enabled: 'true', password_last_used: '2026-11-01T10:00:00+00:00', mfa_active: 'true', access_key_1_active: 'false', access_key_1_last_rotated: 'N/A' });
    expect(bob).toMatchObject({
      user: 'bob',
      password_enabled: 'false',
      password_last_used: 'N/A',
      mfa_active: 'false',
      access_key_1_active: 'true',
      access_key_1_last_rotated: '2026-01-02T03:04:05+00:00',
      access_key_1_last_used_date: '2026-06-01T00:00:00+00:00',
      access_key_1_last_used_region: 'eu-west-1',
      access_key_1_last_used_service: 's3',
      access_key_2_active: 'true',
      access_key_2_last_used_date: 'N/A',
    });
  });

  it('is a snapshot: a user made after generation began is not in it', async () => {
    await iam.send(new GenerateCredentialReportCommand({}));
    await iam.send(new CreateUserCommand({ UserName: 'late' }));
    expect((await report()).map((r) => r['user'])).toEqual(['<root_account>']);
  });
});

describe('GetAccessKeyLastUsed (API_GetAccessKeyLastUsed.html)', () => {
  it('says N/A before first use and the date, service and region set by the control after', async () => {
    await iam.send(new CreateUserCommand({ UserName: 'bob' }));
    const id = (await iam.send(new CreateAccessKeyCommand({ UserName: 'bob' }))).AccessKey?.AccessKeyId ?? '';
    let out = await iam.send(new GetAccessKeyLastUsedCommand({ AccessKeyId: id }));
    expect(out.AccessKeyLastUsed).toEqual({ ServiceName: 'N/A', Region: 'N/A' });
    setAccessKey(state(), { account: HOME, accessKeyId: id, lastUsed: { date: '2026-06-01T00:00:00Z', serviceName: 'iam', region: 'us-east-1' } });
    out = await iam.send(new GetAccessKeyLastUsedCommand({ AccessKeyId: id }));
    expect(out.UserName).toBe('bob');
    expect(out.AccessKeyLastUsed?.LastUsedDate?.toISOString()).toBe('2026-06-01T00:00:00.000Z');
  });
});

describe('account password policy (API_GetAccountPasswordPolicy.html)', () => {
  it('is NoSuchEntity (404) when none is set, and reads back what UpdateAccountPasswordPolicy set', async () => {
    const err = await iam.send(new GetAccountPasswordPolicyCommand({})).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(NoSuchEntityException);
    await iam.send(new UpdateAccountPasswordPolicyCommand({ MinimumPasswordLength: 14, RequireSymbols: true, MaxPasswordAge: 90, PasswordReusePrevention: 24 }));
    const p = (await iam.send(new GetAccountPasswordPolicyCommand({}))).PasswordPolicy;
    expect(p).toMatchObject({ MinimumPasswordLength: 14, RequireSymbols: true, RequireNumbers: false, ExpirePasswords: true, MaxPasswordAge: 90, PasswordReusePrevention: 24 });
    await iam.send(new DeleteAccountPasswordPolicyCommand({}));
    expect(await failure(iam.send(new GetAccountPasswordPolicyCommand({})))).toEqual({ name: 'NoSuchEntityException', status: 404 });
  });
});

describe('controls over HTTP', () => {
  it('sets root MFA through POST /__emulator/service/iam/root', async () => {
    const res = await fetch(`${emulator.url}/__emulator/service/iam/root`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ account: HOME, mfaEnabled: true }) });
    expect(res.status).toBe(200);
    expect((await iam.send(new GetAccountSummaryCommand({}))).SummaryMap?.['AccountMFAEnabled']).toBe(1);
  });
});
