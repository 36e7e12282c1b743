/**
 * What review decisions do to the desired state (pure), as two filters beside the others:
 *
 * - `applyReviewRevocations(desired, standing)` after `computeDesired`: every grant whose standing verdict is
 *   revoke is taken out of the entitlements even though AD still grants it, listed in
 *   `desired.reviewRevocations`, with a warning telling the operator to remove the AD membership.
 * - `reviewPolicy`, a plan policy (plan/policies.ts): AD still puts the role in the person's SAML assertion
 *   (and keeps them in the Identity Center group), so the revocation is enforced by the same deny the leaver
 *   pass writes (iam_role_revocations / sso_permission_set_revocations), with the instant `UNTIL_REAPPROVED`
 *   (9999-12-31): every session, past and future, is denied, and the entry is never pruned. It is removed
 *   when the verdict no longer stands (a later campaign approved it) or AD no longer grants it.
 *
 * A verdict stands from the campaign that made it until a later campaign decides the same row (same person,
 * kind, account, name) otherwise. A row left undecided past its due date counts as revoke when the campaign
 * was started with `ifNoDecision: revoke`, and leaves the earlier verdict as it was otherwise.
 */
import { revocationEntryKey } from '../model/permission-set-revocations.js';
import { isValidSessionName } from '../model/session-name.js';
import type { Resource, ResourceKey, ResourceOf } from '../model/resources.js';
import type { RoleSessionNameSource } from '../model/role-map.js';
import { aliasOf } from '../model/role-map.js';
import type { DesiredState, Entitlement, ReviewIamUserRevocation, ReviewRevocation } from '../model/state.js';
import { humanInstant } from '../desired/leavers.js';
import { diffAttrs } from '../plan/diff.js';
import type { DraftChange } from '../plan/draft.js';
import type { PlanPolicy } from '../plan/policies.js';
import { kindOf, rowIdOf } from './population.js';
import { latestDecisions } from './status.js';
import type { Campaign, Decision, ReviewRow } from './types.js';

/** The revocation instant of a review revocation: later than any session can be issued. */
export const UNTIL_REAPPROVED = '9999-12-31T23:59:59.999Z';

export interface CampaignRecord {
  readonly campaign: Campaign;
  readonly ifNoDecision: 'keep' | 'revoke';
  readonly rows: readonly ReviewRow[];
  readonly decisions: readonly Decision[];
}

export interface StandingRevocation {
  readonly row: ReviewRow;
  readonly campaign: Campaign;
  /** Absent: revoked for want of a decision by the due date. */
  readonly decision?: Decision | undefined;
}

export function standingRevocations(records: readonly CampaignRecord[], now: Date): Map<string, StandingRevocation> {
  const out = new Map<string, StandingRevocation>();
  const ordered = [...records].sort((a, b) => Date.parse(a.campaign.createdAt) - Date.parse(b.campaign.createdAt));
  for (const rec of ordered) {
    const latest = latestDecisions(rec.decisions);
    const pastDue = now.getTime() > Date.parse(rec.campaign.due);
    for (const row of rec.rows) {
      const d = latest.get(row.rowId);
      if (d?.verdict === 'approve') out.delete(row.rowId);
      else if (d?.verdict === 'revoke') out.set(row.rowId, { row, campaign: rec.campaign, decision: d });
      else if (pastDue && rec.ifNoDecision === 'revoke') out.set(row.rowId, { row, campaign: rec.campaign });
    }
  }
  return out;
}

const day = (iso: string): string => iso.slice(0, 10);

export function revocationReason(s: StandingRevocation): { by: string; at: string; reason: string } {
  if (s.decision === undefined) {
    return { by: 'no decision by the due date', at: s.campaign.due, reason: `revoked in review ${s.campaign.name}: no decision by the due date ${day(s.campaign.due)} (reviews.ifNoDecision: revoke)` };
  }
  const by = s.row.reviewer.displayName ?? s.row.reviewer.userPrincipalName;
  return { by, at: s.decision.decidedAt, reason: `revoked in review ${s.campaign.name} by ${by} on ${day(s.decision.decidedAt)}` };
}

