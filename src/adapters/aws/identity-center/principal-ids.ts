/**
 * AD guid (or `unowned:<id>`) -> Identity Store UserId / GroupId, for memberships and assignments. Known from
 * the last read or create; a saved plan applied by a fresh process learns them with one read of users and
 * groups (once until the next readActual).
 */
import { parseGroupDescription } from '../../../core/model/ownership.js';
import type { IdentityCenterContext } from './context.js';
import { UNOWNED } from './context.js';
import { IdentityCenterError } from './errors.js';
import { listGroups } from './groups.js';
import { listUsers, userOwnershipScope } from './users.js';

function principalIds(ctx: IdentityCenterContext): Promise<void> {
  ctx.rescan ??= scanPrincipalIds(ctx).catch((e: unknown) => {
    ctx.rescan = undefined;
    throw e;
  });
  return ctx.rescan;
}

async function scanPrincipalIds(ctx: IdentityCenterContext): Promise<void> {
  const s = ctx.s();
  const owned = ctx.registry.owned(userOwnershipScope(s.identityStoreId));
  const [users, groups] = await Promise.all([listUsers(ctx, s.identityStoreId), listGroups(ctx, s.identityStoreId)]);
  for (const u of users) ctx.userIds.set(owned.get(u.UserId ?? '') ?? `${UNOWNED}${u.UserId ?? ''}`, u.UserId ?? '');
  for (const g of groups) {
    const marker = parseGroupDescription(g.Description);
    ctx.groupIds.set(marker && marker.ownerId === s.ownerId ? marker.guid : `${UNOWNED}${g.GroupId ?? ''}`, g.GroupId ?? '');
  }
}

async function principalIdFor(ctx: IdentityCenterContext, kind: 'user' | 'group', key: string): Promise<string> {
  if (key.startsWith(UNOWNED)) return key.slice(UNOWNED.length);
  const ids = kind === 'user' ? ctx.userIds : ctx.groupIds;
  if (!ids.has(key)) await principalIds(ctx);
  const id = ids.get(key);
  if (!id) throw new IdentityCenterError(`identity store ${kind} for AD guid ${key} not found`, { code: kind === 'user' ? 'UnknownUser' : 'UnknownGroup', retryable: false, subject: key });
  return id;
}

export function userIdFor(ctx: IdentityCenterContext, key: string): Promise<string> {
  return principalIdFor(ctx, 'user', key);
}

export function groupIdFor(ctx: IdentityCenterContext, key: string): Promise<string> {
  return principalIdFor(ctx, 'group', key);
}
