/**
 * `identitystore_group`: Identity Store groups. Read with `ListGroups` (100 a page); owned are those whose
 * description carries rolemap's marker with this owner id. Applied with CreateGroup / UpdateGroup / DeleteGroup.
 */
import { CreateGroupCommand, DeleteGroupCommand, paginateListGroups, UpdateGroupCommand } from '@aws-sdk/client-identitystore';
import type { AttributeOperation, Group } from '@aws-sdk/client-identitystore';
import { parseGroupDescription } from '../../../core/model/ownership.js';
import type { IdentityStoreGroupAttrs, Resource, ResourceOf } from '../../../core/model/resources.js';
import type { Change } from '../../../core/plan/change.js';
import type { ApplyLog, IdentityCenterContext, Settings } from './context.js';
import { isName, UNOWNED } from './context.js';
import { IdentityCenterError, NotOwnedError, toIdentityCenterError } from './errors.js';
import type { PrincipalKey } from './users.js';

export async function listGroups(ctx: IdentityCenterContext, storeId: string): Promise<Group[]> {
  const groups: Group[] = [];
  for await (const page of paginateListGroups({ client: ctx.ids, pageSize: 100 }, { IdentityStoreId: storeId })) groups.push(...(page.Groups ?? []));
  return groups;
}

/** An owned group and its AD guid: the groups whose memberships are read. */
export type OwnedGroup = { readonly group: Group; readonly guid: string };

/** The groups as resources, each GroupId's key for assignments, and the owned groups. */
export async function readGroups(
  ctx: IdentityCenterContext,
  s: Settings,
): Promise<{ resources: Resource[]; warnings: string[]; byGroupId: Map<string, PrincipalKey>; owned: OwnedGroup[] }> {
  const resources: Resource[] = [];
  const warnings: string[] = [];
  const groups = await listGroups(ctx, s.identityStoreId);
  const ownedGroups: OwnedGroup[] = [];
  const byGroupId = new Map<string, PrincipalKey>();
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
    ctx.groupIds.set(id, groupId);
    byGroupId.set(groupId, { id, name: g.DisplayName ?? groupId, owned });
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
  return { resources, warnings, byGroupId, owned: ownedGroups };
}

export function groupOperations(before: IdentityStoreGroupAttrs, after: IdentityStoreGroupAttrs): AttributeOperation[] {
  const ops: AttributeOperation[] = [];
  if (before.displayName !== after.displayName) ops.push({ AttributePath: 'displayName', AttributeValue: after.displayName });
  if (before.description !== after.description) ops.push({ AttributePath: 'description', AttributeValue: after.description });
  return ops;
}

export async function applyGroup(ctx: IdentityCenterContext, change: Change, log: ApplyLog, signal?: AbortSignal): Promise<void> {
  const { requestIds } = log;
  const s = ctx.s();
  const opts = { abortSignal: signal };
  if (change.action === 'create') {
    const after = change.after as ResourceOf<'identitystore_group'>;
    let out;
    try {
      out = await ctx.ids.send(new CreateGroupCommand({ IdentityStoreId: s.identityStoreId, DisplayName: after.attrs.displayName, Description: after.attrs.description }), opts);
    } catch (e) {
      if (isName(e, 'ConflictException')) {
        const hint = s.adoptGroups ? 'plan again to adopt it' : 'set identityCenter.adoptGroups to adopt it';
        const err = toIdentityCenterError(e, change.address, 'CreateGroup');
        throw new NotOwnedError(change.address, `a group named ${after.attrs.displayName} already exists in ${s.identityStoreId} without rolemap's marker; ${hint}`, { requestId: err.requestId, cause: e });
      }
      throw e;
    }
    ctx.rid(out, requestIds);
    ctx.groupIds.set(after.id, out.GroupId ?? '');
    return;
  }
  const before = change.before as ResourceOf<'identitystore_group'>;
  const groupId = before.awsId ?? ctx.groupIds.get(before.id);
  if (!groupId) throw new IdentityCenterError(`no identity store GroupId known for ${change.address}`, { code: 'UnknownGroup', retryable: false, subject: change.address });
  if (change.action === 'delete') {
    try {
      ctx.rid(await ctx.ids.send(new DeleteGroupCommand({ IdentityStoreId: s.identityStoreId, GroupId: groupId }), opts), requestIds);
    } catch (e) {
      if (!isName(e, 'ResourceNotFoundException')) throw e;
    }
    ctx.groupIds.delete(before.id);
    return;
  }
  const after = change.after as ResourceOf<'identitystore_group'>;
  const ops = groupOperations(before.attrs, after.attrs);
  if (ops.length > 0) {
    ctx.rid(await ctx.retryConflict(() => ctx.ids.send(new UpdateGroupCommand({ IdentityStoreId: s.identityStoreId, GroupId: groupId, Operations: ops }), opts), signal), requestIds);
  }
  ctx.groupIds.set(after.id, groupId);
}
