/**
 * The LDAP directory source against a real Samba AD DC (test/samba/global-setup.ts starts it).
 */
import { execFileSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { DirectoryBindError, DirectoryConfigError, DirectoryConnectError } from '../../src/adapters/directory/errors.js';
import { isActive } from '../../src/core/model/directory.js';
import { BIG_GROUP_SIZE, GROUPS, PEOPLE, USER_PASSWORD } from './fixture-data.js';
import { ALL_GROUPS, definition, facts, group, memberNames, named, samba, sambaSource } from './helpers.js';

const usersUnderPeople = definition.users.filter((u) => u.dn.endsWith(`,${PEOPLE}`));

describe.skipIf(!samba)('LDAP directory source against Samba AD', () => {
  describe('connection and TLS', () => {
    it('reads over LDAPS, checking the certificate against the CA file', async () => {
      const snap = await sambaSource().read(ALL_GROUPS);
      expect(snap.users).toHaveLength(usersUnderPeople.length);
      expect(snap.source).toBe(`ldaps://127.0.0.1/${PEOPLE}`);
    });

    it('verifies the host name too: ldaps://localhost works (the certificate names it)', async () => {
      const snap = await sambaSource({ url: 'ldaps://localhost:636' }).read({ refs: [{ by: 'sAMAccountName', value: 'Auditors' }], namePatterns: [] });
      expect(snap.groups.map((g) => g.name)).toEqual(['Auditors']);
    });

    it('reads over ldap:// upgraded with StartTLS and the CA', async () => {
      const snap = await sambaSource({ url: facts().ldapUrl, startTls: true }).read({ refs: [{ by: 'sAMAccountName', value: 'Auditors' }], namePatterns: [] });
      expect(memberNames(snap, 'Auditors')).toEqual(['disabled.two', 'mustchange.user', named(23), 'never.max'].sort());
    });

    it('refuses an untrusted certificate (no CA given) with a non-retryable connect error', async () => {
      const err = await sambaSource({ caFile: undefined }).read(ALL_GROUPS).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(DirectoryConnectError);
      expect((err as DirectoryConnectError).retryable).toBe(false);
      expect((err as Error).message).toMatch(/not trusted/);
    });

    it('refuses a plain ldap:// URL unless allowInsecure is set, before touching the network', async () => {
      expect(() => sambaSource({ url: facts().ldapUrl })).toThrow(DirectoryConfigError);
      expect(() => sambaSource({ url: facts().ldapUrl })).toThrow(/refusing plain ldap:\/\/127\.0\.0\.1/);
      const snap = await sambaSource({ url: facts().ldapUrl, allowInsecure: true, caFile: undefined }).read({ refs: [], namePatterns: [] });
      expect(snap.users).toHaveLength(usersUnderPeople.length);
    });

    it('binds with a UPN or a DN; a service account outside the user base can read', async () => {
      const upn = await sambaSource({ bindDn: 'svc-rolemap@rolemap.test', bindPassword: USER_PASSWORD }).read({ refs: [], namePatterns: [] });
      const dn = await sambaSource({ bindDn: facts().adminDn }).read({ refs: [], namePatterns: [] });
      expect(upn.users.length).toBe(dn.users.length);
    });
  });

  describe('bind errors carry the AD sub-code as a clear reason', () => {
    const bindAs = (bindDn: string, bindPassword: string) => sambaSource({ bindDn, bindPassword }).read(ALL_GROUPS).catch((e: unknown) => e);

    it('wrong password -> invalid-credentials (52e), never echoing the password', async () => {
      const err = await bindAs(facts().adminUpn, 'not-the-Passw0rd');
      expect(err).toBeInstanceOf(DirectoryBindError);
      expect(err).toMatchObject({ reason: 'invalid-credentials', subCode: '52e', retryable: false });
      expect((err as Error).message).toContain('wrong password');
      expect((err as Error).message).toContain(facts().adminUpn);
      expect(JSON.stringify(err) + (err as Error).message + String((err as Error).cause)).not.toContain('not-the-Passw0rd');
    });

    it('disabled account -> account-disabled (533)', async () => {
      expect(await bindAs('disabled.bind@rolemap.test', USER_PASSWORD)).toMatchObject({ reason: 'account-disabled', subCode: '533' });
    });

    it('expired account -> account-expired (701)', async () => {
      expect(await bindAs('expired.user@rolemap.test', USER_PASSWORD)).toMatchObject({ reason: 'account-expired', subCode: '701' });
    });

    it('password that must change -> password-must-change (773)', async () => {
      expect(await bindAs('mustchange.user@rolemap.test', USER_PASSWORD)).toMatchObject({ reason: 'password-must-change', subCode: '773' });
    });

    it('an empty password is refused before binding (it would be an anonymous bind)', async () => {
      expect(await bindAs(facts().adminUpn, '')).toBeInstanceOf(DirectoryConfigError);
    });
  });

  describe('users', () => {
    it('reads every user under the user base, enabled or not, with unicode names intact', async () => {
      const snap = await sambaSource().read({ refs: [], namePatterns: [] });
      const bySam = new Map(snap.users.map((u) => [u.sAMAccountName, u]));
      for (const u of usersUnderPeople.filter((x) => !definition.renames.some((r) => r.fromDn === x.dn))) {
        const got = bySam.get(u.sAMAccountName);
        expect(got, u.sAMAccountName).toBeDefined();
        expect(got).toMatchObject({ dn: u.dn, givenName: u.givenName, surname: u.sn, displayName: u.displayName, userPrincipalName: u.userPrincipalName, mail: u.mail });
        expect(got!.guid).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/);
        expect(got!.whenChanged).toMatch(/^\d{4}-\d\d-\d\dT/);
      }
      expect(bySam.get('zoe.angstrom')?.displayName).toBe('Zoë Ångström');
      expect(bySam.get('yamada.taro')?.dn).toBe(`CN=山田 太郎,${PEOPLE}`);
      expect(bySam.get('emile.zola')?.dn).toBe(`CN=Émile Zola\\, Jr.,${PEOPLE}`);
      // Outside the user base: the service account and the outsider; computers never.
      expect(bySam.has('svc-rolemap')).toBe(false);
      expect(bySam.has('outsider')).toBe(false);
    });

    it('flags disabled users (userAccountControl 0x2) and decodes accountExpires', async () => {
      const snap = await sambaSource().read({ refs: [], namePatterns: [] });
      const u = (sam: string) => snap.users.find((x) => x.sAMAccountName === sam)!;
      const now = new Date('2026-06-01T00:00:00Z');
      expect(snap.users.filter((x) => x.disabled).map((x) => x.sAMAccountName).sort()).toEqual(['disabled.bind', 'disabled.one', 'disabled.two']);
      expect(u('expired.user')).toMatchObject({ disabled: false, expiresAt: '2020-01-01T00:00:00.000Z' });
      expect(isActive(u('expired.user'), now)).toBe(false);
      expect(u('future.user').expiresAt).toBe('2099-01-01T00:00:00.000Z');
      expect(isActive(u('future.user'), now)).toBe(true);
      expect(u('never.max').expiresAt).toBeUndefined(); // 0x7FFFFFFFFFFFFFFF
      expect(u(named(0)).expiresAt).toBeUndefined(); // 0
    });

    it('keeps a renamed user under the same objectGUID (rendered exactly as Samba renders it)', async () => {
      const [renamed] = facts().renamed;
      const snap = await sambaSource().read({ refs: [{ by: 'sAMAccountName', value: 'Data-Analysts' }], namePatterns: [] });
      const user = snap.users.find((x) => x.guid === renamed!.guid);
      expect(user).toMatchObject({ dn: renamed!.toDn, sAMAccountName: 'renee.nouveau', displayName: 'Renée Nouveau' });
      expect(snap.users.some((x) => x.dn === renamed!.fromDn)).toBe(false);
      expect(group(snap, 'Data-Analysts').members).toContain(renamed!.guid);
    });
  });

  describe('groups and nesting', () => {
    it('expands nesting on the server and in the client with identical results', async () => {
      const inChain = await sambaSource({ nesting: 'in-chain' }).read(ALL_GROUPS);
      const client = await sambaSource({ nesting: 'client' }).read(ALL_GROUPS);
      expect(client).toEqual(inChain);
      expect(inChain.groups).toHaveLength(definition.groups.filter((g) => g.dn.endsWith(`,${GROUPS}`)).length);
    });

    for (const nesting of ['in-chain', 'client'] as const) {
      it(`${nesting}: three levels deep (through a group outside the group base), a cycle, and only users under the base`, async () => {
        const snap = await sambaSource({ nesting }).read(ALL_GROUPS);
        expect(memberNames(snap, 'Nest-Leaf')).toEqual([named(18), named(19)].sort());
        expect(memberNames(snap, 'Nest-Top')).toEqual([named(16), named(17), named(18), named(19)].sort());
        expect(memberNames(snap, 'AWS-111111111111-ReadOnly')).toEqual([named(0), named(1), named(16), named(17), named(18), named(19)].sort());
        for (const g of ['Cycle-A', 'Cycle-B', 'Cycle-C']) expect(memberNames(snap, g)).toEqual([named(20), named(21), named(22)].sort());
        expect(memberNames(snap, 'Platform-Admins')).toEqual([named(5), named(20), named(21), named(22)].sort());
        // The outsider (outside the user base) and a contact are members in AD but not users of the snapshot.
        expect(memberNames(snap, 'AWS-222222222222-ReadOnly')).toEqual(['expired.user', 'future.user', named(4)].sort());
        expect(memberNames(snap, 'Empty-Group')).toEqual([]);
      });
    }

    it('reads the 2,000-member group completely, following member;range windows and paging every search', async () => {
      const ranges: string[] = [];
      const pages = new Map<string, number>();
      const source = sambaSource({
        nesting: 'client',
        pageSize: 50,
        rangeSize: 100,
        observer: {
          onRange: (e) => e.dn.startsWith('CN=Big-2000,') && ranges.push(e.range),
          onPage: (e) => pages.set(e.what, Math.max(pages.get(e.what) ?? 0, e.page)),
        },
      });
      const snap = await source.read({ refs: [{ by: 'sAMAccountName', value: 'Big-2000' }], namePatterns: [] });
      const members = new Set(memberNames(snap, 'Big-2000'));
      expect(members.size).toBe(BIG_GROUP_SIZE);
      expect(members.has('bulk0001') && members.has('bulk2000')).toBe(true);
      expect(ranges.slice(0, 3)).toEqual(['0-99', '100-199', '200-299']);
      expect(ranges).toHaveLength(BIG_GROUP_SIZE / 100); // 20 windows, the last one marked `*` as AD does
      expect(ranges.at(-1)).toBe('1900-*');
      expect(pages.get('users')).toBe(Math.ceil(usersUnderPeople.length / 50));
      expect(source.lastStats).toMatchObject({ nesting: 'client', rangeRounds: 20 });
    });

    it('in-chain pages the transitive member search of the 2,000-member group too', async () => {
      let pages = 0;
      const source = sambaSource({ nesting: 'in-chain', pageSize: 300, observer: { onPage: (e) => e.what.startsWith('transitive members of CN=Big-2000') && pages++ } });
      const snap = await source.read({ refs: [{ by: 'sAMAccountName', value: 'Big-2000' }], namePatterns: [] });
      expect(group(snap, 'Big-2000').members).toHaveLength(BIG_GROUP_SIZE);
      expect(pages).toBe(Math.ceil(BIG_GROUP_SIZE / 300));
    });
  });

  describe('group selection', () => {
    it('selects by DN (spacing and case as AD compares them), sAMAccountName, objectGUID and name pattern', async () => {
      const all = await sambaSource().read(ALL_GROUPS);
      const auditors = group(all, 'Auditors');
      const snap = await sambaSource().read({
        refs: [
          { by: 'dn', value: `cn=nest-top, ou=groups, dc=rolemap, dc=test` },
          { by: 'sAMAccountName', value: 'data-analysts' },
          { by: 'guid', value: auditors.guid.toUpperCase() },
        ],
        namePatterns: ['^AWS-(?<account>\\d{12})-(?<role>.+)$'],
      });
      expect(snap.groups.map((g) => g.name).sort()).toEqual(
        ['AWS-111111111111-Admin', 'AWS-111111111111-ReadOnly', 'AWS-222222222222-ReadOnly', 'Auditors', 'Data-Analysts', 'Nest-Top'].sort(),
      );
    });

    it('a group name from config cannot inject filter syntax', async () => {
      const attempts = ['*', '*)(sAMAccountName=*', 'x)(|(objectClass=*', 'Auditors)(objectClass=*', '\\2a', 'ops-eu)(cn=*'];
      for (const nesting of ['in-chain', 'client'] as const) {
        for (const value of attempts) {
          const snap = await sambaSource({ nesting }).read({ refs: [{ by: 'sAMAccountName', value }], namePatterns: [] });
          expect(snap.groups, value).toEqual([]);
        }
        const dnAttempt = await sambaSource({ nesting }).read({ refs: [{ by: 'dn', value: `CN=*,${GROUPS}` }], namePatterns: [] });
        expect(dnAttempt.groups).toEqual([]);
        // The group whose name really is `Ops (EU) *` is found by its exact DN, and only it.
        const exact = await sambaSource({ nesting }).read({ refs: [{ by: 'dn', value: `CN=Ops (EU) *,${GROUPS}` }], namePatterns: [] });
        expect(exact.groups.map((g) => g.sAMAccountName)).toEqual(['ops-eu']);
        expect(memberNames(exact, 'Ops (EU) *')).toEqual([named(24)]);
      }
    });

    it('skips continuation references into partitions this DC holds (user base = domain root)', async () => {
      const source = sambaSource({ userBase: facts().baseDn });
      const snap = await source.read({ refs: [], namePatterns: [] });
      expect(snap.users.some((u) => u.sAMAccountName === 'Administrator')).toBe(true);
      expect(snap.users.some((u) => u.sAMAccountName === 'svc-rolemap')).toBe(true);
      expect(source.lastStats!.ignoredReferences).toBeGreaterThan(0);
    });
  });

  it('gives the same GUID string as ldapsearch shows in base64 (little-endian first three fields)', () => {
    const f = facts();
    const out = execFileSync('ldapsearch', ['-LLL', '-H', f.ldapsUrl, '-D', f.adminUpn, '-w', f.adminPassword, '-b', f.renamed[0]!.toDn, '-s', 'base', 'objectGUID'], {
      env: { ...process.env, LDAPTLS_CACERT: f.caFile },
      encoding: 'utf8',
    });
    const b64 = /objectGUID:: (\S+)/.exec(out)?.[1];
    const bytes = Buffer.from(b64!, 'base64');
    const hex = bytes.toString('hex');
    // The last two fields are in wire order; the first three reversed.
    expect(f.renamed[0]!.guid.replaceAll('-', '').slice(16)).toBe(hex.slice(16));
    expect(f.renamed[0]!.guid.slice(0, 8)).toBe(Buffer.from(bytes.subarray(0, 4)).reverse().toString('hex'));
  });
});