/** Standing revocations of `iam-user` rows: the IAM user's credentials stay switched off (reviewPolicy). */
function iamUserRevocations(standing: ReadonlyMap<string, StandingRevocation>): ReviewIamUserRevocation[] {
  const out: ReviewIamUserRevocation[] = [];
  for (const [rowId, s] of standing) {
    const row = s.row;
    if (row.entitlement.kind !== 'iam-user') continue;
    const { by, at, reason } = revocationReason(s);
    const p = row.person;
    out.push({
      account: row.entitlement.accountId,
      userName: row.entitlement.name,
      person: { guid: p.objectGUID, sAMAccountName: p.sAMAccountName, ...(p.userPrincipalName !== undefined ? { userPrincipalName: p.userPrincipalName } : {}), ...(p.mail !== undefined ? { mail: p.mail } : {}) },
      campaignId: s.campaign.id,
      campaignName: s.campaign.name,
      rowId,
      by,
      decidedAt: at,
      reason,
    });
  }
  return out.sort((a, b) => (`${a.account}/${a.userName}` < `${b.account}/${b.userName}` ? -1 : 1));
}

export function applyReviewRevocations(desired: DesiredState, standing: ReadonlyMap<string, StandingRevocation>): DesiredState {
  if (standing.size === 0) return desired;
  const users = iamUserRevocations(standing);
  if (users.length > 0) desired = { ...desired, reviewIamUserRevocations: users };
  const kept: Entitlement[] = [];
  const revoked = new Map<string, { e: Entitlement; groups: Set<string>; s: StandingRevocation }>();
  for (const e of desired.entitlements) {
    const id = rowIdOf(e.userGuid, kindOf(e), e.account, e.target);
    const s = standing.get(id);
    if (s === undefined) {
      kept.push(e);
      continue;
    }
    const r = revoked.get(id);
    if (r) r.groups.add(e.viaGroupName);
    else revoked.set(id, { e, groups: new Set([e.viaGroupName]), s });
  }
  if (revoked.size === 0) return desired;
  const reviewRevocations: ReviewRevocation[] = [];
  const warnings = [...(desired.warnings ?? [])];
  for (const [rowId, { e, groups, s }] of revoked) {
    const { by, at, reason } = revocationReason(s);
    const g = [...groups].sort();
    reviewRevocations.push({ entitlement: e, groups: g, campaignId: s.campaign.id, campaignName: s.campaign.name, rowId, by, decidedAt: at, reason });
    const what = e.kind === 'iam_role' ? `role ${e.target} in ${e.account}` : `permission set ${e.target} on ${e.account}`;
    warnings.push(`${e.userName}: ${what} ${reason}, but AD still grants it through ${g.join(', ')}: remove ${e.userName} from ${g.length === 1 ? 'that group' : 'those groups'} in AD`);
  }
  return { ...desired, entitlements: kept, reviewRevocations, warnings };
}

function sessionName(e: Entitlement, source: RoleSessionNameSource): string | undefined {
  if (source === 'sAMAccountName') return e.userName;
  if (source === 'mail') return e.mail;
  return e.userPrincipalName;
}

type RevocationKind = 'iam_role_revocations' | 'sso_permission_set_revocations';

