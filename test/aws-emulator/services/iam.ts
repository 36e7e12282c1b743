/**
 * IAM over the query protocol, per account: SAML providers, roles (trust policy, description,
 * max session duration, boundary, tags, attached managed policies, inline policies), IAM users
 * (tags, access keys, login profiles, MFA devices), `ListRoles` / `ListUsers` and
 * `GetAccountAuthorizationDetails` with `Marker` / `IsTruncated` / `MaxItems` paging.
 *
 * Behaviour follows the IAM API reference where rolemap can observe it:
 * - names of roles and users are unique without regard to case;
 * - policy documents come back URL-encoded; trust policies are stored in AWS's compact form
 *   (one-element lists collapsed), inline policies byte for byte as sent;
 * - a trust policy naming a SAML provider of the same account that does not exist is
 *   `MalformedPolicyDocument` ("Invalid principal in policy"), as in AWS;
 * - quotas: 10 managed policies per role, 50 tags, 2 access keys per user, trust policy 2,048
 *   and inline policies 10,240 non-whitespace characters per role (`LimitExceeded`);
 * - `DeleteRole` with attached or inline policies, or while the role is in an instance profile, is
 *   `DeleteConflict`; an instance profile holds at most one role;
 * - tags follow API_Tag (key 1..128, value 0..256, letters, numbers, spaces and `_.:/=+-@`), no
 *   `aws:` prefix (`InvalidInput`), and the keys of a role's or user's tags compare without regard
 *   to case (the case last written is kept);
 * - descriptions: at most 1,000 characters of `[\u0009\u000A\u000D\u0020-\u007E\u00A1-\u00FF]`;
 * - policy grammar: a permissions policy's statements need `Effect`, `Action`/`NotAction` and
 *   `Resource`/`NotResource` and no `Principal`; a trust policy's need `Principal` and no `Resource`;
 * - `UpdateRole` without `MaxSessionDuration` sets the one-hour default (API_UpdateRole).
 * Not modelled: customer managed policies as objects (any well-formed policy ARN attaches),
 * groups, eventual consistency. docs/emulator.md has the table with the pages followed.
 */
import { randomBytes } from 'node:crypto';
import type { RequestContext, ServiceDef } from '../server.js';
import { AwsError } from '../protocol.js';
import type { QueryValue } from '../protocol.js';
import { newSecret, userPrincipal } from '../auth/principals.js';
import { checkPolicyGrammar } from './policy-grammar.js';
import type { PolicyKind } from './policy-grammar.js';
import { postureControls, postureOps, userPolicyDetail } from './iam-posture.js';

export interface TagRec {
  Key: string;
  Value: string;
}

export interface SamlProviderRec {
  name: string;
  metadata: string;
  createDate: string;
  validUntil: string;
  uuid: string;
  tags: TagRec[];
}

export interface RoleRec {
  roleName: string;
  roleId: string;
  path: string;
  createDate: string;
  /** The trust policy as stored (AWS's compact form), not encoded. */
  assumeRolePolicyDocument: string;
  description?: string | undefined;
  maxSessionDuration: number;
  permissionsBoundary?: string | undefined;
  tags: TagRec[];
  attachedPolicies: string[];
  /** name -> document text exactly as sent. */
  inlinePolicies: Record<string, string>;
  lastUsed?: { date: string; region: string } | undefined;
}

export interface AccessKeyRec {
  accessKeyId: string;
  status: 'Active' | 'Inactive';
  createDate: string;
  lastUsed?: { date: string; serviceName: string; region: string } | undefined;
}

export interface InstanceProfileRec {
  name: string;
  id: string;
  path: string;
  createDate: string;
  /** Lower-case role names; AWS allows one. */
  roles: string[];
  tags: TagRec[];
}

export interface UserRec {
  userName: string;
  userId: string;
  path: string;
  createDate: string;
  tags: TagRec[];
  accessKeys: AccessKeyRec[];
  loginProfile?: { createDate: string; passwordResetRequired: boolean } | undefined;
  mfaDevices: { serialNumber: string; enableDate: string }[];
  passwordLastUsed?: string | undefined;
  /** Identity policies (services/iam-identity-policies.ts): name -> document as sent. */
  inlinePolicies?: Record<string, string> | undefined;
  attachedPolicies?: string[] | undefined;
  permissionsBoundary?: string | undefined;
  /** Lower-case names of the groups the user is in. */
  groups?: string[] | undefined;
}

export interface GroupRec {
  groupName: string;
  groupId: string;
  path: string;
  createDate: string;
  inlinePolicies: Record<string, string>;
  attachedPolicies: string[];
}

/** A customer managed policy: its versions, one of them the default. */
export interface ManagedPolicyRec {
  policyName: string;
  policyId: string;
  path: string;
  createDate: string;
  description?: string | undefined;
  defaultVersionId: string;
  versions: Record<string, { document: string; createDate: string }>;
}

export interface IamAccount {
  samlProviders: Record<string, SamlProviderRec>;
  /** Keyed by lower-case role name (IAM names are unique without regard to case). */
  roles: Record<string, RoleRec>;
  /** Keyed by lower-case user name. */
  users: Record<string, UserRec>;
  /** Keyed by lower-case group name. */
  groups?: Record<string, GroupRec> | undefined;
  /** Customer managed policies by ARN. */
  policies?: Record<string, ManagedPolicyRec> | undefined;
  /** Keyed by lower-case instance profile name. Absent in state dumps made before it existed. */
  instanceProfiles?: Record<string, InstanceProfileRec>;
}

export interface IamState {
  accounts: Record<string, IamAccount>;
}

export type Params = Record<string, QueryValue> & Record<string, unknown>;

const MAX_MANAGED_POLICIES_PER_ROLE = 10;
const MAX_TAGS = 50;
const MAX_ACCESS_KEYS = 2;
const MAX_TRUST_POLICY_CHARS = 2048;
const MAX_ROLE_INLINE_CHARS = 10240;
const MAX_ROLES_PER_INSTANCE_PROFILE = 1;

