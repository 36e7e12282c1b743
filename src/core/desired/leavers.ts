/**
 * Who lost every grant since the last run, and why.
 *
 * - An AD account that is disabled or expired is a leaver when it held something at the last run
 *   (journal history), or, on a first run without history, when it is still a member of a mapped group.
 * - An account that held something at the last run and holds nothing now is a leaver:
 *   `deleted-from-ad` when it is gone from the snapshot, `removed-from-groups` when it is still there and active.
 * - An active account that lost only some grants is a mover, not a leaver.
 * - An account the journal already shows with no grants was handled before and is not a leaver again.
 */
import type { DirectorySnapshot, DirectoryUser, Guid } from '../model/directory.js';
import { isActive } from '../model/directory.js';
import type { Entitlement, Leaver } from '../model/state.js';
import type { EntitlementHistory } from '../ports.js';

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
): Leaver[] {
  // Only the last grants of people who might be leavers are needed: inactive users and users who hold nothing
  // now, i.e. everyone for whom `holdsNow` is false (an inactive user holds nothing now).
  let last: Map<Guid, Entitlement[]> | null = null;
  if (history.last !== null) {
    last = new Map();
    for (const e of history.last) {
      if (holdsNow(e.userGuid)) continue;
      const list = last.get(e.userGuid);
      if (list) list.push(e);
      else last.set(e.userGuid, [e]);
    }
  }
  const leavers: Leaver[] = [];
  const seen = new Set<Guid>();
  for (const user of snapshot.users) {
    if (isActive(user, now)) continue;
    const former = last === null ? wouldHold(user) : (last.get(user.guid) ?? []);
    if (former.length === 0) continue;
    seen.add(user.guid);
    leavers.push(leaver(user.guid, user.sAMAccountName, user.userPrincipalName, user.disabled ? 'disabled' : 'expired', former));
  }
  if (last !== null) {
    for (const [guid, former] of last) {
      if (seen.has(guid) || former.length === 0 || holdsNow(guid)) continue;
      const user = usersByGuid.get(guid);
      if (user === undefined) {
        leavers.push(leaver(guid, (former[0] as Entitlement).userName, undefined, 'deleted-from-ad', former));
      } else if (isActive(user, now)) {
        leavers.push(leaver(guid, user.sAMAccountName, user.userPrincipalName, 'removed-from-groups', former));
      }
    }
  }
  leavers.sort((a, b) => (a.sAMAccountName < b.sAMAccountName ? -1 : a.sAMAccountName > b.sAMAccountName ? 1 : a.guid < b.guid ? -1 : 1));
  return leavers;
}

function leaver(guid: Guid, sam: string, upn: string | undefined, reason: Leaver['reason'], former: readonly Entitlement[]): Leaver {
  return { guid, sAMAccountName: sam, userPrincipalName: upn, reason, formerEntitlements: former };
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
      return `${name} deleted from AD`;
  }
}
