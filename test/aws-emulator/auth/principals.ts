/**
 * Who a request comes from: every access key the emulator honours, its secret (so SigV4 can be
 * checked), its session token and expiry for temporary credentials, and the principal it acts as.
 *
 * The registry is the one place that knows credentials. STS (`AssumeRole`, `GetSessionToken`,
 * `AssumeRoleWithSAML`), IAM (`CreateAccessKey`) and the Identity Center portal sign-in all mint
 * credentials through `Emulator.registerCredentials`, and the server looks every request's key up
 * with `Emulator.credentialsFor` before it verifies the signature and authorizes the operation.
 *
 * A principal names the identity whose policies decide (an IAM user, or a role for a role
 * session) by account and name; the policies themselves are read from the IAM state at request
 * time, so a policy change bites live sessions as it does on AWS. Only the base principal carries
 * its policies here (`policies`), because it lives outside the IAM state (loading a state does not
 * remove it, and `ListUsers` does not show it).
 *
 * Secrets stay in this registry: they are never part of `Emulator.dump()`.
 */
import { randomBytes } from 'node:crypto';

export type PrincipalKind = 'user' | 'assumed-role';

/** How the credentials came to be. */
export type CredentialSource = 'base' | 'CreateAccessKey' | 'AssumeRole' | 'AssumeRoleWithSAML' | 'GetSessionToken' | 'SSO';

export interface PolicyDoc {
  readonly name: string;
  /** The policy document (JSON text). */
  readonly document: string;
}

export interface Principal {
  readonly kind: PrincipalKind;
  /** The account the credentials act in. */
  readonly account: string;
  /** `arn:aws:iam::A:user/PATH/NAME` or `arn:aws:sts::A:assumed-role/ROLE/SESSION` (what GetCallerIdentity answers). */
  readonly arn: string;
  /** `aws:PrincipalArn`: the user ARN, or the role's ARN (with its path) for a role session. */
  readonly principalArn: string;
  /** `aws:userid`: the user id (`AIDA...`) for a user, `ROLEID:SESSION` for a role session. */
  readonly userId: string;
  /** The IAM user's name (`aws:username`), for users. */
  readonly userName?: string | undefined;
  /** The role's name, for role sessions. */
  readonly roleName?: string | undefined;
  /** The role session name, for role sessions. */
  readonly sessionName?: string | undefined;
  /** `aws:TokenIssueTime` (ISO 8601), for temporary credentials only. */
  readonly tokenIssueTime?: string | undefined;
  /** `aws:MultiFactorAuthPresent`. */
  readonly mfa: boolean;
  readonly source: CredentialSource;
  /** A role session whose caller was itself a role session (role chaining: at most one hour). */
  readonly roleChained?: boolean | undefined;
  /** More request-context keys this principal always carries (for example `identitystore:UserId`). */
  readonly extraContext: Readonly<Record<string, string>>;
  /** Base principal only: identity policies held here rather than in the IAM state. */
  readonly policies?: readonly PolicyDoc[] | undefined;
  /** Base principal only: a permissions boundary held here. */
  readonly boundary?: PolicyDoc | undefined;
}

export interface Credentials {
  readonly accessKeyId: string;
  readonly secretAccessKey: string;
  /** Required on every request signed with temporary credentials. */
  readonly sessionToken?: string | undefined;
  /** ISO 8601; after it, requests answer `ExpiredToken`. */
  readonly expiration?: string | undefined;
  readonly principal: Principal;
}

/** Long-term and temporary credentials by access key id. */
export class PrincipalRegistry {
  readonly #byKey = new Map<string, Credentials>();

  register(credentials: Credentials): void {
    this.#byKey.set(credentials.accessKeyId, credentials);
  }

  get(accessKeyId: string): Credentials | undefined {
    return this.#byKey.get(accessKeyId);
  }

  delete(accessKeyId: string): void {
    this.#byKey.delete(accessKeyId);
  }

