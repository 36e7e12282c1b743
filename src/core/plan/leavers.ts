/**
 * The leaver pass: what a plan does about people who left, beyond removing their access.
 *
 * - Live sessions outlast access removal. With `leavers.revokeSessions`, each role a leaver could
 *   assume gets an entry (role session name -> now) in its revocation deny policy, and each permission
 *   set gets one keyed by the leaver's identity store UserId. Entries older than the role's max session
 *   duration (or the permission set's session duration) can no longer match a live session and are pruned.
 * - Legacy IAM users linked to an AD account that left (or is disabled, expired or gone) get their
 *   access keys deactivated and console password removed, with `leavers.iamUsers.disableCredentials`.
 */
import type { DirectoryUser } from '../model/directory.js';
import { isActive } from '../model/directory.js';
import type { Resource, ResourceKey, ResourceOf } from '../model/resources.js';
import { resourceKey } from '../model/resources.js';
import type { RoleMap } from '../model/role-map.js';
import type { DesiredState, Leaver, LeaverReason } from '../model/state.js';
import { describeLeaver } from '../desired/leavers.js';
import { diffAttrs } from './diff.js';
import type { DraftChange } from './draft.js';
import { parseIsoDuration } from './duration.js';
import type { ResourceLookup } from './resource-index.js';

export interface LeaverPassInput {
  readonly desired: DesiredState;
  readonly actualByKey: ResourceLookup;
  readonly actual: readonly Resource[];
  readonly roleMap: RoleMap;
  readonly now: Date;
  /** Keys the diff deletes: no revocation is added to a role or permission set on its way out. */
  readonly deleting: ReadonlySet<ResourceKey>;
  /** Protected principals are never touched, leavers or not. */
  readonly isProtected: (...names: readonly (string | undefined)[]) => string | undefined;
}

type RevocationKind = 'iam_role_revocations' | 'sso_permission_set_revocations';

export function leaverChanges(input: LeaverPassInput): DraftChange[] {
  return [...revocations(input, 'iam_role_revocations'), ...revocations(input, 'sso_permission_set_revocations'), ...linkedIamUsers(input)];
}

function revocations(input: LeaverPassInput, kind: RevocationKind): DraftChange[] {
  const { desired, actualByKey, roleMap, now } = input;
  const revokedAt = now.toISOString();
  const parentKind = kind === 'iam_role_revocations' ? 'iam_role' : 'sso_permission_set';
  // Which leavers to add to which parent (role id or permission set name), with the entry key for each.
  const additions = new Map<string, { leaver: Leaver; entry: string }[]>();
  if (roleMap.leavers.revokeSessions) {
    for (const l of desired.leavers) {
      if (input.isProtected(l.sAMAccountName, l.userPrincipalName, l.guid) !== undefined) continue;
      const targets = new Set<string>();
      for (const e of l.formerEntitlements) {
        if (kind === 'iam_role_revocations' && e.kind === 'iam_role') targets.add(`${e.account}/${e.target}`);
        if (kind === 'sso_permission_set_revocations' && e.kind === 'permission_set') targets.add(e.target);
      }
      let entry: string | undefined;
      if (kind === 'iam_role_revocations') {
        entry = roleMap.leavers.roleSessionName === 'userPrincipalName' ? (l.userPrincipalName ?? l.sAMAccountName) : l.sAMAccountName;
      } else {
        // The deny matches identitystore:UserId: without an Identity Center user there is no session to cut.
        const icUser = actualByKey.get(`identitystore_user:${l.guid}`);
        entry = icUser?.owned ? icUser.awsId : undefined;
      }
      if (entry === undefined) continue;
      for (const t of targets) {
        const list = additions.get(t);
        if (list) list.push({ leaver: l, entry });
        else additions.set(t, [{ leaver: l, entry }]);
      }
    }
  }
  const ids = new Set<string>(additions.keys());
  for (const r of actualByKey.ofKind(kind)) ids.add(r.id);

  const out: DraftChange[] = [];
  for (const id of [...ids].sort()) {
    const key = `${kind}:${id}`;
    const before = (actualByKey.get(key) ?? null) as ResourceOf<RevocationKind> | null;
    const parentKey = `${parentKind}:${id}`;
    const parent = actualByKey.get(parentKey);
    if (parent === undefined || !parent.owned || input.deleting.has(parentKey)) {
      // The role or permission set is gone or going: its revocation policy goes first, with it.
      if (before !== null && before.owned) {
        out.push({ action: 'delete', kind, key, before, after: null, diffs: [], reason: `${parentKind} ${id} is gone or being deleted` });
      }
      continue;
    }
    const maxAgeSeconds =
      parent.kind === 'iam_role' ? parent.attrs.maxSessionDuration : parent.kind === 'sso_permission_set' ? (parseIsoDuration(parent.attrs.sessionDuration) ?? 43200) : 43200;
    const entries: Record<string, string> = Object.create(null) as Record<string, string>; // keys are session names: "__proto__" too
    const pruned: string[] = [];
    for (const [k, at] of Object.entries(before?.attrs.entries ?? {})) {
      const t = Date.parse(at);
      if (Number.isNaN(t) || now.getTime() - t > maxAgeSeconds * 1000) pruned.push(k);
      else entries[k] = at;
    }
    const added: Leaver[] = [];
    for (const { leaver, entry } of additions.get(id) ?? []) {
      // Already revoked; or revoked so long ago that no session from before can still be alive.
      if (Object.hasOwn(entries, entry) || pruned.includes(entry)) continue;
      entries[entry] = revokedAt;
      added.push(leaver);
    }
    if (added.length === 0 && pruned.length === 0) continue;
    const after: ResourceOf<RevocationKind> = {
      kind,
      id,
      account: parent.account,
      name: parent.name,
      owned: true,
      awsId: before?.awsId,
      attrs: { entries },
      dependsOn: [parentKey],
    };
    const prunedText = pruned.length > 0 ? `prune ${pruned.length} revocation(s) older than the ${kind === 'iam_role_revocations' ? 'max session duration' : 'session duration'}` : '';
    if (added.length > 0) {
      const names = added.map((l) => describeLeaver(l.sAMAccountName, l.reason));
      const only = added.length === 1 ? (added[0] as Leaver) : undefined;
      out.push({
        action: 'revoke',
        kind,
        key,
        before,
        after: after as Resource,
        diffs: diffAttrs(kind, before?.attrs ?? { entries: {} }, after.attrs),
        reason: `revoke live sessions: ${names.join('; ')}${prunedText ? `; ${prunedText}` : ''}`,
        leaver: only ? { guid: only.guid, name: only.sAMAccountName, reason: only.reason } : undefined,
        concerns: added.map((l) => l.guid),
      });
    } else if (Object.keys(entries).length === 0 && before !== null) {
      out.push({ action: 'delete', kind, key, before, after: null, diffs: [], reason: `${prunedText}; no revocation left` });
    } else if (before !== null) {
      out.push({ action: 'update', kind, key, before, after: after as Resource, diffs: diffAttrs(kind, before.attrs, after.attrs), reason: prunedText });
    }
  }
  return out;
}

