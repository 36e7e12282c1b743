/**
 * The AWS side of the model: every object rolemap reads, plans and changes is a `Resource`
 * of one `ResourceKind`, with typed attributes. The diff is generic over attributes; each
 * attribute has an `AttrType` that says how to compare it (a policy by meaning, a set without order).
 *
 * Identity (`id`) is what matches a desired resource to an actual one. It is chosen so that a
 * rename in AD is an update, never delete-and-create: Identity Center users and groups are keyed
 * by the AD objectGUID, not by their names.
 */
import type { Guid } from './directory.js';
import type { PolicyDocument } from './policy.js';
import type { AccountId } from './role-map.js';

export const RESOURCE_KINDS = [
  'iam_role',
  'iam_role_revocations',
  'iam_user_credentials',
  'identitystore_group',
  'identitystore_user',
  'identitystore_membership',
  'sso_permission_set',
  'sso_permission_set_revocations',
  'sso_account_assignment',
] as const;
export type ResourceKind = (typeof RESOURCE_KINDS)[number];

/** A federated IAM role. id: `<account>/<roleName>`. */
export interface IamRoleAttrs {
  readonly path: string;
  readonly description: string;
  readonly maxSessionDuration: number;
  readonly permissionsBoundary: string | null;
  readonly trustPolicy: PolicyDocument;
  readonly managedPolicyArns: readonly string[];
  /** Inline policies other than rolemap's own revocation policy (see `iam_role_revocations`). */
  readonly inlinePolicies: Readonly<Record<string, PolicyDocument>>;
  readonly tags: Readonly<Record<string, string>>;
}

/**
 * The inline deny policy `rolemap-revoked-sessions` on one role. id: `<account>/<roleName>`.
 * entries: role session name (UPN or sAMAccountName as ADFS sends it) -> revocation instant (ISO).
 * An entry is pruned once it is older than the role's max session duration.
 */
export interface RevocationsAttrs {
  readonly entries: Readonly<Record<string, string>>;
}

/**
 * The long-lived credentials of one legacy IAM user linked to an AD account. id: `<account>/<userName>`.
 * rolemap never creates or deletes these users; it only switches off a leaver's credentials.
 */
export interface IamUserCredentialsAttrs {
  /** access key id -> status */
  readonly accessKeys: Readonly<Record<string, 'Active' | 'Inactive'>>;
  /** Has a console password (login profile). */
  readonly loginProfile: boolean;
  /**
   * The instant of rolemap's user-level deny (inline policy `rolemap-revoked-sessions`: everything denied to
   * temporary credentials whose `aws:TokenIssueTime` is before it), or null/absent when there is none.
   * Deactivating keys leaves `GetSessionToken` credentials working for up to 36 hours; only this cuts them.
   */
  readonly sessionsRevokedBefore?: string | null | undefined;
  /**
   * access key id -> creation (ISO), as read; not compared (not in ATTR_SCHEMA). The key rotation pass
   * (posture.rotation) judges ages by it.
   */
  readonly keyCreatedAt?: Readonly<Record<string, string>> | undefined;
}

/** An Identity Center group. id: the AD group's guid. */
export interface IdentityStoreGroupAttrs {
  readonly displayName: string;
  /** Carries rolemap's ownership marker and the AD guid, so both survive a rename and a lost journal. */
  readonly description: string;
}

/** An Identity Center user. id: the AD user's guid. */
export interface IdentityStoreUserAttrs {
  readonly userName: string;
  readonly displayName: string;
  readonly givenName: string;
  readonly familyName: string;
  readonly email: string | null;
}

/** Membership of a user in a group. id: `<groupGuid>/<userGuid>`. No attributes: it exists or not. */
export type IdentityStoreMembershipAttrs = Readonly<Record<string, never>>;

/** A permission set. id: its name. */
export interface PermissionSetAttrs {
  readonly description: string;
  readonly sessionDuration: string;
  readonly managedPolicyArns: readonly string[];
  /** `path + name`, e.g. `/team/ReadS3`. */
  readonly customerManagedPolicies: readonly string[];
  readonly inlinePolicy: PolicyDocument | null;
  /** A managed policy ARN, or `customer:/path/name`, or null. */
  readonly permissionsBoundary: string | null;
  readonly tags: Readonly<Record<string, string>>;
}

/** Deny statements on a permission set for leavers' live sessions. id: permission set name. entries: identity store UserId -> instant. */
export type PermissionSetRevocationsAttrs = RevocationsAttrs;

/** A group's permission set on an account. id: `<permissionSetName>/<account>/<groupGuid>`. No attributes. */
export type AccountAssignmentAttrs = Readonly<Record<string, never>>;

export interface AttrsByKind {
  iam_role: IamRoleAttrs;
  iam_role_revocations: RevocationsAttrs;
  iam_user_credentials: IamUserCredentialsAttrs;
  identitystore_group: IdentityStoreGroupAttrs;
  identitystore_user: IdentityStoreUserAttrs;
  identitystore_membership: IdentityStoreMembershipAttrs;
  sso_permission_set: PermissionSetAttrs;
  sso_permission_set_revocations: PermissionSetRevocationsAttrs;
  sso_account_assignment: AccountAssignmentAttrs;
}