export const reviewPolicy: PlanPolicy = (plan, ctx) => {
  const alias = aliasOf(ctx.roleMap);
  const source = ctx.roleMap.leavers.roleSessionName;
  const warnings = [...plan.warnings];
  // Wanted review entries per revocation resource: entry -> revocation.
  const wanted = new Map<ResourceKey, Map<string, ReviewRevocation>>();
  for (const r of ctx.desired.reviewRevocations ?? []) {
    const e = r.entitlement;
    if (ctx.isProtected(e.userName, e.userPrincipalName, e.mail, e.userGuid) !== undefined) continue;
    let key: ResourceKey;
    let entry: string | undefined;
    if (e.kind === 'iam_role') {
      key = `iam_role_revocations:${e.account}/${e.target}`;
      entry = sessionName(e, source);
      if (entry === undefined || !isValidSessionName(entry)) {
        warnings.push(`${e.userName} (${e.userGuid}): ${r.reason}, but they have no ${source} STS accepts as a session name; deny their sessions on role ${e.target} (${alias(e.account)}) by hand`);
        continue;
      }
    } else {
      key = `sso_permission_set_revocations:${e.target}`;
      const icUser = ctx.actualByKey.get(`identitystore_user:${e.userGuid}`);
      const userId = icUser?.owned ? icUser.awsId : undefined;
      if (userId === undefined) continue; // no Identity Center user: no session to deny
      // The set's inline policy reaches every account it is assigned on; the row is the set on one account.
      entry = revocationEntryKey(userId, e.account);
    }
    let m = wanted.get(key);
    if (m === undefined) {
      m = new Map();
      wanted.set(key, m);
    }
    m.set(entry, r);
  }
  const changes = [...plan.changes];
  const indexOf = new Map<ResourceKey, number>();
  changes.forEach((c, i) => {
    if (c.kind === 'iam_role_revocations' || c.kind === 'sso_permission_set_revocations') indexOf.set(c.key, i);
  });
  const keys = new Set<ResourceKey>(wanted.keys());
  for (const kind of ['iam_role_revocations', 'sso_permission_set_revocations'] as const) {
    for (const r of ctx.actualByKey.ofKind(kind)) if (r.owned && Object.values((r as ResourceOf<RevocationKind>).attrs.entries).includes(UNTIL_REAPPROVED)) keys.add(`${kind}:${r.id}`);
  }
  for (const key of [...keys].sort()) {
    const colon = key.indexOf(':');
    const kind = key.slice(0, colon) as RevocationKind;
    const id = key.slice(colon + 1);
    const parentKey = `${kind === 'iam_role_revocations' ? 'iam_role' : 'sso_permission_set'}:${id}`;
    const parent = ctx.actualByKey.get(parentKey);
    const at = indexOf.get(key);
    const drafted = at !== undefined ? changes[at] : undefined;
    if (drafted?.action === 'delete' && drafted.reason.includes('gone or being deleted')) continue; // the role goes: nothing to deny on it
    if (parent === undefined || !parent.owned) {
      if ((wanted.get(key)?.size ?? 0) > 0) warnings.push(`${parentKey.replace(':', ' ')} does not exist yet: review revocations on it are made once it does`);
      continue;
    }
    const before = (ctx.actualByKey.get(key) ?? null) as ResourceOf<RevocationKind> | null;
    const base = drafted !== undefined ? (drafted.after as ResourceOf<RevocationKind> | null) : before;
    const entries: Record<string, string> = Object.create(null) as Record<string, string>;
    for (const [k, v] of Object.entries(base?.attrs.entries ?? {})) entries[k] = v;
    const want = wanted.get(key) ?? new Map<string, ReviewRevocation>();
    const added: ReviewRevocation[] = [];
    const lifted: string[] = [];
    for (const [k, v] of Object.entries(entries)) {
      if (v === UNTIL_REAPPROVED && !want.has(k)) {
        delete entries[k];
        lifted.push(k);
      }
    }
    for (const [k, r] of want) {
      if (entries[k] !== UNTIL_REAPPROVED) {
        entries[k] = UNTIL_REAPPROVED;
        added.push(r);
      }
    }
    if (added.length === 0 && lifted.length === 0) continue;
    const what = (r: ReviewRevocation): string => (kind === 'iam_role_revocations' ? `sessions on ${parent.name} (${alias(parent.account)})` : `sessions on permission set ${parent.name} in ${alias(r.entitlement.account)}`);
    const reasons = [
      ...(drafted !== undefined && drafted.reason !== '' ? [drafted.reason] : []),
      ...added.map((r) => `${r.entitlement.userName}: ${r.reason}: ${what(r)} denied until a later review re-approves it`),
      ...(lifted.length > 0 ? [`review revocation lifted for ${lifted.join(', ')} (re-approved in a later review, or AD no longer grants it)`] : []),
    ];
    const after: ResourceOf<RevocationKind> = { kind, id, account: parent.account, name: parent.name, owned: true, awsId: before?.awsId, attrs: { entries }, dependsOn: [parentKey] };
    const only = added.length === 1 ? (added[0] as ReviewRevocation) : undefined;
    const change: DraftChange =
      Object.keys(entries).length === 0 && before !== null
        ? { action: 'delete', kind, key, before, after: null, diffs: [], reason: reasons.join('; ') }
        : {
            action: added.length > 0 || drafted?.action === 'revoke' ? 'revoke' : 'update',
            kind,
            key,
            before,
            after: after as Resource,
            diffs: diffAttrs(kind, before?.attrs ?? { entries: {} }, after.attrs),
            reason: reasons.join('; '),
            ...(drafted?.leaver !== undefined ? { leaver: drafted.leaver } : {}),
            ...(only !== undefined ? { principal: { guid: only.entitlement.userGuid, name: only.entitlement.userName } } : drafted?.principal !== undefined ? { principal: drafted.principal } : {}),
            ...(drafted?.concerns !== undefined ? { concerns: drafted.concerns } : {}),
          };
    if (before === null && Object.keys(entries).length === 0) continue;
    if (at !== undefined) changes[at] = change;
    else changes.push(change);
  }
  reviewIamUsers(changes, warnings, ctx);
  return { ...plan, changes, warnings };
};

