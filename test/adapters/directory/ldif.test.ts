import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { LdifFileError, LdifSyntaxError } from '../../../src/adapters/directory/errors.js';
import { parseLdif } from '../../../src/adapters/directory/ldif/ldif-parser.js';
import { LdifDirectorySource, snapshotFromLdif } from '../../../src/adapters/directory/ldif/ldif-source.js';
import { isActive } from '../../../src/core/model/directory.js';

const ALL = { refs: [], namePatterns: ['.*'] };
const g = (seed: number): string => Buffer.from(Array.from({ length: 16 }, (_, i) => (seed * 16 + i) % 256)).toString('base64');

describe('LDIF parser', () => {
  it('reads folded lines, base64 values, comments, version and ldifde changetype: add', () => {
    const text = [
      'version: 1',
      '# a comment that is',
      '  folded',
      'dn: CN=Zo\u00eb,OU=People,',
      ' DC=example,DC=com',
      'changetype: add',
      'objectClass: user',
      `objectGUID:: ${g(1)}`,
      'cn:: Wm/Dqw==',
      'member: a',
      'member: b',
      '',
      '',
      'dn: CN=x,DC=example,DC=com',
      'objectClass: group',
    ].join('\r\n');
    const [r1, r2, ...rest] = parseLdif(text, 'x.ldif');
    expect(rest).toEqual([]);
    expect(r1!.dn).toBe('CN=Zo\u00eb,OU=People,DC=example,DC=com');
    expect(r1!.line).toBe(4);
    expect(r1!.attributes.get('objectguid')![0]!.toString('base64')).toBe(g(1));
    expect(r1!.attributes.get('cn')![0]!.toString('utf8')).toBe('Zoë');
    expect(r1!.attributes.get('member')!.map(String)).toEqual(['a', 'b']);
    expect(r1!.attributes.has('changetype')).toBe(false);
    expect(r2!.line).toBe(14);
  });

  it('names the file and line of what it cannot read', () => {
    expect(() => parseLdif('dn: CN=a\nthis is not ldif\n', 'bad.ldif')).toThrow(/^bad\.ldif:2: not an LDIF attribute line/);
    expect(() => parseLdif('cn: a\n', 'bad.ldif')).toThrow(/bad\.ldif:1: a record must start with dn:/);
    expect(() => parseLdif('dn: CN=a\nchangetype: delete\n', 'bad.ldif')).toThrow(/bad\.ldif:2: changetype delete is not an export/);
    expect(() => parseLdif('dn: CN=a\njpegPhoto:< file:///etc/passwd\n', 'bad.ldif')).toThrow(LdifSyntaxError);
    expect(() => parseLdif('dn: CN=a\ncn:: not*base64\n', 'bad.ldif')).toThrow(/bad\.ldif:2: cn:: is not base64/);
  });
});

