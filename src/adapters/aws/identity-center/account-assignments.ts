/**
 * `sso_account_assignment`: a group or user given a permission set on an account (id
 * `<permissionSetName>/<account>/<GROUP|USER>:<guid or unowned:AwsId>`). Read with `ListAccountAssignments`
 * for owned permission sets on the configured accounts only. Applied with Create/DeleteAccountAssignment,
 * each polled until SUCCEEDED or FAILED (already gone counts as done).
 */
import {
  CreateAccountAssignmentCommand,
  DeleteAccountAssignmentCommand,
  DescribeAccountAssignmentCreationStatusCommand,
  DescribeAccountAssignmentDeletionStatusCommand,
  paginateListAccountAssignments,
} from '@aws-sdk/client-sso-admin';
import { NO_ATTRS, type Resource } from '../../../core/model/resources.js';
import type { Change } from '../../../core/plan/change.js';
import { mapLimit } from './async-tools.js';
import type { ApplyLog, IdentityCenterContext, Settings } from './context.js';
import { isName, UNOWNED } from './context.js';
import { IdentityCenterError } from './errors.js';
import type { OwnedPermissionSet } from './permission-sets.js';
import { permissionSetArn } from './permission-sets.js';
import { groupIdFor, userIdFor } from './principal-ids.js';
import type { PrincipalKey } from './users.js';

/** `<permissionSetName>/<account>/<GROUP|USER>:<guid or unowned:AwsId>` */
export function parseAssignmentId(id: string): { psName: string; account: string; type: 'GROUP' | 'USER'; principal: string } {
  const m = /^([^/]+)\/(\d{12})\/(GROUP|USER):(.+)$/.exec(id);
  if (!m) throw new IdentityCenterError(`sso_account_assignment id ${id} is not <permissionSet>/<account>/<GROUP|USER>:<guid>`, { code: 'InvalidId', retryable: false, subject: id });
  return { psName: m[1] as string, account: m[2] as string, type: m[3] as 'GROUP' | 'USER', principal: m[4] as string };
}

export async function readAssignments(
  ctx: IdentityCenterContext,
  s: Settings,
  ownedSets: readonly OwnedPermissionSet[],
  byUserId: ReadonlyMap<string, PrincipalKey>,
  byGroupId: ReadonlyMap<string, PrincipalKey>,
): Promise<Resource[]> {
  const pairs = ownedSets.flatMap((ps) => s.accounts.map((account) => ({ ps, account })));
  const assignmentLists = await mapLimit(pairs, ctx.readConcurrency, async ({ ps, account }) => {
    const out: Resource[] = [];
    for await (const page of paginateListAccountAssignments({ client: ctx.sso, pageSize: 100 }, { InstanceArn: s.instanceArn, AccountId: account, PermissionSetArn: ps.arn })) {
      for (const a of page.AccountAssignments ?? []) {
        const type = a.PrincipalType === 'USER' ? 'USER' : 'GROUP';
        const principalId = a.PrincipalId ?? '';
        const p = (type === 'USER' ? byUserId : byGroupId).get(principalId) ?? { id: `${UNOWNED}${principalId}`, name: principalId, owned: false };
        out.push({
          kind: 'sso_account_assignment',
          id: `${ps.name}/${account}/${type}:${p.id}`,
          account: s.account,
          name: `${ps.name}/${s.aliases.get(account) ?? account}/${p.name}`,
          attrs: NO_ATTRS,
          owned: p.owned,
          awsId: `${type}:${principalId}`,
        });
      }
    }
    return out;
  });
  return assignmentLists.flat();
}

export async function applyAssignment(ctx: IdentityCenterContext, change: Change, log: ApplyLog, signal?: AbortSignal): Promise<void> {
  const { requestIds, detail } = log;
  const s = ctx.s();
  const r = (change.after ?? change.before) as Resource;
  const { psName, account, type, principal } = parseAssignmentId(r.id);
  if (change.action !== 'create' && change.action !== 'delete') return; // an assignment has no attributes
  const arn = await permissionSetArn(ctx, psName);
  const principalId = type === 'GROUP' ? await groupIdFor(ctx, principal) : await userIdFor(ctx, principal);
  const input = { InstanceArn: s.instanceArn, TargetId: account, TargetType: 'AWS_ACCOUNT' as const, PermissionSetArn: arn, PrincipalType: type, PrincipalId: principalId };
  const opts = { abortSignal: signal };
  if (change.action === 'create') {
    const out = await ctx.retryConflict(() => ctx.sso.send(new CreateAccountAssignmentCommand(input), opts), signal);
    ctx.rid(out, requestIds);
    const asyncId = out.AccountAssignmentCreationStatus?.RequestId ?? '';
    detail['asyncRequestId'] = asyncId;
    const request = { what: change.address, subject: change.address, operation: 'CreateAccountAssignment', asyncId, httpRequestId: out.$metadata.requestId };
    detail['status'] = await ctx.pollUntilDone(request, signal, async () =>
      (await ctx.sso.send(new DescribeAccountAssignmentCreationStatusCommand({ InstanceArn: s.instanceArn, AccountAssignmentCreationRequestId: asyncId }), opts)).AccountAssignmentCreationStatus,
    );
    return;
  }
  let out;
  try {
    out = await ctx.retryConflict(() => ctx.sso.send(new DeleteAccountAssignmentCommand(input), opts), signal);
  } catch (e) {
    if (!isName(e, 'ResourceNotFoundException')) throw e;
    detail['note'] = 'assignment was already gone';
    return;
  }
  ctx.rid(out, requestIds);
  const asyncId = out.AccountAssignmentDeletionStatus?.RequestId ?? '';
  detail['asyncRequestId'] = asyncId;
  const request = { what: change.address, subject: change.address, operation: 'DeleteAccountAssignment', asyncId, httpRequestId: out.$metadata.requestId };
  detail['status'] = await ctx.pollUntilDone(request, signal, async () =>
    (await ctx.sso.send(new DescribeAccountAssignmentDeletionStatusCommand({ InstanceArn: s.instanceArn, AccountAssignmentDeletionRequestId: asyncId }), opts)).AccountAssignmentDeletionStatus,
  );
}
