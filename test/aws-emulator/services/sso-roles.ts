/**
 * What Identity Center does in a member account when it provisions a permission set there
 * (https://docs.aws.amazon.com/singlesignon/latest/userguide/referencingpermissionsets.html,
 * https://docs.aws.amazon.com/singlesignon/latest/userguide/howtocmp.html):
 *
 * - a role `AWSReservedSSO_<PermissionSetName>_<16 hex>` at the path `/aws-reserved/sso.amazonaws.com/`
 *   (with the Identity Center region appended, `/aws-reserved/sso.amazonaws.com/eu-west-2/`, outside
 *   us-east-1), holding the permission set's AWS managed policies, its customer managed policy
 *   references (as `arn:aws:iam::ACCOUNT:policy<path><name>`), its inline policy (`AwsSSOInlinePolicy`),
 *   its permissions boundary, and `MaxSessionDuration` 12 hours (the portal's sessions last the set's
 *   `SessionDuration` as provisioned: https://docs.aws.amazon.com/singlesignon/latest/userguide/howtosessionduration.html);
 * - trusting the account's SAML provider `AWSSSO_<16 hex>_DO_NOT_DELETE` (created with the first role)
 *   for `sts:AssumeRoleWithSAML` and `sts:TagSession` with `SAML:aud` = https://signin.aws.amazon.com/saml.
 *
 * The role is a snapshot taken when provisioning completes (`ProvisionPermissionSet`, or the implicit
 * provisioning of `CreateAccountAssignment`): changing the permission set afterwards leaves it alone
 * until the next provisioning, as on AWS. Deleting the last assignment of the set in the account
 * deletes the role; a later assignment creates a new role with a new suffix.
 */
import { randomBytes } from 'node:crypto';
import { newId } from '../auth/principals.js';
import type { Emulator } from '../server.js';
import type { IamAccount, IamState, RoleRec } from './iam.js';
import { emptyIamAccount } from './iam.js';
import type { SsoAdminState, StoredPermissionSet } from './sso-admin.js';

export const SSO_INLINE_POLICY_NAME = 'AwsSSOInlinePolicy';
const SIGNIN_AUDIENCE = 'https://signin.aws.amazon.com/saml';

/** The role a provisioning made, and the set's session duration (seconds) as provisioned. */
export interface ReservedRole {
  roleName: string;
  sessionSeconds: number;
}

/** Where the provisioned roles of each permission set live: permission set ARN -> account -> role. */
export type ReservedRoles = Record<string, Record<string, ReservedRole>>;

/** The reserved-role map of the SSO Admin state (created on first use; absent in older dumps). */
export function reservedRoles(state: SsoAdminState): ReservedRoles {
  state.reservedRoles ??= {};
  return state.reservedRoles;
}

export function reservedRolePath(region: string): string {
  return region === 'us-east-1' ? '/aws-reserved/sso.amazonaws.com/' : `/aws-reserved/sso.amazonaws.com/${region}/`;
}

function iamAccountOf(emulator: Emulator, accountId: string): IamAccount {
  const iam = emulator.state<IamState>('iam');
  iam.accounts[accountId] ??= emptyIamAccount();
  return iam.accounts[accountId] as IamAccount;
}

function sessionSeconds(duration: string): number {
  const m = /^PT(?:(\d+)H)?(?:(\d+)M)?$/.exec(duration);
  return m ? Number(m[1] ?? 0) * 3600 + Number(m[2] ?? 0) * 60 : 3600;
}

function hex16(): string {
  return randomBytes(8).toString('hex');
}

/** The account's Identity Center SAML provider, `AWSSSO_<16 hex>_DO_NOT_DELETE`, created when missing. */
export function ssoSamlProviderName(emulator: Emulator, accountId: string): string {
  const acct = iamAccountOf(emulator, accountId);
  const existing = Object.keys(acct.samlProviders).find((n) => /^AWSSSO_[0-9a-f]{16}_DO_NOT_DELETE$/.test(n));
  if (existing) return existing;
  const name = `AWSSSO_${hex16()}_DO_NOT_DELETE`;
  const created = new Date();
  acct.samlProviders[name] = {
    name,
    // Identity Center's own IdP: its sign-ins go through the portal (sso-portal.ts), not a test IdP's responses.
    metadata: `<EntityDescriptor xmlns="urn:oasis:names:tc:SAML:2.0:metadata" entityID="https://portal.sso.us-east-1.amazonaws.com/saml/assertion/emulator"><IDPSSODescriptor protocolSupportEnumeration="urn:oasis:names:tc:SAML:2.0:protocol"/></EntityDescriptor>`,
    createDate: created.toISOString(),
    validUntil: new Date(created.getTime() + 100 * 365 * 86400_000).toISOString(),
    uuid: `p${hex16()}`,
    tags: [],
  };
  return name;
}

