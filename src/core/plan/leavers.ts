/**
 * The leaver pass: what a plan does about people who left, or lost a role, beyond removing their access.
 *
 * - Live sessions outlast access removal. With `leavers.revokeSessions`, every role or permission set a
 *   person no longer holds (a leaver's every former grant, a mover's lost ones) gets an entry in its
 *   revocation: for a role, the session name ADFS sends (`leavers.roleSessionName`, from the directory or,
 *   for someone gone from AD, from the entitlement history) -> the revocation instant, and the same for each
 *   name they carried before a rename in AD (`formerNames`) while a session under it can still be live (the
 *   rename, or the snapshot after the name was last journaled, within the role's max session duration);
 *   for a permission set,
 *   the person's identity store UserId -> the instant. An entry made before the person was last seen holding
 *   the grant (removed, re-added, removed again) no longer covers them and gets a new instant. Entries older
 *   than the role's max session duration (or the set's session duration) can no longer match a live session
 *   and are pruned.
 * - A session name STS would reject cannot be on any session: it is skipped with a warning naming the user,
 *   so it never blocks the revocation of the others on that role.
 * - A permission set's revocations share its inline policy's 10,240-character quota with the configured
 *   policy: when they would not fit, the revocation is planned with an error naming the set, the size and
 *   the quota (the target refuses it before touching the set, so the set's own policy stays intact).
 * - Legacy IAM users linked to an AD account that left (or is disabled, expired or gone) get their access keys
 *   deactivated, their console password removed and their temporary credentials denied, with
 *   `leavers.iamUsers.disableCredentials`.
 *
 * `planSessionRevocations` is the pure core of the first three: the daemon's leaver fast lane calls it with
 * the cuts of the leavers it found (`sessionCuts`) and the last known AWS ids.
 */
import { grantsOf } from '../model/entitlements.js';
import type { DirectoryUser, Guid } from '../model/directory.js';
import { isActive } from '../model/directory.js';
import { inlinePolicySize, parseRevocationEntryKey, PERMISSION_SET_INLINE_POLICY_QUOTA, renderInlinePolicy, revocationEntryKey } from '../model/permission-set-revocations.js';
import type { PolicyDocument } from '../model/policy.js';
import type { Resource, ResourceKey, ResourceOf } from '../model/resources.js';
import { resourceKey } from '../model/resources.js';
import type { AccountId, RoleMap, RoleSessionNameSource } from '../model/role-map.js';
import { aliasOf } from '../model/role-map.js';
import { isValidSessionName, LONGEST_SESSION_SECONDS } from '../model/session-name.js';
import type { DesiredState, Entitlement, FormerNames, Leaver, LeaverReason, Mover } from '../model/state.js';
import { describeLeaver, describeLeaverEvent, humanInstant } from '../desired/leavers.js';
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

export interface LeaverPassResult {
  readonly changes: DraftChange[];
  readonly warnings: string[];
}

type RevocationKind = 'iam_role_revocations' | 'sso_permission_set_revocations';

/** One person's sessions to cut on one role (in one account) or one permission set (every account, or those in `accounts`). */
export interface SessionCut {
  readonly guid: Guid;
  readonly sAMAccountName: string;
  readonly userPrincipalName?: string | undefined;
  readonly mail?: string | undefined;
  /** Names from before a rename in AD that a live session may still carry (newest first): cut too, on roles. */
  readonly formerNames?: readonly FormerNames[] | undefined;
  readonly kind: Entitlement['kind'];
  /** The role's account; for a permission set, one of the accounts it was assigned on. */
  readonly account: AccountId;
  /**
   * For a permission set the person keeps on other accounts (a mover): the accounts it was lost on, and the
   * deny covers only those (`UserId@account`, aws:PrincipalAccount). Absent: it covers every account.
   */
  readonly accounts?: readonly AccountId[] | undefined;
  /** Role name or permission set name. */
  readonly target: string;
  /** For people: what happened ("asmith disabled in AD at ..., seen ..."). */
  readonly why: string;
  /** The last moment the person was seen holding it; an entry older than this does not cover their sessions. */
  readonly heldAt?: string | undefined;
  /** Set when the person is a leaver (their whole access goes), for the change's `leaver` mark. */
  readonly leaver?: { readonly guid: Guid; readonly name: string; readonly reason: LeaverReason } | undefined;
}

