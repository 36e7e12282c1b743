/**
 * The incremental directory read (uSNChanged above a watermark on one DC, tombstones with the
 * show-deleted control) against the real Samba AD DC, in a scratch OU so the fixture stays as it is.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LdapChangeReader } from '../../src/adapters/directory/ldap/incremental.js';
import type { ChangeRead, Watermark } from '../../src/adapters/directory/ldap/incremental.js';
import { facts, samba } from './helpers.js';
import { ScratchOu } from './scratch-ou.js';

function incremental(r: ChangeRead): Extract<ChangeRead, { kind: 'incremental' }> {
  if (r.kind !== 'incremental') throw new Error(`expected an incremental read, got a full read: ${r.reason}`);
  return r;
}

describe.skipIf(!samba)('incremental directory read against Samba AD', () => {
  let ou: ScratchOu;
  let reader: LdapChangeReader;
  let mark: Watermark;

  beforeAll(async () => {
    ou = await ScratchOu.create(facts(), 'Incremental');
    reader = new LdapChangeReader({ url: facts().ldapsUrl, caFile: facts().caFile, bindDn: facts().adminUpn, bindPassword: facts().adminPassword, userBase: ou.staff, groupBase: ou.groups, pageSize: 2 });
  });
  afterAll(async () => {
    await ou?.remove();
  });

  it('asks for a full read when it has no watermark, and gives the DC identity and USN to start from', async () => {
    const first = await reader.changesSince(null);
    expect(first.kind).toBe('full-read-needed');
    expect(first.watermark.dc.url).toBe('ldaps://127.0.0.1');
    expect(first.watermark.dc.dsServiceName).toMatch(/^CN=NTDS Settings,/);
    expect(first.watermark.dc.invocationId).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-/);
    expect(Number(first.watermark.usn)).toBeGreaterThan(0);
    mark = first.watermark;
  });

  it('sees nothing when nothing changed, and the watermark stays', async () => {
    const r = incremental(await reader.changesSince(mark));
    expect(r.users).toEqual([]);
    expect(r.watermark.usn).toBe(mark.usn);
  });

  it('sees each kind of leaver change in the next read, and the watermark advances past it', async () => {
    const disabled = await ou.addUser('inc.disabled');
    const moved = await ou.addUser('inc.moved');
    const deleted = await ou.addUser('inc.deleted');
    const removed = await ou.addUser('inc.removed');
    const group = await ou.addGroup('Inc-Admins', [removed, disabled]);
    const afterAdds = incremental(await reader.changesSince(mark));
    expect(afterAdds.users.map((u) => u.sAMAccountName).sort()).toEqual(['inc.deleted', 'inc.disabled', 'inc.moved', 'inc.removed']);
    expect(afterAdds.groups.map((g) => g.dn)).toEqual([group]);
    expect(BigInt(afterAdds.watermark.usn)).toBeGreaterThan(BigInt(mark.usn));
    mark = afterAdds.watermark;

    await ou.disable(disabled);
    const movedTo = await ou.moveToLeavers(moved);
    await ou.delete(deleted);
    await ou.removeMember(group, removed);
    const r = incremental(await reader.changesSince(mark));
    const byName = new Map(r.users.map((u) => [u.sAMAccountName, u]));
    expect([...byName.keys()].sort()).toEqual(['inc.deleted', 'inc.disabled', 'inc.moved']);
    expect(byName.get('inc.disabled')).toMatchObject({ deleted: false, inUserBase: true, user: { disabled: true, sAMAccountName: 'inc.disabled', userPrincipalName: 'inc.disabled@rolemap.test' } });
    expect(byName.get('inc.disabled')?.whenChanged).toMatch(/^\d{4}-\d{2}-\d{2}T/);
    expect(byName.get('inc.moved')).toMatchObject({ deleted: false, inUserBase: false, dn: movedTo });
    expect(byName.get('inc.deleted')).toMatchObject({ deleted: true, inUserBase: false, lastKnownParent: ou.staff });
    // Removal from a group changes the group, not the user (memberOf is a back link).
    expect(r.groups.map((g) => g.dn)).toEqual([group]);
    expect(BigInt(r.watermark.usn)).toBeGreaterThan(BigInt(mark.usn));
    mark = r.watermark;
    expect(incremental(await reader.changesSince(mark)).users).toEqual([]);
  });

  it('falls back to a full read when the DC invocationId, the DC or the URL differ, or the USN runs backwards', async () => {
    const restored = await reader.changesSince({ ...mark, dc: { ...mark.dc, invocationId: '00000000-0000-0000-0000-000000000000' } });
    expect(restored).toMatchObject({ kind: 'full-read-needed', reason: expect.stringMatching(/invocationId changed/) });
    const otherDc = await reader.changesSince({ ...mark, dc: { ...mark.dc, dsServiceName: 'CN=NTDS Settings,CN=DC2,CN=Servers,CN=Default-First-Site-Name,CN=Sites,CN=Configuration,DC=rolemap,DC=test' } });
    expect(otherDc).toMatchObject({ kind: 'full-read-needed', reason: expect.stringMatching(/another domain controller/) });
    const otherUrl = await reader.changesSince({ ...mark, dc: { ...mark.dc, url: 'ldaps://dc2.rolemap.test' } });
    expect(otherUrl).toMatchObject({ kind: 'full-read-needed', reason: expect.stringMatching(/watermark is from ldaps:\/\/dc2/) });
    const ahead = await reader.changesSince({ ...mark, usn: (BigInt(mark.usn) + 1000n).toString() });
    expect(ahead).toMatchObject({ kind: 'full-read-needed', reason: expect.stringMatching(/below the watermark/) });
    // A full-read answer still carries the DC's real watermark to continue from.
    expect(restored.watermark.dc.invocationId).toBe(mark.dc.invocationId);
  });
});
