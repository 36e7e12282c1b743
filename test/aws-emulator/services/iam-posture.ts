/**
 * IAM's account-level credential posture, for the emulator's IAM service: `GetAccountSummary`,
 * `GenerateCredentialReport` / `GetCredentialReport`, the account password policy
 * (`GetAccountPasswordPolicy`, `UpdateAccountPasswordPolicy`, `DeleteAccountPasswordPolicy`), and the
 * root user (MFA, access keys, last use), which no IAM API can set and tests set with controls.
 *
 * Behaviour follows the IAM API reference and the user guide's "Getting credential reports" page:
 * - the report is one CSV for the account, the columns in the guide's order, a `<root_account>` row
 *   first; `Content` base64, `ReportFormat` `text/csv`, `GeneratedTime`;
 * - `GenerateCredentialReport` answers `STARTED` when it starts one, `INPROGRESS` while it runs and
 *   `COMPLETE` when a report younger than four hours exists (IAM generates at most one every four hours);
 * - `GetCredentialReport` before any: `ReportNotPresent` (410); while generating: `ReportInProgress`
 *   (404); a report older than four hours: `ReportExpired` (410);
 * - the report shows the account as it was when generation began (a snapshot);
 * - no password policy: `NoSuchEntity` (404).
 * How long a generation takes is a test control (`credentialReportDelayMs`, default 0, and
 * `credentialReportPolls`, the number of ReportInProgress answers before it is ready); AWS documents no duration.
 *
 * This module imports only types from iam.ts, so the two can load in either order.
 */
import { AwsError } from '../protocol.js';
import type { RequestContext } from '../server.js';
import type { QueryValue } from '../protocol.js';
import type { AccessKeyRec, IamAccount, IamState, UserRec } from './iam.js';

/** The account root user: only the console can change it, so tests set it through controls. */
export interface RootRec {
  createDate: string;
  mfaEnabled: boolean;
  /** The root password's last sign-in (ISO), when there was one. */
  passwordLastUsed?: string | undefined;
  accessKeys: AccessKeyRec[];
}

export interface PasswordPolicyRec {
  MinimumPasswordLength: number;
  RequireSymbols: boolean;
  RequireNumbers: boolean;
  RequireUppercaseCharacters: boolean;
  RequireLowercaseCharacters: boolean;
  AllowUsersToChangePassword: boolean;
  ExpirePasswords: boolean;
  MaxPasswordAge?: number | undefined;
  PasswordReusePrevention?: number | undefined;
  HardExpiry?: boolean | undefined;
}

export interface CredentialReportRec {
  /** When generation began (ISO); the report's `GeneratedTime`. */
  startedAt: string;
  /** When it is ready (epoch ms). */
  readyAt: number;
  /** The CSV, built from the account as it was when generation began. */
  csv: string;
  /** `GetCredentialReport` answers left that say ReportInProgress (and `GenerateCredentialReport` INPROGRESS) whatever the clock. */
  pendingPolls?: number | undefined;
}

/** Fields posture adds to an account's IAM state (absent in dumps made before they existed). */
export interface IamPostureFields {
  root?: RootRec | undefined;
  passwordPolicy?: PasswordPolicyRec | undefined;
  credentialReport?: CredentialReportRec | undefined;
}

/** Emulator-wide posture settings kept in the IAM state. */
export interface IamPostureSettings {
  /** How long a credential report takes to generate. */
  credentialReportDelayMs?: number | undefined;
  /** How many `GetCredentialReport` calls answer ReportInProgress before a new report is ready (default 0). */
  credentialReportPolls?: number | undefined;
}

type PostureAccount = IamAccount & IamPostureFields;
type PostureState = IamState & IamPostureSettings;
type Params = Record<string, QueryValue> & Record<string, unknown>;
type Op = (state: IamState, params: Params, ctx: RequestContext) => unknown;

/** IAM generates at most one report every four hours; an older one has expired (credential-reports.html). */
export const REPORT_LIFETIME_MS = 4 * 3_600_000;