export function leaverChanges(input: LeaverPassInput): LeaverPassResult {
  const { desired, roleMap, now } = input;
  const cuts = roleMap.leavers.revokeSessions ? sessionCuts(desired.leavers, desired.movers ?? [], now, roleMap, permissionSetsKept(desired)) : [];
  const configuredPolicy = new Map<string, PolicyDocument | null>();
  for (const r of desired.resources) if (r.kind === 'sso_permission_set') configuredPolicy.set(r.id, r.attrs.inlinePolicy);
  const revoked = planSessionRevocations({
    cuts,
    actualByKey: input.actualByKey,
    roleMap,
    now,
    deleting: input.deleting,
    isProtected: input.isProtected,
    userIdOf: (guid) => {
      const icUser = input.actualByKey.get(`identitystore_user:${guid}`);
      return icUser?.owned ? icUser.awsId : undefined;
    },
    configuredPolicyOf: (name) => configuredPolicy.get(name),
  });
  return { changes: [...revoked.changes, ...linkedIamUsers(input)], warnings: revoked.warnings };
}

/**
 * Whether a mover still holds a permission set on some account (through another assignment), so that the
 * deny for the accounts they lost it on must not reach the others. Only movers are asked: a leaver holds nothing.
 */
function permissionSetsKept(desired: DesiredState): (guid: Guid, permissionSet: string) => boolean {
  const movers = new Set<Guid>();
  for (const m of desired.movers ?? []) if (m.lostEntitlements.some((e) => e.kind === 'permission_set')) movers.add(m.guid);
  if (movers.size === 0) return () => false;
  const kept = new Set<string>();
  for (const { grant, holders } of grantsOf(desired.entitlements)) {
    if (grant.kind !== 'permission_set') continue;
    for (const h of holders) if (movers.has(h.userGuid)) kept.add(`${h.userGuid}\u0000${grant.target}`);
  }
  return (guid, permissionSet) => kept.has(`${guid}\u0000${permissionSet}`);
}

/** The roles and permission sets whose sessions each leaver (every former grant) and mover (each lost grant) must lose. */
export function sessionCuts(leavers: readonly Leaver[], movers: readonly Mover[], now: Date, roleMap: RoleMap, keepsPermissionSet: (guid: Guid, permissionSet: string) => boolean = () => false): SessionCut[] {
  const alias = aliasOf(roleMap);
  const out: SessionCut[] = [];
  // A leaver has ~4 grants and there are thousands of them at 100,000 users: one small array per grant
  // (groups, accounts), not two Sets, and the leaver's "why" made once, not once per grant.
  const push = (who: Leaver | Mover, grants: readonly Entitlement[], why: (e: Entitlement, groups: readonly string[]) => string, leaver: SessionCut['leaver']): void => {
    // One cut per (kind, account, target): the latest moment it was seen held, whichever group it came through.
    const byTarget = new Map<string, { e: Entitlement; heldAt: string | undefined; groups: string[]; accounts: AccountId[] }>();
    for (const e of grants) {
      const key = e.kind === 'iam_role' ? `r\u0000${e.account}\u0000${e.target}` : `p\u0000${e.target}`;
      const seen = byTarget.get(key);
      if (seen === undefined) byTarget.set(key, { e, heldAt: e.seenAt, groups: [e.viaGroupName], accounts: [e.account] });
      else {
        if (!seen.groups.includes(e.viaGroupName)) seen.groups.push(e.viaGroupName);
        if (!seen.accounts.includes(e.account)) seen.accounts.push(e.account);
        if (e.seenAt === undefined || (seen.heldAt !== undefined && Date.parse(e.seenAt) > Date.parse(seen.heldAt))) seen.heldAt = e.seenAt;
      }
    }
    const formerNames = who.formerNames !== undefined && who.formerNames.length > 0 ? who.formerNames : undefined;
    for (const { e, heldAt, groups, accounts } of byTarget.values()) {
      const scoped = leaver === undefined && e.kind === 'permission_set' && keepsPermissionSet(who.guid, e.target);
      const cut: SessionCut = {
        guid: who.guid,
        sAMAccountName: who.sAMAccountName,
        userPrincipalName: who.userPrincipalName,
        mail: who.mail,
        ...(formerNames !== undefined ? { formerNames } : {}),
        kind: e.kind,
        account: e.account,
        ...(scoped ? { accounts: accounts.sort() } : {}),
        target: e.target,
        why: why(e, groups),
        heldAt,
        leaver,
      };
      out.push(cut);
    }
  };
  for (const l of leavers) {
    const why = describeLeaverEvent(l, now);
    push(l, l.formerEntitlements, () => why, { guid: l.guid, name: l.sAMAccountName, reason: l.reason });
  }
  const seen = humanInstant(now.toISOString());
  for (const m of movers) {
    push(m, m.lostEntitlements, (e, groups) => `${m.sAMAccountName} no longer in AD group ${[...groups].sort().join(', ')}, which gave ${e.kind === 'iam_role' ? `role ${e.target} (${alias(e.account)})` : `permission set ${e.target}`}, seen ${seen}`, undefined);
  }
  return out;
}

