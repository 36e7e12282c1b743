/**
 * The Identity Center target: Identity Store users, groups and memberships, and SSO Admin permission sets,
 * leavers' revocation statements and account assignments.
 *
 * Reading is built for few calls: `ListUsers` and `ListGroups` at 100 a page, memberships only for the
 * groups rolemap owns, permission sets in full only when the config names them or they carry the owner tag,
 * assignments only for owned permission sets on the configured accounts.
 *
 * Applying follows AWS's rules for this API family: one client-side token bucket (20 requests per second by
 * default) shared by both clients, on top of the SDK's adaptive retry; at most 10 assignment operations in
 * flight; asynchronous requests polled with backoff until SUCCEEDED or FAILED; `ConflictException` retried
 * with backoff; every permission set change re-provisioned where the set is provisioned.
 *
 * Ownership: groups by their description marker, permission sets by the `rolemap:owner` tag, users by the
 * OwnershipRegistry (the Identity Store API cannot mark users). A change to an object rolemap does not own is
 * refused here too (defence in depth behind the core's ownership filter), except adoption the role map opts into.
 */
import {
  CreateGroupCommand,
  CreateGroupMembershipCommand,
  CreateUserCommand,
  DeleteGroupCommand,
  DeleteGroupMembershipCommand,
  DeleteUserCommand,
  GetGroupMembershipIdCommand,
  paginateListGroupMemberships,
  paginateListGroups,
  paginateListUsers,
  UpdateGroupCommand,
  UpdateUserCommand,
} from '@aws-sdk/client-identitystore';
import type { AttributeOperation, Group, IdentitystoreClient, User } from '@aws-sdk/client-identitystore';
import {
  AttachCustomerManagedPolicyReferenceToPermissionSetCommand,
  AttachManagedPolicyToPermissionSetCommand,
  CreateAccountAssignmentCommand,
  CreatePermissionSetCommand,
  DeleteAccountAssignmentCommand,
  DeleteInlinePolicyFromPermissionSetCommand,
  DeletePermissionSetCommand,
  DeletePermissionsBoundaryFromPermissionSetCommand,
  DescribeAccountAssignmentCreationStatusCommand,
  DescribeAccountAssignmentDeletionStatusCommand,
  DescribePermissionSetCommand,
  DescribePermissionSetProvisioningStatusCommand,
  DetachCustomerManagedPolicyReferenceFromPermissionSetCommand,
  DetachManagedPolicyFromPermissionSetCommand,
  GetInlinePolicyForPermissionSetCommand,
  GetPermissionsBoundaryForPermissionSetCommand,
  ListTagsForResourceCommand,
  paginateListAccountAssignments,
  paginateListAccountsForProvisionedPermissionSet,
  paginateListCustomerManagedPolicyReferencesInPermissionSet,
  paginateListManagedPoliciesInPermissionSet,
  paginateListPermissionSets,
  ProvisionPermissionSetCommand,
  PutInlinePolicyToPermissionSetCommand,
  PutPermissionsBoundaryToPermissionSetCommand,
  TagResourceCommand,
  UntagResourceCommand,
  UpdatePermissionSetCommand,
} from '@aws-sdk/client-sso-admin';
import type { PermissionsBoundary, SSOAdminClient, Tag } from '@aws-sdk/client-sso-admin';
import { OWNER_TAG, parseGroupDescription } from '../../../core/model/ownership.js';
import type { PolicyDocument } from '../../../core/model/policy.js';
import { policiesEqual } from '../../../core/model/policy.js';
import type { IdentityStoreGroupAttrs, IdentityStoreUserAttrs, PermissionSetAttrs, Resource, ResourceKind, ResourceOf } from '../../../core/model/resources.js';
import type { AccountId, RoleMap } from '../../../core/model/role-map.js';
import type { ActualState } from '../../../core/model/state.js';
import type { Change } from '../../../core/plan/change.js';
import type { ApplyOutcome, OwnershipRegistry, Target } from '../../../core/ports.js';
import { backoffDelay, KeyedRwLock, mapLimit, Semaphore, sleep } from './async-tools.js';
import type { Backoff } from './async-tools.js';
import { AsyncRequestFailedError, IdentityCenterError, NotOwnedError, toIdentityCenterError } from './errors.js';
import { CallCounter, rateLimitPlugin, TokenBucket } from './rate-limiter.js';
import { renderInlinePolicy, splitInlinePolicy } from './revocation-statements.js';

export const IDENTITY_CENTER_KINDS = [
  'identitystore_group',
  'identitystore_user',
  'identitystore_membership',
  'sso_permission_set',
  'sso_permission_set_revocations',
  'sso_account_assignment',
] as const satisfies readonly ResourceKind[];

export interface IdentityCenterTargetOptions {
  readonly identityStore: IdentitystoreClient;
  readonly ssoAdmin: SSOAdminClient;
  /** Which identity store users rolemap created or adopted (the journal's table; in memory for tests). */
  readonly registry: OwnershipRegistry;
  /** The role map, when apply may run before readActual (a saved plan). readActual replaces it. */
  readonly roleMap?: RoleMap | undefined;
  /** Client-side limit shared by both clients: AWS allows 20 requests per second for all Identity Center APIs. */
  readonly rateLimit?: { readonly rps: number; readonly burst?: number | undefined } | undefined;
  /** Assignment operations in flight at once (AWS: at most 10 outstanding CreateAccountAssignment). */
  readonly maxAssignmentsInFlight?: number | undefined;
  /** Polling of asynchronous requests. */
  readonly poll?: (Backoff & { readonly timeoutMs: number }) | undefined;
  /** Retrying ConflictException (a concurrent operation on the same permission set). */
  readonly conflictRetry?: (Backoff & { readonly attempts: number }) | undefined;
  /** List calls in flight at once while reading (memberships, permission sets). */
  readonly readConcurrency?: number | undefined;
}

interface Settings {
  readonly instanceArn: string;
  readonly identityStoreId: string;
  readonly account: AccountId;
  readonly ownerId: string;
  readonly adoptUsers: boolean;
  readonly adoptGroups: boolean;
  readonly accounts: readonly AccountId[];
  readonly aliases: ReadonlyMap<AccountId, string>;
  readonly configuredPermissionSets: ReadonlySet<string>;
}

