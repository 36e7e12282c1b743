/**
 * `sso_permission_set_revocations`: the leavers' revocation statements in a permission set's inline policy
 * (read with the permission set, see permission-sets.ts). Applied by rewriting the inline policy with the
 * wanted statements, keeping the rest of the policy there now, then re-provisioning the set. A policy that
 * would exceed the inline-policy quota is refused before any write (`InlinePolicyQuotaError`).
 */
import type { ResourceOf } from '../../../core/model/resources.js';
import type { Change } from '../../../core/plan/change.js';
import type { ApplyLog, IdentityCenterContext } from './context.js';
import { currentInline, permissionSetArn, putInline, reprovision, sender } from './permission-sets.js';
import { InlinePolicyQuotaError } from './errors.js';
import { inlinePolicySize, PERMISSION_SET_INLINE_POLICY_QUOTA, renderInlinePolicy } from './revocation-statements.js';

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
  const doc = renderInlinePolicy(current.policy, wanted);
  // Identity Center would refuse it anyway; refusing here names the set, the size and the quota, and leaves the set as it is.
  const size = inlinePolicySize(doc);
  if (size > PERMISSION_SET_INLINE_POLICY_QUOTA) throw new InlinePolicyQuotaError(change.address, r.name, size, PERMISSION_SET_INLINE_POLICY_QUOTA);
  await putInline(ctx, base, doc, send, opts);
  detail['revokedUserIds'] = Object.keys(wanted).sort().join(',');
  await reprovision(ctx, r.name, arn, log, signal);
}
