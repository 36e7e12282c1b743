/**
 * What changed in Active Directory since a watermark, read cheaply (the leaver fast lane's poll).
 *
 * Microsoft's "Polling for changes using uSNChanged": uSNChanged is a per-DC counter, so every poll
 * must ask the same domain controller. The rootDSE's `highestCommittedUSN` is read FIRST and becomes
 * the next watermark (a change committed during the search is then seen again next time, never
 * missed); the search asks for `uSNChanged >= watermark + 1`. The DC is identified by the URL this
 * reader is pinned to, the rootDSE's `dsServiceName` (its NTDS Settings object, which changes when a
 * load-balanced name lands on another DC) and that object's `invocationId` (which changes when the
 * DC is restored from a backup, when USNs may run again). Any difference, or a watermark above the
 * DC's highest USN, means the caller must do a full read.
 *
 * One subtree search of the domain's naming context finds changed users and groups, live or deleted:
 * with the show-deleted control (LDAP_SERVER_SHOW_DELETED_OID, 1.2.840.113556.1.4.417; Samba honours
 * it too) a deleted user appears under `CN=Deleted Objects` with `isDeleted: TRUE`, its objectGUID and
 * its `lastKnownParent`. A user moved out of the user base is a changed entry outside it. Removing
 * someone from a group changes the group's uSNChanged, not the user's (memberOf is a back link), so
 * changed groups are reported for the caller to re-read memberships.
 */
import type { Client, Entry, Filter } from 'ldapts';
import { AndFilter, Control, EqualityFilter, GreaterThanEqualsFilter, OrFilter } from 'ldapts';
import type { DirectoryUser, Guid } from '../../../core/model/directory.js';
import { USER_FIELD_ATTRIBUTES, decodeGeneralizedTime, normalizeDn, userFields } from '../ad-attributes.js';
import { DirectoryConfigError, DirectoryReadError } from '../errors.js';
import { guidFromBytes } from '../guid.js';
import type { ConnectionPlan } from './connection.js';
import { openSession, planConnection } from './connection.js';
import { readError } from './ldap-source.js';
import type { LdapSourceOptions } from './options.js';
import { LDAP_DEFAULTS } from './options.js';

/** LDAP_SERVER_SHOW_DELETED_OID: deleted objects (tombstones) are returned too. */
export const SHOW_DELETED_OID = '1.2.840.113556.1.4.417';

/** Which domain controller a watermark belongs to. */
export interface DcIdentity {
  readonly url: string;
  /** DN of the DC's NTDS Settings object (rootDSE dsServiceName). */
  readonly dsServiceName: string;
  /** The NTDS Settings object's invocationId, as a GUID string. */
  readonly invocationId: string;
}

export interface Watermark {
  readonly dc: DcIdentity;
  /** highestCommittedUSN, as a decimal string (USNs are 64-bit). */
  readonly usn: string;
}

/** A user entry whose uSNChanged is above the watermark. */
export interface ChangedUser {
  readonly guid: Guid;
  readonly dn: string;
  /** True for a tombstone (deleted from AD). */
  readonly deleted: boolean;
  /** The entry is under the user base (false: moved out of it, or deleted). */
  readonly inUserBase: boolean;
  /** The user as a snapshot would hold it; absent for a tombstone. */
  readonly user?: DirectoryUser | undefined;
  readonly sAMAccountName?: string | undefined;
  /** whenChanged as an ISO instant: when AD recorded the change (for the leaver lag). */
  readonly whenChanged?: string | undefined;
  /** For a tombstone: where it lived. */
  readonly lastKnownParent?: string | undefined;
}

export interface ChangedGroup {
  readonly guid: Guid;
  readonly dn: string;
  readonly deleted: boolean;
  /** Under the group base (where the role map's groups are looked up). */
  readonly inGroupBase: boolean;
  readonly whenChanged?: string | undefined;
}

export type ChangeRead =
  | {
      /** No usable watermark (first poll, another DC, a restored DC): do a full read; `watermark` was read before it. */
      readonly kind: 'full-read-needed';
      readonly reason: string;
      readonly watermark: Watermark;
    }
  | {
      readonly kind: 'incremental';
      readonly watermark: Watermark;
      readonly users: readonly ChangedUser[];
      readonly groups: readonly ChangedGroup[];
      /** LDAP searches made (the rootDSE and NTDS Settings reads included). */
      readonly searches: number;
    };