/** The columns of the credential report, in the order the IAM user guide lists them. */
export const CREDENTIAL_REPORT_COLUMNS = [
  'user',
  'arn',
  'user_creation_time',
  'password_enabled',
  'password_last_used',
  'password_last_changed',
  'password_next_rotation',
  'mfa_active',
  'access_key_1_active',
  'access_key_1_last_rotated',
  'access_key_1_last_used_date',
  'access_key_1_last_used_region',
  'access_key_1_last_used_service',
  'access_key_2_active',
  'access_key_2_last_rotated',
  'access_key_2_last_used_date',
  'access_key_2_last_used_region',
  'access_key_2_last_used_service',
  'cert_1_active',
  'cert_1_last_rotated',
  'cert_2_active',
  'cert_2_last_rotated',
] as const;

function acct(state: IamState, accountId: string): PostureAccount {
  state.accounts[accountId] ??= { samlProviders: {}, roles: {}, users: {}, instanceProfiles: {} };
  return state.accounts[accountId] as PostureAccount;
}

/** The root user of an account; a fresh account's root has no MFA and no keys. */
export function rootOf(state: IamState, accountId: string): RootRec {
  const a = acct(state, accountId);
  a.root ??= { createDate: '2020-01-01T00:00:00.000Z', mfaEnabled: false, accessKeys: [] };
  return a.root;
}

/** AWS prints report times as `2014-10-30T17:22:06+00:00`. */
function reportTime(iso: string | undefined, none: string): string {
  if (iso === undefined) return none;
  return `${new Date(iso).toISOString().slice(0, 19)}+00:00`;
}

function keyColumns(key: AccessKeyRec | undefined): string[] {
  if (key === undefined) return ['false', 'N/A', 'N/A', 'N/A', 'N/A'];
  return [
    key.status === 'Active' ? 'true' : 'false',
    reportTime(key.createDate, 'N/A'),
    reportTime(key.lastUsed?.date, 'N/A'),
    key.lastUsed?.region ?? 'N/A',
    key.lastUsed?.serviceName ?? 'N/A',
  ];
}

function nextRotation(policy: PasswordPolicyRec | undefined, changed: string): string {
  if (policy?.ExpirePasswords !== true || policy.MaxPasswordAge === undefined) return 'N/A';
  return reportTime(new Date(new Date(changed).getTime() + policy.MaxPasswordAge * 86_400_000).toISOString(), 'N/A');
}

function userRow(accountId: string, u: UserRec, policy: PasswordPolicyRec | undefined): string[] {
  const lp = u.loginProfile;
  return [
    u.userName,
    `arn:aws:iam::${accountId}:user${u.path}${u.userName}`,
    reportTime(u.createDate, 'N/A'),
    lp ? 'true' : 'false',
    // credential-reports.html: N/A when the user has no password, no_information when it was never used.
    lp ? reportTime(u.passwordLastUsed, 'no_information') : 'N/A',
    lp ? reportTime(lp.createDate, 'N/A') : 'N/A',
    lp ? nextRotation(policy, lp.createDate) : 'N/A',
    u.mfaDevices.length > 0 ? 'true' : 'false',
    ...keyColumns(u.accessKeys[0]),
    ...keyColumns(u.accessKeys[1]),
    'false',
    'N/A',
    'false',
    'N/A',
  ];
}

function rootRow(accountId: string, root: RootRec): string[] {
  return [
    '<root_account>',
    `arn:aws:iam::${accountId}:root`,
    reportTime(root.createDate, 'N/A'),
    'not_supported',
    reportTime(root.passwordLastUsed, 'no_information'),
    'not_supported',
    'not_supported',
    root.mfaEnabled ? 'true' : 'false',
    ...keyColumns(root.accessKeys[0]),
    ...keyColumns(root.accessKeys[1]),
    'false',
    'N/A',
    'false',
    'N/A',
  ];
}

/** The credential report of an account as it stands now. */
export function credentialReportCsv(state: IamState, accountId: string): string {
  const a = acct(state, accountId);
  const rows = [rootRow(accountId, rootOf(state, accountId))];
  for (const k of Object.keys(a.users).sort()) rows.push(userRow(accountId, a.users[k] as UserRec, a.passwordPolicy));
  return [CREDENTIAL_REPORT_COLUMNS.join(','), ...rows.map((r) => r.join(','))].join('\n');
}

function bool(p: Params, name: string): boolean | undefined {
  const v = p[name];
  if (v === undefined) return undefined;
  if (v === 'true') return true;
  if (v === 'false') return false;
  throw new AwsError('ValidationError', `1 validation error detected: Value '${String(v)}' at '${name.charAt(0).toLowerCase()}${name.slice(1)}' failed to satisfy constraint: Member must be a boolean`);
}

