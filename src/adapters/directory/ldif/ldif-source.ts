/**
 * The directory snapshot from an LDIF export (`ldapsearch -LLL` or `ldifde`), for offline runs,
 * tests and the demo. It builds the snapshot with the same code as the LDAP source's client-side
 * nesting, so both agree on the same data.
 *
 * Export what the LDAP source would read: users under the user base, and every group (nested groups
 * are followed wherever they live), with `objectGUID` and `member`, e.g.
 *   ldapsearch -LLL -H ldaps://dc1 -D ... -W -b DC=example,DC=com -E pr=500/noprompt \
 *     '(|(&(objectCategory=person)(objectClass=user))(objectClass=group))' \
 *     objectGUID objectClass sAMAccountName userPrincipalName mail givenName sn displayName \
 *     manager department title description \
 *     userAccountControl accountExpires whenChanged cn member
 */
import { readFile } from 'node:fs/promises';
import type { DirectorySnapshot, DirectoryUser, Guid } from '../../../core/model/directory.js';
import type { DirectorySource, GroupSelection } from '../../../core/ports.js';
import { normalizeDn, userFields } from '../ad-attributes.js';
import { LdifFileError, LdifSyntaxError } from '../errors.js';
import { guidFromBytes, isGuid } from '../guid.js';
import type { GroupEntry } from '../snapshot-builder.js';
import { buildSnapshot, expandNesting, groupSelector } from '../snapshot-builder.js';
import type { LdifRecord } from './ldif-parser.js';
import { parseLdif } from './ldif-parser.js';

export interface LdifSourceOptions {
  /** The LDIF file. */
  readonly path: string;
  /** Only users under this DN (default: every user in the file). */
  readonly userBase?: string | undefined;
  /** Only groups under this DN can be selected (default: any group in the file). */
  readonly groupBase?: string | undefined;
}

export class LdifDirectorySource implements DirectorySource {
  readonly describe: string;
  constructor(private readonly opts: LdifSourceOptions) {
    this.describe = `ldif:${opts.path}`;
  }

  async read(selection: GroupSelection): Promise<DirectorySnapshot> {
    let text: string;
    try {
      text = await readFile(this.opts.path, 'utf8');
    } catch (e) {
      throw new LdifFileError(this.opts.path, (e as NodeJS.ErrnoException).code ?? String(e), { cause: e });
    }
    return snapshotFromLdif(text, selection, { ...this.opts, source: this.describe });
  }
}

const under = (dn: string, base: string | undefined): boolean => {
  if (base === undefined) return true;
  const d = normalizeDn(dn);
  const b = normalizeDn(base);
  return d === b || d.endsWith(`,${b}`);
};

/** The snapshot an LDIF text describes; throws LdifSyntaxError naming file and line on bad data. */
export async function snapshotFromLdif(
  text: string,
  selection: GroupSelection,
  opts: { readonly path: string; readonly source?: string; readonly userBase?: string | undefined; readonly groupBase?: string | undefined },
): Promise<DirectorySnapshot> {
  const file = opts.path;
  const records = parseLdif(text, file);
  const users: DirectoryUser[] = [];
  const groups: GroupEntry[] = [];
  for (const r of records) {
    const classes = values(r, 'objectclass').map((c) => c.toLowerCase());
    if (classes.includes('group')) groups.push(toGroup(r, file));
    else if (classes.includes('user') && !classes.includes('computer') && under(r.dn, opts.userBase)) users.push(toUser(r, file));
  }
  const select = groupSelector(selection);
  const selected = groups.filter((g) => under(g.dn, opts.groupBase) && select(g));
  const groupsByDn = new Map(groups.map((g) => [normalizeDn(g.dn), g] as const));
  const userGuidByDn = new Map(users.map((u) => [normalizeDn(u.dn), u.guid] as const));
  const members = await expandNesting(selected, userGuidByDn, async (dns) => {
    const found = new Map<string, GroupEntry>();
    for (const dn of dns) {
      const g = groupsByDn.get(normalizeDn(dn));
      if (g) found.set(dn, g);
    }
    return found;
  });
  return buildSnapshot(
    opts.source ?? `ldif:${file}`,
    users,
    selected.map((g) => ({ guid: g.guid, dn: g.dn, sAMAccountName: g.sAMAccountName, name: g.name, ...(g.description !== undefined ? { description: g.description } : {}), members: members.get(g.guid) ?? [] })),
  );
}

function values(r: LdifRecord, name: string): string[] {
  return (r.attributes.get(name) ?? []).map((b) => b.toString('utf8'));
}

function first(r: LdifRecord, name: string): string | undefined {
  return values(r, name)[0];
}

function guidOf(r: LdifRecord, file: string): Guid {
  const raw = r.attributes.get('objectguid')?.[0];
  if (raw === undefined) throw new LdifSyntaxError(file, r.line, `${r.dn} has no objectGUID (export it: it is the identity of every principal)`);
  if (raw.length === 16) return guidFromBytes(raw);
  const text = raw.toString('utf8');
  if (isGuid(text)) return text.toLowerCase(); // ldbsearch prints the string form
  throw new LdifSyntaxError(file, r.line, `${r.dn} has an objectGUID that is neither 16 bytes nor a GUID string`);
}

function toUser(r: LdifRecord, file: string): DirectoryUser {
  const sam = first(r, 'samaccountname');
  if (!sam) throw new LdifSyntaxError(file, r.line, `user ${r.dn} has no sAMAccountName`);
  try {
    return {
      guid: guidOf(r, file),
      dn: r.dn,
      sAMAccountName: sam,
      ...userFields((attribute) => first(r, attribute.toLowerCase())),
    };
  } catch (e) {
    if (e instanceof LdifSyntaxError) throw e;
    throw new LdifSyntaxError(file, r.line, `user ${r.dn}: ${(e as Error).message}`, { cause: e });
  }
}

function toGroup(r: LdifRecord, file: string): GroupEntry {
  const sam = first(r, 'samaccountname');
  const cn = first(r, 'cn') ?? first(r, 'name');
  if (!sam || !cn) throw new LdifSyntaxError(file, r.line, `group ${r.dn} has no sAMAccountName or cn`);
  const memberDns: string[] = [];
  for (const [key, vals] of r.attributes) {
    if (key === 'member') memberDns.push(...vals.map((v) => v.toString('utf8')));
    else if (key.startsWith('member;range=')) {
      if (!key.endsWith('-*')) {
        throw new LdifSyntaxError(file, r.line, `group ${r.dn} has only ${key}: the export stopped at AD's value limit; export with ldifde (which follows ranges) or read over LDAP`);
      }
      memberDns.push(...vals.map((v) => v.toString('utf8')));
    }
  }
  const description = first(r, 'description');
  return { guid: guidOf(r, file), dn: r.dn, sAMAccountName: sam, name: cn, ...(description ? { description } : {}), memberDns };
}