export interface SessionRevocationInput {
  readonly cuts: readonly SessionCut[];
  /** The actual state: roles, permission sets and their revocations. */
  readonly actualByKey: ResourceLookup;
  readonly roleMap: RoleMap;
  /** The revocation instant, and the clock for pruning. */
  readonly now: Date;
  /** Keys being deleted in this plan: no revocation is added to a role or permission set on its way out. */
  readonly deleting: ReadonlySet<ResourceKey>;
  readonly isProtected: (...names: readonly (string | undefined)[]) => string | undefined;
  /** The person's identity store UserId (the last one known), which a permission-set deny matches. */
  readonly userIdOf: (guid: Guid) => string | undefined;
  /** The set's configured inline policy after this plan (undefined: as it is now), for the quota. */
  readonly configuredPolicyOf?: ((permissionSetName: string) => PolicyDocument | null | undefined) | undefined;
}

/** The session name ADFS sends for this person, or why there is none. */
function sessionNameOf(c: Pick<SessionCut, 'sAMAccountName' | 'userPrincipalName' | 'mail'>, source: RoleSessionNameSource): string | undefined {
  if (source === 'sAMAccountName') return c.sAMAccountName;
  if (source === 'mail') return c.mail;
  return c.userPrincipalName;
}

/**
 * Revocation entries for `cuts`, pruning, and the quota: pure. One change per role or permission set whose
 * entries change; a revoke names everyone it concerns (`concerns`) so each stays a leaver until it succeeds.
 */
