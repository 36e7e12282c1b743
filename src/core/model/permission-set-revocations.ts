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
 * Pure: the core counts the size a plan would write; the Identity Center target renders the same bytes.
 */
import { PERMISSION_SET_REVOCATION_SID_PREFIX } from './ownership.js';
import type { PolicyDocument, PolicyValue } from './policy.js';

export const CONDITION_KEY = 'identitystore:UserId';
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

/** The deny for everyone revoked at `instant` (UserIds sorted). */
export function revocationStatement(userIds: readonly string[], instant: string): { [key: string]: PolicyValue } {
  const ids = [...userIds].sort();
  return {
    Sid: `${PERMISSION_SET_REVOCATION_SID_PREFIX}${compactInstant(instant)}`,
    Effect: 'Deny',
    Action: '*',
    Resource: '*',
    Condition: { StringEquals: { [CONDITION_KEY]: ids.length === 1 ? (ids[0] as string) : ids } },
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

function userIdsOf(s: { [key: string]: PolicyValue }): string[] | null {
  const cond = s['Condition'];
  if (typeof cond !== 'object' || cond === null || Array.isArray(cond)) return null;
  const eq = cond['StringEquals'];
  if (typeof eq !== 'object' || eq === null || Array.isArray(eq)) return null;
  const key = Object.keys(eq).find((k) => k.toLowerCase() === CONDITION_KEY.toLowerCase());
  const v = key === undefined ? undefined : eq[key];
  if (typeof v === 'string') return [v];
  if (Array.isArray(v) && v.length > 0 && v.every((x) => typeof x === 'string')) return v as string[];
  return null;
}

/** The configured part of an inline policy and the revocation entries (UserId -> instant) in it. */
export function splitInlinePolicy(doc: PolicyDocument | null): { policy: PolicyDocument | null; entries: Record<string, string> } {
  if (doc === null) return { policy: null, entries: {} };
  const entries: Record<string, string> = Object.create(null) as Record<string, string>; // keys come from AWS: no prototype to collide with
  const rest: PolicyValue[] = [];
  let found = false;
  for (const s of statementsOf(doc)) {
    const ids = isRevocation(s) ? userIdsOf(s) : null;
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

/** The inline policy AWS gets: the configured statements followed by one deny per revocation instant (oldest first). */
export function renderInlinePolicy(policy: PolicyDocument | null, entries: Readonly<Record<string, string>>): PolicyDocument | null {
  const byInstant = new Map<string, string[]>();
  for (const id of Object.keys(entries)) {
    const at = entries[id] as string;
    const list = byInstant.get(at);
    if (list) list.push(id);
    else byInstant.set(at, [id]);
  }
  if (byInstant.size === 0) return policy;
  const revocations = [...byInstant.keys()].sort((a, b) => Date.parse(a) - Date.parse(b) || (a < b ? -1 : 1)).map((at) => revocationStatement(byInstant.get(at) as string[], at));
  if (policy === null) return { Version: '2012-10-17', Statement: revocations };
  return { ...policy, Statement: [...statementsOf(policy), ...revocations] };
}

/** What the quota counts: the characters of the policy as rolemap sends it (compact JSON), whitespace excluded. */
export function inlinePolicySize(doc: PolicyDocument | null): number {
  if (doc === null) return 0;
  return JSON.stringify(doc).replace(/\s/g, '').length;
}
