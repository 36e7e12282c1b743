/**
 * Minting role sessions for the federated sign-ins (`sts:AssumeRoleWithSAML`, and the Identity
 * Center portal's `GetRoleCredentials`): one place that turns "this person, as this role, for this
 * long" into credentials the emulator honours.
 *
 * A session carries what AWS puts in its request context: `aws:userid` = `ROLEID:<session name>`,
 * `aws:PrincipalArn` = the role's ARN, `aws:TokenIssueTime` = the moment it was minted, and any
 * extra keys (the portal's `identitystore:UserId`).
 */
import { randomBytes } from 'node:crypto';
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

function id(prefix: string, length = 20): string {
  const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ234567';
  let out = prefix;
  for (const b of randomBytes(length - prefix.length)) out += alphabet[b % 32];
  return out;
}

export function mintRoleSession(emulator: Emulator, r: RoleSessionRequest): MintedSession {
  const now = r.now ?? new Date();
  const accessKeyId = id('ASIA');
  const session: MintedSession = {
    accessKeyId,
    secretAccessKey: randomBytes(30).toString('base64').slice(0, 40),
    sessionToken: randomBytes(96).toString('base64'),
    expiration: new Date(now.getTime() + r.durationSeconds * 1000),
    arn: `arn:aws:sts::${r.account}:assumed-role/${r.role.roleName}/${r.sessionName}`,
    userId: `${r.role.roleId}:${r.sessionName}`,
    tokenIssueTime: now.toISOString(),
  };
  const record: StsSession = {
    account: r.account,
    arn: session.arn,
    userId: session.userId,
    expiration: session.expiration.toISOString(),
    tokenIssueTime: session.tokenIssueTime,
    principalArn: `arn:aws:iam::${r.account}:role${r.role.path}${r.role.roleName}`,
    source: r.source,
    extraContext: { ...(r.extraContext ?? {}) },
  };
  emulator.state<StsState>('sts').sessions[accessKeyId] = record;
  emulator.registerAccessKey(accessKeyId, r.account);
  return session;
}