function linkedIamUsers(input: LeaverPassInput): DraftChange[] {
  const { desired, roleMap, now } = input;
  if (!roleMap.leavers.iamUsers.disableCredentials) return [];
  const leavers = new Map(desired.leavers.map((l) => [l.guid, l]));
  let byName: Map<string, DirectoryUser> | undefined;
  const out: DraftChange[] = [];
  for (const r of input.actualByKey.ofKind('iam_user_credentials')) {
    if (r.kind !== 'iam_user_credentials' || r.principal === undefined) continue;
    if (byName === undefined) {
      byName = new Map();
      for (const u of desired.directoryUsers.values()) {
        byName.set(u.sAMAccountName.toLowerCase(), u);
        if (u.userPrincipalName) byName.set(u.userPrincipalName.toLowerCase(), u);
      }
    }
    const p = r.principal;
    const user = (p.guid !== '' ? desired.directoryUsers.get(p.guid) : undefined) ?? byName.get(p.name.toLowerCase());
    let reason: LeaverReason | undefined;
    if (user === undefined) reason = 'deleted-from-ad';
    else if (leavers.has(user.guid)) reason = (leavers.get(user.guid) as Leaver).reason;
    else if (!isActive(user, now)) reason = user.disabled ? 'disabled' : 'expired';
    if (reason === undefined) continue;
    const name = user?.sAMAccountName ?? p.name;
    if (input.isProtected(p.name, name, user?.userPrincipalName, user?.guid, r.name) !== undefined) continue;
    const active = Object.values(r.attrs.accessKeys).some((s) => s === 'Active') || r.attrs.loginProfile;
    if (!active) continue;
    const accessKeys: Record<string, 'Active' | 'Inactive'> = {};
    for (const k of Object.keys(r.attrs.accessKeys)) accessKeys[k] = 'Inactive';
    const after: ResourceOf<'iam_user_credentials'> = { ...r, attrs: { accessKeys, loginProfile: false } };
    out.push({
      action: 'disable',
      kind: 'iam_user_credentials',
      key: resourceKey(r),
      before: r,
      after,
      diffs: diffAttrs('iam_user_credentials', r.attrs, after.attrs),
      reason: `IAM user linked to ${describeLeaver(name, reason)}: deactivate access keys, remove console password`,
      principal: { guid: user?.guid ?? p.guid, name },
      leaver: { guid: user?.guid ?? (p.guid || `name:${p.name}`), name, reason },
    });
  }
  return out;
}