  /** Every registered credential except the base ones (for `Emulator.load`, which starts a new world). */
  clearNonBase(): void {
    for (const [k, c] of this.#byKey) if (c.principal.source !== 'base') this.#byKey.delete(k);
  }

  /** Access key id -> principal, without secrets (for dumps and debugging). */
  describe(): Record<string, Principal> {
    const out: Record<string, Principal> = {};
    for (const [k, c] of [...this.#byKey].sort(([a], [b]) => (a < b ? -1 : 1))) out[k] = c.principal;
    return out;
  }
}

const BASE32 = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ234567';

/** An AWS-looking identifier: prefix plus upper-case base32 (`AKIA`, `ASIA`, `AIDA`, `AROA`), 20 characters by default. */
export function newId(prefix: string, length = 20): string {
  let out = prefix;
  for (const b of randomBytes(length - prefix.length)) out += BASE32[b % 32];
  return out;
}

/** A 40-character secret access key. */
export function newSecret(): string {
  return randomBytes(30).toString('base64').slice(0, 40);
}

export function newSessionToken(): string {
  return randomBytes(96).toString('base64');
}

/** The principal of an IAM user's long-term keys (or of its `GetSessionToken` session, with `tokenIssueTime`). */
export function userPrincipal(
  account: string,
  user: { readonly userName: string; readonly path?: string | undefined; readonly userId: string },
  source: CredentialSource,
  options: { tokenIssueTime?: string; mfa?: boolean; extraContext?: Record<string, string>; policies?: readonly PolicyDoc[]; boundary?: PolicyDoc } = {},
): Principal {
  const arn = `arn:aws:iam::${account}:user${user.path ?? '/'}${user.userName}`;
  return {
    kind: 'user',
    account,
    arn,
    principalArn: arn,
    userId: user.userId,
    userName: user.userName,
    tokenIssueTime: options.tokenIssueTime,
    mfa: options.mfa ?? false,
    source,
    extraContext: options.extraContext ?? {},
    policies: options.policies,
    boundary: options.boundary,
  };
}

/** The principal of a role session (`AssumeRole`, `AssumeRoleWithSAML`, the portal's `GetRoleCredentials`). */
export function rolePrincipal(
  account: string,
  role: { readonly roleName: string; readonly path?: string | undefined; readonly roleId: string },
  sessionName: string,
  source: CredentialSource,
  options: { tokenIssueTime: string; mfa?: boolean; roleChained?: boolean; extraContext?: Record<string, string> },
): Principal {
  return {
    kind: 'assumed-role',
    account,
    arn: `arn:aws:sts::${account}:assumed-role/${role.roleName}/${sessionName}`,
    principalArn: `arn:aws:iam::${account}:role${role.path ?? '/'}${role.roleName}`,
    userId: `${role.roleId}:${sessionName}`,
    roleName: role.roleName,
    sessionName,
    tokenIssueTime: options.tokenIssueTime,
    mfa: options.mfa ?? false,
    source,
    roleChained: options.roleChained ?? false,
    extraContext: options.extraContext ?? {},
  };
}

/** AWS's `AdministratorAccess` managed policy. */
export const ADMINISTRATOR_ACCESS = JSON.stringify({ Version: '2012-10-17', Statement: [{ Effect: 'Allow', Action: '*', Resource: '*' }] });

/** The default base credentials: the emulator's `emulator-admin` user in the home account. */
export const DEFAULT_BASE_CREDENTIALS = { accessKeyId: 'AKIAEMULATORTEST', secretAccessKey: 'not-a-secret' } as const;

export const BASE_USER_NAME = 'emulator-admin';
export const BASE_USER_ID = 'AIDAEMULATORADMIN0001';

/** The base principal: an IAM user `emulator-admin` with AdministratorAccess, unless other policies are given. */
export function basePrincipal(account: string, policies: readonly PolicyDoc[] = [{ name: 'AdministratorAccess', document: ADMINISTRATOR_ACCESS }]): Principal {
  return userPrincipal(account, { userName: BASE_USER_NAME, userId: BASE_USER_ID }, 'base', { policies });
}