export function planSessionRevocations(input: SessionRevocationInput): LeaverPassResult {
  const { roleMap, now, actualByKey } = input;
  const revokedAt = now.toISOString();
  const alias = aliasOf(roleMap);
  const warnings: string[] = [];
  const additions = new Map<ResourceKey, { cut: SessionCut; entries: string[]; former: ReadonlySet<string> }[]>();
  // Every entry already added under a key (a set assigned on two accounts, or one person twice): each entry once.
  const addedEntries = new Map<ResourceKey, Set<string>>();
  const source = roleMap.leavers.roleSessionName;
  for (const c of input.cuts) {
    if (input.isProtected(c.sAMAccountName, c.userPrincipalName, c.mail, c.guid) !== undefined) continue;
    let key: ResourceKey;
    const entries: string[] = [];
    let former: Set<string> = NO_FORMER_NAMES; // a Set of its own only for someone renamed
    if (c.kind === 'iam_role') {
      key = `iam_role_revocations:${c.account}/${c.target}`;
      const entry = sessionNameOf(c, source);
      if (entry === undefined || entry === '') {
        warnings.push(
          `${c.sAMAccountName} (${c.guid}) has no ${source} ${c.userPrincipalName === undefined && c.mail === undefined ? 'in the directory or the entitlement history' : ''}`.trimEnd() +
            `: no session of theirs on role ${c.target} (${alias(c.account)}) can be matched by leavers.roleSessionName; if ADFS sent another name, revoke their sessions on that role by hand`,
        );
      } else if (!isValidSessionName(entry)) {
        warnings.push(`${c.sAMAccountName} (${c.guid}): "${entry}" is not a session name STS accepts (2 to 64 ASCII letters, digits and _+=,.@-), so ADFS cannot have opened a session under it on role ${c.target} (${alias(c.account)}); skipped, the others on that role are revoked`);
      } else entries.push(entry);
      // The names carried before a rename, while a session opened under them can still be live on this role.
      const role = actualByKey.get(`iam_role:${c.account}/${c.target}`);
      const maxAge = (role?.kind === 'iam_role' ? role.attrs.maxSessionDuration : undefined) ?? LONGEST_SESSION_SECONDS;
      for (const n of c.formerNames ?? []) {
        const name = sessionNameOf(n, source);
        if (name === undefined || name === '' || name === entry || entries.includes(name)) continue;
        if (n.until !== undefined && now.getTime() - Date.parse(n.until) > maxAge * 1000) continue;
        if (!isValidSessionName(name)) {
          warnings.push(`${c.sAMAccountName} (${c.guid}): former name "${name}" is not a session name STS accepts (2 to 64 ASCII letters, digits and _+=,.@-), so ADFS cannot have opened a session under it on role ${c.target} (${alias(c.account)}); skipped, the others on that role are revoked`);
          continue;
        }
        entries.push(name);
        if (former === NO_FORMER_NAMES) former = new Set();
        former.add(name);
      }
      if (entries.length === 0) continue;
    } else {
      key = `sso_permission_set_revocations:${c.target}`;
      // The deny matches identitystore:UserId (a rename keeps it): without an Identity Center user there is no session to cut.
      const entry = input.userIdOf(c.guid);
      if (entry === undefined) continue;
      // Someone who keeps the set elsewhere is denied only on the accounts they lost it on.
      if (c.accounts !== undefined) entries.push(...c.accounts.map((a) => revocationEntryKey(entry, a)));
      else entries.push(entry);
    }
    const list = additions.get(key);
    const have = addedEntries.get(key);
    if (list === undefined || have === undefined) {
      additions.set(key, [{ cut: c, entries, former }]);
      addedEntries.set(key, new Set(entries));
    } else {
      const fresh = entries.filter((e) => !have.has(e));
      for (const e of fresh) have.add(e);
      if (fresh.length > 0) list.push({ cut: c, entries: fresh, former });
    }
  }

  const keys = new Set<ResourceKey>(additions.keys());
  for (const kind of ['iam_role_revocations', 'sso_permission_set_revocations'] as const) for (const r of actualByKey.ofKind(kind)) keys.add(resourceKey(r));

  const out: DraftChange[] = [];
  for (const key of [...keys].sort()) {
    const colon = key.indexOf(':');
    const kind = key.slice(0, colon) as RevocationKind;
    const id = key.slice(colon + 1);
    const before = (actualByKey.get(key) ?? null) as ResourceOf<RevocationKind> | null;
    const parentKind = kind === 'iam_role_revocations' ? 'iam_role' : 'sso_permission_set';
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
    const prunedAt = new Map<string, string>();
    for (const [k, at] of Object.entries(before?.attrs.entries ?? {})) {
      const t = Date.parse(at);
      if (Number.isNaN(t) || now.getTime() - t > maxAgeSeconds * 1000) prunedAt.set(k, at);
      else entries[k] = at;
    }
    const added: SessionCut[] = [];
    const entryOf = new Map<SessionCut, { names: string[]; former: ReadonlySet<string> }>();
    for (const { cut, entries: names, former } of additions.get(key) ?? []) {
      // Already revoked at or after the last moment they held it (a pruned entry too: no session from before
      // it can still be alive). Revoked before that (re-added since): this removal gets its own instant.
      const newNames = names.filter((entry) => {
        // A deny on one account is covered as well by one on every account (the UserId alone).
        const everywhere = kind === 'sso_permission_set_revocations' ? parseRevocationEntryKey(entry).userId : entry;
        const existing = latest(entries[entry] ?? prunedAt.get(entry), everywhere !== entry ? (entries[everywhere] ?? prunedAt.get(everywhere)) : undefined);
        return existing === undefined || (cut.heldAt !== undefined && Date.parse(existing) < Date.parse(cut.heldAt));
      });
      if (newNames.length === 0) continue;
      for (const entry of newNames) entries[entry] = revokedAt;
      added.push(cut);
      entryOf.set(cut, { names: newNames, former });
    }
    const pruned = [...prunedAt.keys()].filter((k) => !Object.hasOwn(entries, k));
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
    let quotaError = '';
    if (kind === 'sso_permission_set_revocations' && parent.kind === 'sso_permission_set') {
      const configured = input.configuredPolicyOf?.(id);
      const size = inlinePolicySize(renderInlinePolicy(configured === undefined ? parent.attrs.inlinePolicy : configured, entries));
      if (size > PERMISSION_SET_INLINE_POLICY_QUOTA) {
        quotaError = `cannot apply: the inline policy of permission set ${id} would be ${size} characters with these revocations (${Object.keys(entries).length} UserIds), over Identity Center's quota of ${PERMISSION_SET_INLINE_POLICY_QUOTA}; the set is left as it is. Shorten the configured inline policy or revoke these sessions by hand`;
        warnings.push(`sso_permission_set_revocations.${id}: ${quotaError}`);
      }
    }
    if (added.length > 0) {
      const what = kind === 'iam_role_revocations' ? `live sessions on ${parent.name} (${alias(parent.account)})` : `live sessions on permission set ${parent.name}`;
      const from = humanInstant(revokedAt);
      // A permission set's entries are keyed by Identity Store UserId: the reason says whose each one is.
      const people = added.map((c) => {
        const e = entryOf.get(c);
        if (kind === 'sso_permission_set_revocations') {
          const userId = parseRevocationEntryKey(e?.names[0] ?? '?').userId;
          const where = c.accounts !== undefined ? ` in ${c.accounts.map(alias).join(', ')} (kept elsewhere)` : '';
          return `${c.why} (UserId ${userId}): ${what}${where} denied from ${from}`;
        }
        return `${c.why}: ${what}${e !== undefined ? asNames(e.names, e.former) : ''} denied from ${from}`;
      });
      const leavers = added.filter((c) => c.leaver !== undefined);
      const only = added.length === 1 ? (added[0] as SessionCut) : undefined;
      out.push({
        action: 'revoke',
        kind,
        key,
        before,
        after: after as Resource,
        diffs: diffAttrs(kind, before?.attrs ?? { entries: {} }, after.attrs),
        reason: [quotaError, people.join('; '), prunedText].filter((x) => x !== '').join('; '),
        leaver: only?.leaver ?? (leavers.length === 1 && added.length === 1 ? leavers[0]?.leaver : undefined),
        principal: only !== undefined ? { guid: only.guid, name: only.sAMAccountName } : undefined,
        concerns: [...new Set(added.map((c) => c.guid))],
      });
    } else if (Object.keys(entries).length === 0 && before !== null) {
      out.push({ action: 'delete', kind, key, before, after: null, diffs: [], reason: `${prunedText}; no revocation left` });
    } else if (before !== null) {
      out.push({ action: 'update', kind, key, before, after: after as Resource, diffs: diffAttrs(kind, before.attrs, after.attrs), reason: prunedText });
    }
  }
  return { changes: out, warnings };
}

