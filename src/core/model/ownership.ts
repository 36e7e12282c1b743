/**
 * How rolemap marks what it owns, so that it only ever changes or deletes its own objects.
 *
 * - IAM roles and permission sets: the tag `rolemap:owner = <ownerId>`.
 * - Identity Center groups: the description, which also carries the AD objectGUID, so ownership
 *   and identity survive a rename and a lost journal.
 * - Identity Center users cannot carry tags through the Identity Store API: ownership lives in a
 *   registry of its own (the journal's `owned_objects` table, see `OwnershipRegistry` in ports.ts),
 *   the way external-dns keeps ownership in a store of its own for records that cannot carry it.
 */
import type { Guid } from './directory.js';

export const OWNER_TAG = 'rolemap:owner';

/** Name of the inline policy that denies leavers' live sessions on a role. */
export const REVOCATION_POLICY_NAME = 'rolemap-revoked-sessions';

/** Sid prefix of the deny statements rolemap adds to a permission set's inline policy for leavers. */
export const PERMISSION_SET_REVOCATION_SID_PREFIX = 'RolemapRevoked';

const GROUP_MARKER = /^Managed by rolemap \(owner (?<owner>[^)]+)\); AD objectGUID (?<guid>[0-9a-f-]{36})(?:; .*)?$/s;

export function groupDescription(ownerId: string, guid: Guid, adName: string): string {
  return `Managed by rolemap (owner ${ownerId}); AD objectGUID ${guid}; AD group ${adName}`.slice(0, 1024);
}

/** The owner id and AD guid from a group description rolemap wrote, or null for any other description. */
export function parseGroupDescription(description: string | undefined | null): { ownerId: string; guid: Guid } | null {
  const m = GROUP_MARKER.exec(description ?? '');
  if (!m?.groups) return null;
  return { ownerId: m.groups['owner'] as string, guid: m.groups['guid'] as string };
}