/** The registry scope of identity store users: one per identity store. */
export function userOwnershipScope(identityStoreId: string): string {
  return `identitystore:${identityStoreId}`;
}

const UNOWNED = 'unowned:';

function settingsFrom(roleMap: RoleMap): Settings | null {
  const ic = roleMap.identityCenter;
  if (!ic) return null;
  const accounts = new Set<AccountId>(roleMap.accounts.map((a) => a.id));
  for (const a of ic.assignments) for (const id of a.accounts) accounts.add(id);
  return {
    instanceArn: ic.instanceArn,
    identityStoreId: ic.identityStoreId,
    account: ic.account,
    ownerId: roleMap.safety.ownerId,
    adoptUsers: ic.adoptUsers,
    adoptGroups: ic.adoptGroups,
    accounts: [...accounts].sort(),
    aliases: new Map(roleMap.accounts.map((a) => [a.id, a.alias])),
    configuredPermissionSets: new Set(ic.permissionSets.map((p) => p.name)),
  };
}

function userAttrs(u: User): IdentityStoreUserAttrs {
  const emails = u.Emails ?? [];
  const email = (emails.find((e) => e.Primary) ?? emails[0])?.Value ?? null;
  return {
    userName: u.UserName ?? '',
    displayName: u.DisplayName ?? '',
    givenName: u.Name?.GivenName ?? '',
    familyName: u.Name?.FamilyName ?? '',
    email,
  };
}

function emailsFor(email: string | null): { Value: string; Type: string; Primary: boolean }[] {
  return email === null || email === '' ? [] : [{ Value: email, Type: 'work', Primary: true }];
}

function splitCustomerPolicy(s: string): { Name: string; Path: string } {
  const i = s.lastIndexOf('/');
  return i < 0 ? { Name: s, Path: '/' } : { Name: s.slice(i + 1), Path: s.slice(0, i + 1) || '/' };
}

function boundaryFor(b: string): PermissionsBoundary {
  return b.startsWith('customer:') ? { CustomerManagedPolicyReference: splitCustomerPolicy(b.slice('customer:'.length)) } : { ManagedPolicyArn: b };
}

function boundaryString(b: PermissionsBoundary | undefined): string | null {
  if (!b) return null;
  if (b.ManagedPolicyArn) return b.ManagedPolicyArn;
  const c = b.CustomerManagedPolicyReference;
  return c?.Name ? `customer:${c.Path ?? '/'}${c.Name}` : null;
}

/** `<permissionSetName>/<account>/<GROUP|USER>:<guid or unowned:AwsId>` */
function parseAssignmentId(id: string): { psName: string; account: string; type: 'GROUP' | 'USER'; principal: string } {
  const m = /^([^/]+)\/(\d{12})\/(GROUP|USER):(.+)$/.exec(id);
  if (!m) throw new IdentityCenterError(`sso_account_assignment id ${id} is not <permissionSet>/<account>/<GROUP|USER>:<guid>`, { code: 'InvalidId', retryable: false, subject: id });
  return { psName: m[1] as string, account: m[2] as string, type: m[3] as 'GROUP' | 'USER', principal: m[4] as string };
}

function isName(e: unknown, ...names: string[]): boolean {
  return typeof e === 'object' && e !== null && names.includes((e as { name?: string }).name ?? '');
}

type Meta = { $metadata: { requestId?: string | undefined } };

export class IdentityCenterTarget implements Target {
  readonly name = 'identity-center';
  readonly kinds: readonly ResourceKind[] = IDENTITY_CENTER_KINDS;

  readonly #ids: IdentitystoreClient;
  readonly #sso: SSOAdminClient;
  readonly #registry: OwnershipRegistry;
  readonly #counter = new CallCounter();
  readonly #assignments: Semaphore;
  /** Per permission set: its own changes exclusive, assignments on it shared (no self-inflicted conflicts). */
  readonly #psLock = new KeyedRwLock();
  readonly #poll: Backoff & { readonly timeoutMs: number };
  readonly #conflict: Backoff & { readonly attempts: number };
  readonly #readConcurrency: number;
  #settings: Settings | null;
  #rescan: Promise<void> | undefined;

  /** AD guid (or `unowned:<id>`) -> AWS id, learnt while reading and creating. */
  readonly #userIds = new Map<string, string>();
  readonly #groupIds = new Map<string, string>();
  readonly #psArns = new Map<string, string>();

  constructor(options: IdentityCenterTargetOptions) {
    this.#ids = options.identityStore;
    this.#sso = options.ssoAdmin;
    this.#registry = options.registry;
    this.#settings = options.roleMap ? settingsFrom(options.roleMap) : null;
    this.#assignments = new Semaphore(options.maxAssignmentsInFlight ?? 10);
    this.#poll = options.poll ?? { initialMs: 1000, maxMs: 10_000, timeoutMs: 15 * 60_000 };
    this.#conflict = options.conflictRetry ?? { initialMs: 1000, maxMs: 20_000, attempts: 8 };
    this.#readConcurrency = options.readConcurrency ?? 8;
    const bucket = new TokenBucket(options.rateLimit?.rps ?? 20, options.rateLimit?.burst);
    this.#ids.middlewareStack.use(rateLimitPlugin(bucket, this.#counter));
    this.#sso.middlewareStack.use(rateLimitPlugin(bucket, this.#counter));
  }

  /** Calls per operation made through this target's clients (every attempt), for benchmarks and run summaries. */
  callCounts(): Record<string, number> {
    return this.#counter.snapshot();
  }
  totalCalls(): number {
    return this.#counter.total();
  }
  resetCallCounts(): void {
    this.#counter.reset();
  }

  #s(): Settings {
    if (!this.#settings) throw new IdentityCenterError('identityCenter is not configured in the role map', { code: 'NotConfigured', retryable: false, subject: 'identityCenter' });
    return this.#settings;
  }

  // ---------------------------------------------------------------- reading

