/**
 * Who lost every grant since the last run, and why.
 *
 * - An AD account that is disabled or expired is a leaver when it held something at the last run
 *   (journal history), or, on a first run without history, when it is still a member of a mapped group.
 * - An account that held something at the last run and holds nothing now is a leaver:
 *   `deleted-from-ad` when it is gone from the snapshot, `removed-from-groups` when it is still there and active.
 * - An active account that lost only some grants is a mover, not a leaver.
 * - An account the journal already shows with no grants was handled before and is not a leaver again.
 * - Leavers and movers carry `formerNames`: the other names the history journaled them under within the
 *   longest session duration (renamed in AD before leaving), so their sessions are cut under each.
 */
import type { DirectorySnapshot, DirectoryUser, Guid } from '../model/directory.js';
import { isActive } from '../model/directory.js';
import { compareFormerNames } from '../model/session-name.js';
import type { Entitlement, FormerNames, Leaver, LeaverReason, Mover } from '../model/state.js';
import type { EntitlementHistory } from '../ports.js';
import type { Grant } from '../model/entitlements.js';
import { entitlementOf, entitlementSeenAt, grantsOf } from '../model/entitlements.js';

export interface LeaversAndMovers {
  readonly leavers: Leaver[];
  readonly movers: Mover[];
}

/** How a holder of a last-run grant stands now: holds nothing, holds other grants but lost this one, or still holds it. */
export type Standing = 'none' | 'lost' | 'kept';

export function findLeavers(
  snapshot: DirectorySnapshot,
  now: Date,
  history: EntitlementHistory,
  /** Users who hold at least one grant now (grants go to active users only). */
  holdsNow: (guid: Guid) => boolean,
  /** The snapshot's users by guid. */
  usersByGuid: ReadonlyMap<Guid, DirectoryUser>,
  /** What each inactive user would hold if active, for a first run without history. */
  wouldHold: (user: DirectoryUser) => readonly Entitlement[],
  /**
   * For a last-run grant, how each of its holders stands now: whether they still hold that role or
   * permission set on that account (through any group). Asked once per grant, then once per holder.
   */
  standing: (grant: Grant) => (guid: Guid) => Standing = () => (guid) => (holdsNow(guid) ? 'kept' : 'none'),
): LeaversAndMovers {
  // The last grants of people who might be leavers (everyone who holds nothing now: an inactive user
  // holds nothing now), and the lost grants of people who still hold something (movers). The history is
  // read grant by grant; an entitlement object is made only for those two.
  let last: Map<Guid, Entitlement[]> | null = null;
  const lost = new Map<Guid, Entitlement[]>();
  if (history.last !== null) {
    last = new Map();
    for (const { grant, holders } of grantsOf(history.last)) {
      const of = standing(grant);
      for (const h of holders) {
        const s = of(h.userGuid);
        if (s === 'kept') continue;
        const into = s === 'lost' ? lost : last;
        const e = entitlementOf(grant, h);
        const list = into.get(h.userGuid);
        if (list) list.push(e);
        else into.set(h.userGuid, [e]);
      }
    }
  }
  const leavers: Leaver[] = [];
  const seen = new Set<Guid>();
  for (const user of snapshot.users) {
    if (isActive(user, now)) continue;
    const former = last === null ? wouldHold(user) : (last.get(user.guid) ?? []);
    if (former.length === 0) continue;
    seen.add(user.guid);
    const reason: LeaverReason = user.disabled ? 'disabled' : 'expired';
    leavers.push(fromUser(user, reason, former, reason === 'disabled' ? user.whenChanged : user.expiresAt, history));
  }
  if (last !== null) {
    for (const [guid, former] of last) {
      if (seen.has(guid) || former.length === 0 || holdsNow(guid)) continue;
      const user = usersByGuid.get(guid);
      if (user === undefined) {
        // Gone from the snapshot (deleted, or moved out of the user base): the names the history kept.
        const named = former.find((e) => e.userPrincipalName !== undefined || e.mail !== undefined) ?? (former[0] as Entitlement);
        const names = { sAMAccountName: named.userName, userPrincipalName: named.userPrincipalName, mail: named.mail };
        leavers.push({ guid, ...names, reason: 'deleted-from-ad', formerEntitlements: former, ...formerNamesOf(history, guid, names) });
      } else if (isActive(user, now)) {
        leavers.push(fromUser(user, 'removed-from-groups', former, undefined, history));
      }
    }
  }
  leavers.sort((a, b) => bySam(a, b));
  const movers: Mover[] = [];
  for (const [guid, lostGrants] of lost) {
    const user = usersByGuid.get(guid);
    if (user === undefined) continue;
    movers.push({
      guid,
      sAMAccountName: user.sAMAccountName,
      userPrincipalName: user.userPrincipalName,
      mail: user.mail,
      lostEntitlements: lostGrants.map(withSeenAt(history)),
      ...formerNamesOf(history, guid, user),
    });
  }
  movers.sort(bySam);
  return { leavers: leavers.map((l) => ({ ...l, formerEntitlements: l.formerEntitlements.map(withSeenAt(history)) })), movers };
}

