/**
 * Identity Center sign-in for tests: what a person gets from the AWS access portal when they pick a
 * permission set in an account (the portal's `GetRoleCredentials`). The emulator checks the user's
 * assignments (direct or through groups) and mints a session of the `AWSReservedSSO_*` role that
 * provisioning made, named after the user's `UserName` and carrying `identitystore:UserId`
 * (test/aws-emulator/services/sso-portal.ts says what is approximated).
 *
 * ```ts
 * const session = await portalCredentials(emulator, { userId, permissionSetName: 'Developer', accountId: PROD });
 * const sts = new STSClient({ endpoint: emulator.url, region: 'us-east-1', credentials: session.credentials });
 * ```
 * Refusals throw a `PortalError` whose `name` is the portal's error code (`ForbiddenException`,
 * `UnauthorizedException`).
 */
import type { Emulator } from '../aws-emulator/server.js';
import { AwsError } from '../aws-emulator/protocol.js';
import type { PortalRoleCredentials } from '../aws-emulator/services/sso-portal.js';
import type { SessionCredentials } from './saml-login.js';

export interface PortalRequest {
  /** The identity store UserId of the signed-in person. */
  readonly userId: string;
  readonly accountId: string;
  readonly permissionSetArn?: string;
  /** Instead of the ARN: the permission set's name (unique per instance). */
  readonly permissionSetName?: string;
  readonly instanceArn?: string;
}

export interface PortalSession {
  readonly credentials: SessionCredentials;
  /** arn:aws:sts::A:assumed-role/AWSReservedSSO_<set>_<suffix>/<UserName> */
  readonly arn: string;
  /** ROLEID:UserName */
  readonly assumedRoleId: string;
  readonly roleName: string;
  readonly roleArn: string;
}

export class PortalError extends Error {
  constructor(
    readonly code: string,
    message: string,
  ) {
    super(message);
    this.name = code;
  }
}

function toSession(r: PortalRoleCredentials): PortalSession {
  const c = r.roleCredentials;
  return {
    credentials: { accessKeyId: c.accessKeyId, secretAccessKey: c.secretAccessKey, sessionToken: c.sessionToken, expiration: new Date(c.expiration) },
    arn: r.arn,
    assumedRoleId: r.assumedRoleId,
    roleName: r.roleName,
    roleArn: r.roleArn,
  };
}

/** An emulator in this process, or the URL of one in another (its control endpoint is used). */
export async function portalCredentials(target: Emulator | string, request: PortalRequest): Promise<PortalSession> {
  const input = { ...request } as Record<string, unknown>;
  if (typeof target !== 'string') {
    try {
      return toSession(target.control('sso', 'getRoleCredentials', input) as PortalRoleCredentials);
    } catch (e) {
      if (e instanceof AwsError) throw new PortalError(e.code, e.message);
      throw e;
    }
  }
  const res = await fetch(`${target}/__emulator/service/sso/getRoleCredentials`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(input) });
  const body = (await res.json()) as Record<string, unknown>;
  if (!res.ok) throw new PortalError(typeof body['code'] === 'string' ? body['code'] : 'PortalError', String(body['message'] ?? body['error'] ?? res.status));
  return toSession(body as unknown as PortalRoleCredentials);
}
