/**
 * Role-map group references that stop resolving (an AD group referenced by sAMAccountName or DN and
 * then renamed, or deleted): the mapping's current state is held everywhere, for federated roles
 * and Identity Center alike. Nobody loses access for it and nothing is deleted for it: the users
 * entitled through it keep their entitlements (they are no leavers for it), and the plan keeps the
 * Identity Center group, its memberships and assignments as they are (see plan/held.ts). The warning
 * names the reference and the likely match: the group with the same objectGUID under a new name,
 * found through the journal's last entitlement snapshot.
 */
import type { DirectorySnapshot, GroupRef, Guid } from '../model/directory.js';
import { isActive, normalizeDn } from '../model/directory.js';
import type { Entitlement, UnresolvedReference } from '../model/state.js';
import type { EntitlementHistory } from '../ports.js';
import type { Grant } from '../model/entitlements.js';
import { entitlementOf, grantsOf } from '../model/entitlements.js';

/** The name a reference gives a group, as the entitlement history records it (`viaGroupName`, the cn). */
function refName(ref: GroupRef): string | undefined {
  if (ref.by === 'sAMAccountName') return ref.value.toLowerCase();
  if (ref.by === 'dn') {
    const m = /^cn=((?:\\.|[^,])+)/.exec(normalizeDn(ref.value));
    return m?.[1]?.replace(/\\(.)/g, '$1');
  }
  return undefined;
}

export function describeRef(ref: GroupRef): string {
  return `${ref.by}=${ref.value}`;
}

/**
 * What an unresolvable reference held at the last run: the group's guid and the entitlements through
 * it for `target` (a role name or a permission set), from the journal's last entitlement snapshot.
 */
export function heldByReference(
  ref: GroupRef,
  kind: Entitlement['kind'],
  target: string,
  history: EntitlementHistory,
): { guid: Guid | undefined; entitlements: Entitlement[] } {
  const name = refName(ref);
  const matches = (g: Grant): boolean =>
    g.kind === kind && g.target === target && (ref.by === 'guid' ? g.viaGroupGuid === ref.value.toLowerCase() : name !== undefined && g.viaGroupName.toLowerCase() === name);
  const entitlements: Entitlement[] = [];
  for (const { grant, holders } of grantsOf(history.last ?? [])) if (matches(grant)) for (const h of holders) entitlements.push(entitlementOf(grant, h));
  return { guid: entitlements[0]?.viaGroupGuid, entitlements };
}

/** The reference, the warning people read, and what the plan holds for it. */
export function unresolvedReference(
  ref: GroupRef,
  what: string,
  guid: Guid | undefined,
  snapshot: DirectorySnapshot,
): UnresolvedReference {
  const now = guid === undefined ? undefined : snapshot.groups.find((g) => g.guid === guid);
  const likely =
    now !== undefined
      ? `; it looks like AD group ${now.name} (sAMAccountName ${now.sAMAccountName}, same objectGUID ${guid}): reference it by {guid: ${guid}} or its new name`
      : guid !== undefined
        ? `; it was the group with objectGUID ${guid}, which the directory no longer returns`
        : '';
  return {
    reference: describeRef(ref),
    groupGuid: guid,
    groupName: refName(ref),
    message: `AD group ${describeRef(ref)} (${what}) is not in the directory: its current state is held (nothing is created, changed or deleted for it, nobody loses access through it)${likely}`,
  };
}

/** The held entitlements of users who are still active: they keep them (no leavers for a reference that stopped resolving). */
export function stillActive(entitlements: readonly Entitlement[], snapshot: DirectorySnapshot, now: Date): Entitlement[] {
  const active = new Set(snapshot.users.filter((u) => isActive(u, now)).map((u) => u.guid));
  return entitlements.filter((e) => active.has(e.userGuid));
}
