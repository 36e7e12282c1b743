/**
 * The part of a directory read that does not depend on where the entries come from: which groups
 * the role map selects, client-side expansion of nested groups (with cycle detection), and the
 * final, sorted snapshot. The LDAP source (nesting: client) and the LDIF reader share it, so both
 * give the same answer for the same data.
 */
import type { DirectoryGroup, DirectorySnapshot, DirectoryUser, Guid } from '../../core/model/directory.js';
import { matchesGroupRef } from '../../core/model/directory.js';
import type { GroupSelection } from '../../core/ports.js';
import { normalizeDn } from './ad-attributes.js';
import { DirectoryConfigError } from './errors.js';

/** A group as read, with its direct `member` DNs (complete: every range followed). */
export interface GroupEntry {
  readonly guid: Guid;
  readonly dn: string;
  readonly sAMAccountName: string;
  readonly name: string;
  readonly description?: string | undefined;
  readonly memberDns: readonly string[];
}

export type GroupHeader = Omit<GroupEntry, 'memberDns'>;

/** Compiles the selection's name patterns once; a bad regex is a config error. */
export function groupSelector(selection: GroupSelection): (group: GroupHeader) => boolean {
  const patterns = selection.namePatterns.map((p) => {
    try {
      return new RegExp(p);
    } catch (e) {
      throw new DirectoryConfigError(`group name pattern ${JSON.stringify(p)} is not a valid regular expression`, { cause: e });
    }
  });
  // DN references compared normalised (AD ignores case and spaces around separators), computed once.
  const dnRefs = new Set(selection.refs.filter((ref) => ref.by === 'dn').map((ref) => normalizeDn(ref.value)));
  const otherRefs = selection.refs.filter((ref) => ref.by !== 'dn');
  return (group) => {
    if (dnRefs.size > 0 && dnRefs.has(normalizeDn(group.dn))) return true;
    const asModel = { ...group, members: [] };
    return otherRefs.some((ref) => matchesGroupRef(asModel, ref)) || patterns.some((re) => re.test(group.name));
  };
}

/**
 * Looks up DNs that are neither known users nor already-known groups. Returns the group entry for
 * each DN that is a group; DNs that are not groups (contacts, computers, users outside the user
 * base, objects that no longer exist) are simply absent from the answer.
 */
export type GroupResolver = (dns: readonly string[]) => Promise<ReadonlyMap<string, GroupEntry>>;

/**
 * Transitive user members of each root group, walking `member` DNs level by level. Each group is
 * visited once per root, so a cycle (A in B in C in A) ends the walk instead of looping.
 * `userGuidByDn` is keyed by normalizeDn.
 */
export async function expandNesting(
  roots: readonly GroupEntry[],
  userGuidByDn: ReadonlyMap<string, Guid>,
  resolve: GroupResolver,
): Promise<Map<Guid, Guid[]>> {
  const groupsByDn = new Map<string, GroupEntry>();
  const notGroups = new Set<string>();
  for (const g of roots) groupsByDn.set(normalizeDn(g.dn), g);
  // Each group's member DNs normalised once: the walk below visits a nested group once per root.
  const keysByGroup = new Map<GroupEntry, readonly string[]>();
  const memberKeys = (g: GroupEntry): readonly string[] => {
    let keys = keysByGroup.get(g);
    if (keys === undefined) {
      keys = g.memberDns.map(normalizeDn);
      keysByGroup.set(g, keys);
    }
    return keys;
  };

  // Discover the whole reachable group graph, one level (one batch of look-ups) at a time.
  let frontier: GroupEntry[] = [...roots];
  while (frontier.length > 0) {
    const unknown = new Map<string, string>();
    for (const g of frontier) {
      const keys = memberKeys(g);
      g.memberDns.forEach((dn, i) => {
        const key = keys[i] as string;
        if (!userGuidByDn.has(key) && !groupsByDn.has(key) && !notGroups.has(key)) unknown.set(key, dn);
      });
    }
    if (unknown.size === 0) break;
    const found = await resolve([...unknown.values()]);
    const foundByKey = new Map([...found.values()].map((g) => [normalizeDn(g.dn), g] as const));
    frontier = [];
    for (const key of unknown.keys()) {
      const g = foundByKey.get(key);
      if (g) {
        groupsByDn.set(key, g);
        frontier.push(g);
      } else {
        notGroups.add(key);
      }
    }
  }

  const result = new Map<Guid, Guid[]>();
  for (const root of roots) {
    const members = new Set<Guid>();
    const seen = new Set<string>([normalizeDn(root.dn)]);
    const stack: GroupEntry[] = [root];
    while (stack.length > 0) {
      const g = stack.pop()!;
      for (const key of memberKeys(g)) {
        const user = userGuidByDn.get(key);
        if (user !== undefined) {
          members.add(user);
          continue;
        }
        const nested = groupsByDn.get(key);
        if (nested && !seen.has(key)) {
          seen.add(key);
          stack.push(nested);
        }
      }
    }
    result.set(root.guid, [...members]);
  }
  return result;
}

/** The final snapshot, in a stable order (users and groups by guid, members sorted). */
export function buildSnapshot(
  source: string,
  users: readonly DirectoryUser[],
  groups: readonly (GroupHeader & { readonly members: readonly Guid[] })[],
): DirectorySnapshot {
  const byGuid = <T extends { guid: Guid }>(a: T, b: T): number => (a.guid < b.guid ? -1 : a.guid > b.guid ? 1 : 0);
  const outGroups: DirectoryGroup[] = groups
    .map((g) => ({ guid: g.guid, dn: g.dn, sAMAccountName: g.sAMAccountName, name: g.name, ...(g.description !== undefined ? { description: g.description } : {}), members: [...new Set(g.members)].sort() }))
    .sort(byGuid);
  return { source, users: [...users].sort(byGuid), groups: outGroups };
}