/**
 * Linked IAM users revoked in a review: like a leaver's (plan/leavers.ts `linkedIamUsers`), access keys
 * Inactive, console password removed, temporary credentials issued before now denied; planned whenever a key
 * is Active again, a password exists or no deny was written, for as long as the revocation stands. A later
 * approval only stops this: rolemap never re-activates keys (the operator issues new ones).
 */
function reviewIamUsers(changes: DraftChange[], warnings: string[], ctx: Parameters<PlanPolicy>[1]): void {
  const alias = aliasOf(ctx.roleMap);
  const now = ctx.now ?? new Date(0);
  for (const r of ctx.desired.reviewIamUserRevocations ?? []) {
    const p = r.person;
    if (ctx.isProtected(p.sAMAccountName, p.userPrincipalName, p.mail, p.guid, r.userName) !== undefined) continue;
    const key: ResourceKey = `iam_user_credentials:${r.account}/${r.userName}`;
    const actual = ctx.actualByKey.get(key) as ResourceOf<'iam_user_credentials'> | undefined;
    const what = `IAM user ${r.userName} (${alias(r.account)})`;
    if (actual === undefined) {
      const why = ctx.roleMap.leavers.iamUsers.disableCredentials ? 'was not read (gone, or its account could not be read)' : 'is not read: leavers.iamUsers.disableCredentials is off';
      warnings.push(`${p.sAMAccountName}: ${what} ${r.reason}, but it ${why}; deactivate its access keys and remove its console password by hand`);
      continue;
    }
    const at = changes.findIndex((c) => c.key === key);
    if (at >= 0 && changes[at]?.action === 'disable') continue; // a leaver's disable does all of it already
    const active = Object.values(actual.attrs.accessKeys).some((st) => st === 'Active') || actual.attrs.loginProfile || (actual.attrs.sessionsRevokedBefore ?? null) === null;
    if (!active) continue;
    const accessKeys: Record<string, 'Active' | 'Inactive'> = {};
    for (const k of Object.keys(actual.attrs.accessKeys)) accessKeys[k] = 'Inactive';
    const after: ResourceOf<'iam_user_credentials'> = { ...actual, attrs: { ...actual.attrs, accessKeys, loginProfile: false, sessionsRevokedBefore: now.toISOString() } };
    const change: DraftChange = {
      action: 'disable',
      kind: 'iam_user_credentials',
      key,
      before: actual,
      after,
      diffs: diffAttrs('iam_user_credentials', actual.attrs, after.attrs),
      reason: `${p.sAMAccountName}: ${r.reason}: ${what}: deactivate access keys, remove console password, deny its temporary credentials issued before ${humanInstant(now.toISOString())}`,
      principal: { guid: p.guid, name: p.sAMAccountName },
    };
    if (at >= 0) changes[at] = change;
    else changes.push(change);
  }
}