describe('snapshot from LDIF', () => {
  const user = (cn: string, sam: string, seed: number, extra: string[] = []): string =>
    [`dn: CN=${cn},OU=People,DC=ex,DC=com`, 'objectClass: user', `sAMAccountName: ${sam}`, `objectGUID:: ${g(seed)}`, ...extra].join('\n');
  const group = (cn: string, seed: number, members: string[], ou = 'OU=Groups'): string =>
    [`dn: CN=${cn},${ou},DC=ex,DC=com`, 'objectClass: group', `cn: ${cn}`, `sAMAccountName: ${cn}`, `objectGUID:: ${g(seed)}`, ...members.map((m) => `member: ${m}`)].join('\n');
  const P = (cn: string): string => `CN=${cn},OU=People,DC=ex,DC=com`;
  const G = (cn: string, ou = 'OU=Groups'): string => `CN=${cn},${ou},DC=ex,DC=com`;

  it('expands nesting with cycles, follows groups outside the group base, keeps only users under the user base', async () => {
    const text = [
      user('A', 'a', 1, ['userAccountControl: 514']),
      user('B', 'b', 2, ['accountExpires: 132223104000000000']),
      user('C', 'c', 3),
      [`dn: CN=Out,OU=Elsewhere,DC=ex,DC=com`, 'objectClass: user', 'sAMAccountName: out', `objectGUID:: ${g(9)}`].join('\n'),
      [`dn: CN=PC,OU=People,DC=ex,DC=com`, 'objectClass: user', 'objectClass: computer', 'sAMAccountName: pc$', `objectGUID:: ${g(10)}`].join('\n'),
      group('X', 4, [G('Y', 'OU=Other'), P('A')]),
      group('Y', 5, [G('Z'), P('B'), 'CN=Out,OU=Elsewhere,DC=ex,DC=com', P('PC')], 'OU=Other'),
      group('Z', 6, [G('X'), P('C')]),
    ].join('\n\n');
    const snap = await snapshotFromLdif(text, ALL, { path: 't.ldif', userBase: 'OU=People,DC=ex,DC=com', groupBase: 'OU=Groups,DC=ex,DC=com' });
    const sam = new Map(snap.users.map((u) => [u.guid, u.sAMAccountName]));
    expect([...sam.values()].sort()).toEqual(['a', 'b', 'c']);
    expect(snap.groups.map((x) => x.name).sort()).toEqual(['X', 'Z']);
    for (const grp of snap.groups) expect(grp.members.map((m) => sam.get(m)).sort()).toEqual(['a', 'b', 'c']);
    const u = (s: string) => snap.users.find((x) => x.sAMAccountName === s)!;
    expect(u('a').disabled).toBe(true);
    expect(u('b').expiresAt).toBe('2020-01-01T00:00:00.000Z');
  });

  it('refuses an export that stopped at a member;range window instead of returning a short group', async () => {
    const text = [user('A', 'a', 1), [`dn: ${G('Big')}`, 'objectClass: group', 'cn: Big', 'sAMAccountName: Big', `objectGUID:: ${g(2)}`, `member;range=0-1499: ${P('A')}`].join('\n')].join('\n\n');
    await expect(snapshotFromLdif(text, ALL, { path: 'big.ldif' })).rejects.toThrow(/big\.ldif:6: group CN=Big.* has only member;range=0-1499/);
    const complete = text.replace('member;range=0-1499', 'member;range=0-*');
    expect((await snapshotFromLdif(complete, ALL, { path: 'big.ldif' })).groups[0]!.members).toHaveLength(1);
  });

  it('refuses a user without objectGUID, naming the line', async () => {
    await expect(snapshotFromLdif('\ndn: CN=A,DC=ex\nobjectClass: user\nsAMAccountName: a\n', ALL, { path: 'u.ldif' })).rejects.toThrow(/u\.ldif:2: CN=A,DC=ex has no objectGUID/);
  });

  it('reads a file through the DirectorySource port', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'rolemap-ldif-'));
    const file = join(dir, 'd.ldif');
    writeFileSync(file, [user('A', 'a', 1), group('X', 4, [P('A')])].join('\n\n'));
    const snap = await new LdifDirectorySource({ path: file }).read({ refs: [{ by: 'sAMAccountName', value: 'x' }], namePatterns: [] });
    expect(snap.source).toBe(`ldif:${file}`);
    expect(snap.groups).toHaveLength(1);
  });

  it('a snapshot file that is not there is a typed read error naming the file, not retryable', async () => {
    const file = join(mkdtempSync(join(tmpdir(), 'rolemap-ldif-')), 'missing.ldif');
    const err = await new LdifDirectorySource({ path: file }).read(ALL).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(LdifFileError);
    expect(err).toMatchObject({ file, code: 'ENOENT', retryable: false });
    expect((err as Error).message).toBe(`cannot read the LDIF directory snapshot ${file} (ENOENT); no snapshot was produced`);
    expect((err as Error).cause).toMatchObject({ code: 'ENOENT' });
  });
});

describe('the demo directory (config/demo/directory.ldif)', () => {
  it('has unicode people, one disabled, one expired, and nested groups', async () => {
    const snap = await new LdifDirectorySource({ path: 'config/demo/directory.ldif' }).read(ALL);
    const now = new Date('2026-06-01T00:00:00Z');
    expect(snap.users.length).toBeGreaterThanOrEqual(10);
    expect(snap.users.length).toBeLessThanOrEqual(20);
    expect(snap.users.filter((u) => u.disabled).map((u) => u.sAMAccountName)).toEqual(['dora.departed']);
    expect(snap.users.filter((u) => !isActive(u, now)).map((u) => u.sAMAccountName).sort()).toEqual(['dora.departed', 'erno.ended']);
    expect(snap.users.find((u) => u.sAMAccountName === 'erno.ended')!.expiresAt).toBe('2025-01-01T00:00:00.000Z');
    expect(snap.users.find((u) => u.sAMAccountName === 'yamada.taro')!.displayName).toBe('山田 太郎');
    const names = (group: string) => {
      const byGuid = new Map(snap.users.map((u) => [u.guid, u.sAMAccountName]));
      return snap.groups.find((x) => x.name === group)!.members.map((m) => byGuid.get(m)).sort();
    };
    expect(names('Data-Analysts')).toEqual(['anna.ivanova', 'erno.ended', 'giorgos.papadopoulos', 'ngoc.nguyen', 'nuno.pena', 'yamada.taro']);
    expect(names('AWS-111111111111-ReadOnly')).toHaveLength(9); // Data-Analysts (incl. Data-Engineers) + Auditors + one direct
    expect(names('AWS-111111111111-Admin')).toEqual(['dora.departed', 'juergen.mueller', 'zoe.angstrom']);
    expect(snap.groups.map((x) => x.name).sort()).toEqual(
      ['AWS-111111111111-Admin', 'AWS-111111111111-ReadOnly', 'AWS-222222222222-ReadOnly', 'Auditors', 'Data-Analysts', 'Data-Engineers', 'Platform-Admins'],
    );
  });
});
