/**
 * Leavers' live permission-set sessions are cut the way AWS documents it ("Revoke active IAM role sessions
 * created by permission sets"): a statement in the permission set's inline policy that denies every action
 * on every resource when `identitystore:UserId` is the leaver's UserId, then `ProvisionPermissionSet`.
 *
 * The inline policy is limited to 10,240 non-whitespace characters (Identity Center quotas), configured
 * statements included. So the statements are compact: one per revocation instant, listing the UserIds
 * revoked at that instant (everyone found in one run shares it), with a Sid `RolemapRevoked<instant>`, the
 * instant with its separators removed (`2026-11-28T23:58:56.123Z` -> `20261128T235856123Z`; Sids allow
 * only letters and digits):
 *
 * ```json
 * { "Sid": "RolemapRevoked20261128T235856123Z", "Effect": "Deny", "Action": "*", "Resource": "*",
 *   "Condition": { "StringEquals": { "identitystore:UserId": ["906753a8b4-2c5a...", "..."] } } }
 * ```
 *
 * That is about 130 characters a statement plus 3 a UserId beyond its own length (47 for Identity Center's
 * `xxxxxxxxxx-<uuid>` ids): with an empty configured policy, about 200 UserIds fit in one set. Reading
 * splits the statements back out (also the older one-statement-per-UserId form, whose Sid is the instant
 * followed by the UserId), so `render` then `split` gives back the same policy and entries.
 *
 * **One account only.** The inline policy is provisioned into the set's role in every account it is
 * assigned on, so a plain deny cuts the person's sessions on the set everywhere. Someone who keeps the set
 * on other accounts (a mover who lost one assignment, a review that revoked the set on one account) gets
 * an entry keyed `UserId@account` instead, rendered as its own statement per instant and account, with
 * `aws:PrincipalAccount` (the account of the role session) beside the UserId:
 *
 * ```json
 * { "Sid": "RolemapRevoked20261128T235856123ZIn222222222222", "Effect": "Deny", "Action": "*", "Resource": "*",
 *   "Condition": { "StringEquals": { "identitystore:UserId": "906753a8b4-...", "aws:PrincipalAccount": "222222222222" } } }
 * ```
 *
 * Pure: the core counts the size a plan would write; the Identity Center target renders the same bytes.
 */
import { PERMISSION_SET_REVOCATION_SID_PREFIX } from './ownership.js';
import type { PolicyDocument, PolicyValue } from './policy.js';

export const CONDITION_KEY = 'identitystore:UserId';
/** The account of the role session: what scopes a deny to one account (IAM global condition keys). */
export const ACCOUNT_CONDITION_KEY = 'aws:PrincipalAccount';

/** The entry key of a deny on every account (`UserId`) or on one (`UserId@account`). */
export function revocationEntryKey(userId: string, account?: string): string {
  return account === undefined ? userId : `${userId}@${account}`;
}

/** `UserId` or `UserId@account` back into its parts (a UserId never holds an @). */
export function parseRevocationEntryKey(key: string): { readonly userId: string; readonly account?: string } {
  const at = key.lastIndexOf('@');
  return at < 0 ? { userId: key } : { userId: key.slice(0, at), account: key.slice(at + 1) };
}
/** Identity Center quota: a permission set's inline policy, in non-whitespace characters. */
export const PERMISSION_SET_INLINE_POLICY_QUOTA = 10_240;

const INSTANT = /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2}):(\d{2})(?:\.(\d{3}))?Z$/;
const SID = new RegExp(`^${PERMISSION_SET_REVOCATION_SID_PREFIX}(\\d{4})(\\d{2})(\\d{2})T(\\d{2})(\\d{2})(\\d{2})(\\d{3})?Z`);
/** Instant for a statement whose Sid was edited by hand: old enough to be pruned at once. */
const UNKNOWN_INSTANT = '1970-01-01T00:00:00Z';

function compactInstant(iso: string): string {
  const m = INSTANT.exec(iso);
  if (!m) throw new RangeError(`revocation instant ${iso} is not an ISO-8601 UTC instant (YYYY-MM-DDTHH:MM:SS[.sss]Z)`);
  return `${m[1]}${m[2]}${m[3]}T${m[4]}${m[5]}${m[6]}${m[7] ?? ''}Z`;
}

function instantFromSid(sid: string): string {
  const m = SID.exec(sid);
  if (!m) return UNKNOWN_INSTANT;
  return `${m[1]}-${m[2]}-${m[3]}T${m[4]}:${m[5]}:${m[6]}${m[7] !== undefined ? `.${m[7]}` : ''}Z`;
}

/** The deny for everyone revoked at `instant` (UserIds sorted), on every account or, with `account`, on that one. */
export function revocationStatement(userIds: readonly string[], instant: string, account?: string): { [key: string]: PolicyValue } {
  const ids = [...userIds].sort();
  const users = ids.length === 1 ? (ids[0] as string) : ids;
  return {
    Sid: `${PERMISSION_SET_REVOCATION_SID_PREFIX}${compactInstant(instant)}${account === undefined ? '' : `In${account}`}`,
    Effect: 'Deny',
    Action: '*',
    Resource: '*',
    Condition: { StringEquals: account === undefined ? { [CONDITION_KEY]: users } : { [CONDITION_KEY]: users, [ACCOUNT_CONDITION_KEY]: account } },
  };
}