/**
 * How an attribute compares: `scalar` by value, `set` as an unordered list of strings,
 * `policy` by meaning, `policyMap` as name -> policy, `stringMap` as key -> string (tags, entries).
 */
export type AttrType = 'scalar' | 'set' | 'policy' | 'policyMap' | 'stringMap';

/** Attributes read for judgement only, never compared, digested or rendered as drift. */
type ObservedOnly = 'keyCreatedAt';

export const ATTR_SCHEMA: { readonly [K in ResourceKind]: { readonly [A in Exclude<keyof AttrsByKind[K], ObservedOnly>]-?: AttrType } } = {
  iam_role: {
    path: 'scalar',
    description: 'scalar',
    maxSessionDuration: 'scalar',
    permissionsBoundary: 'scalar',
    trustPolicy: 'policy',
    managedPolicyArns: 'set',
    inlinePolicies: 'policyMap',
    tags: 'stringMap',
  },
  iam_role_revocations: { entries: 'stringMap' },
  iam_user_credentials: { accessKeys: 'stringMap', loginProfile: 'scalar', sessionsRevokedBefore: 'scalar' },
  identitystore_group: { displayName: 'scalar', description: 'scalar' },
  identitystore_user: { userName: 'scalar', displayName: 'scalar', givenName: 'scalar', familyName: 'scalar', email: 'scalar' },
  identitystore_membership: {},
  sso_permission_set: {
    description: 'scalar',
    sessionDuration: 'scalar',
    managedPolicyArns: 'set',
    customerManagedPolicies: 'set',
    inlinePolicy: 'policy',
    permissionsBoundary: 'scalar',
    tags: 'stringMap',
  },
  sso_permission_set_revocations: { entries: 'stringMap' },
  sso_account_assignment: {},
};

const ATTR_ENTRIES = new Map<ResourceKind, readonly (readonly [string, AttrType])[]>(
  (Object.keys(ATTR_SCHEMA) as ResourceKind[]).map((k) => [k, Object.entries(ATTR_SCHEMA[k] as Readonly<Record<string, AttrType>>)]),
);

/** `ATTR_SCHEMA[kind]` as (name, type) pairs in schema order, computed once per kind. */
export function attrEntries(kind: ResourceKind): readonly (readonly [string, AttrType])[] {
  return ATTR_ENTRIES.get(kind) ?? [];
}

/** The AD principal a resource is about, for plans and the journal. */
export interface PrincipalRef {
  readonly guid: Guid;
  /** sAMAccountName, for people. */
  readonly name: string;
}

/**
 * The attrs of a resource that has none (memberships, account assignments): one shared, frozen empty
 * object for all of them (an own `{}` each is ~3 MB per 100,000 resources), in the desired state and as read.
 */
export const NO_ATTRS: Readonly<Record<string, never>> = Object.freeze({});

interface ResourceBase<K extends ResourceKind> {
  readonly kind: K;
  /** Identity within the kind; see each kind's attrs for its form. */
  readonly id: string;
  /** Account the object lives in; Identity Center objects live in the Identity Center account. */
  readonly account: AccountId;
  /**
   * The name AWS itself keeps unique (role name, UserName, group DisplayName, permission set name).
   * Two resources of one kind and account with the same name collide even when their ids differ.
   */
  readonly name: string;
  readonly attrs: AttrsByKind[K];
  /**
   * Actual state only: does the object carry this rolemap's ownership mark (owner tag, description
   * marker)? Desired resources are always owned. rolemap never changes what it does not own,
   * except for adoption that the role map asks for and leavers' IAM user credentials.
   */
  readonly owned: boolean;
  /** Actual state only: AWS's own id (role id, UserId, GroupId, PermissionSetArn, MembershipId). */
  readonly awsId?: string | undefined;
  /** The AD principal this resource concerns (users, groups, memberships, linked IAM users). */
  readonly principal?: PrincipalRef | undefined;
  /** Ids of resources that must exist before this one (a membership needs its user and group). */
  readonly dependsOn?: readonly ResourceKey[] | undefined;
}

export type ResourceOf<K extends ResourceKind> = ResourceBase<K>;
export type Resource = { [K in ResourceKind]: ResourceBase<K> }[ResourceKind];

/** `<kind>:<id>`: unique across a whole state. */
export type ResourceKey = string;
export function resourceKey(r: { readonly kind: ResourceKind; readonly id: string }): ResourceKey {
  return `${r.kind}:${r.id}`;
}

/** Human address used in plans and the journal: `iam_role.prod.Admin`, `identitystore_user.jdoe`. */
export function resourceAddress(r: Resource, accountAlias?: (id: AccountId) => string): string {
  const acct = accountAlias ? accountAlias(r.account) : r.account;
  switch (r.kind) {
    case 'iam_role':
    case 'iam_role_revocations':
    case 'iam_user_credentials':
      return `${r.kind}.${acct}.${r.name}`;
    case 'sso_account_assignment':
      return `${r.kind}.${r.name}`;
    default:
      return `${r.kind}.${r.name}`;
  }
}
