/**
 * `identitystore_membership`: a user in an owned group (id `<group guid>/<user guid or unowned:UserId>`).
 * Read with `ListGroupMemberships` for the groups rolemap owns only. Applied with CreateGroupMembership
 * (already a member counts as done) and DeleteGroupMembership (already gone counts as done).
 */
import { CreateGroupMembershipCommand, DeleteGroupMembershipCommand, GetGroupMembershipIdCommand, paginateListGroupMemberships } from '@aws-sdk/client-identitystore';
import { NO_ATTRS, type Resource } from '../../../core/model/resources.js';
import type { Change } from '../../../core/plan/change.js';
import { awsErrorReason } from '../call-error.js';
import { mapLimit } from './async-tools.js';
import type { ApplyLog, IdentityCenterContext, Settings } from './context.js';
import { isName, UNOWNED } from './context.js';
import type { OwnedGroup } from './groups.js';
import { groupIdFor, userIdFor } from './principal-ids.js';
import type { PrincipalKey } from './users.js';

export async function readMemberships(ctx: IdentityCenterContext, s: Settings, ownedGroups: readonly OwnedGroup[], byUserId: ReadonlyMap<string, PrincipalKey>): Promise<Resource[]> {
  const memberships = await mapLimit(ownedGroups, ctx.readConcurrency, async ({ group, guid }) => {
    const out: Resource[] = [];
    for await (const page of paginateListGroupMemberships({ client: ctx.ids, pageSize: 100 }, { IdentityStoreId: s.identityStoreId, GroupId: group.GroupId })) {
      for (const m of page.GroupMemberships ?? []) {
        const userId = m.MemberId && 'UserId' in m.MemberId ? (m.MemberId.UserId ?? '') : '';
        const u = byUserId.get(userId) ?? { id: `${UNOWNED}${userId}`, name: userId, owned: false };
        out.push({
          kind: 'identitystore_membership',
          id: `${guid}/${u.id}`,
          account: s.account,
          name: `${group.DisplayName ?? guid}/${u.name}`,
          attrs: NO_ATTRS,
          owned: true,
          awsId: m.MembershipId,
        });
      }
    }
    return out;
  });
  return memberships.flat();
}

export async function applyMembership(ctx: IdentityCenterContext, change: Change, log: ApplyLog, signal?: AbortSignal): Promise<void> {
  const { requestIds, detail } = log;
  const s = ctx.s();
  const opts = { abortSignal: signal };
  const r = (change.after ?? change.before) as Resource;
  const slash = r.id.indexOf('/');
  const groupKey = r.id.slice(0, slash);
  const userKey = r.id.slice(slash + 1);
  if (change.action === 'create') {
    const [groupId, userId] = await Promise.all([groupIdFor(ctx, groupKey), userIdFor(ctx, userKey)]);
    try {
      const out = await ctx.retryConflict(() => ctx.ids.send(new CreateGroupMembershipCommand({ IdentityStoreId: s.identityStoreId, GroupId: groupId, MemberId: { UserId: userId } }), opts), signal);
      ctx.rid(out, requestIds);
      if (out.MembershipId) detail['membershipId'] = out.MembershipId;
    } catch (e) {
      // Already a member (a retried apply): the wanted state holds.
      if (!(isName(e, 'ConflictException') && awsErrorReason(e) === 'UNIQUENESS_CONSTRAINT_VIOLATION')) throw e;
      detail['note'] = 'already a member';
    }
    return;
  }
  if (change.action !== 'delete') return; // a membership has no attributes to update
  let membershipId = change.before?.awsId;
  try {
    if (!membershipId) {
      const [groupId, userId] = await Promise.all([groupIdFor(ctx, groupKey), userIdFor(ctx, userKey)]);
      membershipId = (await ctx.ids.send(new GetGroupMembershipIdCommand({ IdentityStoreId: s.identityStoreId, GroupId: groupId, MemberId: { UserId: userId } }), opts)).MembershipId;
    }
    ctx.rid(await ctx.ids.send(new DeleteGroupMembershipCommand({ IdentityStoreId: s.identityStoreId, MembershipId: membershipId }), opts), requestIds);
  } catch (e) {
    if (!isName(e, 'ResourceNotFoundException')) throw e;
    detail['note'] = 'membership was already gone';
  }
}