function int(p: Params, name: string, min: number, max: number): number | undefined {
  const v = p[name];
  if (v === undefined) return undefined;
  const n = Number(v);
  if (!Number.isInteger(n) || n < min || n > max) {
    throw new AwsError('ValidationError', `1 validation error detected: Value '${String(v)}' at '${name.charAt(0).toLowerCase()}${name.slice(1)}' failed to satisfy constraint: Member must have value between ${min} and ${max}`);
  }
  return n;
}

function summaryMap(state: IamState, accountId: string): Map<string, number> {
  const a = acct(state, accountId);
  const root = rootOf(state, accountId);
  const users = Object.values(a.users);
  const userMfa = users.reduce((n, u) => n + u.mfaDevices.length, 0);
  const rootMfa = root.mfaEnabled ? 1 : 0;
  // API_GetAccountSummary.html lists these keys; the quotas are IAM's defaults (reference_iam-quotas.html).
  const entries: [string, number][] = [
    ['AccessKeysPerUserQuota', 2],
    ['AccountAccessKeysPresent', root.accessKeys.length > 0 ? 1 : 0],
    ['AccountMFAEnabled', rootMfa],
    ['AccountPasswordPresent', 1],
    ['AccountSigningCertificatesPresent', 0],
    ['AssumeRolePolicySizeQuota', 2048],
    ['AttachedPoliciesPerGroupQuota', 10],
    ['AttachedPoliciesPerRoleQuota', 10],
    ['AttachedPoliciesPerUserQuota', 10],
    ['GlobalEndpointTokenVersion', 1],
    ['GroupPolicySizeQuota', 5120],
    ['Groups', 0],
    ['GroupsPerUserQuota', 10],
    ['GroupsQuota', 300],
    ['InstanceProfiles', Object.keys(a.instanceProfiles ?? {}).length],
    ['InstanceProfilesQuota', 1000],
    ['MFADevices', userMfa + rootMfa],
    ['MFADevicesInUse', userMfa + rootMfa],
    ['Policies', 0],
    ['PoliciesQuota', 1500],
    ['PolicySizeQuota', 6144],
    ['PolicyVersionsInUse', 0],
    ['PolicyVersionsInUseQuota', 10000],
    ['Providers', Object.keys(a.samlProviders).length],
    ['RolePolicySizeQuota', 10240],
    ['Roles', Object.keys(a.roles).length],
    ['RolesQuota', 1000],
    ['ServerCertificates', 0],
    ['ServerCertificatesQuota', 20],
    ['SigningCertificatesPerUserQuota', 2],
    ['UserPolicySizeQuota', 2048],
    ['Users', users.length],
    ['UsersQuota', 5000],
    ['VersionsPerPolicyQuota', 5],
  ];
  return new Map(entries);
}

/** GetAccountAuthorizationDetails' UserDetail policy fields (documents URL-encoded, as AWS sends them). */
/** (The policies themselves are set by iam-identity-policies.ts.) */
export function userPolicyDetail(u: UserRec): { UserPolicyList: { PolicyName: string; PolicyDocument: string }[]; AttachedManagedPolicies: { PolicyName: string; PolicyArn: string }[] } {
  return {
    UserPolicyList: Object.keys(u.inlinePolicies ?? {})
      .sort()
      .map((n) => ({ PolicyName: n, PolicyDocument: encodeURIComponent((u.inlinePolicies ?? {})[n] as string) })),
    AttachedManagedPolicies: (u.attachedPolicies ?? []).map((a) => ({ PolicyName: a.slice(a.lastIndexOf('/') + 1), PolicyArn: a })),
  };
}

