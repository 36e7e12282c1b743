import type { DirectorySnapshot } from '../model/directory.js';
import type { RoleMap } from '../model/role-map.js';
import type { DesiredState } from '../model/state.js';
import type { EntitlementHistory } from '../ports.js';

/**
 * What should exist, from the directory snapshot and the role map, at `now`.
 * Pure: no network, no clock, no file system.
 */
export function computeDesired(
  _snapshot: DirectorySnapshot,
  _roleMap: RoleMap,
  _now: Date,
  _history: EntitlementHistory,
): DesiredState {
  throw new Error('not implemented yet');
}