/** A former grant with the moment it was last seen held: its own `seenAt`, else the time of the snapshot it came from. */
function withSeenAt(history: EntitlementHistory): (e: Entitlement) => Entitlement {
  const at = history.at ?? undefined;
  return (e) => (e.seenAt !== undefined || at === undefined ? e : entitlementSeenAt(e, at));
}

function bySam(a: { sAMAccountName: string; guid: Guid }, b: { sAMAccountName: string; guid: Guid }): number {
  return a.sAMAccountName < b.sAMAccountName ? -1 : a.sAMAccountName > b.sAMAccountName ? 1 : a.guid < b.guid ? -1 : 1;
}

function fromUser(user: DirectoryUser, reason: LeaverReason, former: readonly Entitlement[], happenedAt: string | undefined, history: EntitlementHistory): Leaver {
  return {
    guid: user.guid,
    sAMAccountName: user.sAMAccountName,
    userPrincipalName: user.userPrincipalName,
    mail: user.mail,
    reason,
    formerEntitlements: former,
    ...(happenedAt !== undefined ? { happenedAt } : {}),
    ...formerNamesOf(history, user.guid, user),
  };
}

type Names = Pick<FormerNames, 'sAMAccountName' | 'userPrincipalName' | 'mail'>;

/**
 * The names the history journaled this person under other than `current` (a rename in AD), newest first;
 * `{}` when there are none, so a leaver without a rename looks as it always did.
 */
function formerNamesOf(history: EntitlementHistory, guid: Guid, current: Names): { formerNames?: FormerNames[] } {
  const known = history.names?.get(guid) ?? history.names?.get(guid.toLowerCase());
  if (known === undefined) return {};
  const same = (n: Names): boolean => n.sAMAccountName === current.sAMAccountName && (n.userPrincipalName ?? '') === (current.userPrincipalName ?? '') && (n.mail ?? '') === (current.mail ?? '');
  const seen = new Set<string>();
  const formerNames: FormerNames[] = [];
  for (const n of [...known].sort(compareFormerNames)) {
    const k = `${n.sAMAccountName}\u0000${n.userPrincipalName ?? ''}\u0000${n.mail ?? ''}`;
    if (same(n) || seen.has(k)) continue;
    seen.add(k);
    formerNames.push(n);
  }
  return formerNames.length > 0 ? { formerNames } : {};
}

/** "2026-12-02 09:14 UTC": minutes are what people compare with their HR records. */
export function humanInstant(iso: string): string {
  const t = Date.parse(iso);
  if (Number.isNaN(t)) return iso;
  const d = new Date(t).toISOString();
  return `${d.slice(0, 10)} ${d.slice(11, 16)} UTC`;
}

/** For people: "jdoe disabled in AD", "jdoe removed from all mapped groups". */
export function describeLeaver(name: string, reason: Leaver['reason']): string {
  switch (reason) {
    case 'disabled':
      return `${name} disabled in AD`;
    case 'expired':
      return `${name} expired in AD`;
    case 'removed-from-groups':
      return `${name} removed from all mapped groups`;
    case 'deleted-from-ad':
      return `${name} deleted from AD (or moved out of the user base)`;
  }
}

/**
 * For auditors: who, what happened in AD and when (AD's time when it has one), and when rolemap saw it:
 * "asmith disabled in AD at 2026-12-02 09:14 UTC, seen 2026-12-02 09:15 UTC".
 */
export function describeLeaverEvent(l: Pick<Leaver, 'sAMAccountName' | 'reason' | 'happenedAt'>, seenAt: Date): string {
  const seen = humanInstant(seenAt.toISOString());
  const what = describeLeaver(l.sAMAccountName, l.reason);
  return l.happenedAt !== undefined ? `${what} at ${humanInstant(l.happenedAt)}, seen ${seen}` : `${what}, seen ${seen}`;
}
