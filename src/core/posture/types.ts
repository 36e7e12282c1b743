/**
 * Credential and root posture: the inputs read from one account, the settings they are judged
 * against, and the findings. Pure data; `computeFindings` (findings.ts) turns inputs into findings.
 */
import type { AccountId } from '../model/role-map.js';

export type Severity = 'critical' | 'high' | 'medium' | 'low';
export const SEVERITIES: readonly Severity[] = ['critical', 'high', 'medium', 'low'];

export type FindingKind =
  | 'root-mfa-off'
  | 'root-access-keys'
  | 'root-used-recently'
  | 'access-key-too-old'
  | 'access-key-unused'
  | 'console-without-mfa'
  | 'two-active-keys'
  | 'rotation-ready'
  | 'leaver-iam-user'
  | 'password-policy-missing'
  | 'password-policy-weak'
  | 'too-few-admins'
  | 'too-many-admins';

export interface Finding {
  /** Stable across runs: `<kind>:<account id>:<principal>`; the journal follows a finding by it. */
  readonly id: string;
  readonly kind: FindingKind;
  readonly severity: Severity;
  readonly account: AccountId;
  readonly accountAlias: string;
  /** `root`, `user/<name>`, `user/<name>/key<1|2>`, or `account` for account-wide findings. */
  readonly principal: string;
  /** What is wrong, in one line, with the figures. */
  readonly detail: string;
  /** What to do about it, in one line. */
  readonly fix: string;
}

/** The password policy rolemap expects at least (IAM's GetAccountPasswordPolicy fields, named plainly). */
export interface PasswordPolicyMinimum {
  readonly minimumLength: number;
  readonly requireSymbols: boolean;
  readonly requireNumbers: boolean;
  readonly requireUppercase: boolean;
  readonly requireLowercase: boolean;
  /** Passwords must expire after at most this many days; null: expiry not required. */
  readonly maxAgeDays: number | null;
  /** At least this many previous passwords remembered; null: not required. */
  readonly reusePrevention: number | null;
}

export interface PostureSettings {
  /** An active access key created (last rotated) longer ago than this is a finding. */
  readonly maxKeyAgeDays: number;
  /** An active access key not used for this long (or never, and older than this) is a finding. */
  readonly unusedDays: number;
  /** Root signing in or using a key within this many days is a finding. */
  readonly rootUseDays: number;
  readonly admins: { readonly min: number; readonly max: number };
  readonly passwordPolicy: PasswordPolicyMinimum;
  /** Cron expression for the daemon's posture report; null: the daemon does not run it. */
  readonly schedule: string | null;
}

export const DEFAULT_POSTURE_SETTINGS: PostureSettings = {
  maxKeyAgeDays: 90,
  unusedDays: 90,
  rootUseDays: 30,
  admins: { min: 2, max: 3 },
  passwordPolicy: { minimumLength: 14, requireSymbols: false, requireNumbers: false, requireUppercase: false, requireLowercase: false, maxAgeDays: null, reusePrevention: 24 },
  schedule: null,
};

/** One access key slot of a credential report row. */
export interface ReportKey {
  readonly active: boolean;
  /** Creation or last rotation. */
  readonly lastRotated: Date | null;
  readonly lastUsed: Date | null;
}

/** One row of IAM's credential report, typed. */
export interface CredentialReportRow {
  /** `<root_account>` for the root user. */
  readonly user: string;
  readonly arn: string;
  readonly isRoot: boolean;
  readonly created: Date | null;
  /** Console password; root: always true (its password is not reported as enabled or not). */
  readonly passwordEnabled: boolean;
  readonly passwordLastUsed: Date | null;
  readonly mfaActive: boolean;
  readonly keys: readonly [ReportKey, ReportKey];
}

/** IAM's account password policy as read (null when the account has none). */
export interface AccountPasswordPolicy {
  readonly minimumLength: number;
  readonly requireSymbols: boolean;
  readonly requireNumbers: boolean;
  readonly requireUppercase: boolean;
  readonly requireLowercase: boolean;
  readonly maxAgeDays: number | null;
  readonly reusePrevention: number | null;
}

/** A principal with administrator rights on the account. */
export interface AdminPrincipal {
  /** `user/<name>`, `role/<name>`, `permission-set/<name>/<GROUP|USER>:<id>`. */
  readonly principal: string;
  /** Why: `AdministratorAccess`, or the policy that allows `*` on `*`. */
  readonly via: string;
}

/** How an IAM user is linked to the directory, and whether that AD account has left. */
export interface LeaverLink {
  readonly userName: string;
  /** The AD account name from the link tag or the name pattern. */
  readonly adName: string;
  /** `disabled`, `expired`, or `not in the directory`. */
  readonly why: string;
}

export interface AccountPostureInput {
  readonly account: AccountId;
  readonly alias: string;
  /** From GetAccountSummary. */
  readonly rootMfaEnabled: boolean;
  readonly rootAccessKeysPresent: boolean;
  readonly report: readonly CredentialReportRow[];
  readonly passwordPolicy: AccountPasswordPolicy | null;
  /** Null when the administrators were not read (the count is then not judged). */
  readonly admins: readonly AdminPrincipal[] | null;
  /** IAM users linked to an AD leaver; null when the directory was not read. */
  readonly leaverLinks: readonly LeaverLink[] | null;
}
