/**
 * A scratch corner of the test DC for tests that change AD (disable, move, delete, remove from a
 * group): `OU=<name>-<random>` at the domain root with `OU=Staff` (the user base), `OU=Leavers`
 * (outside it) and `OU=Groups`. The fixture's own OUs are never touched, so other suites keep their
 * counts; `remove()` deletes the whole subtree.
 */
import { readFileSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import { Attribute, Change, Client } from 'ldapts';
import type { SambaFacts } from './samba-dc.js';

export class ScratchOu {
  readonly root: string;
  readonly staff: string;
  readonly leavers: string;
  readonly groups: string;
  readonly #client: Client;

  private constructor(client: Client, name: string, baseDn: string) {
    this.#client = client;
    this.root = `OU=${name}-${randomBytes(3).toString('hex')},${baseDn}`;
    this.staff = `OU=Staff,${this.root}`;
    this.leavers = `OU=Leavers,${this.root}`;
    this.groups = `OU=Groups,${this.root}`;
  }

  /** An admin session (LDAPS, the fixture CA) and the OUs. */
  static async create(facts: SambaFacts, name: string): Promise<ScratchOu> {
    const client = new Client({ url: facts.ldapsUrl, tlsOptions: { ca: readFileSync(facts.caFile) }, strictDN: false, timeout: 60_000 });
    await client.bind(facts.adminUpn, facts.adminPassword);
    const s = new ScratchOu(client, name, facts.baseDn);
    for (const ou of [s.root, s.staff, s.leavers, s.groups]) await s.#add(ou, { objectClass: 'organizationalUnit' });
    return s;
  }

  get client(): Client {
    return this.#client;
  }

  async #add(dn: string, attrs: Record<string, string | string[]>): Promise<void> {
    await this.#client.add(dn, attrs);
  }

  /** An enabled user in Staff; returns its DN. */
  async addUser(sam: string, extra: Record<string, string> = {}): Promise<string> {
    const dn = `CN=${sam},${this.staff}`;
    await this.#add(dn, { objectClass: 'user', sAMAccountName: sam, userPrincipalName: `${sam}@rolemap.test`, mail: `${sam}@rolemap.test`, userAccountControl: '512', ...extra });
    return dn;
  }

  async addGroup(name: string, members: readonly string[]): Promise<string> {
    const dn = `CN=${name},${this.groups}`;
    await this.#add(dn, { objectClass: 'group', sAMAccountName: name, ...(members.length > 0 ? { member: [...members] } : {}) });
    return dn;
  }

  async disable(dn: string): Promise<void> {
    await this.#client.modify(dn, new Change({ operation: 'replace', modification: new Attribute({ type: 'userAccountControl', values: ['514'] }) }));
  }

  async setAttribute(dn: string, type: string, value: string): Promise<void> {
    await this.#client.modify(dn, new Change({ operation: 'replace', modification: new Attribute({ type, values: [value] }) }));
  }

  async removeMember(group: string, member: string): Promise<void> {
    await this.#client.modify(group, new Change({ operation: 'delete', modification: new Attribute({ type: 'member', values: [member] }) }));
  }

  /** Moves a user to Leavers; returns the new DN. */
  async moveToLeavers(dn: string): Promise<string> {
    const rdn = dn.split(',')[0] as string;
    const to = `${rdn},${this.leavers}`;
    await this.#client.modifyDN(dn, to);
    return to;
  }

  async delete(dn: string): Promise<void> {
    await this.#client.del(dn);
  }

  /** Deletes everything it made (leaves first), then unbinds. */
  async remove(): Promise<void> {
    const found = await this.#client.search(this.root, { scope: 'sub', attributes: ['dn'] }).catch(() => ({ searchEntries: [] as { dn: string }[] }));
    const dns = found.searchEntries.map((e) => e.dn).sort((a, b) => b.split(',').length - a.split(',').length);
    for (const dn of dns) await this.#client.del(dn).catch(() => undefined);
    await this.#client.unbind().catch(() => undefined);
  }
}
