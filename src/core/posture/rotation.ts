/**
 * The opt-in key rotation pass (`posture.rotation.action: deactivate`): every active access key of an
 * IAM user rolemap reads (linked to AD, or named by `posture.rotation.users`) that is older than
 * `maxKeyAgeDays` is planned as `disable` with its age as the reason. The change only ever sets keys
 * Inactive (the iam-users target refuses anything else and never deletes a key); the console password
 * is left alone. Protected principals (the IAM user name, or the AD account it is linked to) are skipped.
 * The safety policy counts these `disable`s with the deletions. A user the leaver pass already disables
 * gets no second change.
 */
import type { ResourceKey, ResourceOf } from '../model/resources.js';
import { resourceKey } from '../model/resources.js';
import type { RoleMap } from '../model/role-map.js';
import { diffAttrs } from '../plan/diff.js';
import type { DraftChange } from '../plan/draft.js';
import type { ResourceLookup } from '../plan/resource-index.js';

const DAY_MS = 86_400_000;

export interface RotationPassInput {
  readonly actualByKey: ResourceLookup;
  readonly roleMap: RoleMap;
  readonly now: Date;
  readonly isProtected: (...names: readonly (string | undefined)[]) => string | undefined;
  /** Resources another pass already changes (leavers' credentials). */
  readonly taken: ReadonlySet<ResourceKey>;
}

export function rotationChanges(input: RotationPassInput): DraftChange[] {
  const policy = input.roleMap.rotation;
  if (policy === undefined || policy.action !== 'deactivate') return [];
  const out: DraftChange[] = [];
  for (const r of input.actualByKey.ofKind('iam_user_credentials')) {
    if (r.kind !== 'iam_user_credentials') continue;
    const key = resourceKey(r);
    if (input.taken.has(key)) continue;
    if (input.isProtected(r.name, r.principal?.name) !== undefined) continue;
    const old: string[] = [];
    for (const [id, status] of Object.entries(r.attrs.accessKeys)) {
      const created = r.attrs.keyCreatedAt?.[id];
      if (status !== 'Active' || created === undefined) continue;
      const days = Math.floor((input.now.getTime() - Date.parse(created)) / DAY_MS);
      if (days > policy.maxKeyAgeDays) old.push(`${id} (${days} days old, created ${created.slice(0, 10)})`);
    }
    if (old.length === 0) continue;
    const ids = new Set(old.map((o) => o.slice(0, o.indexOf(' '))));
    const accessKeys: Record<string, 'Active' | 'Inactive'> = {};
    for (const [id, status] of Object.entries(r.attrs.accessKeys)) accessKeys[id] = ids.has(id) ? 'Inactive' : status;
    const after: ResourceOf<'iam_user_credentials'> = { ...r, attrs: { ...r.attrs, accessKeys } };
    out.push({
      action: 'disable',
      kind: 'iam_user_credentials',
      key,
      before: r,
      after,
      diffs: diffAttrs('iam_user_credentials', r.attrs, after.attrs),
      reason: `posture.rotation: deactivate access key${old.length > 1 ? 's' : ''} older than ${policy.maxKeyAgeDays} days: ${old.join(', ')}`,
      ...(r.principal !== undefined ? { principal: r.principal } : {}),
    });
  }
  return out;
}