export function emptyIamAccount(): IamAccount {
  return { samlProviders: {}, roles: {}, users: {}, instanceProfiles: {} };
}

export function account(state: IamState, ctx: RequestContext): IamAccount {
  return iamAccount(state, ctx.account);
}

// ---------------------------------------------------------------- parameters and validation

export function str(params: Params, name: string): string | undefined {
  const v = params[name];
  if (v === undefined) return undefined;
  if (typeof v !== 'string') throw new AwsError('ValidationError', `${name} must be a string`);
  return v;
}

export function req(params: Params, name: string): string {
  const v = str(params, name);
  if (v === undefined) throw new AwsError('ValidationError', `1 validation error detected: Value null at '${lowerFirst(name)}' failed to satisfy constraint: Member must not be null`);
  return v;
}

function lowerFirst(s: string): string {
  return s.charAt(0).toLowerCase() + s.slice(1);
}

export function list(params: Params, name: string): QueryValue[] {
  const v = params[name];
  if (v === undefined || v === '') return [];
  if (Array.isArray(v)) return v;
  throw new AwsError('ValidationError', `${name} must be a list`);
}

/** API_Tag: the key and value patterns, as AWS prints them in its validation messages. */
const TAG_KEY = /^[\p{L}\p{Z}\p{N}_.:/=+\-@]+$/u;
const TAG_VALUE = /^[\p{L}\p{Z}\p{N}_.:/=+\-@]*$/u;
const TAG_KEY_PATTERN = '[\\p{L}\\p{Z}\\p{N}_.:/=+\\-@]+';
const TAG_VALUE_PATTERN = '[\\p{L}\\p{Z}\\p{N}_.:/=+\\-@]*';

function tagsParam(params: Params): TagRec[] {
  return list(params, 'Tags').map((t, i) => {
    const o = t as Record<string, unknown>;
    const at = `tags.${i + 1}.member`;
    const key = typeof o['Key'] === 'string' ? (o['Key'] as string) : '';
    const value = typeof o['Value'] === 'string' ? (o['Value'] as string) : '';
    if ([...key].length < 1 || [...key].length > 128) throw validation(key, `${at}.key`, 'Member must have length between 1 and 128');
    if (!TAG_KEY.test(key)) throw validation(key, `${at}.key`, `Member must satisfy regular expression pattern: ${TAG_KEY_PATTERN}`);
    if ([...value].length > 256) throw validation(value, `${at}.value`, 'Member must have length less than or equal to 256');
    if (!TAG_VALUE.test(value)) throw validation(value, `${at}.value`, `Member must satisfy regular expression pattern: ${TAG_VALUE_PATTERN}`);
    // id_tags.html: "You can't create tag keys or values that begin with the text aws:".
    if (key.toLowerCase().startsWith('aws:')) throw new AwsError('InvalidInput', `User-defined tag keys cannot begin with the reserved prefix aws: (${key}).`);
    return { Key: key, Value: value };
  });
}

/** AWS's wording for a constraint a member fails: `1 validation error detected: Value '...' at '...' failed to satisfy constraint: ...`. */
function validation(value: string, at: string, constraint: string): AwsError {
  return new AwsError('ValidationError', `1 validation error detected: Value '${value}' at '${at}' failed to satisfy constraint: ${constraint}`);
}

const NAME = /^[\w+=,.@-]+$/;

export function checkName(value: string, field: string, max: number): void {
  if (value.length < 1 || value.length > max || !NAME.test(value)) {
    throw new AwsError('ValidationError', `1 validation error detected: Value '${value}' at '${lowerFirst(field)}' failed to satisfy constraint: Member must satisfy regular expression pattern: [\\w+=,.@-]+ and length ${max}`);
  }
}

export function checkPath(path: string): void {
  if (path.length > 512 || !/^(\/|\/[\u0021-\u007e]+\/)$/.test(path)) {
    throw new AwsError('ValidationError', `The specified value for path is invalid. It must begin and end with / and contain only alphanumeric characters and/or / characters.`);
  }
}

function maxItems(params: Params): number {
  const raw = str(params, 'MaxItems');
  if (raw === undefined) return 100;
  const n = Number(raw);
  if (!Number.isInteger(n) || n < 1 || n > 1000) throw new AwsError('ValidationError', `1 validation error detected: Value '${raw}' at 'maxItems' failed to satisfy constraint: Member must have value between 1 and 1000`);
  return n;
}

/** Non-whitespace characters, which is how IAM counts policy size. */
function policySize(doc: string): number {
  return doc.replace(/\s/g, '').length;
}

/** A policy document as IAM checks it (./policy-grammar.ts): anything else is `MalformedPolicyDocument` with IAM's message. */
export function parsePolicy(doc: string, kind: PolicyKind = 'permissions'): Record<string, unknown> {
  const checked = checkPolicyGrammar(doc, kind);
  if (!checked.ok) throw new AwsError('MalformedPolicyDocument', checked.message);
  return checked.doc;
}

/**
 * AWS stores a trust policy in its own compact form: no whitespace, and a one-element list
 * under Action / Principal keys becomes a plain string. A client that compares text sees drift;
 * one that compares meaning does not.
 */
function awsTrustForm(doc: Record<string, unknown>): string {
  const collapse = (v: unknown, key?: string): unknown => {
    if (Array.isArray(v)) {
      const items = v.map((x) => collapse(x));
      if (items.length === 1 && key !== undefined && ['Action', 'NotAction', 'AWS', 'Federated', 'Service', 'Resource'].includes(key)) return items[0];
      return items;
    }
    if (v !== null && typeof v === 'object') {
      const out: Record<string, unknown> = {};
      for (const [k, x] of Object.entries(v as Record<string, unknown>)) out[k] = collapse(x, k);
      return out;
    }
    return v;
  };
  return JSON.stringify(collapse(doc));
}

