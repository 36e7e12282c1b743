/**
 * Minting role sessions for the federated sign-ins (`sts:AssumeRoleWithSAML`, and the Identity
 * Center portal's `GetRoleCredentials`): one place that turns "this person, as this role, for this
 * long" into credentials the emulator honours.
 *
 * A session carries what AWS puts in its request context: `aws:userid` = `ROLEID:<session name>`,
 * `aws:PrincipalArn` = the role's ARN, `aws:TokenIssueTime` = the moment it was minted, and any
 * extra keys (the portal's `identitystore:UserId`).
 */
import { newId, newSecret, newSessionToken, rolePrincipal } from './auth/principals.js';
import type { Emulator } from './server.js';
import type { RoleRec } from './services/iam.js';
import type { StsSession, StsState } from './services/sts.js';

export type FederatedSource = 'AssumeRoleWithSAML' | 'SSO';

export interface RoleSessionRequest {
  readonly account: string;
  readonly role: Pick<RoleRec, 'roleName' | 'roleId' | 'path'>;
  readonly sessionName: string;
  readonly source: FederatedSource;
  readonly durationSeconds: number;
  readonly extraContext?: Readonly<Record<string, string>>;
  /** Defaults to the current time. */
  readonly now?: Date;
}

export interface MintedSession {
  readonly accessKeyId: string;
  readonly secretAccessKey: string;
  readonly sessionToken: string;
  readonly expiration: Date;
  /** arn:aws:sts::A:assumed-role/ROLE/SESSION */
  readonly arn: string;
  /** ROLEID:SESSION */
  readonly userId: string;
  readonly tokenIssueTime: string;
}

/** Registers a role session in the emulator's principal registry (./auth/principals.ts) and returns its credentials. */
export function mintRoleSession(emulator: Emulator, r: RoleSessionRequest): MintedSession {
  const now = r.now ?? new Date();
  const accessKeyId = newId('ASIA');
  const secretAccessKey = newSecret();
  const sessionToken = newSessionToken();
  const expiration = new Date(now.getTime() + r.durationSeconds * 1000);
  const principal = rolePrincipal(r.account, r.role, r.sessionName, r.source, { tokenIssueTime: now.toISOString(), extraContext: { ...(r.extraContext ?? {}) } });
  emulator.registerCredentials({ accessKeyId, secretAccessKey, sessionToken, expiration: expiration.toISOString(), principal });
  // The STS state keeps a record without secrets, as AssumeRole does (dumps and debugging).
  const record: StsSession = { account: r.account, arn: principal.arn, userId: principal.userId, expiration: expiration.toISOString() };
  emulator.state<StsState>('sts').sessions[accessKeyId] = record;
  return { accessKeyId, secretAccessKey, sessionToken, expiration, arn: principal.arn, userId: principal.userId, tokenIssueTime: now.toISOString() };
}