export const postureOps: Record<string, Op> = {
  GetAccountSummary(state, _p, ctx) {
    return { SummaryMap: summaryMap(state, ctx.account) };
  },
  GenerateCredentialReport(state, _p, ctx) {
    const a = acct(state, ctx.account);
    const now = Date.now();
    const r = a.credentialReport;
    if (r !== undefined && (now < r.readyAt || (r.pendingPolls ?? 0) > 0)) return { State: 'INPROGRESS', Description: 'Report generation in progress.' };
    if (r !== undefined && now - new Date(r.startedAt).getTime() < REPORT_LIFETIME_MS) return { State: 'COMPLETE', Description: 'Report is complete.' };
    const delay = (state as PostureState).credentialReportDelayMs ?? 0;
    const polls = (state as PostureState).credentialReportPolls ?? 0;
    a.credentialReport = { startedAt: new Date(now).toISOString(), readyAt: now + delay, csv: credentialReportCsv(state, ctx.account), ...(polls > 0 ? { pendingPolls: polls } : {}) };
    // API_GenerateCredentialReport.html, sample response.
    return { State: 'STARTED', Description: 'No report exists. Starting a new report generation task' };
  },
  GetCredentialReport(state, _p, ctx) {
    const r = acct(state, ctx.account).credentialReport;
    const now = Date.now();
    if (r === undefined) throw new AwsError('ReportNotPresent', 'Credential report not present. To generate a credential report, use GenerateCredentialReport.', 410);
    if (now < r.readyAt || (r.pendingPolls ?? 0) > 0) {
      if ((r.pendingPolls ?? 0) > 0) r.pendingPolls = (r.pendingPolls ?? 0) - 1;
      throw new AwsError('ReportInProgress', 'Credential report is still being generated.', 404);
    }
    if (now - new Date(r.startedAt).getTime() >= REPORT_LIFETIME_MS) throw new AwsError('ReportExpired', 'Credential report has expired. To generate a new credential report, use GenerateCredentialReport.', 410);
    return { Content: Buffer.from(r.csv, 'utf8').toString('base64'), ReportFormat: 'text/csv', GeneratedTime: r.startedAt };
  },
  GetAccountPasswordPolicy(state, _p, ctx) {
    const policy = acct(state, ctx.account).passwordPolicy;
    if (policy === undefined) throw new AwsError('NoSuchEntity', `The Password Policy with domain name ${ctx.account} cannot be found.`, 404);
    return { PasswordPolicy: { ...policy, HardExpiry: policy.HardExpiry ?? false } };
  },
  UpdateAccountPasswordPolicy(state, p, ctx) {
    // API_UpdateAccountPasswordPolicy.html: a parameter left out takes its default.
    const maxAge = int(p, 'MaxPasswordAge', 1, 1095);
    const reuse = int(p, 'PasswordReusePrevention', 1, 24);
    acct(state, ctx.account).passwordPolicy = {
      MinimumPasswordLength: int(p, 'MinimumPasswordLength', 6, 128) ?? 8,
      RequireSymbols: bool(p, 'RequireSymbols') ?? false,
      RequireNumbers: bool(p, 'RequireNumbers') ?? false,
      RequireUppercaseCharacters: bool(p, 'RequireUppercaseCharacters') ?? false,
      RequireLowercaseCharacters: bool(p, 'RequireLowercaseCharacters') ?? false,
      AllowUsersToChangePassword: bool(p, 'AllowUsersToChangePassword') ?? false,
      ExpirePasswords: maxAge !== undefined,
      ...(maxAge !== undefined ? { MaxPasswordAge: maxAge } : {}),
      ...(reuse !== undefined ? { PasswordReusePrevention: reuse } : {}),
      HardExpiry: bool(p, 'HardExpiry') ?? false,
    };
    return undefined;
  },
  DeleteAccountPasswordPolicy(state, _p, ctx) {
    const a = acct(state, ctx.account);
    if (a.passwordPolicy === undefined) throw new AwsError('NoSuchEntity', `The account policy with name PasswordPolicy cannot be found.`, 404);
    a.passwordPolicy = undefined;
    return undefined;
  },
};

// ---------------------------------------------------------------- test controls

export interface RootControl {
  account: string;
  mfaEnabled?: boolean;
  passwordLastUsed?: string | null;
  /** Replaces root's access keys (at most two). */
  accessKeys?: { accessKeyId?: string; status?: 'Active' | 'Inactive'; createDate?: string; lastUsed?: { date: string; serviceName: string; region: string } }[];
}

export interface AccessKeyControl {
  account: string;
  accessKeyId: string;
  createDate?: string;
  status?: 'Active' | 'Inactive';
  lastUsed?: { date: string; serviceName: string; region: string } | null;
}