function trustPolicy(accountId: string, providerName: string): string {
  return JSON.stringify({
    Version: '2012-10-17',
    Statement: [
      {
        Effect: 'Allow',
        Principal: { Federated: `arn:aws:iam::${accountId}:saml-provider/${providerName}` },
        Action: ['sts:AssumeRoleWithSAML', 'sts:TagSession'],
        Condition: { StringEquals: { 'SAML:aud': SIGNIN_AUDIENCE } },
      },
    ],
  });
}

function customerPolicyArn(accountId: string, ref: { Name: string; Path: string }): string {
  return `arn:aws:iam::${accountId}:policy${ref.Path || '/'}${ref.Name}`;
}

/** Creates or refreshes the permission set's role in `accountId` from the set as it is now. */
export function provisionReservedRole(emulator: Emulator, state: SsoAdminState, ps: StoredPermissionSet, accountId: string): RoleRec {
  const acct = iamAccountOf(emulator, accountId);
  const byAccount = (reservedRoles(state)[ps.PermissionSetArn] ??= {});
  const known = byAccount[accountId];
  let role = known ? acct.roles[known.roleName.toLowerCase()] : undefined;
  if (!role) {
    const roleName = `AWSReservedSSO_${ps.Name}_${hex16()}`;
    role = {
      roleName,
      roleId: newId('AROA', 21),
      path: reservedRolePath(state.region ?? 'us-east-1'),
      createDate: new Date().toISOString(),
      assumeRolePolicyDocument: trustPolicy(accountId, ssoSamlProviderName(emulator, accountId)),
      maxSessionDuration: 43200,
      tags: [],
      attachedPolicies: [],
      inlinePolicies: {},
    };
    acct.roles[roleName.toLowerCase()] = role;
  }
  byAccount[accountId] = { roleName: role.roleName, sessionSeconds: sessionSeconds(ps.SessionDuration) };
  role.description = ps.Description;
  role.attachedPolicies = [...ps.ManagedPolicies.map((m) => m.Arn), ...ps.CustomerManagedPolicies.map((c) => customerPolicyArn(accountId, c))];
  role.inlinePolicies = ps.InlinePolicy === null ? {} : { [SSO_INLINE_POLICY_NAME]: ps.InlinePolicy };
  const b = ps.PermissionsBoundary;
  role.permissionsBoundary = b === null ? undefined : (b.ManagedPolicyArn ?? (b.CustomerManagedPolicyReference ? customerPolicyArn(accountId, b.CustomerManagedPolicyReference) : undefined));
  return role;
}

/** Deletes the permission set's role in `accountId`, if it has one. */
export function removeReservedRole(emulator: Emulator, state: SsoAdminState, permissionSetArn: string, accountId: string): void {
  const byAccount = reservedRoles(state)[permissionSetArn];
  const known = byAccount?.[accountId];
  if (!byAccount || known === undefined) return;
  delete iamAccountOf(emulator, accountId).roles[known.roleName.toLowerCase()];
  delete byAccount[accountId];
}

/** The permission set's current role in `accountId` and its provisioned session duration, if provisioned. */
export function reservedRoleOf(emulator: Emulator, state: SsoAdminState, permissionSetArn: string, accountId: string): { role: RoleRec; sessionSeconds: number } | undefined {
  const known = reservedRoles(state)[permissionSetArn]?.[accountId];
  const role = known === undefined ? undefined : emulator.state<IamState>('iam').accounts[accountId]?.roles[known.roleName.toLowerCase()];
  return known && role ? { role, sessionSeconds: known.sessionSeconds } : undefined;
}
