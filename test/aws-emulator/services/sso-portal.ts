/**
 * The AWS access portal's `GetRoleCredentials`, approximated: a user who is signed in to the portal
 * asks for credentials of one of their permission sets in one account, and gets a session of the
 * `AWSReservedSSO_*` role that provisioning made there (./sso-roles.ts).
 *
 * - The user must exist in the instance's identity store and not be disabled (`UnauthorizedException`).
 * - The user must hold an assignment of the set on the account, directly or through a group they are
 *   a member of, and the set must be provisioned there (else `ForbiddenException`, "No access", as the
 *   portal answers).
 * - The session's name is the user's `UserName`, its duration the set's `SessionDuration` as last
 *   provisioned, and it carries `identitystore:UserId` in its request context.
 * The Portal API reference lists `UnauthorizedException` and `ResourceNotFoundException` for
 * GetRoleCredentials; for a role the user is not assigned, the portal answers `ForbiddenException`
 * "No access" (what the AWS CLI reports), which the emulator follows.
 *
 * Not modelled: the portal sign-in itself (SSO OIDC device or browser flows, access tokens, the portal
 * session's own 8-hour default and its revocation), `sso:ListAccounts` / `ListAccountRoles`, and the
 * SAML assertion Identity Center sends to the reserved role's `AWSSSO_*_DO_NOT_DELETE` provider: the
 * session is minted directly, as the portal's own credentials would be.
 */
import { AwsError } from '../protocol.js';
import type { Emulator } from '../server.js';
import { mintRoleSession } from '../sessions.js';
import type { IdentitystoreState } from './identitystore.js';
import type { SsoAdminState, StoredPermissionSet } from './sso-admin.js';
import { reservedRoleOf } from './sso-roles.js';

export interface PortalRoleCredentials {
  readonly roleCredentials: { readonly accessKeyId: string; readonly secretAccessKey: string; readonly sessionToken: string; readonly expiration: number };
  readonly accountId: string;
  readonly roleName: string;
  readonly roleArn: string;
  /** arn:aws:sts::A:assumed-role/AWSReservedSSO_.../UserName */
  readonly arn: string;
  /** ROLEID:UserName */
  readonly assumedRoleId: string;
}

function need(input: Record<string, unknown>, name: string): string {
  const v = input[name];
  if (typeof v !== 'string' || v === '') throw new AwsError('InvalidRequestException', `${name} is required`);
  return v;
}

function noAccess(): AwsError {
  return new AwsError('ForbiddenException', 'No access', 403);
}

function permissionSet(state: SsoAdminState, input: Record<string, unknown>): StoredPermissionSet {
  const arn = input['permissionSetArn'];
  const name = input['permissionSetName'];
  const instance = typeof input['instanceArn'] === 'string' ? input['instanceArn'] : undefined;
  const found = Object.values(state.permissionSets).filter(
    (ps) => (instance === undefined || ps.InstanceArn === instance) && (typeof arn === 'string' ? ps.PermissionSetArn === arn : typeof name === 'string' && ps.Name === name),
  );
  if (found.length !== 1) throw noAccess();
  return found[0] as StoredPermissionSet;
}

export function getRoleCredentials(emulator: Emulator, state: SsoAdminState, input: Record<string, unknown>): PortalRoleCredentials {
  const userId = need(input, 'userId');
  const accountId = need(input, 'accountId');
  const ps = permissionSet(state, input);
  const storeId = state.instances.find((i) => i.InstanceArn === ps.InstanceArn)?.IdentityStoreId ?? '';
  const store = emulator.state<IdentitystoreState>('identitystore').stores[storeId];
  const user = store?.users[userId];
  if (!store || !user) throw new AwsError('UnauthorizedException', 'Session token not found or invalid', 401);
  if (user.UserStatus === 'DISABLED') throw new AwsError('UnauthorizedException', 'The user is disabled', 401);
  const groups = new Set(Object.values(store.memberships).filter((m) => m.UserId === userId).map((m) => m.GroupId));
  const assigned = state.assignments.some(
    (a) => a.PermissionSetArn === ps.PermissionSetArn && a.AccountId === accountId && ((a.PrincipalType === 'USER' && a.PrincipalId === userId) || (a.PrincipalType === 'GROUP' && groups.has(a.PrincipalId))),
  );
  if (!assigned) throw noAccess();
  const provisioned = reservedRoleOf(emulator, state, ps.PermissionSetArn, accountId);
  if (!provisioned) throw noAccess();
  const role = provisioned.role;
  const session = mintRoleSession(emulator, {
    account: accountId,
    role,
    sessionName: user.UserName,
    source: 'SSO',
    durationSeconds: provisioned.sessionSeconds,
    extraContext: { 'identitystore:UserId': userId },
  });
  return {
    roleCredentials: { accessKeyId: session.accessKeyId, secretAccessKey: session.secretAccessKey, sessionToken: session.sessionToken, expiration: session.expiration.getTime() },
    accountId,
    roleName: role.roleName,
    roleArn: `arn:aws:iam::${accountId}:role${role.path}${role.roleName}`,
    arn: session.arn,
    assumedRoleId: session.userId,
  };
}
