/**
 * The LDIF reader gives the same snapshot as the LDAP source for the same data: the data is exported
 * from the running DC with `ldapsearch -LLL` (paged, base64 objectGUIDs, folded lines, reference
 * comments), then read back offline.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { LdifDirectorySource } from '../../src/adapters/directory/ldif/ldif-source.js';
import type { GroupSelection } from '../../src/core/ports.js';
import { ALL_GROUPS, facts, samba, sambaSource } from './helpers.js';

const EXPORT_ATTRIBUTES = [
  'objectGUID', 'objectClass', 'sAMAccountName', 'userPrincipalName', 'mail', 'givenName', 'sn', 'displayName',
  'userAccountControl', 'accountExpires', 'whenChanged', 'cn', 'member',
];

function exportDomain(): string {
  const f = facts();
  const out = execFileSync(
    'ldapsearch',
    ['-LLL', '-E', 'pr=200/noprompt', '-H', f.ldapsUrl, '-D', f.adminUpn, '-w', f.adminPassword, '-b', f.baseDn,
      '(|(&(objectCategory=person)(objectClass=user))(objectClass=group)(objectClass=contact))', ...EXPORT_ATTRIBUTES],
    { env: { ...process.env, LDAPTLS_CACERT: f.caFile }, encoding: 'utf8', maxBuffer: 64 * 1024 * 1024 },
  );
  const file = join(mkdtempSync(join(tmpdir(), 'rolemap-ldif-')), 'export.ldif');
  writeFileSync(file, out);
  return file;
}

describe.skipIf(!samba)('LDIF reader vs LDAP source', () => {
  it('gives the same snapshot for an ldapsearch -LLL export of the same directory', async () => {
    const file = exportDomain();
    const text = readFileSync(file, 'utf8');
    expect(text).toMatch(/^objectGUID:: /m); // binary GUIDs arrive base64
    expect(text).toMatch(/\n [^\n]/); // folded lines
    expect(text).toMatch(/^# ref/m); // search reference comments
    const ldif = new LdifDirectorySource({ path: file, userBase: facts().userBase, groupBase: facts().groupBase });
    const selections: GroupSelection[] = [
      ALL_GROUPS,
      { refs: [{ by: 'sAMAccountName', value: 'Platform-Admins' }, { by: 'dn', value: `CN=Nest-Top,${facts().groupBase}` }], namePatterns: ['^AWS-'] },
    ];
    for (const selection of selections) {
      const fromLdap = await sambaSource().read(selection);
      const fromLdif = await ldif.read(selection);
      expect({ ...fromLdif, source: '' }).toEqual({ ...fromLdap, source: '' });
      expect(fromLdif.source).toBe(`ldif:${file}`);
    }
  });
});
