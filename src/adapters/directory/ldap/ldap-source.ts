/**
 * Active Directory over LDAP(S) with ldapts: the `DirectorySource` of production.
 *
 * One read is one session: connect, bind, read the rootDSE, page through every user under the user
 * base, find the selected groups under the group base, resolve their transitive user members (on the
 * server with LDAP_MATCHING_RULE_IN_CHAIN, or here from direct `member` values), unbind. Every search
 * uses the paged results control and every `member` read asks for explicit ranges, because AD caps
 * both (Samba caps neither, so the tests force small pages and windows). Any failure part way (a
 * timeout, a referral, a size limit, a dropped connection) abandons the whole read with a
 * DirectoryReadError: a partial snapshot could look like everyone left.
 */
import type { Client, Entry, Filter } from 'ldapts';
import {
  AdminLimitExceededError,
  AndFilter,
  BusyError,
  EqualityFilter,
  ExtensibleFilter,
  InsufficientAccessError,
  NoSuchObjectError,
  OrFilter,
  ResultCodeError,
  SizeLimitExceededError,
  TimeLimitExceededError,
  UnavailableError,
} from 'ldapts';
import type { DirectorySnapshot, DirectoryUser, Guid } from '../../../core/model/directory.js';
import type { DirectorySource, GroupSelection } from '../../../core/ports.js';
import { USER_FIELD_ATTRIBUTES, normalizeDn, userFields } from '../ad-attributes.js';
import { DirectoryConfigError, DirectoryReadError } from '../errors.js';
import { guidFromBytes, guidToBytes } from '../guid.js';
import type { GroupEntry, GroupHeader } from '../snapshot-builder.js';
import { buildSnapshot, expandNesting, groupSelector } from '../snapshot-builder.js';
import type { ConnectionPlan } from './connection.js';
import { openSession, planConnection } from './connection.js';
import type { LdapReadStats, LdapSourceOptions } from './options.js';
import { LDAP_DEFAULTS } from './options.js';

/** LDAP_MATCHING_RULE_IN_CHAIN: transitive membership evaluated by the DC. */
export const IN_CHAIN_RULE = '1.2.840.113556.1.4.1941';

const USER_ATTRIBUTES = ['objectGUID', 'distinguishedName', 'sAMAccountName', ...USER_FIELD_ATTRIBUTES];
const GROUP_ATTRIBUTES = ['objectGUID', 'distinguishedName', 'sAMAccountName', 'cn', 'description'];
const BUFFER_ATTRIBUTES = ['objectGUID', 'objectSid'];
/** How many group references go into one `(|...)` filter. */
const REFS_PER_FILTER = 50;

const eq = (attribute: string, value: string | Buffer): Filter => new EqualityFilter({ attribute, value });
const PERSON = (): Filter[] => [eq('objectCategory', 'person'), eq('objectClass', 'user')];

export class LdapDirectorySource implements DirectorySource {
  readonly describe: string;
  readonly #opts: LdapSourceOptions;
  readonly #plan: ConnectionPlan;
  #lastStats: LdapReadStats | undefined;

  constructor(opts: LdapSourceOptions) {
    for (const [name, v, min, max] of [
      ['pageSize', opts.pageSize, 1, 100_000],
      ['rangeSize', opts.rangeSize, 1, 100_000],
      ['concurrency', opts.concurrency, 1, 64],
      ['timeoutMs', opts.timeoutMs, 1, 3_600_000],
      ['connectTimeoutMs', opts.connectTimeoutMs, 1, 3_600_000],
    ] as const) {
      if (v !== undefined && (!Number.isInteger(v) || v < min || v > max)) {
        throw new DirectoryConfigError(`directory ${name} must be an integer from ${min} to ${max}, got ${v}`);
      }
    }
    if (!opts.userBase.trim() || !opts.groupBase.trim()) throw new DirectoryConfigError('directory userBase and groupBase are required');
    this.#plan = planConnection(opts);
    this.#opts = opts;
    this.describe = `${this.#plan.url}/${opts.userBase}`;
  }

  /** Counts of the last completed read (pages, range rounds, time), for logs and the bench. */
  get lastStats(): LdapReadStats | undefined {
    return this.#lastStats;
  }