export interface UserControl {
  account: string;
  userName: string;
  createDate?: string;
  passwordLastUsed?: string | null;
  /** The number of MFA devices the user has (serials made up). */
  mfaDevices?: number;
}

export interface CredentialReportControl {
  credentialReportDelayMs?: number;
  credentialReportPolls?: number;
  /** Make this account's report `ageMs` old (to see ReportExpired without waiting four hours). */
  account?: string;
  ageMs?: number;
}

function need<T>(v: T | undefined, what: string): T {
  if (v === undefined) throw new AwsError('ValidationError', `control needs ${what}`);
  return v;
}

export function setRoot(state: IamState, input: RootControl): RootRec {
  const root = rootOf(state, need(input.account, 'account'));
  if (input.mfaEnabled !== undefined) root.mfaEnabled = input.mfaEnabled;
  if (input.passwordLastUsed !== undefined) root.passwordLastUsed = input.passwordLastUsed ?? undefined;
  if (input.accessKeys !== undefined) {
    root.accessKeys = input.accessKeys.slice(0, 2).map((k, i) => ({
      accessKeyId: k.accessKeyId ?? `AKIAROOT${input.account.slice(-8)}${String(i)}`.slice(0, 20),
      status: k.status ?? 'Active',
      createDate: k.createDate ?? new Date().toISOString(),
      ...(k.lastUsed ? { lastUsed: k.lastUsed } : {}),
    }));
  }
  return root;
}

export function setAccessKey(state: IamState, input: AccessKeyControl): AccessKeyRec {
  const a = acct(state, need(input.account, 'account'));
  const key = [...Object.values(a.users).flatMap((u) => u.accessKeys), ...(a.root?.accessKeys ?? [])].find((k) => k.accessKeyId === input.accessKeyId);
  if (!key) throw new AwsError('NoSuchEntity', `The Access Key with id ${input.accessKeyId} cannot be found`, 404);
  if (input.createDate !== undefined) key.createDate = new Date(input.createDate).toISOString();
  if (input.status !== undefined) key.status = input.status;
  if (input.lastUsed !== undefined) key.lastUsed = input.lastUsed === null ? undefined : { ...input.lastUsed, date: new Date(input.lastUsed.date).toISOString() };
  return key;
}

export function setUser(state: IamState, input: UserControl): UserRec {
  const a = acct(state, need(input.account, 'account'));
  const u = a.users[need(input.userName, 'userName').toLowerCase()];
  if (!u) throw new AwsError('NoSuchEntity', `The user with name ${input.userName} cannot be found.`, 404);
  if (input.createDate !== undefined) u.createDate = new Date(input.createDate).toISOString();
  if (input.passwordLastUsed !== undefined) u.passwordLastUsed = input.passwordLastUsed === null ? undefined : new Date(input.passwordLastUsed).toISOString();
  if (input.mfaDevices !== undefined) {
    u.mfaDevices = Array.from({ length: input.mfaDevices }, (_, i) => ({ serialNumber: `arn:aws:iam::${input.account}:mfa/${u.userName}-${String(i + 1)}`, enableDate: new Date().toISOString() }));
  }
  return u;
}

export function setCredentialReport(state: IamState, input: CredentialReportControl): void {
  if (input.credentialReportDelayMs !== undefined) (state as PostureState).credentialReportDelayMs = input.credentialReportDelayMs;
  if (input.credentialReportPolls !== undefined) (state as PostureState).credentialReportPolls = input.credentialReportPolls;
  if (input.account !== undefined && input.ageMs !== undefined) {
    const r = acct(state, input.account).credentialReport;
    if (r) {
      const shift = Date.now() - input.ageMs - new Date(r.startedAt).getTime();
      r.startedAt = new Date(new Date(r.startedAt).getTime() + shift).toISOString();
      r.readyAt += shift;
    }
  }
}

/** `POST /__emulator/service/iam/<name>` (JSON in and out). */
export const postureControls: Record<string, (state: IamState, input: Record<string, unknown>) => unknown> = {
  root: (state, input) => setRoot(state, input as unknown as RootControl),
  accessKey: (state, input) => setAccessKey(state, input as unknown as AccessKeyControl),
  user: (state, input) => setUser(state, input as unknown as UserControl),
  credentialReport: (state, input) => {
    setCredentialReport(state, input as CredentialReportControl);
    return {};
  },
};
