/**
 * Entitlements grouped per grant. A directory of 100,000 people holds ~440,000 entitlements, each the
 * same five facts about a grant (account, kind, role or permission set, group) beside one person's names:
 * kept as one `Entitlement` object each, they cost ~100 bytes apiece twice over (the desired state and
 * the journal's last snapshot). Grouped, each grant is kept once with its holders, and each person's
 * names once, shared by every grant they hold; an `Entitlement` is made only when someone asks for one.
 *
 * `Entitlements` is what the core reads: anything with a length that iterates entitlements. An array is
 * one (tests, small callers); `GroupedEntitlements` is the other, and `grantsOf` reads either per grant.
 */
import type { Guid } from './directory.js';
import type { Entitlement } from './state.js';

/** A grant without its holder: a role or permission set on an account, through one AD group. */
export type Grant = Pick<Entitlement, 'account' | 'kind' | 'target' | 'viaGroupGuid' | 'viaGroupName'>;

/** Who holds a grant: a person's names (shared by their grants) and, for a grant kept from before, when it was last seen. */
export type Holder = Pick<Entitlement, 'userGuid' | 'userName' | 'userPrincipalName' | 'mail' | 'seenAt'>;

export interface GrantHolders {
  readonly grant: Grant;
  /** In order; one person at most once per grant in what the core builds. */
  readonly holders: readonly Holder[];
}

/** A read-only list of entitlements: an array of them, or `GroupedEntitlements`. */
export interface Entitlements extends Iterable<Entitlement> {
  readonly length: number;
}

/** The entitlement of one holder of a grant, with the fields in the order an `Entitlement` always had them. */
export function entitlementOf(grant: Grant, holder: Holder): Entitlement {
  const { userGuid, userName, userPrincipalName, mail, seenAt } = holder;
  const { account, kind, target, viaGroupGuid, viaGroupName } = grant;
  // Two literals, not a spread copy with seenAt added (see entitlementSeenAt).
  return seenAt === undefined
    ? { userGuid, userName, userPrincipalName, mail, account, kind, target, viaGroupGuid, viaGroupName }
    : { userGuid, userName, userPrincipalName, mail, account, kind, target, viaGroupGuid, viaGroupName, seenAt };
}

/**
 * `{ ...e, seenAt }` as one literal: V8 gave each such spread copy a hidden class of its own (~350 bytes
 * of map and descriptors apiece, ~18,000 of them for the core bench's leavers).
 */
export function entitlementSeenAt(e: Entitlement, seenAt: string): Entitlement {
  const { userGuid, userName, userPrincipalName, mail, account, kind, target, viaGroupGuid, viaGroupName } = e;
  return { userGuid, userName, userPrincipalName, mail, account, kind, target, viaGroupGuid, viaGroupName, seenAt };
}

/** Entitlements grouped per grant; iterating makes each `Entitlement` on the way (grant by grant, holders in order). */
export class GroupedEntitlements implements Entitlements {
  readonly grants: readonly GrantHolders[];
  readonly length: number;

  constructor(grants: readonly GrantHolders[]) {
    this.grants = grants;
    let n = 0;
    for (const g of grants) n += g.holders.length;
    this.length = n;
  }

  *[Symbol.iterator](): Iterator<Entitlement> {
    for (const { grant, holders } of this.grants) for (const h of holders) yield entitlementOf(grant, h);
  }
}

function sameGrant(a: Grant, b: Grant): boolean {
  return a.target === b.target && a.account === b.account && a.kind === b.kind && a.viaGroupGuid === b.viaGroupGuid && a.viaGroupName === b.viaGroupName;
}

/**
 * The entitlements per grant, in order: the groups themselves when already grouped, otherwise each run
 * of consecutive entitlements of the same grant (an array entitlement is its own holder). A grant whose
 * holders are not listed one after another comes as several runs.
 */
export function grantsOf(list: Entitlements): readonly GrantHolders[] {
  if (list instanceof GroupedEntitlements) return list.grants;
  const out: { grant: Grant; holders: Holder[] }[] = [];
  let current: { grant: Grant; holders: Holder[] } | undefined;
  for (const e of list) {
    if (current === undefined || !sameGrant(current.grant, e)) {
      current = { grant: { account: e.account, kind: e.kind, target: e.target, viaGroupGuid: e.viaGroupGuid, viaGroupName: e.viaGroupName }, holders: [] };
      out.push(current);
    }
    current.holders.push(e);
  }
  return out;
}

/**
 * Groups entitlements per grant (grants in the order they first appear, holders in order), keeping one
 * holder object per person and set of names, so that a person's names are held once across grants.
 * For a journal's snapshot or any other flat list; each person's own entitlements keep their order.
 */
export function groupEntitlements(list: Iterable<Entitlement>): GroupedEntitlements {
  const byKey = new Map<string, { grant: Grant; holders: Holder[] }>();
  const holderOf = new Map<Guid, Holder>();
  let last: { grant: Grant; holders: Holder[] } | undefined;
  for (const e of list) {
    let group = last !== undefined && sameGrant(last.grant, e) ? last : undefined;
    if (group === undefined) {
      const key = `${e.account}\u0000${e.kind}\u0000${e.target}\u0000${e.viaGroupGuid}\u0000${e.viaGroupName}`;
      group = byKey.get(key);
      if (group === undefined) {
        group = { grant: { account: e.account, kind: e.kind, target: e.target, viaGroupGuid: e.viaGroupGuid, viaGroupName: e.viaGroupName }, holders: [] };
        byKey.set(key, group);
      }
      last = group;
    }
    let holder = holderOf.get(e.userGuid);
    if (holder === undefined || holder.userName !== e.userName || holder.userPrincipalName !== e.userPrincipalName || holder.mail !== e.mail || holder.seenAt !== e.seenAt) {
      holder = { userGuid: e.userGuid, userName: e.userName, userPrincipalName: e.userPrincipalName, mail: e.mail, ...(e.seenAt !== undefined ? { seenAt: e.seenAt } : {}) };
      holderOf.set(e.userGuid, holder);
    }
    group.holders.push(holder);
  }
  return new GroupedEntitlements([...byKey.values()]);
}