/** The former names of a cut without any: shared, never added to. */
const NO_FORMER_NAMES: Set<string> = new Set();

/** The later of two instants (either may be absent). */
function latest(a: string | undefined, b: string | undefined): string | undefined {
  if (a === undefined) return b;
  if (b === undefined) return a;
  return Date.parse(b) > Date.parse(a) ? b : a;
}

/**
 * " as a@new.example and former name a@old.example", when a cut covers a name from before a rename (or only
 * such names); "" for the usual single current name, so those plans read as they always did.
 */
function asNames(names: readonly string[], former: ReadonlySet<string>): string {
  const old = names.filter((n) => former.has(n));
  if (old.length === 0) return '';
  const current = names.filter((n) => !former.has(n));
  const list = (xs: readonly string[]): string => (xs.length <= 1 ? xs.join('') : `${xs.slice(0, -1).join(', ')} and ${xs[xs.length - 1] ?? ''}`);
  const formerText = `former name${old.length > 1 ? 's' : ''} ${list(old)}`;
  return current.length > 0 ? ` as ${list(current)} and ${formerText}` : ` as ${formerText}`;
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
    // Someone who left in this run gets the deny even if their keys were switched off by hand: temporary
    // credentials from GetSessionToken outlive the keys by up to 36 hours.
    const leftNow = user !== undefined && leavers.has(user.guid) && (r.attrs.sessionsRevokedBefore ?? null) === null;
    if (!active && !leftNow) continue;
    const accessKeys: Record<string, 'Active' | 'Inactive'> = {};
    for (const k of Object.keys(r.attrs.accessKeys)) accessKeys[k] = 'Inactive';
    const after: ResourceOf<'iam_user_credentials'> = { ...r, attrs: { accessKeys, loginProfile: false, sessionsRevokedBefore: now.toISOString() } };
    const why = user !== undefined && leavers.has(user.guid) ? describeLeaverEvent(leavers.get(user.guid) as Leaver, now) : describeLeaver(name, reason);
    out.push({
      action: 'disable',
      kind: 'iam_user_credentials',
      key: resourceKey(r),
      before: r,
      after,
      diffs: diffAttrs('iam_user_credentials', r.attrs, after.attrs),
      reason: `IAM user linked to ${why}: deactivate access keys, remove console password, deny its temporary credentials issued before ${humanInstant(now.toISOString())}`,
      principal: { guid: user?.guid ?? p.guid, name },
      leaver: { guid: user?.guid ?? (p.guid || `name:${p.name}`), name, reason },
    });
  }
  return out;
}
