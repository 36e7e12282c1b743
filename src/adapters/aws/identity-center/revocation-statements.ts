/**
 * Leavers' live permission-set sessions are cut the way AWS documents it ("Revoke active IAM role sessions
 * created by permission sets"): a statement in the permission set's inline policy that denies every action
 * on every resource when `identitystore:UserId` equals the leaver's UserId, then `ProvisionPermissionSet`.
 *
 * rolemap keeps these statements apart from the configured inline policy: each has a Sid
 * `RolemapRevoked<instant><UserId without dashes>`, where the instant is the revocation moment with its
 * separators removed (`2026-11-28T23:58:56.123Z` -> `20261128T235856123Z`; Sids allow only letters and
 * digits). Reading splits them back out: the UserId comes from the condition, the instant from the Sid, so
 * `render` then `split` gives back exactly the same policy and entries.
 */
import { PERMISSION_SET_REVOCATION_SID_PREFIX } from '../../../core/model/ownership.js';
import type { PolicyDocument, PolicyValue } from '../../../core/model/policy.js';

export const CONDITION_KEY = 'identitystore:UserId';
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

export function revocationStatement(userId: string, instant: string): { [key: string]: PolicyValue } {
  return {
    Sid: `${PERMISSION_SET_REVOCATION_SID_PREFIX}${compactInstant(instant)}${userId.replace(/[^A-Za-z0-9]/g, '')}`,
    Effect: 'Deny',
    Action: '*',
    Resource: '*',
    Condition: { StringEquals: { [CONDITION_KEY]: userId } },
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

function userIdOf(s: { [key: string]: PolicyValue }): string | null {
  const cond = s['Condition'];
  if (typeof cond !== 'object' || cond === null || Array.isArray(cond)) return null;
  const eq = cond['StringEquals'];
  if (typeof eq !== 'object' || eq === null || Array.isArray(eq)) return null;
  const key = Object.keys(eq).find((k) => k.toLowerCase() === CONDITION_KEY.toLowerCase());
  const v = key === undefined ? undefined : eq[key];
  return typeof v === 'string' ? v : Array.isArray(v) && typeof v[0] === 'string' ? v[0] : null;
}

/** The configured part of an inline policy and the revocation entries (UserId -> instant) in it. */
export function splitInlinePolicy(doc: PolicyDocument | null): { policy: PolicyDocument | null; entries: Record<string, string> } {
  if (doc === null) return { policy: null, entries: {} };
  const entries: Record<string, string> = Object.create(null) as Record<string, string>; // keys come from AWS: no prototype to collide with
  const rest: PolicyValue[] = [];
  let found = false;
  for (const s of statementsOf(doc)) {
    const userId = isRevocation(s) ? userIdOf(s) : null;
    if (isRevocation(s) && userId !== null) {
      found = true;
      entries[userId] = instantFromSid(String(s['Sid']));
    } else {
      rest.push(s);
    }
  }
  if (!found) return { policy: doc, entries };
  if (rest.length === 0) return { policy: null, entries };
  return { policy: { ...doc, Statement: rest }, entries };
}

/** The inline policy AWS gets: the configured statements followed by one deny per entry (sorted by UserId). */
export function renderInlinePolicy(policy: PolicyDocument | null, entries: Readonly<Record<string, string>>): PolicyDocument | null {
  const ids = Object.keys(entries).sort();
  if (ids.length === 0) return policy;
  const revocations = ids.map((id) => revocationStatement(id, entries[id] as string));
  if (policy === null) return { Version: '2012-10-17', Statement: revocations };
  return { ...policy, Statement: [...statementsOf(policy), ...revocations] };
}