/** What the full read asks for (DN aside: every entry carries it), and what tells a change's kind and order. */
const CHANGE_ATTRIBUTES = ['objectGUID', 'objectClass', 'sAMAccountName', ...USER_FIELD_ATTRIBUTES, 'uSNChanged', 'isDeleted', 'lastKnownParent'];

/** Reads changes from one pinned domain controller; a session per call. */
export class LdapChangeReader {
  readonly #opts: LdapSourceOptions;
  readonly #plan: ConnectionPlan;
  readonly #userBase: string;
  readonly #groupBase: string;

  constructor(opts: LdapSourceOptions) {
    if (!opts.userBase.trim()) throw new DirectoryConfigError('directory userBase is required');
    this.#opts = opts;
    this.#plan = planConnection(opts);
    this.#userBase = normalizeDn(opts.userBase);
    this.#groupBase = normalizeDn(opts.groupBase);
  }

  get url(): string {
    return this.#plan.url;
  }

  /** The DC's identity and highest committed USN now (two base reads). */
  async watermark(): Promise<Watermark> {
    const client = await openSession(this.#opts, this.#plan);
    try {
      return (await this.#readWatermark(client)).watermark;
    } finally {
      await client.unbind().catch(() => undefined);
    }
  }

  /** What changed since `since` (null: nothing known yet, a full read is needed). */
  async changesSince(since: Watermark | null): Promise<ChangeRead> {
    const client = await openSession(this.#opts, this.#plan);
    try {
      const { watermark, namingContext, namingContexts } = await this.#readWatermark(client);
      if (since === null) return { kind: 'full-read-needed', reason: 'no watermark yet', watermark };
      const why = mismatch(since, watermark);
      if (why !== undefined) return { kind: 'full-read-needed', reason: why, watermark };
      if (BigInt(watermark.usn) === BigInt(since.usn)) return { kind: 'incremental', watermark, users: [], groups: [], searches: 2 };
      const entries = await this.#changedEntries(client, namingContext, namingContexts, BigInt(since.usn) + 1n);
      const users: ChangedUser[] = [];
      const groups: ChangedGroup[] = [];
      for (const e of entries) {
        const classes = asStrings(e['objectClass']).map((c) => c.toLowerCase());
        const deleted = firstString(e['isDeleted'])?.toUpperCase() === 'TRUE';
        const guid = guidOf(e, namingContext);
        const whenChanged = safeTime(firstString(e['whenChanged']));
        if (classes.includes('group')) {
          groups.push({ guid, dn: e.dn, deleted, inGroupBase: !deleted && isUnder(e.dn, this.#groupBase), whenChanged });
          continue;
        }
        if (!classes.includes('user') || classes.includes('computer')) continue;
        const inUserBase = !deleted && isUnder(e.dn, this.#userBase);
        const sam = firstString(e['sAMAccountName']);
        users.push({
          guid,
          dn: e.dn,
          deleted,
          inUserBase,
          sAMAccountName: sam,
          whenChanged,
          lastKnownParent: firstString(e['lastKnownParent']),
          user: deleted || sam === undefined ? undefined : toUser(e, guid, sam, namingContext),
        });
      }
      return { kind: 'incremental', watermark, users, groups, searches: 3 };
    } finally {
      await client.unbind().catch(() => undefined);
    }
  }

  async #readWatermark(client: Client): Promise<{ watermark: Watermark; namingContext: string; namingContexts: Set<string> }> {
    let root: Entry | undefined;
    try {
      root = (await client.search('', { scope: 'base', attributes: ['highestCommittedUSN', 'dsServiceName', 'defaultNamingContext', 'namingContexts'] })).searchEntries[0];
    } catch (e) {
      throw readError(e, 'rootDSE', this.#plan.url);
    }
    const usn = firstString(root?.['highestCommittedUSN']);
    const dsServiceName = firstString(root?.['dsServiceName']);
    const namingContext = firstString(root?.['defaultNamingContext']);
    if (!usn || !/^\d+$/.test(usn) || !dsServiceName || !namingContext) {
      throw new DirectoryReadError('bad-data', 'rootDSE', this.#plan.url, 'no highestCommittedUSN, dsServiceName or defaultNamingContext (is this an Active Directory DC?)');
    }
    let ntds: Entry | undefined;
    try {
      ntds = (await client.search(dsServiceName, { scope: 'base', attributes: ['invocationId'], explicitBufferAttributes: ['invocationId'] })).searchEntries[0];
    } catch (e) {
      throw readError(e, 'invocationId', dsServiceName);
    }
    const raw = ntds?.['invocationId'];
    const buf = Array.isArray(raw) ? raw[0] : raw;
    if (!Buffer.isBuffer(buf) || buf.length !== 16) throw new DirectoryReadError('bad-data', 'invocationId', dsServiceName, 'missing or not 16 bytes');
    const namingContexts = new Set(asStrings(root?.['namingContexts']).map(normalizeDn));
    return { watermark: { dc: { url: this.#plan.url, dsServiceName, invocationId: guidFromBytes(buf) }, usn }, namingContext, namingContexts };
  }

  async #changedEntries(client: Client, base: string, namingContexts: ReadonlySet<string>, from: bigint): Promise<Entry[]> {
    const eq = (attribute: string, value: string): Filter => new EqualityFilter({ attribute, value });
    const filter = new AndFilter({
      filters: [new OrFilter({ filters: [eq('objectClass', 'user'), eq('objectClass', 'group')] }), new GreaterThanEqualsFilter({ attribute: 'uSNChanged', value: from.toString() })],
    });
    const timeLimit = Math.max(1, Math.ceil((this.#opts.timeoutMs ?? LDAP_DEFAULTS.timeoutMs) / 1000));
    const out: Entry[] = [];
    let page = 0;
    try {
      for await (const r of client.searchPaginated(
        base,
        { scope: 'sub', filter, attributes: CHANGE_ATTRIBUTES, explicitBufferAttributes: ['objectGUID'], timeLimit, sizeLimit: 0, paged: { pageSize: this.#opts.pageSize ?? LDAP_DEFAULTS.pageSize } },
        [new Control(SHOW_DELETED_OID, { critical: true })],
      )) {
        page++;
        for (const ref of r.searchReferences) {
          if (!namingContexts.has(normalizeDn(referenceDn(ref)))) {
            throw new DirectoryReadError('referral', 'changed entries', base, `the server referred part of the search to ${ref}; rolemap does not follow referrals`);
          }
        }
        out.push(...r.searchEntries);
        if (!client.isConnected || !client.isBound) throw new DirectoryReadError('connection-lost', 'the session', this.#plan.url, 'the connection closed (a new one would not be bound)');
      }
    } catch (e) {
      throw readError(e, `changed entries since USN ${from} (page ${page + 1})`, base);
    }
    return out;
  }
}

function mismatch(since: Watermark, now: Watermark): string | undefined {
  if (since.dc.url !== now.dc.url) return `the watermark is from ${since.dc.url}, this reader reads ${now.dc.url}`;
  if (normalizeDn(since.dc.dsServiceName) !== normalizeDn(now.dc.dsServiceName)) return `another domain controller answers (${now.dc.dsServiceName}, was ${since.dc.dsServiceName})`;
  if (since.dc.invocationId !== now.dc.invocationId) return `the domain controller's invocationId changed (${since.dc.invocationId} -> ${now.dc.invocationId}): restored from a backup?`;
  if (BigInt(now.usn) < BigInt(since.usn)) return `the domain controller's highestCommittedUSN ${now.usn} is below the watermark ${since.usn}`;
  return undefined;
}

/** `dn` is `base` or below it. */
export function isUnder(dn: string, normalizedBase: string): boolean {
  const n = normalizeDn(dn);
  return n === normalizedBase || n.endsWith(`,${normalizedBase}`);
}

function referenceDn(ref: string): string {
  try {
    return decodeURIComponent(new URL(ref).pathname.replace(/^\//, ''));
  } catch {
    return '';
  }
}

function guidOf(e: Entry, where: string): Guid {
  const raw = e['objectGUID'];
  const buf = Array.isArray(raw) ? raw[0] : raw;
  if (!Buffer.isBuffer(buf) || buf.length !== 16) throw new DirectoryReadError('bad-data', `objectGUID of ${e.dn}`, where, 'missing or not 16 bytes');
  return guidFromBytes(buf);
}

function toUser(e: Entry, guid: Guid, sam: string, where: string): DirectoryUser {
  try {
    return { guid, dn: e.dn, sAMAccountName: sam, ...userFields((a) => firstString(e[a])) };
  } catch (err) {
    throw new DirectoryReadError('bad-data', `user ${e.dn}`, where, (err as Error).message, { cause: err });
  }
}

function safeTime(v: string | undefined): string | undefined {
  try {
    return decodeGeneralizedTime(v);
  } catch {
    return undefined;
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