  async readActual(roleMap: RoleMap): Promise<ActualState> {
    const s = settingsFrom(roleMap);
    this.#settings = s;
    this.#rescan = undefined;
    this.#userIds.clear();
    this.#groupIds.clear();
    this.#psArns.clear();
    if (!s) return { resources: [], warnings: [] };
    try {
      return await this.#read(s);
    } catch (e) {
      throw toIdentityCenterError(e, `identity store ${s.identityStoreId} / ${s.instanceArn}`, 'readActual');
    }
  }

  async #read(s: Settings): Promise<ActualState> {
    const resources: Resource[] = [];
    const warnings: string[] = [];
    const storeId = s.identityStoreId;
    const ownedUsers = this.#registry.owned(userOwnershipScope(storeId));

    const [users, groups] = await Promise.all([this.#listUsers(storeId), this.#listGroups(storeId)]);

    const userKey = new Map<string, { id: string; name: string; owned: boolean }>();
    const seenGuids = new Set<string>();
    for (const u of users) {
      const userId = u.UserId ?? '';
      let guid = ownedUsers.get(userId);
      if (guid !== undefined && seenGuids.has(guid)) {
        warnings.push(`the ownership registry maps two identity store users to AD guid ${guid}; ${u.UserName ?? userId} (${userId}) is treated as not owned`);
        guid = undefined;
      }
      if (guid !== undefined) seenGuids.add(guid);
      const id = guid ?? `${UNOWNED}${userId}`;
      this.#userIds.set(id, userId);
      userKey.set(userId, { id, name: u.UserName ?? userId, owned: guid !== undefined });
      resources.push({ kind: 'identitystore_user', id, account: s.account, name: u.UserName ?? userId, attrs: userAttrs(u), owned: guid !== undefined, awsId: userId });
    }
    const ownedGroups: { group: Group; guid: string }[] = [];
    const groupKey = new Map<string, { id: string; name: string; owned: boolean }>();
    const seenGroupGuids = new Set<string>();
    for (const g of groups) {
      const groupId = g.GroupId ?? '';
      const marker = parseGroupDescription(g.Description);
      let guid = marker !== null && marker.ownerId === s.ownerId ? marker.guid : null;
      if (guid !== null && seenGroupGuids.has(guid)) {
        warnings.push(`two identity store groups carry rolemap's marker for AD guid ${guid}; ${g.DisplayName ?? groupId} (${groupId}) is treated as not owned`);
        guid = null;
      }
      const owned = guid !== null;
      if (guid !== null) seenGroupGuids.add(guid);
      const id = guid ?? `${UNOWNED}${groupId}`;
      this.#groupIds.set(id, groupId);
      groupKey.set(groupId, { id, name: g.DisplayName ?? groupId, owned });
      if (guid !== null) ownedGroups.push({ group: g, guid });
      resources.push({
        kind: 'identitystore_group',
        id,
        account: s.account,
        name: g.DisplayName ?? groupId,
        attrs: { displayName: g.DisplayName ?? '', description: g.Description ?? '' },
        owned,
        awsId: groupId,
      });
    }

    const memberships = await mapLimit(ownedGroups, this.#readConcurrency, async ({ group, guid }) => {
      const out: Resource[] = [];
      for await (const page of paginateListGroupMemberships({ client: this.#ids, pageSize: 100 }, { IdentityStoreId: storeId, GroupId: group.GroupId })) {
        for (const m of page.GroupMemberships ?? []) {
          const userId = m.MemberId && 'UserId' in m.MemberId ? (m.MemberId.UserId ?? '') : '';
          const u = userKey.get(userId) ?? { id: `${UNOWNED}${userId}`, name: userId, owned: false };
          out.push({
            kind: 'identitystore_membership',
            id: `${guid}/${u.id}`,
            account: s.account,
            name: `${group.DisplayName ?? guid}/${u.name}`,
            attrs: {},
            owned: true,
            awsId: m.MembershipId,
          });
        }
      }
      return out;
    });
    for (const list of memberships) resources.push(...list);

    // Permission sets: named in config or carrying our owner tag.
    const arns: string[] = [];
    for await (const page of paginateListPermissionSets({ client: this.#sso, pageSize: 100 }, { InstanceArn: s.instanceArn })) arns.push(...(page.PermissionSets ?? []));
    const sets = await mapLimit(arns, this.#readConcurrency, (arn) => this.#readPermissionSet(s, arn));
    const ownedSets: { name: string; arn: string }[] = [];
    for (const ps of sets) {
      if (!ps) continue;
      this.#psArns.set(ps.resource.name, ps.resource.awsId ?? '');
      resources.push(ps.resource);
      if (ps.revocations) resources.push(ps.revocations);
      if (ps.staleAccounts.length > 0) {
        warnings.push(`permission set ${ps.resource.name} is not up to date on account(s) ${ps.staleAccounts.join(', ')}; it is re-provisioned with its next change`);
      }
      if (ps.resource.owned) ownedSets.push({ name: ps.resource.name, arn: ps.resource.awsId ?? '' });
    }

    // Assignments of owned permission sets on the configured accounts.
    const pairs = ownedSets.flatMap((ps) => s.accounts.map((account) => ({ ps, account })));
    const assignmentLists = await mapLimit(pairs, this.#readConcurrency, async ({ ps, account }) => {
      const out: Resource[] = [];
      for await (const page of paginateListAccountAssignments({ client: this.#sso, pageSize: 100 }, { InstanceArn: s.instanceArn, AccountId: account, PermissionSetArn: ps.arn })) {
        for (const a of page.AccountAssignments ?? []) {
          const type = a.PrincipalType === 'USER' ? 'USER' : 'GROUP';
          const principalId = a.PrincipalId ?? '';
          const p = (type === 'USER' ? userKey : groupKey).get(principalId) ?? { id: `${UNOWNED}${principalId}`, name: principalId, owned: false };
          out.push({
            kind: 'sso_account_assignment',
            id: `${ps.name}/${account}/${type}:${p.id}`,
            account: s.account,
            name: `${ps.name}/${s.aliases.get(account) ?? account}/${p.name}`,
            attrs: {},
            owned: p.owned,
            awsId: `${type}:${principalId}`,
          });
        }
      }
      return out;
    });
    for (const list of assignmentLists) resources.push(...list);
    return { resources, warnings };
  }

  async #listUsers(storeId: string): Promise<User[]> {
    const users: User[] = [];
    for await (const page of paginateListUsers({ client: this.#ids, pageSize: 100 }, { IdentityStoreId: storeId })) users.push(...(page.Users ?? []));
    return users;
  }

  async #listGroups(storeId: string): Promise<Group[]> {
    const groups: Group[] = [];
    for await (const page of paginateListGroups({ client: this.#ids, pageSize: 100 }, { IdentityStoreId: storeId })) groups.push(...(page.Groups ?? []));
    return groups;
  }

  async #readPermissionSet(
    s: Settings,
    arn: string,
  ): Promise<{ resource: ResourceOf<'sso_permission_set'>; revocations: ResourceOf<'sso_permission_set_revocations'> | null; staleAccounts: string[] } | null> {
    const base = { InstanceArn: s.instanceArn, PermissionSetArn: arn };
    const described = (await this.#sso.send(new DescribePermissionSetCommand(base))).PermissionSet;
    const name = described?.Name ?? arn;
    const tags: Record<string, string> = {};
    let next: string | undefined;
    do {
      const page = await this.#sso.send(new ListTagsForResourceCommand({ InstanceArn: s.instanceArn, ResourceArn: arn, ...(next ? { NextToken: next } : {}) }));
      for (const t of page.Tags ?? []) if (t.Key !== undefined) tags[t.Key] = t.Value ?? '';
      next = page.NextToken;
    } while (next);
    const owned = tags[OWNER_TAG] === s.ownerId;
    if (!owned && !s.configuredPermissionSets.has(name)) return null;

    const managed: string[] = [];
    for await (const page of paginateListManagedPoliciesInPermissionSet({ client: this.#sso, pageSize: 100 }, base)) for (const m of page.AttachedManagedPolicies ?? []) if (m.Arn) managed.push(m.Arn);
    const customer: string[] = [];
    for await (const page of paginateListCustomerManagedPolicyReferencesInPermissionSet({ client: this.#sso, pageSize: 100 }, base)) {
      for (const c of page.CustomerManagedPolicyReferences ?? []) if (c.Name) customer.push(`${c.Path ?? '/'}${c.Name}`);
    }
    const inlineText = (await this.#sso.send(new GetInlinePolicyForPermissionSetCommand(base))).InlinePolicy;
    const { policy, entries } = splitInlinePolicy(inlineText ? (JSON.parse(inlineText) as PolicyDocument) : null);
    let boundary: string | null = null;
    try {
      boundary = boundaryString((await this.#sso.send(new GetPermissionsBoundaryForPermissionSetCommand(base))).PermissionsBoundary);
    } catch (e) {
      if (!isName(e, 'ResourceNotFoundException')) throw e;
    }
    const staleAccounts: string[] = [];
    if (owned) {
      for await (const page of paginateListAccountsForProvisionedPermissionSet({ client: this.#sso, pageSize: 100 }, { ...base, ProvisioningStatus: 'LATEST_PERMISSION_SET_NOT_PROVISIONED' })) {
        staleAccounts.push(...(page.AccountIds ?? []));
      }
    }
    const attrs: PermissionSetAttrs = {
      description: described?.Description ?? '',
      sessionDuration: described?.SessionDuration ?? 'PT1H',
      managedPolicyArns: managed,
      customerManagedPolicies: customer,
      inlinePolicy: policy,
      permissionsBoundary: boundary,
      tags,
    };
    const resource: ResourceOf<'sso_permission_set'> = { kind: 'sso_permission_set', id: name, account: s.account, name, attrs, owned, awsId: arn };
    const revocations: ResourceOf<'sso_permission_set_revocations'> | null =
      Object.keys(entries).length > 0 ? { kind: 'sso_permission_set_revocations', id: name, account: s.account, name, attrs: { entries }, owned, awsId: arn } : null;
    return { resource, revocations, staleAccounts };
  }

  // ---------------------------------------------------------------- applying

  async apply(change: Change, signal?: AbortSignal): Promise<ApplyOutcome> {
    const requestIds: string[] = [];
    const detail: Record<string, string> = {};
    try {
      this.#guardOwnership(change);
      switch (change.kind) {
        case 'identitystore_user':
          await this.#applyUser(change, requestIds, detail, signal);
          break;
        case 'identitystore_group':
          await this.#applyGroup(change, requestIds, signal);
          break;
        case 'identitystore_membership':
          await this.#applyMembership(change, requestIds, detail, signal);
          break;
        case 'sso_permission_set':
          await this.#psLock.run(change.key.slice(change.kind.length + 1), 'exclusive', () => this.#applyPermissionSet(change, requestIds, detail, signal));
          break;
        case 'sso_permission_set_revocations':
          await this.#psLock.run(change.key.slice(change.kind.length + 1), 'exclusive', () => this.#applyRevocations(change, requestIds, detail, signal));
          break;
        case 'sso_account_assignment': {
          const psName = parseAssignmentId(((change.after ?? change.before) as Resource).id).psName;
          await this.#psLock.run(psName, 'shared', () => this.#assignments.run(() => this.#applyAssignment(change, requestIds, detail, signal)));
          break;
        }
        default:
          throw new IdentityCenterError(`the Identity Center target does not handle ${change.kind}`, { code: 'WrongTarget', retryable: false, subject: change.address });
      }
    } catch (e) {
      const err = toIdentityCenterError(e, change.address, `${change.action} ${change.kind}`);
      err.requestIds = [...requestIds];
      throw err;
    }
    return Object.keys(detail).length > 0 ? { requestIds, detail } : { requestIds };
  }

  /** Refuses changes to objects rolemap does not own, except the adoption the role map opts into. */
  #guardOwnership(change: Change): void {
    const before = change.before;
    if (!before || before.owned) return;
    const s = this.#s();
    const adopt = change.action === 'update' && ((change.kind === 'identitystore_user' && s.adoptUsers) || (change.kind === 'identitystore_group' && s.adoptGroups));
    if (!adopt) {
      const hint = change.kind === 'identitystore_user' ? ' (set identityCenter.adoptUsers to adopt it)' : change.kind === 'identitystore_group' ? ' (set identityCenter.adoptGroups to adopt it)' : '';
      throw new NotOwnedError(change.address, `${change.address} exists but was not created by rolemap (owner ${s.ownerId}); refusing to ${change.action} it${hint}`);
    }
  }

  #rid(out: Meta, requestIds: string[]): void {
    if (out.$metadata.requestId) requestIds.push(out.$metadata.requestId);
  }

  /** Retries ConflictException (a concurrent operation) with backoff; an Identity Store uniqueness conflict is final. */
  async #retryConflict<T>(fn: () => Promise<T>, signal?: AbortSignal): Promise<T> {
    for (let attempt = 0; ; attempt++) {
      try {
        return await fn();
      } catch (e) {
        const uniqueness = (e as { Reason?: string }).Reason === 'UNIQUENESS_CONSTRAINT_VIOLATION';
        if (!isName(e, 'ConflictException') || uniqueness || attempt + 1 >= this.#conflict.attempts) throw e;
        await sleep(backoffDelay(this.#conflict, attempt), signal);
      }
    }
  }

  // --- users

  async #applyUser(change: Change, requestIds: string[], detail: Record<string, string>, signal?: AbortSignal): Promise<void> {
    const s = this.#s();
    const scope = userOwnershipScope(s.identityStoreId);
    const opts = { abortSignal: signal };
    if (change.action === 'create') {
      const after = change.after as ResourceOf<'identitystore_user'>;
      const a = after.attrs;
      let out;
      try {
        out = await this.#ids.send(
          new CreateUserCommand({
            IdentityStoreId: s.identityStoreId,
            UserName: a.userName,
            DisplayName: a.displayName,
            Name: { GivenName: a.givenName, FamilyName: a.familyName },
            ...(a.email ? { Emails: emailsFor(a.email) } : {}),
          }),
          opts,
        );
      } catch (e) {
        if (isName(e, 'ConflictException')) {
          const err = toIdentityCenterError(e, change.address, 'CreateUser');
          const hint = s.adoptUsers ? 'plan again to adopt it' : 'set identityCenter.adoptUsers to adopt it';
          throw new NotOwnedError(change.address, `a user named ${a.userName} already exists in ${s.identityStoreId} and rolemap does not own it; ${hint}`, { requestId: err.requestId, cause: e });
        }
        throw e;
      }
      this.#rid(out, requestIds);
      const userId = out.UserId ?? '';
      this.#registry.record(scope, userId, after.id);
      this.#userIds.set(after.id, userId);
      detail['userId'] = userId;
      return;
    }
    const before = change.before as ResourceOf<'identitystore_user'>;
    const userId = before.awsId ?? this.#userIds.get(before.id);
    if (!userId) throw new IdentityCenterError(`no identity store UserId known for ${change.address}`, { code: 'UnknownUser', retryable: false, subject: change.address });
    if (change.action === 'delete') {
      try {
        this.#rid(await this.#ids.send(new DeleteUserCommand({ IdentityStoreId: s.identityStoreId, UserId: userId }), opts), requestIds);
      } catch (e) {
        if (!isName(e, 'ResourceNotFoundException')) throw e;
        detail['note'] = 'user was already gone';
      }
      this.#registry.forget(scope, userId);
      this.#userIds.delete(before.id);
      return;
    }
    // update (and adoption)
    const after = change.after as ResourceOf<'identitystore_user'>;
    const ops = userOperations(before.attrs, after.attrs);
    if (ops.length > 0) {
      this.#rid(await this.#retryConflict(() => this.#ids.send(new UpdateUserCommand({ IdentityStoreId: s.identityStoreId, UserId: userId, Operations: ops }), opts), signal), requestIds);
    }
    if (!before.owned) {
      this.#registry.record(scope, userId, after.id);
      detail['adopted'] = userId;
    }
    this.#userIds.set(after.id, userId);
  }

  // --- groups

  async #applyGroup(change: Change, requestIds: string[], signal?: AbortSignal): Promise<void> {
    const s = this.#s();
    const opts = { abortSignal: signal };
    if (change.action === 'create') {
      const after = change.after as ResourceOf<'identitystore_group'>;
      let out;
      try {
        out = await this.#ids.send(new CreateGroupCommand({ IdentityStoreId: s.identityStoreId, DisplayName: after.attrs.displayName, Description: after.attrs.description }), opts);
      } catch (e) {
        if (isName(e, 'ConflictException')) {
          const hint = s.adoptGroups ? 'plan again to adopt it' : 'set identityCenter.adoptGroups to adopt it';
          const err = toIdentityCenterError(e, change.address, 'CreateGroup');
          throw new NotOwnedError(change.address, `a group named ${after.attrs.displayName} already exists in ${s.identityStoreId} without rolemap's marker; ${hint}`, { requestId: err.requestId, cause: e });
        }
        throw e;
      }
      this.#rid(out, requestIds);
      this.#groupIds.set(after.id, out.GroupId ?? '');
      return;
    }
    const before = change.before as ResourceOf<'identitystore_group'>;
    const groupId = before.awsId ?? this.#groupIds.get(before.id);
    if (!groupId) throw new IdentityCenterError(`no identity store GroupId known for ${change.address}`, { code: 'UnknownGroup', retryable: false, subject: change.address });
    if (change.action === 'delete') {
      try {
        this.#rid(await this.#ids.send(new DeleteGroupCommand({ IdentityStoreId: s.identityStoreId, GroupId: groupId }), opts), requestIds);
      } catch (e) {
        if (!isName(e, 'ResourceNotFoundException')) throw e;
      }
      this.#groupIds.delete(before.id);
      return;
    }
    const after = change.after as ResourceOf<'identitystore_group'>;
    const ops = groupOperations(before.attrs, after.attrs);
    if (ops.length > 0) {
      this.#rid(await this.#retryConflict(() => this.#ids.send(new UpdateGroupCommand({ IdentityStoreId: s.identityStoreId, GroupId: groupId, Operations: ops }), opts), signal), requestIds);
    }
    this.#groupIds.set(after.id, groupId);
  }

  // --- memberships

  /** A saved plan applied by a fresh process: learn the ids with one read of users and groups (once until the next readActual). */
  #principalIds(): Promise<void> {
    this.#rescan ??= this.#scanPrincipalIds().catch((e: unknown) => {
      this.#rescan = undefined;
      throw e;
    });
    return this.#rescan;
  }

  async #scanPrincipalIds(): Promise<void> {
    const s = this.#s();
    const owned = this.#registry.owned(userOwnershipScope(s.identityStoreId));
    const [users, groups] = await Promise.all([this.#listUsers(s.identityStoreId), this.#listGroups(s.identityStoreId)]);
    for (const u of users) this.#userIds.set(owned.get(u.UserId ?? '') ?? `${UNOWNED}${u.UserId ?? ''}`, u.UserId ?? '');
    for (const g of groups) {
      const marker = parseGroupDescription(g.Description);
      this.#groupIds.set(marker && marker.ownerId === s.ownerId ? marker.guid : `${UNOWNED}${g.GroupId ?? ''}`, g.GroupId ?? '');
    }
  }

  async #userId(key: string): Promise<string> {
    if (key.startsWith(UNOWNED)) return key.slice(UNOWNED.length);
    if (!this.#userIds.has(key)) await this.#principalIds();
    const id = this.#userIds.get(key);
    if (!id) throw new IdentityCenterError(`identity store user for AD guid ${key} not found`, { code: 'UnknownUser', retryable: false, subject: key });
    return id;
  }

  async #groupId(key: string): Promise<string> {
    if (key.startsWith(UNOWNED)) return key.slice(UNOWNED.length);
    if (!this.#groupIds.has(key)) await this.#principalIds();
    const id = this.#groupIds.get(key);
    if (!id) throw new IdentityCenterError(`identity store group for AD guid ${key} not found`, { code: 'UnknownGroup', retryable: false, subject: key });
    return id;
  }

  async #applyMembership(change: Change, requestIds: string[], detail: Record<string, string>, signal?: AbortSignal): Promise<void> {
    const s = this.#s();
    const opts = { abortSignal: signal };
    const r = (change.after ?? change.before) as Resource;
    const slash = r.id.indexOf('/');
    const groupKey = r.id.slice(0, slash);
    const userKey = r.id.slice(slash + 1);
    if (change.action === 'create') {
      const [groupId, userId] = await Promise.all([this.#groupId(groupKey), this.#userId(userKey)]);
      try {
        const out = await this.#retryConflict(() => this.#ids.send(new CreateGroupMembershipCommand({ IdentityStoreId: s.identityStoreId, GroupId: groupId, MemberId: { UserId: userId } }), opts), signal);
        this.#rid(out, requestIds);
        if (out.MembershipId) detail['membershipId'] = out.MembershipId;
      } catch (e) {
        // Already a member (a retried apply): the wanted state holds.
        if (!(isName(e, 'ConflictException') && (e as { Reason?: string }).Reason === 'UNIQUENESS_CONSTRAINT_VIOLATION')) throw e;
        detail['note'] = 'already a member';
      }
      return;
    }
    if (change.action !== 'delete') return; // a membership has no attributes to update
    let membershipId = change.before?.awsId;
    try {
      if (!membershipId) {
        const [groupId, userId] = await Promise.all([this.#groupId(groupKey), this.#userId(userKey)]);
        membershipId = (await this.#ids.send(new GetGroupMembershipIdCommand({ IdentityStoreId: s.identityStoreId, GroupId: groupId, MemberId: { UserId: userId } }), opts)).MembershipId;
      }
      this.#rid(await this.#ids.send(new DeleteGroupMembershipCommand({ IdentityStoreId: s.identityStoreId, MembershipId: membershipId }), opts), requestIds);
    } catch (e) {
      if (!isName(e, 'ResourceNotFoundException')) throw e;
      detail['note'] = 'membership was already gone';
    }
  }

  // --- permission sets

  async #psArn(name: string): Promise<string> {
    const known = this.#psArns.get(name);
    if (known) return known;
    const s = this.#s();
    for await (const page of paginateListPermissionSets({ client: this.#sso, pageSize: 100 }, { InstanceArn: s.instanceArn })) {
      for (const arn of page.PermissionSets ?? []) {
        const d = await this.#sso.send(new DescribePermissionSetCommand({ InstanceArn: s.instanceArn, PermissionSetArn: arn }));
        if (d.PermissionSet?.Name) this.#psArns.set(d.PermissionSet.Name, arn);
      }
    }
    const arn = this.#psArns.get(name);
    if (!arn) throw new IdentityCenterError(`permission set ${name} not found in ${s.instanceArn}`, { code: 'UnknownPermissionSet', retryable: false, subject: name });
    return arn;
  }

  async #applyPermissionSet(change: Change, requestIds: string[], detail: Record<string, string>, signal?: AbortSignal): Promise<void> {
    const s = this.#s();
    const opts = { abortSignal: signal };
    const send = <T extends Meta>(fn: () => Promise<T>): Promise<T> =>
      this.#retryConflict(fn, signal).then((out) => {
        this.#rid(out, requestIds);
        return out;
      });
    if (change.action === 'delete') {
      const before = change.before as ResourceOf<'sso_permission_set'>;
      const arn = before.awsId ?? (await this.#psArn(before.name));
      try {
        await send(() => this.#sso.send(new DeletePermissionSetCommand({ InstanceArn: s.instanceArn, PermissionSetArn: arn }), opts));
      } catch (e) {
        if (!isName(e, 'ResourceNotFoundException')) throw e;
      }
      this.#psArns.delete(before.name);
      return;
    }
    const after = change.after as ResourceOf<'sso_permission_set'>;
    const a = after.attrs;
    const created = change.action === 'create';
    let arn: string;
    let b: PermissionSetAttrs;
    if (created) {
      const tags = { ...a.tags, [OWNER_TAG]: a.tags[OWNER_TAG] ?? s.ownerId };
      const out = await send(() =>
        this.#sso.send(
          new CreatePermissionSetCommand({
            InstanceArn: s.instanceArn,
            Name: after.name,
            Description: a.description === '' ? undefined : a.description,
            SessionDuration: a.sessionDuration,
            Tags: Object.entries(tags).map(([Key, Value]): Tag => ({ Key, Value })),
          }),
          opts,
        ),
      );
      arn = out.PermissionSet?.PermissionSetArn ?? '';
      this.#psArns.set(after.name, arn);
      detail['permissionSetArn'] = arn;
      b = { description: a.description, sessionDuration: a.sessionDuration, managedPolicyArns: [], customerManagedPolicies: [], inlinePolicy: null, permissionsBoundary: null, tags };
    } else {
      const before = change.before as ResourceOf<'sso_permission_set'>;
      arn = before.awsId ?? (await this.#psArn(before.name));
      b = before.attrs;
    }
    const base = { InstanceArn: s.instanceArn, PermissionSetArn: arn };

    if (!created && (a.description !== b.description || a.sessionDuration !== b.sessionDuration)) {
      await send(() => this.#sso.send(new UpdatePermissionSetCommand({ ...base, Description: a.description, SessionDuration: a.sessionDuration }), opts));
    }
    const addTags = Object.entries(a.tags).filter(([k, v]) => b.tags[k] !== v);
    const removeTags = Object.keys(b.tags).filter((k) => !(k in a.tags) && k !== OWNER_TAG); // never drop our own mark
    if (addTags.length > 0) await send(() => this.#sso.send(new TagResourceCommand({ InstanceArn: s.instanceArn, ResourceArn: arn, Tags: addTags.map(([Key, Value]) => ({ Key, Value })) }), opts));
    if (removeTags.length > 0) await send(() => this.#sso.send(new UntagResourceCommand({ InstanceArn: s.instanceArn, ResourceArn: arn, TagKeys: removeTags }), opts));
    for (const m of a.managedPolicyArns.filter((x) => !b.managedPolicyArns.includes(x))) {
      await send(() => this.#sso.send(new AttachManagedPolicyToPermissionSetCommand({ ...base, ManagedPolicyArn: m }), opts));
    }
    for (const m of b.managedPolicyArns.filter((x) => !a.managedPolicyArns.includes(x))) {
      await send(() => this.#sso.send(new DetachManagedPolicyFromPermissionSetCommand({ ...base, ManagedPolicyArn: m }), opts));
    }
    for (const c of a.customerManagedPolicies.filter((x) => !b.customerManagedPolicies.includes(x))) {
      await send(() => this.#sso.send(new AttachCustomerManagedPolicyReferenceToPermissionSetCommand({ ...base, CustomerManagedPolicyReference: splitCustomerPolicy(c) }), opts));
    }
    for (const c of b.customerManagedPolicies.filter((x) => !a.customerManagedPolicies.includes(x))) {
      await send(() => this.#sso.send(new DetachCustomerManagedPolicyReferenceFromPermissionSetCommand({ ...base, CustomerManagedPolicyReference: splitCustomerPolicy(c) }), opts));
    }
    if (!policiesEqual(a.inlinePolicy, b.inlinePolicy)) {
      // Keep the leavers' revocation statements that are there now.
      const current = created ? {} : (await this.#currentInline(base, signal)).entries;
      await this.#putInline(base, renderInlinePolicy(a.inlinePolicy, current), send, opts);
    }
    if (a.permissionsBoundary !== b.permissionsBoundary) {
      if (a.permissionsBoundary === null) await send(() => this.#sso.send(new DeletePermissionsBoundaryFromPermissionSetCommand(base), opts));
      else await send(() => this.#sso.send(new PutPermissionsBoundaryToPermissionSetCommand({ ...base, PermissionsBoundary: boundaryFor(a.permissionsBoundary as string) }), opts));
    }
    if (!created) await this.#reprovision(after.name, arn, requestIds, detail, signal);
  }

  async #currentInline(base: { InstanceArn: string; PermissionSetArn: string }, signal?: AbortSignal): Promise<{ policy: PolicyDocument | null; entries: Record<string, string> }> {
    const text = (await this.#sso.send(new GetInlinePolicyForPermissionSetCommand(base), { abortSignal: signal })).InlinePolicy;
    return splitInlinePolicy(text ? (JSON.parse(text) as PolicyDocument) : null);
  }

  async #putInline(
    base: { InstanceArn: string; PermissionSetArn: string },
    doc: PolicyDocument | null,
    send: <T extends Meta>(fn: () => Promise<T>) => Promise<T>,
    opts: { abortSignal?: AbortSignal | undefined },
  ): Promise<void> {
    if (doc === null) {
      await send(() => this.#sso.send(new DeleteInlinePolicyFromPermissionSetCommand(base), opts));
    } else {
      await send(() => this.#sso.send(new PutInlinePolicyToPermissionSetCommand({ ...base, InlinePolicy: JSON.stringify(doc) }), opts));
    }
  }

  async #applyRevocations(change: Change, requestIds: string[], detail: Record<string, string>, signal?: AbortSignal): Promise<void> {
    const s = this.#s();
    const opts = { abortSignal: signal };
    const r = (change.after ?? change.before) as ResourceOf<'sso_permission_set_revocations'>;
    const arn = r.awsId ?? (await this.#psArn(r.name));
    const base = { InstanceArn: s.instanceArn, PermissionSetArn: arn };
    const send = <T extends Meta>(fn: () => Promise<T>): Promise<T> =>
      this.#retryConflict(fn, signal).then((out) => {
        this.#rid(out, requestIds);
        return out;
      });
    const wanted = (change.after as ResourceOf<'sso_permission_set_revocations'> | null)?.attrs.entries ?? {};
    const current = await this.#currentInline(base, signal);
    await this.#putInline(base, renderInlinePolicy(current.policy, wanted), send, opts);
    detail['revokedUserIds'] = Object.keys(wanted).sort().join(',');
    await this.#reprovision(r.name, arn, requestIds, detail, signal);
  }

  /** ProvisionPermissionSet to every account where the set is provisioned, then poll until done. */
  async #reprovision(name: string, arn: string, requestIds: string[], detail: Record<string, string>, signal?: AbortSignal): Promise<void> {
    const s = this.#s();
    const base = { InstanceArn: s.instanceArn, PermissionSetArn: arn };
    const accounts: string[] = [];
    for await (const page of paginateListAccountsForProvisionedPermissionSet({ client: this.#sso, pageSize: 100 }, base)) accounts.push(...(page.AccountIds ?? []));
    if (accounts.length === 0) {
      detail['provisioning'] = 'not provisioned to any account';
      return;
    }
    const out = await this.#retryConflict(() => this.#sso.send(new ProvisionPermissionSetCommand({ ...base, TargetType: 'ALL_PROVISIONED_ACCOUNTS' }), { abortSignal: signal }), signal);
    this.#rid(out, requestIds);
    const asyncId = out.PermissionSetProvisioningStatus?.RequestId ?? '';
    const final = await this.#pollUntilDone(`permission set ${name}`, signal, async () => {
      const st = (await this.#sso.send(new DescribePermissionSetProvisioningStatusCommand({ InstanceArn: s.instanceArn, ProvisionPermissionSetRequestId: asyncId }), { abortSignal: signal }))
        .PermissionSetProvisioningStatus;
      return { status: st?.Status ?? 'IN_PROGRESS', reason: st?.FailureReason };
    });
    if (final.status === 'FAILED') throw new AsyncRequestFailedError(`sso_permission_set.${name}`, 'ProvisionPermissionSet', asyncId, final.reason ?? 'no reason given', out.$metadata.requestId);
    detail['provisioning'] = `${asyncId} SUCCEEDED on ${accounts.length} account(s)`;
  }

  async #pollUntilDone(what: string, signal: AbortSignal | undefined, describe: () => Promise<{ status: string; reason: string | undefined }>): Promise<{ status: string; reason: string | undefined }> {
    const started = Date.now();
    for (let attempt = 0; ; attempt++) {
      await sleep(backoffDelay(this.#poll, attempt), signal);
      const st = await describe();
      if (st.status !== 'IN_PROGRESS') return st;
      if (Date.now() - started > this.#poll.timeoutMs) {
        throw new IdentityCenterError(`${what}: still IN_PROGRESS after ${this.#poll.timeoutMs} ms`, { code: 'PollTimeout', retryable: true, subject: what });
      }
    }
  }

  // --- account assignments

  async #applyAssignment(change: Change, requestIds: string[], detail: Record<string, string>, signal?: AbortSignal): Promise<void> {
    const s = this.#s();
    const r = (change.after ?? change.before) as Resource;
    const { psName, account, type, principal } = parseAssignmentId(r.id);
    if (change.action !== 'create' && change.action !== 'delete') return; // an assignment has no attributes
    const arn = await this.#psArn(psName);
    const principalId = type === 'GROUP' ? await this.#groupId(principal) : await this.#userId(principal);
    const input = { InstanceArn: s.instanceArn, TargetId: account, TargetType: 'AWS_ACCOUNT' as const, PermissionSetArn: arn, PrincipalType: type, PrincipalId: principalId };
    const opts = { abortSignal: signal };
    if (change.action === 'create') {
      const out = await this.#retryConflict(() => this.#sso.send(new CreateAccountAssignmentCommand(input), opts), signal);
      this.#rid(out, requestIds);
      const asyncId = out.AccountAssignmentCreationStatus?.RequestId ?? '';
      detail['asyncRequestId'] = asyncId;
      const final = await this.#pollUntilDone(change.address, signal, async () => {
        const st = (await this.#sso.send(new DescribeAccountAssignmentCreationStatusCommand({ InstanceArn: s.instanceArn, AccountAssignmentCreationRequestId: asyncId }), opts)).AccountAssignmentCreationStatus;
        return { status: st?.Status ?? 'IN_PROGRESS', reason: st?.FailureReason };
      });
      detail['status'] = final.status;
      if (final.status === 'FAILED') throw new AsyncRequestFailedError(change.address, 'CreateAccountAssignment', asyncId, final.reason ?? 'no reason given', out.$metadata.requestId);
      return;
    }
    let out;
    try {
      out = await this.#retryConflict(() => this.#sso.send(new DeleteAccountAssignmentCommand(input), opts), signal);
    } catch (e) {
      if (!isName(e, 'ResourceNotFoundException')) throw e;
      detail['note'] = 'assignment was already gone';
      return;
    }
    this.#rid(out, requestIds);
    const asyncId = out.AccountAssignmentDeletionStatus?.RequestId ?? '';
    detail['asyncRequestId'] = asyncId;
    const final = await this.#pollUntilDone(change.address, signal, async () => {
      const st = (await this.#sso.send(new DescribeAccountAssignmentDeletionStatusCommand({ InstanceArn: s.instanceArn, AccountAssignmentDeletionRequestId: asyncId }), opts)).AccountAssignmentDeletionStatus;
      return { status: st?.Status ?? 'IN_PROGRESS', reason: st?.FailureReason };
    });
    detail['status'] = final.status;
    if (final.status === 'FAILED') throw new AsyncRequestFailedError(change.address, 'DeleteAccountAssignment', asyncId, final.reason ?? 'no reason given', out.$metadata.requestId);
  }
}

/** UpdateUser operations that turn `before` into `after` (a rename is one of them, never delete + create). */
export function userOperations(before: IdentityStoreUserAttrs, after: IdentityStoreUserAttrs): AttributeOperation[] {
  const ops: AttributeOperation[] = [];
  if (before.userName !== after.userName) ops.push({ AttributePath: 'userName', AttributeValue: after.userName });
  if (before.displayName !== after.displayName) ops.push({ AttributePath: 'displayName', AttributeValue: after.displayName });
  if (before.givenName !== after.givenName) ops.push({ AttributePath: 'name.givenName', AttributeValue: after.givenName });
  if (before.familyName !== after.familyName) ops.push({ AttributePath: 'name.familyName', AttributeValue: after.familyName });
  if (before.email !== after.email) ops.push({ AttributePath: 'emails', AttributeValue: emailsFor(after.email) });
  return ops;
}

export function groupOperations(before: IdentityStoreGroupAttrs, after: IdentityStoreGroupAttrs): AttributeOperation[] {
  const ops: AttributeOperation[] = [];
  if (before.displayName !== after.displayName) ops.push({ AttributePath: 'displayName', AttributeValue: after.displayName });
  if (before.description !== after.description) ops.push({ AttributePath: 'description', AttributeValue: after.description });
  return ops;
}
