import type { DirectoryGroup, DirectorySnapshot, GroupRef } from '../model/directory.js';
import { normalizeDn } from '../model/directory.js';

/** Finds a snapshot group by a role map reference in O(1) (the role map may name thousands of groups). */
export function groupLookup(snapshot: DirectorySnapshot): (ref: GroupRef) => DirectoryGroup | undefined {
  const byDn = new Map<string, DirectoryGroup>();
  const bySam = new Map<string, DirectoryGroup>();
  const byGuid = new Map<string, DirectoryGroup>();
  for (const g of snapshot.groups) {
    const dn = normalizeDn(g.dn);
    if (!byDn.has(dn)) byDn.set(dn, g);
    if (!bySam.has(g.sAMAccountName.toLowerCase())) bySam.set(g.sAMAccountName.toLowerCase(), g);
    if (!byGuid.has(g.guid)) byGuid.set(g.guid, g);
  }
  return (ref) => {
    switch (ref.by) {
      case 'dn':
        return byDn.get(normalizeDn(ref.value));
      case 'sAMAccountName':
        return bySam.get(ref.value.toLowerCase());
      case 'guid':
        return byGuid.get(ref.value.toLowerCase());
    }
  };
}
