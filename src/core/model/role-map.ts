/**
 * The role map as the core sees it: the validated, resolved form of the YAML in `config/`.
 * The shell's config loader turns the file into this (account aliases become 12-digit ids,
 * policy documents are parsed, secrets stay references); the core never reads files.
 */
import type { GroupRef } from './directory.js';
import type { PolicyDocument } from './policy.js';

export type AccountId = string; // 12 digits

export interface Account {
  readonly alias: string;
  readonly id: AccountId;
  /** Role rolemap assumes in this account; absent means the base credentials act there directly. */
  readonly assumeRoleArn?: string | undefined;
  readonly externalId?: string | undefined;
}

/** One IAM role that members of one AD group may assume, in one account, through SAML. */
export interface FederatedRoleSpec {
  readonly group: GroupRef;
  readonly account: AccountId;
  readonly roleName: string;
  readonly path: string; // "/" by default
  readonly description: string;
  readonly maxSessionDuration: number; // seconds, 3600..43200
  readonly permissionsBoundary: string | null;
  readonly managedPolicyArns: readonly string[];
  readonly inlinePolicies: Readonly<Record<string, PolicyDocument>>;
  readonly tags: Readonly<Record<string, string>>;
  /** SAML provider name in that account: the trust principal is arn:aws:iam::ACCOUNT:saml-provider/NAME. */
  readonly samlProvider: string;
  /** Also allow sts:TagSession in the trust policy. */
  readonly allowTagSession: boolean;
  /** Take over a role of this name that exists without rolemap's owner tag. */
  readonly adopt: boolean;
}

/**
 * The ADFS convention: every AD group whose name matches `AWS-<account id>-<role name>`
 * (the regex is configurable and must capture `account` and `role`) produces one role.
 */
export interface FederatedRolePattern {
  readonly regex: string;
  readonly template: Omit<FederatedRoleSpec, 'group' | 'account' | 'roleName'>;
}

export interface PermissionSetSpec {
  readonly name: string;
  readonly description: string;
  readonly sessionDuration: string; // ISO-8601 duration, e.g. PT8H
  readonly managedPolicyArns: readonly string[];
  readonly customerManagedPolicies: readonly { readonly name: string; readonly path: string }[];
  readonly inlinePolicy: PolicyDocument | null;
  readonly permissionsBoundary:
    | { readonly managedPolicyArn: string }
    | { readonly customerManaged: { readonly name: string; readonly path: string } }
    | null;
  readonly tags: Readonly<Record<string, string>>;
}

export interface AssignmentSpec {
  readonly group: GroupRef;
  readonly permissionSet: string;
  readonly accounts: readonly AccountId[];
}

/** Which AD attribute becomes which Identity Center user attribute. */
export interface UserAttributeMapping {
  readonly userName: 'userPrincipalName' | 'sAMAccountName' | 'mail';
  readonly displayName: 'displayName' | 'userPrincipalName' | 'sAMAccountName';
  readonly email: 'mail' | 'userPrincipalName';
  /** Identity Center group display name: AD `name` (cn) or sAMAccountName. */
  readonly groupDisplayName: 'name' | 'sAMAccountName';
}

export interface IdentityCenterSpec {
  readonly instanceArn: string;
  readonly identityStoreId: string;
  /** The account Identity Center lives in (the management or delegated admin account). */
  readonly account: AccountId;
  readonly permissionSets: readonly PermissionSetSpec[];
  readonly assignments: readonly AssignmentSpec[];
  readonly userAttributes: UserAttributeMapping;
  /** Take over users / groups of the wanted name that exist without rolemap's marker. */
  readonly adoptUsers: boolean;
  readonly adoptGroups: boolean;
}

/** The AD attribute ADFS sends as the SAML RoleSessionName (AWS's ADFS guide uses mail or the UPN). */
export type RoleSessionNameSource = 'userPrincipalName' | 'sAMAccountName' | 'mail';

export interface LeaverPolicy {
  /** `delete`: strip access then delete the identity store user. `remove-access`: strip access, keep the user. */
  readonly identityCenter: 'delete' | 'remove-access';
  /** Deny live sessions of leavers (IAM roles: aws:userid + aws:TokenIssueTime; permission sets: identitystore:UserId). */
  readonly revokeSessions: boolean;
  /** What ADFS sends as RoleSessionName, so a revocation can match `aws:userid` = ROLE-ID:<session name>. */
  readonly roleSessionName: RoleSessionNameSource;
  readonly iamUsers: {
    /** Deactivate access keys and delete the console password of IAM users linked to a leaver. */
    readonly disableCredentials: boolean;
    /** Tag on an IAM user whose value names the AD account (sAMAccountName or UPN). */
    readonly linkTag: string;
    /** Or a name pattern with a capture group `sam`, e.g. `^(?<sam>[a-z0-9.]+)-legacy$`. */
    readonly namePattern: string | null;
    /** Warn about keys older than this many days. */
    readonly keyAgeWarningDays: number;
  };
}

export interface SafetyPolicy {
  /** Value of the `rolemap:owner` tag / marker; only objects carrying it are changed or deleted. */
  readonly ownerId: string;
  /** Refuse a plan that deletes more than this many objects... */
  readonly maxDeletes: number;
  /** ...or more than this percentage of the objects rolemap manages... */
  readonly maxDeletePercent: number;
  /**
   * ...a percentage that applies only when rolemap manages more than this many objects: of a handful,
   * one deletion is a large percentage (a fresh install), and maxDeletes still bounds it. The config
   * always sets it (default 20); absent means 0 (the percentage always applies).
   */
  readonly maxDeletePercentFloor?: number | undefined;
  /** Refuse to plan when the directory returns fewer users than this. */
  readonly minDirectoryUsers: number;
  /** Principals never touched: AD sAMAccountName / UPN / guid, IAM role names, Identity Center user or group names. */
  readonly protectedPrincipals: readonly string[];
}

/** Opt-in key rotation (`posture.rotation`): over-age access keys of IAM users rolemap is told about. */
export interface RotationPolicy {
  readonly maxKeyAgeDays: number;
  /** `warn`: the posture report only; `deactivate`: over-age keys are planned as `disable`. */
  readonly action: 'warn' | 'deactivate';
  /** Regexes on IAM user names rotated besides those linked to AD (leavers.iamUsers.linkTag / namePattern). */
  readonly users: readonly string[];
}

export interface RoleMap {
  readonly accounts: readonly Account[];
  readonly federatedRoles: readonly FederatedRoleSpec[];
  readonly federatedRolePatterns: readonly FederatedRolePattern[];
  readonly identityCenter: IdentityCenterSpec | null;
  readonly leavers: LeaverPolicy;
  readonly safety: SafetyPolicy;
  /** Absent: no key rotation. */
  readonly rotation?: RotationPolicy | undefined;
}

/** Account id -> alias (the id itself for an account the role map does not name), for addresses such as `iam_role.prod.Admin`. */
export function aliasOf(roleMap: RoleMap): (id: AccountId) => string {
  const aliases = new Map(roleMap.accounts.map((a) => [a.id, a.alias]));
  return (id) => aliases.get(id) ?? id;
}