/** Trust policies may only name SAML providers of their own account that exist. */
function checkTrustPrincipals(doc: Record<string, unknown>, acct: IamAccount, accountId: string): void {
  const statements = Array.isArray(doc['Statement']) ? (doc['Statement'] as unknown[]) : [doc['Statement']];
  for (const s of statements) {
    const principal = (s as Record<string, unknown>)['Principal'];
    if (principal === null || typeof principal !== 'object') continue;
    const fed = (principal as Record<string, unknown>)['Federated'];
    for (const arn of Array.isArray(fed) ? fed : fed === undefined ? [] : [fed]) {
      const m = /^arn:aws:iam::(\d{12}):saml-provider\/(.+)$/.exec(String(arn));
      if (m && m[1] === accountId && !acct.samlProviders[m[2] as string]) {
        throw new AwsError('MalformedPolicyDocument', 'Invalid principal in policy: "Federated":"' + String(arn) + '"');
      }
    }
  }
}

/** Policy documents leave IAM URL-encoded, RFC 3986 style (every reserved character escaped). */
export function encodePolicy(doc: string): string {
  return encodeURIComponent(doc).replace(/[!'()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`);
}

const POLICY_ARN = /^arn:aws:iam::(aws|\d{12}):policy\/(?:[\u0021-\u007e]*\/)?([\w+=,.@-]+)$/;

export function policyName(arn: string): string {
  const m = POLICY_ARN.exec(arn);
  if (!m) throw new AwsError('InvalidInput', `ARN ${arn} is not valid.`);
  return m[2] as string;
}

export function uid(prefix: string): string {
  const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ234567';
  let out = prefix;
  for (const b of randomBytes(17)) out += alphabet[b % 32];
  return out;
}

export function now(): string {
  return new Date().toISOString();
}

// ---------------------------------------------------------------- paging

/** Items in key order; markers name the last key returned, so a list that changes between pages neither repeats nor skips. */
export function page<T>(items: readonly T[], keyOf: (t: T) => string, params: Params): { items: T[]; IsTruncated: boolean; Marker?: string } {
  const marker = str(params, 'Marker');
  let after: string | undefined;
  if (marker !== undefined) {
    try {
      after = Buffer.from(marker, 'base64url').toString('utf8');
    } catch {
      after = undefined;
    }
    if (!after || !after.startsWith('m:')) throw new AwsError('ValidationError', 'Invalid Marker.');
    after = after.slice(2);
  }
  const limit = maxItems(params);
  const sorted = [...items].sort((a, b) => (keyOf(a) < keyOf(b) ? -1 : keyOf(a) > keyOf(b) ? 1 : 0));
  const start = after === undefined ? 0 : sorted.findIndex((i) => keyOf(i) > (after as string));
  const rest = start < 0 ? [] : sorted.slice(start);
  const out = rest.slice(0, limit);
  const truncated = rest.length > limit;
  const last = out[out.length - 1];
  return { items: out, IsTruncated: truncated, ...(truncated && last !== undefined ? { Marker: Buffer.from(`m:${keyOf(last)}`, 'utf8').toString('base64url') } : {}) };
}

function sortedRoles(acct: IamAccount, pathPrefix: string | undefined): RoleRec[] {
  return Object.keys(acct.roles)
    .sort()
    .map((k) => acct.roles[k] as RoleRec)
    .filter((r) => pathPrefix === undefined || r.path.startsWith(pathPrefix));
}

function sortedUsers(acct: IamAccount, pathPrefix: string | undefined): UserRec[] {
  return Object.keys(acct.users)
    .sort()
    .map((k) => acct.users[k] as UserRec)
    .filter((u) => pathPrefix === undefined || u.path.startsWith(pathPrefix));
}

// ---------------------------------------------------------------- lookups

function role(acct: IamAccount, name: string): RoleRec {
  const r = acct.roles[name.toLowerCase()];
  if (!r) throw new AwsError('NoSuchEntity', `The role with name ${name} cannot be found.`, 404);
  return r;
}

export function user(acct: IamAccount, name: string): UserRec {
  const u = acct.users[name.toLowerCase()];
  if (!u) throw new AwsError('NoSuchEntity', `The user with name ${name} cannot be found.`, 404);
  return u;
}

function samlByArn(acct: IamAccount, accountId: string, arn: string): SamlProviderRec {
  const m = /^arn:aws:iam::(\d{12}):saml-provider\/([\w._-]+)$/.exec(arn);
  if (!m) throw new AwsError('InvalidInput', `ARN ${arn} is not valid.`);
  const p = m[1] === accountId ? acct.samlProviders[m[2] as string] : undefined;
  if (!p) throw new AwsError('NoSuchEntity', `Manifest not found for arn ${arn}`, 404);
  return p;
}

function roleArn(accountId: string, r: RoleRec): string {
  return `arn:aws:iam::${accountId}:role${r.path}${r.roleName}`;
}

function userArn(accountId: string, u: UserRec): string {
  return `arn:aws:iam::${accountId}:user${u.path}${u.userName}`;
}

function roleOut(accountId: string, r: RoleRec, full: boolean): Record<string, unknown> {
  return {
    Path: r.path,
    RoleName: r.roleName,
    RoleId: r.roleId,
    Arn: roleArn(accountId, r),
    CreateDate: r.createDate,
    AssumeRolePolicyDocument: encodePolicy(r.assumeRolePolicyDocument),
    Description: r.description,
    MaxSessionDuration: r.maxSessionDuration,
    ...(full
      ? {
          PermissionsBoundary: r.permissionsBoundary ? { PermissionsBoundaryType: 'PermissionsBoundaryPolicy', PermissionsBoundaryArn: r.permissionsBoundary } : undefined,
          Tags: r.tags.length > 0 ? r.tags : undefined,
          RoleLastUsed: r.lastUsed ? { LastUsedDate: r.lastUsed.date, Region: r.lastUsed.region } : {},
        }
      : {}),
  };
}

/** GetAccountAuthorizationDetails' RoleDetail: policies and tags, but (as in AWS) no description or max session duration. */
function roleDetail(acct: IamAccount, accountId: string, r: RoleRec): Record<string, unknown> {
  return {
    Path: r.path,
    RoleName: r.roleName,
    RoleId: r.roleId,
    Arn: roleArn(accountId, r),
    CreateDate: r.createDate,
    AssumeRolePolicyDocument: encodePolicy(r.assumeRolePolicyDocument),
    InstanceProfileList: profilesOf(acct, r).map((ip) => instanceProfileOut(acct, accountId, ip)),
    RolePolicyList: Object.keys(r.inlinePolicies)
      .sort()
      .map((n) => ({ PolicyName: n, PolicyDocument: encodePolicy(r.inlinePolicies[n] as string) })),
    AttachedManagedPolicies: r.attachedPolicies.map((a) => ({ PolicyName: policyName(a), PolicyArn: a })),
    PermissionsBoundary: r.permissionsBoundary ? { PermissionsBoundaryType: 'PermissionsBoundaryPolicy', PermissionsBoundaryArn: r.permissionsBoundary } : undefined,
    Tags: r.tags,
    RoleLastUsed: r.lastUsed ? { LastUsedDate: r.lastUsed.date, Region: r.lastUsed.region } : {},
  };
}

function userOut(accountId: string, u: UserRec, withTags: boolean): Record<string, unknown> {
  return {
    Path: u.path,
    UserName: u.userName,
    UserId: u.userId,
    Arn: userArn(accountId, u),
    CreateDate: u.createDate,
    PasswordLastUsed: u.passwordLastUsed,
    ...(withTags && u.tags.length > 0 ? { Tags: u.tags } : {}),
  };
}

/**
 * Tags of a role or user: keys compare without regard to case and keep the case last written
 * (id_tags.html, "Case sensitivity": "you cannot have separate Department and department tag keys").
 */
function mergeTags(existing: TagRec[], added: TagRec[]): TagRec[] {
  const out = existing.map((t) => ({ ...t }));
  for (const t of added) {
    const i = out.findIndex((x) => x.Key.toLowerCase() === t.Key.toLowerCase());
    if (i >= 0) out[i] = t;
    else out.push(t);
  }
  if (out.length > MAX_TAGS) throw new AwsError('LimitExceeded', `Cannot exceed quota for TagsPerRole: ${MAX_TAGS}.`, 409);
  return out;
}

function checkInlineQuota(r: RoleRec, name: string, doc: string): void {
  let total = policySize(doc);
  for (const [n, d] of Object.entries(r.inlinePolicies)) if (n !== name) total += policySize(d);
  if (total > MAX_ROLE_INLINE_CHARS) throw new AwsError('LimitExceeded', `Maximum policy size of ${MAX_ROLE_INLINE_CHARS} bytes exceeded for role ${r.roleName}`, 409);
}

function setTrustPolicy(r: RoleRec, doc: string, acct: IamAccount, accountId: string): void {
  const parsed = parsePolicy(doc, 'trust');
  checkTrustPrincipals(parsed, acct, accountId);
  const stored = awsTrustForm(parsed);
  if (policySize(stored) > MAX_TRUST_POLICY_CHARS) throw new AwsError('LimitExceeded', `Cannot exceed quota for ACLSizePerRole: ${MAX_TRUST_POLICY_CHARS}`, 409);
  r.assumeRolePolicyDocument = stored;
}

function maxSession(raw: string): number {
  const n = Number(raw);
  if (!Number.isInteger(n) || n < 3600 || n > 43200) {
    throw new AwsError('ValidationError', `The requested duration for the role session must be between 3600 and 43200 seconds (got ${raw}).`);
  }
  return n;
}

/** API_CreateRole / API_UpdateRole / API_UpdateRoleDescription: at most 1,000 characters of this set. */
// eslint-disable-next-line no-control-regex -- tab, line feed and carriage return are part of the documented set
const DESCRIPTION = /^[\u0009\u000A\u000D\u0020-\u007E\u00A1-\u00FF]*$/;
function description(raw: string): string {
  if (raw.length > 1000) throw validation(raw, 'description', 'Member must have length less than or equal to 1000');
  if (!DESCRIPTION.test(raw)) throw validation(raw, 'description', 'Member must satisfy regular expression pattern: [\\u0009\\u000A\\u000D\\u0020-\\u007E\\u00A1-\\u00FF]*');
  return raw;
}

// ---------------------------------------------------------------- operations

export type Op = (state: IamState, params: Params, ctx: RequestContext) => unknown;

const samlOps: Record<string, Op> = {
  CreateSAMLProvider(state, p, ctx) {
    const acct = account(state, ctx);
    const name = req(p, 'Name');
    if (!/^[\w._-]{1,128}$/.test(name)) throw new AwsError('ValidationError', `Value '${name}' at 'name' failed to satisfy constraint: Member must satisfy regular expression pattern: [\\w._-]+`);
    const metadata = req(p, 'SAMLMetadataDocument');
    if (metadata.length < 1000) throw new AwsError('ValidationError', "1 validation error detected: Value at 'sAMLMetadataDocument' failed to satisfy constraint: Member must have length greater than or equal to 1000");
    if (acct.samlProviders[name]) throw new AwsError('EntityAlreadyExists', `SAMLProvider ${name} already exists.`, 409);
    const created = new Date();
    acct.samlProviders[name] = {
      name,
      metadata,
      createDate: created.toISOString(),
      validUntil: new Date(created.getTime() + 365 * 86400_000).toISOString(),
      uuid: `p${randomBytes(8).toString('hex')}`,
      tags: tagsParam(p),
    };
    return { SAMLProviderArn: `arn:aws:iam::${ctx.account}:saml-provider/${name}`, Tags: acct.samlProviders[name].tags };
  },
  ListSAMLProviders(state, _p, ctx) {
    const acct = account(state, ctx);
    return {
      SAMLProviderList: Object.values(acct.samlProviders)
        .sort((a, b) => (a.name < b.name ? -1 : 1))
        .map((s) => ({ Arn: `arn:aws:iam::${ctx.account}:saml-provider/${s.name}`, ValidUntil: s.validUntil, CreateDate: s.createDate })),
    };
  },
  GetSAMLProvider(state, p, ctx) {
    const s = samlByArn(account(state, ctx), ctx.account, req(p, 'SAMLProviderArn'));
    return { SAMLProviderUUID: s.uuid, SAMLMetadataDocument: s.metadata, CreateDate: s.createDate, ValidUntil: s.validUntil, Tags: s.tags };
  },
  UpdateSAMLProvider(state, p, ctx) {
    const s = samlByArn(account(state, ctx), ctx.account, req(p, 'SAMLProviderArn'));
    const metadata = req(p, 'SAMLMetadataDocument');
    if (metadata.length < 1000) throw new AwsError('ValidationError', "1 validation error detected: Value at 'sAMLMetadataDocument' failed to satisfy constraint: Member must have length greater than or equal to 1000");
    s.metadata = metadata;
    return { SAMLProviderArn: `arn:aws:iam::${ctx.account}:saml-provider/${s.name}` };
  },
  DeleteSAMLProvider(state, p, ctx) {
    const acct = account(state, ctx);
    const s = samlByArn(acct, ctx.account, req(p, 'SAMLProviderArn'));
    delete acct.samlProviders[s.name];
    return undefined;
  },
};

const roleOps: Record<string, Op> = {
  CreateRole(state, p, ctx) {
    const acct = account(state, ctx);
    const name = req(p, 'RoleName');
    checkName(name, 'RoleName', 64);
    const path = str(p, 'Path') ?? '/';
    checkPath(path);
    if (acct.roles[name.toLowerCase()]) throw new AwsError('EntityAlreadyExists', `Role with name ${name} already exists.`, 409);
    const tags = tagsParam(p);
    if (tags.length > MAX_TAGS) throw new AwsError('LimitExceeded', `Cannot exceed quota for TagsPerRole: ${MAX_TAGS}.`, 409);
    const boundary = str(p, 'PermissionsBoundary');
    if (boundary !== undefined) policyName(boundary);
    const r: RoleRec = {
      roleName: name,
      roleId: uid('AROA'),
      path,
      createDate: now(),
      assumeRolePolicyDocument: '',
      description: str(p, 'Description') === undefined ? undefined : description(str(p, 'Description') as string),
      maxSessionDuration: str(p, 'MaxSessionDuration') === undefined ? 3600 : maxSession(str(p, 'MaxSessionDuration') as string),
      permissionsBoundary: boundary,
      tags: mergeTags([], tags),
      attachedPolicies: [],
      inlinePolicies: {},
    };
    setTrustPolicy(r, req(p, 'AssumeRolePolicyDocument'), acct, ctx.account);
    acct.roles[name.toLowerCase()] = r;
    return { Role: roleOut(ctx.account, r, true) };
  },
  GetRole(state, p, ctx) {
    return { Role: roleOut(ctx.account, role(account(state, ctx), req(p, 'RoleName')), true) };
  },
  ListRoles(state, p, ctx) {
    const pg = page(sortedRoles(account(state, ctx), str(p, 'PathPrefix')), (r) => r.roleName.toLowerCase(), p);
    // As in AWS, ListRoles leaves out tags, boundary and last use (GetRole has them).
    return { Roles: pg.items.map((r) => roleOut(ctx.account, r, false)), IsTruncated: pg.IsTruncated, Marker: pg.Marker };
  },
  UpdateRole(state, p, ctx) {
    const r = role(account(state, ctx), req(p, 'RoleName'));
    const d = str(p, 'Description');
    const m = str(p, 'MaxSessionDuration');
    // API_UpdateRole: "If you do not specify a value for this setting, the default value of one hour is applied."
    const ms = m === undefined ? 3600 : maxSession(m);
    if (d !== undefined) r.description = description(d);
    r.maxSessionDuration = ms;
    return {};
  },
  UpdateRoleDescription(state, p, ctx) {
    const r = role(account(state, ctx), req(p, 'RoleName'));
    r.description = description(req(p, 'Description'));
    return { Role: roleOut(ctx.account, r, true) };
  },
  UpdateAssumeRolePolicy(state, p, ctx) {
    const acct = account(state, ctx);
    setTrustPolicy(role(acct, req(p, 'RoleName')), req(p, 'PolicyDocument'), acct, ctx.account);
    return undefined;
  },
  DeleteRole(state, p, ctx) {
    const acct = account(state, ctx);
    const r = role(acct, req(p, 'RoleName'));
    if (r.attachedPolicies.length > 0) throw new AwsError('DeleteConflict', 'Cannot delete entity, must detach all policies first.', 409);
    if (Object.keys(r.inlinePolicies).length > 0) throw new AwsError('DeleteConflict', 'Cannot delete entity, must delete policies first.', 409);
    if (profilesOf(acct, r).length > 0) throw new AwsError('DeleteConflict', 'Cannot delete entity, must remove roles from instance profile first.', 409);
    delete acct.roles[r.roleName.toLowerCase()];
    return undefined;
  },
  TagRole(state, p, ctx) {
    const r = role(account(state, ctx), req(p, 'RoleName'));
    r.tags = mergeTags(r.tags, tagsParam(p));
    return undefined;
  },
  UntagRole(state, p, ctx) {
    const r = role(account(state, ctx), req(p, 'RoleName'));
    const keys = new Set(list(p, 'TagKeys').map((k) => String(k).toLowerCase()));
    r.tags = r.tags.filter((t) => !keys.has(t.Key.toLowerCase()));
    return undefined;
  },
  ListRoleTags(state, p, ctx) {
    const r = role(account(state, ctx), req(p, 'RoleName'));
    const pg = page(r.tags, (t) => t.Key, p);
    return { Tags: pg.items, IsTruncated: pg.IsTruncated, Marker: pg.Marker };
  },
  PutRolePermissionsBoundary(state, p, ctx) {
    const r = role(account(state, ctx), req(p, 'RoleName'));
    const arn = req(p, 'PermissionsBoundary');
    policyName(arn);
    r.permissionsBoundary = arn;
    return undefined;
  },
  DeleteRolePermissionsBoundary(state, p, ctx) {
    const r = role(account(state, ctx), req(p, 'RoleName'));
    if (!r.permissionsBoundary) throw new AwsError('NoSuchEntity', `The role with name ${r.roleName} has no permissions boundary.`, 404);
    r.permissionsBoundary = undefined;
    return undefined;
  },
  AttachRolePolicy(state, p, ctx) {
    const r = role(account(state, ctx), req(p, 'RoleName'));
    const arn = req(p, 'PolicyArn');
    policyName(arn);
    if (r.attachedPolicies.includes(arn)) return undefined;
    if (r.attachedPolicies.length >= MAX_MANAGED_POLICIES_PER_ROLE) throw new AwsError('LimitExceeded', `Cannot exceed quota for PoliciesPerRole: ${MAX_MANAGED_POLICIES_PER_ROLE}`, 409);
    r.attachedPolicies.push(arn);
    return undefined;
  },
  DetachRolePolicy(state, p, ctx) {
    const r = role(account(state, ctx), req(p, 'RoleName'));
    const arn = req(p, 'PolicyArn');
    if (!r.attachedPolicies.includes(arn)) throw new AwsError('NoSuchEntity', `Policy ${arn} was not found.`, 404);
    r.attachedPolicies = r.attachedPolicies.filter((a) => a !== arn);
    return undefined;
  },
  ListAttachedRolePolicies(state, p, ctx) {
    const r = role(account(state, ctx), req(p, 'RoleName'));
    const pg = page([...r.attachedPolicies].sort(), (a) => a, p);
    return { AttachedPolicies: pg.items.map((a) => ({ PolicyName: policyName(a), PolicyArn: a })), IsTruncated: pg.IsTruncated, Marker: pg.Marker };
  },
  PutRolePolicy(state, p, ctx) {
    const r = role(account(state, ctx), req(p, 'RoleName'));
    const name = req(p, 'PolicyName');
    checkName(name, 'PolicyName', 128);
    const doc = req(p, 'PolicyDocument');
    parsePolicy(doc, 'permissions');
    checkInlineQuota(r, name, doc);
    r.inlinePolicies[name] = doc;
    return undefined;
  },
  GetRolePolicy(state, p, ctx) {
    const r = role(account(state, ctx), req(p, 'RoleName'));
    const name = req(p, 'PolicyName');
    const doc = r.inlinePolicies[name];
    if (doc === undefined) throw new AwsError('NoSuchEntity', `The role policy with name ${name} cannot be found.`, 404);
    return { RoleName: r.roleName, PolicyName: name, PolicyDocument: encodePolicy(doc) };
  },
  DeleteRolePolicy(state, p, ctx) {
    const r = role(account(state, ctx), req(p, 'RoleName'));
    const name = req(p, 'PolicyName');
    if (r.inlinePolicies[name] === undefined) throw new AwsError('NoSuchEntity', `The role policy with name ${name} cannot be found.`, 404);
    delete r.inlinePolicies[name];
    return undefined;
  },
  ListRolePolicies(state, p, ctx) {
    const r = role(account(state, ctx), req(p, 'RoleName'));
    const pg = page(Object.keys(r.inlinePolicies).sort(), (n) => n, p);
    return { PolicyNames: pg.items, IsTruncated: pg.IsTruncated, Marker: pg.Marker };
  },
  GetAccountAuthorizationDetails(state, p, ctx) {
    const acct = account(state, ctx);
    const filter = new Set(list(p, 'Filter').map(String));
    for (const f of filter) {
      if (!['User', 'Role', 'Group', 'LocalManagedPolicy', 'AWSManagedPolicy'].includes(f)) throw new AwsError('ValidationError', `Invalid Filter value ${f}`);
    }
    const all = filter.size === 0;
    type Item = { kind: 'u'; user: UserRec } | { kind: 'r'; role: RoleRec };
    const items: Item[] = [
      ...(all || filter.has('User') ? sortedUsers(acct, undefined).map((user): Item => ({ kind: 'u', user })) : []),
      ...(all || filter.has('Role') ? sortedRoles(acct, undefined).map((role): Item => ({ kind: 'r', role })) : []),
    ];
    const pg = page(items, (i) => (i.kind === 'u' ? `1/${i.user.userName.toLowerCase()}` : `2/${i.role.roleName.toLowerCase()}`), p);
    return {
      UserDetailList: pg.items.flatMap((i) =>
        i.kind === 'u'
          ? [{ ...userOut(ctx.account, i.user, false), ...userPolicyDetail(i.user), GroupList: [], Tags: i.user.tags }]
          : [],
      ),
      GroupDetailList: [],
      RoleDetailList: pg.items.flatMap((i) => (i.kind === 'r' ? [roleDetail(acct, ctx.account, i.role)] : [])),
      Policies: [],
      IsTruncated: pg.IsTruncated,
      Marker: pg.Marker,
    };
  },
};

function accessKey(acct: IamAccount, id: string): { user: UserRec; key: AccessKeyRec } {
  for (const u of Object.values(acct.users)) {
    const key = u.accessKeys.find((k) => k.accessKeyId === id);
    if (key) return { user: u, key };
  }
  throw new AwsError('NoSuchEntity', `The Access Key with id ${id} cannot be found`, 404);
}

const userOps: Record<string, Op> = {
  CreateUser(state, p, ctx) {
    const acct = account(state, ctx);
    const name = req(p, 'UserName');
    checkName(name, 'UserName', 64);
    const path = str(p, 'Path') ?? '/';
    checkPath(path);
    if (acct.users[name.toLowerCase()]) throw new AwsError('EntityAlreadyExists', `User with name ${name} already exists.`, 409);
    const u: UserRec = { userName: name, userId: uid('AIDA'), path, createDate: now(), tags: mergeTags([], tagsParam(p)), accessKeys: [], mfaDevices: [] };
    acct.users[name.toLowerCase()] = u;
    return { User: userOut(ctx.account, u, true) };
  },
  GetUser(state, p, ctx) {
    return { User: userOut(ctx.account, user(account(state, ctx), req(p, 'UserName')), true) };
  },
  ListUsers(state, p, ctx) {
    const pg = page(sortedUsers(account(state, ctx), str(p, 'PathPrefix')), (u) => u.userName.toLowerCase(), p);
    return { Users: pg.items.map((u) => userOut(ctx.account, u, false)), IsTruncated: pg.IsTruncated, Marker: pg.Marker };
  },
  TagUser(state, p, ctx) {
    const u = user(account(state, ctx), req(p, 'UserName'));
    u.tags = mergeTags(u.tags, tagsParam(p));
    return undefined;
  },
  UntagUser(state, p, ctx) {
    const u = user(account(state, ctx), req(p, 'UserName'));
    const keys = new Set(list(p, 'TagKeys').map((k) => String(k).toLowerCase()));
    u.tags = u.tags.filter((t) => !keys.has(t.Key.toLowerCase()));
    return undefined;
  },
  ListUserTags(state, p, ctx) {
    const u = user(account(state, ctx), req(p, 'UserName'));
    const pg = page(u.tags, (t) => t.Key, p);
    return { Tags: pg.items, IsTruncated: pg.IsTruncated, Marker: pg.Marker };
  },
  CreateAccessKey(state, p, ctx) {
    const u = user(account(state, ctx), req(p, 'UserName'));
    if (u.accessKeys.length >= MAX_ACCESS_KEYS) throw new AwsError('LimitExceeded', `Cannot exceed quota for AccessKeysPerUser: ${MAX_ACCESS_KEYS}`, 409);
    const key: AccessKeyRec = { accessKeyId: uid('AKIA').slice(0, 20), status: 'Active', createDate: now() };
    u.accessKeys.push(key);
    // The key authenticates as this user. Its secret is returned once and kept only in the
    // emulator's principal registry (to check signatures), never in the IAM state.
    const secretAccessKey = newSecret();
    ctx.emulator.registerCredentials({ accessKeyId: key.accessKeyId, secretAccessKey, principal: userPrincipal(ctx.account, u, 'CreateAccessKey') });
    return { AccessKey: { UserName: u.userName, AccessKeyId: key.accessKeyId, Status: key.status, SecretAccessKey: secretAccessKey, CreateDate: key.createDate } };
  },
  ListAccessKeys(state, p, ctx) {
    const u = user(account(state, ctx), req(p, 'UserName'));
    const pg = page(u.accessKeys, (k) => k.accessKeyId, p);
    return { AccessKeyMetadata: pg.items.map((k) => ({ UserName: u.userName, AccessKeyId: k.accessKeyId, Status: k.status, CreateDate: k.createDate })), IsTruncated: pg.IsTruncated, Marker: pg.Marker };
  },
  UpdateAccessKey(state, p, ctx) {
    const acct = account(state, ctx);
    const status = req(p, 'Status');
    if (status !== 'Active' && status !== 'Inactive') throw new AwsError('ValidationError', `1 validation error detected: Value '${status}' at 'status' failed to satisfy constraint: Member must satisfy enum value set: [Active, Inactive]`);
    const id = req(p, 'AccessKeyId');
    const name = str(p, 'UserName');
    const found = accessKey(acct, id);
    if (name !== undefined && found.user.userName.toLowerCase() !== name.toLowerCase()) throw new AwsError('NoSuchEntity', `The Access Key with id ${id} cannot be found`, 404);
    found.key.status = status;
    return undefined;
  },
  DeleteAccessKey(state, p, ctx) {
    const acct = account(state, ctx);
    const { user: u } = accessKey(acct, req(p, 'AccessKeyId'));
    u.accessKeys = u.accessKeys.filter((k) => k.accessKeyId !== req(p, 'AccessKeyId'));
    ctx.emulator.forgetCredentials(req(p, 'AccessKeyId'));
    return undefined;
  },
  GetAccessKeyLastUsed(state, p, ctx) {
    const { user: u, key } = accessKey(account(state, ctx), req(p, 'AccessKeyId'));
    return {
      UserName: u.userName,
      AccessKeyLastUsed: key.lastUsed
        ? { LastUsedDate: key.lastUsed.date, ServiceName: key.lastUsed.serviceName, Region: key.lastUsed.region }
        : { ServiceName: 'N/A', Region: 'N/A' },
    };
  },
  CreateLoginProfile(state, p, ctx) {
    const u = user(account(state, ctx), req(p, 'UserName'));
    const password = req(p, 'Password');
    if (password.length < 8) throw new AwsError('PasswordPolicyViolation', 'Password does not conform to the account password policy.');
    if (u.loginProfile) throw new AwsError('EntityAlreadyExists', `Login Profile for user ${u.userName} already exists.`, 409);
    // The password itself is never stored.
    u.loginProfile = { createDate: now(), passwordResetRequired: str(p, 'PasswordResetRequired') === 'true' };
    return { LoginProfile: { UserName: u.userName, CreateDate: u.loginProfile.createDate, PasswordResetRequired: u.loginProfile.passwordResetRequired } };
  },
  GetLoginProfile(state, p, ctx) {
    const u = user(account(state, ctx), req(p, 'UserName'));
    if (!u.loginProfile) throw new AwsError('NoSuchEntity', `Login Profile for User ${u.userName} cannot be found.`, 404);
    return { LoginProfile: { UserName: u.userName, CreateDate: u.loginProfile.createDate, PasswordResetRequired: u.loginProfile.passwordResetRequired } };
  },
  DeleteLoginProfile(state, p, ctx) {
    const u = user(account(state, ctx), req(p, 'UserName'));
    if (!u.loginProfile) throw new AwsError('NoSuchEntity', `Login Profile for User ${u.userName} cannot be found.`, 404);
    u.loginProfile = undefined;
    return undefined;
  },
  ListMFADevices(state, p, ctx) {
    const u = user(account(state, ctx), req(p, 'UserName'));
    const pg = page(u.mfaDevices, (d) => d.serialNumber, p);
    return { MFADevices: pg.items.map((d) => ({ UserName: u.userName, SerialNumber: d.serialNumber, EnableDate: d.enableDate })), IsTruncated: pg.IsTruncated, Marker: pg.Marker };
  },
};


// ---------------------------------------------------------------- instance profiles

function profiles(acct: IamAccount): Record<string, InstanceProfileRec> {
  acct.instanceProfiles ??= {};
  return acct.instanceProfiles;
}

function profilesOf(acct: IamAccount, r: RoleRec): InstanceProfileRec[] {
  const key = r.roleName.toLowerCase();
  return Object.keys(profiles(acct))
    .sort()
    .map((k) => profiles(acct)[k] as InstanceProfileRec)
    .filter((ip) => ip.roles.includes(key));
}

function instanceProfile(acct: IamAccount, name: string): InstanceProfileRec {
  const ip = profiles(acct)[name.toLowerCase()];
  if (!ip) throw new AwsError('NoSuchEntity', `Instance Profile ${name} cannot be found.`, 404);
  return ip;
}

function instanceProfileOut(acct: IamAccount, accountId: string, ip: InstanceProfileRec): Record<string, unknown> {
  return {
    Path: ip.path,
    InstanceProfileName: ip.name,
    InstanceProfileId: ip.id,
    Arn: `arn:aws:iam::${accountId}:instance-profile${ip.path}${ip.name}`,
    CreateDate: ip.createDate,
    Roles: ip.roles.flatMap((k) => (acct.roles[k] ? [roleOut(accountId, acct.roles[k], false)] : [])),
    ...(ip.tags.length > 0 ? { Tags: ip.tags } : {}),
  };
}

const instanceProfileOps: Record<string, Op> = {
  CreateInstanceProfile(state, p, ctx) {
    const acct = account(state, ctx);
    const name = req(p, 'InstanceProfileName');
    checkName(name, 'InstanceProfileName', 128);
    const path = str(p, 'Path') ?? '/';
    checkPath(path);
    if (profiles(acct)[name.toLowerCase()]) throw new AwsError('EntityAlreadyExists', `Instance Profile ${name} already exists.`, 409);
    // Instance profile tag keys are case sensitive (id_tags.html).
    const tags = tagsParam(p);
    if (tags.length > MAX_TAGS) throw new AwsError('LimitExceeded', `Cannot exceed quota for TagsPerInstanceProfile: ${MAX_TAGS}.`, 409);
    const ip: InstanceProfileRec = { name, id: uid('AIPA'), path, createDate: now(), roles: [], tags };
    profiles(acct)[name.toLowerCase()] = ip;
    return { InstanceProfile: instanceProfileOut(acct, ctx.account, ip) };
  },
  GetInstanceProfile(state, p, ctx) {
    const acct = account(state, ctx);
    return { InstanceProfile: instanceProfileOut(acct, ctx.account, instanceProfile(acct, req(p, 'InstanceProfileName'))) };
  },
  ListInstanceProfiles(state, p, ctx) {
    const acct = account(state, ctx);
    const prefix = str(p, 'PathPrefix');
    const all = Object.values(profiles(acct)).filter((ip) => prefix === undefined || ip.path.startsWith(prefix));
    const pg = page(all, (ip) => ip.name.toLowerCase(), p);
    return { InstanceProfiles: pg.items.map((ip) => instanceProfileOut(acct, ctx.account, ip)), IsTruncated: pg.IsTruncated, Marker: pg.Marker };
  },
  ListInstanceProfilesForRole(state, p, ctx) {
    const acct = account(state, ctx);
    const r = role(acct, req(p, 'RoleName'));
    const pg = page(profilesOf(acct, r), (ip) => ip.name.toLowerCase(), p);
    return { InstanceProfiles: pg.items.map((ip) => instanceProfileOut(acct, ctx.account, ip)), IsTruncated: pg.IsTruncated, Marker: pg.Marker };
  },
  AddRoleToInstanceProfile(state, p, ctx) {
    const acct = account(state, ctx);
    const ip = instanceProfile(acct, req(p, 'InstanceProfileName'));
    const r = role(acct, req(p, 'RoleName'));
    const key = r.roleName.toLowerCase();
    if (ip.roles.includes(key)) throw new AwsError('EntityAlreadyExists', `Role ${r.roleName} is already associated with instance profile ${ip.name}.`, 409);
    if (ip.roles.length >= MAX_ROLES_PER_INSTANCE_PROFILE) throw new AwsError('LimitExceeded', `Cannot exceed quota for InstanceSessionsPerInstanceProfile: ${MAX_ROLES_PER_INSTANCE_PROFILE}`, 409);
    ip.roles.push(key);
    return undefined;
  },
  RemoveRoleFromInstanceProfile(state, p, ctx) {
    const acct = account(state, ctx);
    const ip = instanceProfile(acct, req(p, 'InstanceProfileName'));
    const name = req(p, 'RoleName');
    if (!ip.roles.includes(name.toLowerCase())) throw new AwsError('NoSuchEntity', `The role with name ${name} cannot be found in instance profile ${ip.name}.`, 404);
    ip.roles = ip.roles.filter((k) => k !== name.toLowerCase());
    return undefined;
  },
  DeleteInstanceProfile(state, p, ctx) {
    const acct = account(state, ctx);
    const ip = instanceProfile(acct, req(p, 'InstanceProfileName'));
    if (ip.roles.length > 0) throw new AwsError('DeleteConflict', 'Cannot delete entity, must remove roles from instance profile first.', 409);
    delete profiles(acct)[ip.name.toLowerCase()];
    return undefined;
  },
};

export const iamService: ServiceDef<IamState> = {
  signingName: 'iam',
  protocol: 'query',
  xmlNamespace: 'https://iam.amazonaws.com/doc/2010-05-08/',
  throttleBucket: 'iam',
  throttleCode: 'Throttling',
  initialState: () => ({ accounts: {} }),
  // Identity policies of users and groups, and customer managed policies: services/iam-identity-policies.ts.
  operations: { ...samlOps, ...roleOps, ...userOps, ...instanceProfileOps, ...postureOps },
  // Root user, key dates and report timing (iam-posture.ts).
  controls: { ...postureControls },
};

/** For tests and seeds: the account's IAM state, created empty when absent. */
export function iamAccount(state: IamState, accountId: string): IamAccount {
  state.accounts[accountId] ??= emptyIamAccount();
  const acct = state.accounts[accountId] as IamAccount;
  acct.instanceProfiles ??= {};
  return acct;
}