  async read(selection: GroupSelection): Promise<DirectorySnapshot> {
    const started = performance.now();
    const select = groupSelector(selection);
    const client = await openSession(this.#opts, this.#plan);
    const reader = new SessionReader(client, this.#plan.url, this.#opts);
    try {
      await reader.readNamingContexts();
      const users = await reader.readUsers();
      const userGuidByDn = new Map(users.map((u) => [normalizeDn(u.dn), u.guid] as const));
      const headers = (await reader.findGroups(selection)).filter(select);
      const nesting = this.#opts.nesting ?? LDAP_DEFAULTS.nesting;
      const members = nesting === 'in-chain' ? await reader.membersInChain(headers) : await reader.membersClientSide(headers, userGuidByDn);
      const snapshot = buildSnapshot(
        this.describe,
        users,
        headers.map((g) => ({ ...g, members: members.get(g.guid) ?? [] })),
      );
      this.#lastStats = { ...reader.counts, nesting, users: snapshot.users.length, groups: snapshot.groups.length, elapsedMs: performance.now() - started };
      return snapshot;
    } finally {
      await client.unbind().catch(() => undefined);
    }
  }
}

/** One bound session's reads; every failure becomes a DirectoryReadError naming the step and the DN. */
class SessionReader {
  readonly counts = { searches: 0, pages: 0, rangeRounds: 0, ignoredReferences: 0 };
  #namingContexts = new Set<string>();
  readonly #pageSize: number;
  readonly #rangeSize: number;
  readonly #timeLimit: number;
  readonly #concurrency: number;

  constructor(
    private readonly client: Client,
    private readonly url: string,
    private readonly opts: LdapSourceOptions,
  ) {
    this.#pageSize = opts.pageSize ?? LDAP_DEFAULTS.pageSize;
    this.#rangeSize = opts.rangeSize ?? LDAP_DEFAULTS.rangeSize;
    this.#timeLimit = Math.max(1, Math.ceil((opts.timeoutMs ?? LDAP_DEFAULTS.timeoutMs) / 1000));
    this.#concurrency = opts.concurrency ?? LDAP_DEFAULTS.concurrency;
  }

  /** The partitions this DC holds: continuation references into them are not missing data. */
  async readNamingContexts(): Promise<void> {
    const entries = await this.#search('rootDSE', '', { scope: 'base', filter: undefined, attributes: ['namingContexts'] }, false);
    const ncs = entries[0]?.['namingContexts'];
    for (const nc of asStrings(ncs)) this.#namingContexts.add(normalizeDn(nc));
  }

  async readUsers(): Promise<DirectoryUser[]> {
    const base = this.opts.userBase;
    const entries = await this.#search('users', base, { scope: 'sub', filter: new AndFilter({ filters: PERSON() }), attributes: USER_ATTRIBUTES });
    return entries.map((e) => this.#toUser(e, base));
  }

  /**
   * The groups under the group base the selection may mean: every group when name patterns are in
   * play (a regex cannot go into a filter), else one `(|...)` filter of the references, built from
   * filter objects so that a value from config can never become filter syntax.
   */
  async findGroups(selection: GroupSelection): Promise<GroupHeader[]> {
    const base = this.opts.groupBase;
    const isGroup = eq('objectClass', 'group');
    const filters: Filter[] = [];
    if (selection.namePatterns.length > 0) {
      filters.push(isGroup);
    } else {
      const refFilters = selection.refs.map((ref) =>
        ref.by === 'dn' ? eq('distinguishedName', ref.value) : ref.by === 'sAMAccountName' ? eq('sAMAccountName', ref.value) : eq('objectGUID', guidToBytes(ref.value)),
      );
      for (let i = 0; i < refFilters.length; i += REFS_PER_FILTER) {
        filters.push(new AndFilter({ filters: [isGroup, new OrFilter({ filters: refFilters.slice(i, i + REFS_PER_FILTER) })] }));
      }
    }
    const seen = new Map<Guid, GroupHeader>();
    for (const [i, filter] of filters.entries()) {
      const what = filters.length > 1 ? `groups (filter ${i + 1} of ${filters.length})` : 'groups';
      for (const e of await this.#search(what, base, { scope: 'sub', filter, attributes: GROUP_ATTRIBUTES })) {
        const g = this.#toGroupHeader(e, base);
        seen.set(g.guid, g);
      }
    }
    return [...seen.values()];
  }

  /** Transitive members resolved by the DC, one paged search per group. */
  async membersInChain(groups: readonly GroupHeader[]): Promise<Map<Guid, Guid[]>> {
    const base = this.opts.userBase;
    const result = new Map<Guid, Guid[]>();
    await this.#pool(groups, async (g) => {
      const filter = new AndFilter({
        filters: [...PERSON(), new ExtensibleFilter({ rule: IN_CHAIN_RULE, matchType: 'memberOf', value: g.dn })],
      });
      const entries = await this.#search(`transitive members of ${g.dn}`, base, { scope: 'sub', filter, attributes: ['objectGUID'] });
      result.set(g.guid, entries.map((e) => this.#guidOf(e, base)));
    });
    return result;
  }

  /** Transitive members walked here from direct `member` values (ranges followed, cycles broken). */
  async membersClientSide(groups: readonly GroupHeader[], userGuidByDn: ReadonlyMap<string, Guid>): Promise<Map<Guid, Guid[]>> {
    const roots: GroupEntry[] = [];
    await this.#pool(groups, async (g) => {
      roots.push({ ...g, memberDns: await this.#readMembers(g.dn) });
    });
    return expandNesting(roots, userGuidByDn, async (dns) => {
      const found = new Map<string, GroupEntry>();
      await this.#pool(dns, async (dn) => {
        const header = await this.#lookupGroup(dn);
        if (header) found.set(dn, { ...header, memberDns: await this.#readMembers(header.dn) });
      });
      return found;
    });
  }

  /** A member DN that is not a known user: is it a group? (Contacts, computers, outsiders: no.) */
  async #lookupGroup(dn: string): Promise<GroupHeader | undefined> {
    try {
      const entries = await this.#search(`nested group ${dn}`, dn, { scope: 'base', filter: eq('objectClass', 'group'), attributes: GROUP_ATTRIBUTES });
      return entries[0] ? this.#toGroupHeader(entries[0], dn) : undefined;
    } catch (e) {
      // A member link to an object this DC cannot show (e.g. in another domain) is not a group we can expand.
      if (e instanceof DirectoryReadError && e.kind === 'no-such-object') return undefined;
      throw e;
    }
  }

  /** Every direct `member` of a group, `rangeSize` values a round (`member;range=0-99`, `member;range=100-199`, ...). */
  async #readMembers(dn: string): Promise<string[]> {
    const values: string[] = [];
    let low = 0;
    for (;;) {
      const asked = `member;range=${low}-${low + this.#rangeSize - 1}`;
      const entries = await this.#search(asked, dn, { scope: 'base', filter: undefined, attributes: [asked] }, false);
      const entry = entries[0];
      if (!entry) throw new DirectoryReadError('no-such-object', asked, dn, 'the group disappeared during the read');
      const key = Object.keys(entry).find((k) => /^member(;range=\d+-(\d+|\*))?$/i.test(k));
      if (key === undefined) {
        // No values in this window: the group is empty (or the previous round ended exactly at the end).
        this.opts.observer?.onRange?.({ dn, range: `${low}-*`, values: 0 });
        this.counts.rangeRounds++;
        return values;
      }
      const got = asStrings(entry[key]);
      values.push(...got);
      this.counts.rangeRounds++;
      const range = /;range=(\d+)-(\d+|\*)$/i.exec(key);
      this.opts.observer?.onRange?.({ dn, range: range ? `${range[1]}-${range[2]}` : 'all', values: got.length });
      // Done when the server gave every value at once, marked the last window with `*`, or had no
      // values left (Samba answers an empty window as `member;range=N-M` without values).
      if (!range || range[2] === '*' || got.length === 0) return values;
      if (Number(range[1]) !== low) throw new DirectoryReadError('bad-data', asked, dn, `the server answered ${key}`);
      low = Number(range[2]) + 1;
    }
  }

  /** Runs `fn` over `items` with a few LDAP operations in flight; the first failure fails all. */
  async #pool<T>(items: readonly T[], fn: (item: T) => Promise<void>): Promise<void> {
    let next = 0;
    let failed = false;
    const worker = async (): Promise<void> => {
      while (!failed && next < items.length) {
        const item = items[next++]!;
        try {
          await fn(item);
        } catch (e) {
          failed = true;
          throw e;
        }
      }
    };
    const results = await Promise.allSettled(Array.from({ length: Math.min(this.#concurrency, items.length) }, worker));
    const rejected = results.find((r): r is PromiseRejectedResult => r.status === 'rejected');
    if (rejected) throw rejected.reason;
  }

  /**
   * A search, paged with the paged results control unless `paged` is false (base-scope reads of one
   * entry). Checks before each round that the session is still the bound one: ldapts reconnects
   * silently, and a reconnected session is anonymous.
   */
  async #search(
    what: string,
    base: string,
    req: { scope: 'base' | 'sub'; filter: Filter | undefined; attributes: string[] },
    paged = true,
  ): Promise<Entry[]> {
    const out: Entry[] = [];
    this.counts.searches++;
    const options = {
      scope: req.scope,
      ...(req.filter ? { filter: req.filter } : {}),
      attributes: req.attributes,
      explicitBufferAttributes: BUFFER_ATTRIBUTES,
      timeLimit: this.#timeLimit,
      sizeLimit: 0,
    };
    let page = 0;
    try {
      this.#assertBound();
      if (!paged) {
        const r = await this.client.search(base, options);
        this.#checkReferences(r.searchReferences, what, base);
        this.counts.pages++;
        return r.searchEntries;
      }
      for await (const r of this.client.searchPaginated(base, { ...options, paged: { pageSize: this.#pageSize } })) {
        page++;
        this.counts.pages++;
        this.#checkReferences(r.searchReferences, what, base);
        out.push(...r.searchEntries);
        this.opts.observer?.onPage?.({ what, base, page, entries: r.searchEntries.length });
        this.#assertBound();
      }
      return out;
    } catch (e) {
      throw readError(e, paged ? `${what} (page ${page + 1})` : what, base);
    }
  }

  #assertBound(): void {
    if (!this.client.isConnected || !this.client.isBound) {
      throw new DirectoryReadError('connection-lost', 'the session', this.url, 'the connection closed (a new one would not be bound)');
    }
  }

  /**
   * Search continuation references into partitions this DC itself holds (Configuration, DNS zones
   * under the domain root) hold no users of this domain and are skipped; any other reference means
   * part of the base lives on another server, and reading on would return a partial answer.
   */
  #checkReferences(refs: readonly string[], what: string, base: string): void {
    for (const ref of refs) {
      let dn = '';
      try {
        dn = decodeURIComponent(new URL(ref).pathname.replace(/^\//, ''));
      } catch {
        dn = '';
      }
      if (dn && this.#namingContexts.has(normalizeDn(dn))) {
        this.counts.ignoredReferences++;
        continue;
      }
      throw new DirectoryReadError('referral', what, base, `the server referred part of the search to ${ref}; rolemap does not follow referrals, point the base at this domain`);
    }
  }

  #guidOf(e: Entry, where: string): Guid {
    const raw = e['objectGUID'];
    const buf = Array.isArray(raw) ? raw[0] : raw;
    if (!Buffer.isBuffer(buf) || buf.length !== 16) throw new DirectoryReadError('bad-data', `objectGUID of ${e.dn}`, where, 'missing or not 16 bytes');
    return guidFromBytes(buf);
  }

  #toUser(e: Entry, where: string): DirectoryUser {
    const sam = firstString(e['sAMAccountName']);
    if (!sam) throw new DirectoryReadError('bad-data', `user ${e.dn}`, where, 'no sAMAccountName');
    try {
      return {
        guid: this.#guidOf(e, where),
        dn: e.dn,
        sAMAccountName: sam,
        ...userFields((attribute) => firstString(e[attribute])),
      };
    } catch (err) {
      if (err instanceof DirectoryReadError) throw err;
      throw new DirectoryReadError('bad-data', `user ${e.dn}`, where, (err as Error).message, { cause: err });
    }
  }

  #toGroupHeader(e: Entry, where: string): GroupHeader {
    const sam = firstString(e['sAMAccountName']);
    const cn = firstString(e['cn']);
    if (!sam || !cn) throw new DirectoryReadError('bad-data', `group ${e.dn}`, where, 'no sAMAccountName or cn');
    const description = firstString(e['description']);
    return { guid: this.#guidOf(e, where), dn: e.dn, sAMAccountName: sam, name: cn, ...(description ? { description } : {}) };
  }
}

function asStrings(v: Entry[string] | undefined): string[] {
  if (v === undefined) return [];
  const arr = Array.isArray(v) ? v : [v];
  return arr.map((x) => (Buffer.isBuffer(x) ? x.toString('utf8') : String(x)));
}

function firstString(v: Entry[string] | undefined): string | undefined {
  return asStrings(v)[0];
}

/** Any failure of a search -> a DirectoryReadError that says what kind, what and where. */
export function readError(e: unknown, what: string, where: string): DirectoryReadError {
  if (e instanceof DirectoryReadError) return e;
  const message = e instanceof Error ? e.message : String(e);
  const kind = ((): DirectoryReadError['kind'] => {
    if (e instanceof TimeLimitExceededError) return 'time-limit';
    if (e instanceof SizeLimitExceededError) return 'size-limit';
    if (e instanceof AdminLimitExceededError) return 'admin-limit';
    if (e instanceof NoSuchObjectError) return 'no-such-object';
    if (e instanceof InsufficientAccessError) return 'insufficient-access';
    if (e instanceof BusyError || e instanceof UnavailableError) return 'busy';
    if (e instanceof ResultCodeError) return e.code === 10 ? 'referral' : 'server-error';
    if (/timed out|timeout/i.test(message)) return 'timeout';
    if (/connection closed|socket|ECONNRESET|EPIPE|not established|ECONNREFUSED/i.test(message)) return 'connection-lost';
    return 'server-error';
  })();
  return new DirectoryReadError(kind, what, where, message, { cause: e });
}
