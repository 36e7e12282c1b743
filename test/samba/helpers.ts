import { inject } from 'vitest';
import { LdapDirectorySource } from '../../src/adapters/directory/ldap/ldap-source.js';
import type { LdapSourceOptions } from '../../src/adapters/directory/ldap/options.js';
import type { DirectorySnapshot } from '../../src/core/model/directory.js';
import type { GroupSelection } from '../../src/core/ports.js';
import { testDirectory } from './fixture-data.js';
import type { SambaFacts } from './samba-dc.js';

/** The running DC's facts, or null when ROLEMAP_SKIP_SAMBA=1 (the suites then skip, loudly). */
export const samba: SambaFacts | null = inject('samba');
export const definition = testDirectory();

export function facts(): SambaFacts {
  if (!samba) throw new Error('Samba is not running');
  return samba;
}

/** A source against the test DC over LDAPS with the CA, admin bind; override anything. */
export function sambaSource(overrides: Partial<LdapSourceOptions> = {}): LdapDirectorySource {
  const f = facts();
  return new LdapDirectorySource({
    url: f.ldapsUrl,
    caFile: f.caFile,
    bindDn: f.adminUpn,
    bindPassword: f.adminPassword,
    userBase: f.userBase,
    groupBase: f.groupBase,
    ...overrides,
  });
}

/** Every group under the group base. */
export const ALL_GROUPS: GroupSelection = { refs: [], namePatterns: ['.*'] };

export function group(snapshot: DirectorySnapshot, name: string) {
  const g = snapshot.groups.find((x) => x.name === name);
  if (!g) throw new Error(`no group ${name} in the snapshot (have: ${snapshot.groups.map((x) => x.name).join(', ')})`);
  return g;
}

/** sAMAccountNames of a group's members, sorted. */
export function memberNames(snapshot: DirectorySnapshot, name: string): string[] {
  const byGuid = new Map(snapshot.users.map((u) => [u.guid, u.sAMAccountName]));
  return group(snapshot, name).members.map((m) => byGuid.get(m) ?? `?${m}`).sort();
}

/** The sAMAccountName of the definition's named user i (PEOPLE_NAMES order). */
export function named(i: number): string {
  return definition.users[i]!.sAMAccountName;
}
