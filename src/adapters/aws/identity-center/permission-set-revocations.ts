/**
 * `sso_permission_set_revocations`: the leavers' revocation statements in a permission set's inline policy
 * (read with the permission set, see permission-sets.ts). Applied by rewriting the inline policy with the
 * wanted statements, keeping the rest of the policy there now, then re-provisioning the set.
 */
import type { ResourceOf } from '../../../core/model/resources.js';
import type { Change } from '../../../core/plan/change.js';
import type { ApplyLog, IdentityCenterContext } from './context.js';
import { currentInline, permissionSetArn, putInline, reprovision, sender } from './permission-sets.js';
import { renderInlinePolicy } from './revocation-statements.js';

export async function applyRevocations(ctx: IdentityCenterContext, change: Change, log: ApplyLog, signal?: AbortSignal): Promise<void> {
  const { requestIds, detail } = log;
  const s = ctx.s();
  const opts = { abortSignal: signal };
  const r = (change.after ?? change.before) as ResourceOf<'sso_permission_set_revocations'>;
  const arn = r.awsId ?? (await permissionSetArn(ctx, r.name));
  const base = { InstanceArn: s.instanceArn, PermissionSetArn: arn };
  const send = sender(ctx, requestIds, signal);
  const wanted = (change.after as ResourceOf<'sso_permission_set_revocations'> | null)?.attrs.entries ?? {};
  const current = await currentInline(ctx, base, signal);
  await putInline(ctx, base, renderInlinePolicy(current.policy, wanted), send, opts);
  detail['revokedUserIds'] = Object.keys(wanted).sort().join(',');
  await reprovision(ctx, r.name, arn, log, signal);
}
