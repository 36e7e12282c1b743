/**
 * `identitystore_user`: Identity Store users. Read with `ListUsers` (100 a page); owned are those the
 * OwnershipRegistry maps to an AD guid (the Identity Store API cannot mark users). Applied with
 * CreateUser / UpdateUser (a rename is an update) / DeleteUser, recording ownership in the registry.
 */
import { CreateUserCommand, DeleteUserCommand, paginateListUsers, UpdateUserCommand } from '@aws-sdk/client-identitystore';
import type { AttributeOperation, User } from '@aws-sdk/client-identitystore';
import type { IdentityStoreUserAttrs, Resource, ResourceOf } from '../../../core/model/resources.js';
import type { Change } from '../../../core/plan/change.js';
import type { ApplyLog, IdentityCenterContext, Settings } from './context.js';
import { isName, UNOWNED } from './context.js';
import { IdentityCenterError, NotOwnedError, toIdentityCenterError } from './errors.js';

/** The registry scope of identity store users: one per identity store. */
export function userOwnershipScope(identityStoreId: string): string {
  return `identitystore:${identityStoreId}`;
}

/** How memberships and assignments name a user found by its UserId. */
export type PrincipalKey = { readonly id: string; readonly name: string; readonly owned: boolean };

export async function listUsers(ctx: IdentityCenterContext, storeId: string): Promise<User[]> {
  const users: User[] = [];
  for await (const page of paginateListUsers({ client: ctx.ids, pageSize: 100 }, { IdentityStoreId: storeId })) users.push(...(page.Users ?? []));
  return users;
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

/** The users as resources, and each UserId's key for memberships and assignments. */
export async function readUsers(ctx: IdentityCenterContext, s: Settings): Promise<{ resources: Resource[]; warnings: string[]; byUserId: Map<string, PrincipalKey> }> {
  const resources: Resource[] = [];
  const warnings: string[] = [];
  const scope = userOwnershipScope(s.identityStoreId);
  const ownedUsers = ctx.registry.owned(scope);
  const users = await listUsers(ctx, s.identityStoreId);
  const byUserId = new Map<string, PrincipalKey>();
  const seenGuids = new Set<string>();
  // A CreateUser that was sent but whose ownership was never recorded (a crash in between): the user
  // AWS has under the name the create carried is rolemap's. Recorded now, said once.
  const ownedGuids = new Set(ownedUsers.values());
  const unconfirmed = new Map<string, { guid: string; runId: string; seq: number }>();
  for (const c of ctx.registry.unconfirmedCreates?.('identitystore_user') ?? []) if (!ownedGuids.has(c.guid)) unconfirmed.set(c.name.toLowerCase(), c);
  for (const u of users) {
    const userId = u.UserId ?? '';
    let guid = ownedUsers.get(userId);
    const recovered = guid === undefined && userId !== '' ? unconfirmed.get((u.UserName ?? '').toLowerCase()) : undefined;
    if (recovered !== undefined && !seenGuids.has(recovered.guid)) {
      ctx.registry.record(scope, userId, recovered.guid);
      unconfirmed.delete((u.UserName ?? '').toLowerCase());
      guid = recovered.guid;
      warnings.push(
        `identitystore_user.${u.UserName ?? userId}: rolemap created it in run ${recovered.runId} (change #${recovered.seq}) and stopped before recording it; ownership recovered from the journal's intent row`,
      );
    }
    if (guid !== undefined && seenGuids.has(guid)) {
      warnings.push(`the ownership registry maps two identity store users to AD guid ${guid}; ${u.UserName ?? userId} (${userId}) is treated as not owned`);
      guid = undefined;
    }
    if (guid !== undefined) seenGuids.add(guid);
    const id = guid ?? `${UNOWNED}${userId}`;
    ctx.userIds.set(id, userId);
    byUserId.set(userId, { id, name: u.UserName ?? userId, owned: guid !== undefined });
    resources.push({ kind: 'identitystore_user', id, account: s.account, name: u.UserName ?? userId, attrs: userAttrs(u), owned: guid !== undefined, awsId: userId });
  }
  return { resources, warnings, byUserId };
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

export async function applyUser(ctx: IdentityCenterContext, change: Change, log: ApplyLog, signal?: AbortSignal): Promise<void> {
  const { requestIds, detail } = log;
  const s = ctx.s();
  const scope = userOwnershipScope(s.identityStoreId);
  const opts = { abortSignal: signal };
  if (change.action === 'create') {
    const after = change.after as ResourceOf<'identitystore_user'>;
    const a = after.attrs;
    let out;
    try {
      out = await ctx.ids.send(
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
    ctx.rid(out, requestIds);
    const userId = out.UserId ?? '';
    ctx.registry.record(scope, userId, after.id);
    ctx.userIds.set(after.id, userId);
    detail['userId'] = userId;
    return;
  }
  const before = change.before as ResourceOf<'identitystore_user'>;
  const userId = before.awsId ?? ctx.userIds.get(before.id);
  if (!userId) throw new IdentityCenterError(`no identity store UserId known for ${change.address}`, { code: 'UnknownUser', retryable: false, subject: change.address });
  if (change.action === 'delete') {
    try {
      ctx.rid(await ctx.ids.send(new DeleteUserCommand({ IdentityStoreId: s.identityStoreId, UserId: userId }), opts), requestIds);
    } catch (e) {
      if (!isName(e, 'ResourceNotFoundException')) throw e;
      detail['note'] = 'user was already gone';
    }
    ctx.registry.forget(scope, userId);
    ctx.userIds.delete(before.id);
    return;
  }
  // update (and adoption)
  const after = change.after as ResourceOf<'identitystore_user'>;
  const ops = userOperations(before.attrs, after.attrs);
  if (ops.length > 0) {
    ctx.rid(await ctx.retryConflict(() => ctx.ids.send(new UpdateUserCommand({ IdentityStoreId: s.identityStoreId, UserId: userId, Operations: ops }), opts), signal), requestIds);
  }
  if (!before.owned) {
    ctx.registry.record(scope, userId, after.id);
    detail['adopted'] = userId;
  }
  ctx.userIds.set(after.id, userId);
}