function statementsOf(doc: PolicyDocument): PolicyValue[] {
  const s = doc['Statement'];
  if (s === undefined || s === null) return [];
  return Array.isArray(s) ? s : [s];
}

function isRevocation(s: PolicyValue): s is { [key: string]: PolicyValue } {
  return typeof s === 'object' && s !== null && !Array.isArray(s) && typeof s['Sid'] === 'string' && s['Sid'].startsWith(PERMISSION_SET_REVOCATION_SID_PREFIX);
}

/** The values of one StringEquals key (keys are case-insensitive): absent undefined, malformed null. */
function stringEquals(s: { [key: string]: PolicyValue }, conditionKey: string): string[] | null | undefined {
  const cond = s['Condition'];
  if (typeof cond !== 'object' || cond === null || Array.isArray(cond)) return null;
  const eq = cond['StringEquals'];
  if (typeof eq !== 'object' || eq === null || Array.isArray(eq)) return null;
  const key = Object.keys(eq).find((k) => k.toLowerCase() === conditionKey.toLowerCase());
  if (key === undefined) return undefined;
  const v = eq[key];
  if (typeof v === 'string') return [v];
  if (Array.isArray(v) && v.length > 0 && v.every((x) => typeof x === 'string')) return v as string[];
  return null;
}

/** The entry keys a rolemap deny stands for (`UserId`, or `UserId@account` per account it is scoped to); null: not ours to read. */
function entryKeysOf(s: { [key: string]: PolicyValue }): string[] | null {
  const ids = stringEquals(s, CONDITION_KEY);
  if (ids === null || ids === undefined) return null;
  const accounts = stringEquals(s, ACCOUNT_CONDITION_KEY);
  if (accounts === null) return null;
  if (accounts === undefined) return ids;
  return ids.flatMap((id) => accounts.map((a) => revocationEntryKey(id, a)));
}

/** The configured part of an inline policy and the revocation entries (`UserId` or `UserId@account` -> instant) in it. */
export function splitInlinePolicy(doc: PolicyDocument | null): { policy: PolicyDocument | null; entries: Record<string, string> } {
  if (doc === null) return { policy: null, entries: {} };
  const entries: Record<string, string> = Object.create(null) as Record<string, string>; // keys come from AWS: no prototype to collide with
  const rest: PolicyValue[] = [];
  let found = false;
  for (const s of statementsOf(doc)) {
    const ids = isRevocation(s) ? entryKeysOf(s) : null;
    if (isRevocation(s) && ids !== null) {
      found = true;
      const at = instantFromSid(String(s['Sid']));
      for (const id of ids) {
        const earlier = entries[id];
        // The same UserId under two instants (a hand edit): the later one covers more sessions.
        if (earlier === undefined || Date.parse(earlier) < Date.parse(at)) entries[id] = at;
      }
    } else {
      rest.push(s);
    }
  }
  if (!found) return { policy: doc, entries };
  if (rest.length === 0) return { policy: null, entries };
  return { policy: { ...doc, Statement: rest }, entries };
}

/**
 * The inline policy AWS gets: the configured statements followed by one deny per revocation instant (oldest
 * first), the one for every account before those scoped to one account (by account).
 */
export function renderInlinePolicy(policy: PolicyDocument | null, entries: Readonly<Record<string, string>>): PolicyDocument | null {
  const groups = new Map<string, { at: string; account: string | undefined; ids: string[] }>();
  for (const key of Object.keys(entries)) {
    const at = entries[key] as string;
    const { userId, account } = parseRevocationEntryKey(key);
    const g = `${at}\u0000${account ?? ''}`;
    const group = groups.get(g);
    if (group) group.ids.push(userId);
    else groups.set(g, { at, account, ids: [userId] });
  }
  if (groups.size === 0) return policy;
  const revocations = [...groups.values()]
    .sort((a, b) => Date.parse(a.at) - Date.parse(b.at) || (a.at < b.at ? -1 : a.at > b.at ? 1 : 0) || ((a.account ?? '') < (b.account ?? '') ? -1 : (a.account ?? '') > (b.account ?? '') ? 1 : 0))
    .map((g) => revocationStatement(g.ids, g.at, g.account));
  if (policy === null) return { Version: '2012-10-17', Statement: revocations };
  return { ...policy, Statement: [...statementsOf(policy), ...revocations] };
}

/** What the quota counts: the characters of the policy as rolemap sends it (compact JSON), whitespace excluded. */
export function inlinePolicySize(doc: PolicyDocument | null): number {
  if (doc === null) return 0;
  return JSON.stringify(doc).replace(/\s/g, '').length;
}
