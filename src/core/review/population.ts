/**
 * The population of a campaign (pure): every person holding an entitlement through AD, as the desired
 * state computes it from the directory and the role map (before any review revocation, so a grant revoked
 * in an earlier campaign is reviewed again and can be re-approved), one row per person and entitlement.
 */
import type { Entitlements } from '../model/entitlements.js';
import { createHash } from 'node:crypto';
import type { DirectoryGroup, DirectorySnapshot, DirectoryUser, Guid } from '../model/directory.js';
import { isActive } from '../model/directory.js';
import type { Resource } from '../model/resources.js';
import type { Entitlement } from '../model/state.js';
import type { ReviewerRouter } from './routing.js';
import type { AccessKeyContext, CampaignScope, EntitlementKind, Instant, ReviewContext, ReviewPerson, ReviewRow } from './types.js';

export interface PopulationInput {
  readonly campaignId: string;
  readonly scope: CampaignScope;
  readonly snapshot: DirectorySnapshot;
  /** `computeDesired(...).entitlements`: who holds what through AD now. */
  readonly entitlements: Entitlements;
  /** Desired (or actual) resources: descriptions and policy names of roles and permission sets. */
  readonly resources: readonly Resource[];
  readonly router: ReviewerRouter;
  readonly aliasOf: (account: string) => string;
  /** Earliest moment the journal shows this grant (`journal.firstGranted`). */
  readonly firstGrantedAt?: ((e: Entitlement) => Instant | undefined) | undefined;
  /** IAM `RoleLastUsed` per `<account>/<roleName>`, when read. */
  readonly roleLastUsed?: ReadonlyMap<string, { readonly at: Instant; readonly region?: string | undefined }> | undefined;
  /** IAM users linked to an AD account (sAMAccountName or UPN), read at start: one `iam-user` row each. */
  readonly iamUsers?: readonly LinkedIamUserInput[] | undefined;
  /** The clock for "is the person active" (iam-user rows are for active people; leavers are the leaver pass's). */
  readonly now?: Date | undefined;
}

export interface LinkedIamUserInput {
  readonly account: string;
  readonly userName: string;
  /** The AD sAMAccountName or UPN it is linked to (case-insensitive). */
  readonly adAccount: string;
  readonly accessKeys: readonly AccessKeyContext[];
}

export interface Population {
  readonly rows: ReviewRow[];
  /** People nobody can review (no manager chain, no fallback): the campaign does not start while any remain. */
  readonly unroutable: string[];
}

export function kindOf(e: Pick<Entitlement, 'kind'>): EntitlementKind {
  return e.kind === 'iam_role' ? 'federated-role' : 'permission-set';
}

/** Stable across campaigns and exports: the same person's same grant always has the same id. */
export function rowIdOf(guid: Guid, kind: EntitlementKind, account: string, name: string): string {
  return createHash('sha256').update(`${guid}\u0000${kind}\u0000${account}\u0000${name}`).digest('hex').slice(0, 16);
}

const tail = (arn: string): string => arn.slice(arn.lastIndexOf('/') + 1);

function contextIndex(resources: readonly Resource[]): Map<string, { description?: string | undefined; policies: string[] }> {
  const out = new Map<string, { description?: string | undefined; policies: string[] }>();
  for (const r of resources) {
    if (r.kind === 'iam_role') {
      const a = r.attrs;
      out.set(`federated-role\u0000${r.id}`, { description: a.description ?? undefined, policies: [...a.managedPolicyArns.map(tail), ...Object.keys(a.inlinePolicies).map((n) => `${n} (inline)`)].sort() });
    } else if (r.kind === 'sso_permission_set') {
      const a = r.attrs;
      const policies = [...a.managedPolicyArns.map(tail), ...a.customerManagedPolicies.map(tail), ...(a.inlinePolicy !== null ? ['inline policy'] : [])].sort();
      out.set(`permission-set\u0000${r.id}`, { description: a.description ?? undefined, policies });
    }
  }
  return out;
}

function inScope(scope: CampaignScope, e: Entitlement, group: DirectoryGroup | undefined): boolean {
  if (scope.accounts.length > 0 && !scope.accounts.includes(e.account)) return false;
  if (scope.groups.length > 0) {
    const names = [e.viaGroupName, group?.sAMAccountName, group?.dn].filter((x): x is string => x !== undefined).map((x) => x.toLowerCase());
    if (!scope.groups.some((g) => names.includes(g.toLowerCase()))) return false;
  }
  return true;
}

export function snapshotPopulation(input: PopulationInput): Population {
  const users = new Map<Guid, DirectoryUser>(input.snapshot.users.map((u) => [u.guid, u]));
  const groups = new Map<Guid, DirectoryGroup>(input.snapshot.groups.map((g) => [g.guid, g]));
  const ctx = contextIndex(input.resources);
  const rows = new Map<string, ReviewRow>();
  const unroutable = new Map<Guid, string>();
  // Grants through two groups are one row (one entitlement); the first group by name is shown.
  const sorted = [...input.entitlements].sort((a, b) => (a.viaGroupName < b.viaGroupName ? -1 : a.viaGroupName > b.viaGroupName ? 1 : 0));
  for (const e of sorted) {
    const person = users.get(e.userGuid);
    if (person === undefined) continue; // held grants of someone gone from AD are the leaver pass's business
    const group = groups.get(e.viaGroupGuid);
    if (!inScope(input.scope, e, group)) continue;
    const kind = kindOf(e);
    const rowId = rowIdOf(person.guid, kind, e.account, e.target);
    if (rows.has(rowId)) continue;
    const routing = input.router.route(person, group?.name ?? e.viaGroupName);
    if (!routing.ok) {
      unroutable.set(person.guid, routing.message);
      continue;
    }
    const c = ctx.get(`${kind}\u0000${kind === 'federated-role' ? `${e.account}/${e.target}` : e.target}`);
    const last = kind === 'federated-role' ? input.roleLastUsed?.get(`${e.account}/${e.target}`) : undefined;
    const context: ReviewContext = {
      ...(c?.description ? { description: c.description } : {}),
      policies: c?.policies ?? [],
      lastUsed: { perRoleNotPerPerson: true, ...(last ? { roleLastUsedAt: last.at, ...(last.region ? { roleLastUsedRegion: last.region } : {}) } : {}) },
    };
    const first = input.firstGrantedAt?.(e);
    rows.set(rowId, {
      campaignId: input.campaignId,
      rowId,
      person: reviewPerson(person),
      entitlement: {
        kind,
        accountId: e.account,
        accountAlias: input.aliasOf(e.account),
        name: e.target,
        ...(group !== undefined
          ? { group: { dn: group.dn, name: group.name, guid: group.guid, ...(group.description !== undefined ? { description: group.description } : {}) } }
          : { group: { dn: '', name: e.viaGroupName, guid: e.viaGroupGuid } }),
        ...(first !== undefined ? { firstGrantedAt: first } : {}),
      },
      context,
      reviewer: routing.reviewer,
      routedBy: routing.routedBy,
      ...(routing.note ? { routingNote: routing.note } : {}),
    });
  }
  iamUserRows(input, users, rows, unroutable);
  return { rows: sortRows([...rows.values()]), unroutable: [...unroutable.values()].sort() };
}

function reviewPerson(person: DirectoryUser): ReviewPerson {
  return {
    objectGUID: person.guid,
    sAMAccountName: person.sAMAccountName,
    ...(person.userPrincipalName !== undefined ? { userPrincipalName: person.userPrincipalName } : {}),
    ...(person.displayName !== undefined ? { displayName: person.displayName } : {}),
    ...(person.mail !== undefined ? { mail: person.mail } : {}),
    ...(person.department !== undefined ? { department: person.department } : {}),
    ...(person.title !== undefined ? { title: person.title } : {}),
  };
}

const latestOf = (xs: readonly (Instant | undefined)[]): Instant | undefined =>
  xs.reduce<Instant | undefined>((a, b) => (b === undefined ? a : a === undefined || Date.parse(b) > Date.parse(a) ? b : a), undefined);

/**
 * One `iam-user` row per (person, account, IAM user) linked to an active person of the directory. No AD group
 * grants it: a campaign scoped to groups has none, and routing is by the person (manager chain, fallback).
 */
function iamUserRows(input: PopulationInput, users: ReadonlyMap<Guid, DirectoryUser>, rows: Map<string, ReviewRow>, unroutable: Map<Guid, string>): void {
  if (input.iamUsers === undefined || input.iamUsers.length === 0 || input.scope.groups.length > 0) return;
  const byName = new Map<string, DirectoryUser>();
  for (const u of users.values()) {
    byName.set(u.sAMAccountName.toLowerCase(), u);
    if (u.userPrincipalName) byName.set(u.userPrincipalName.toLowerCase(), u);
  }
  for (const iu of input.iamUsers) {
    if (input.scope.accounts.length > 0 && !input.scope.accounts.includes(iu.account)) continue;
    const person = byName.get(iu.adAccount.toLowerCase());
    if (person === undefined || (input.now !== undefined ? !isActive(person, input.now) : person.disabled)) continue; // a leaver's keys: the leaver pass
    const rowId = rowIdOf(person.guid, 'iam-user', iu.account, iu.userName);
    if (rows.has(rowId)) continue;
    const routing = input.router.route(person, undefined);
    if (!routing.ok) {
      unroutable.set(person.guid, routing.message);
      continue;
    }
    const keyUse = latestOf(iu.accessKeys.map((k) => k.lastUsedAt));
    rows.set(rowId, {
      campaignId: input.campaignId,
      rowId,
      person: reviewPerson(person),
      entitlement: { kind: 'iam-user', accountId: iu.account, accountAlias: input.aliasOf(iu.account), name: iu.userName, accessKeys: iu.accessKeys.map((k) => ({ ...k })) },
      context: {
        description: `IAM user linked to AD account ${iu.adAccount}`,
        policies: [],
        lastUsed: { perRoleNotPerPerson: true, ...(keyUse !== undefined ? { accessKeyLastUsedAt: keyUse } : {}) },
      },
      reviewer: routing.reviewer,
      routedBy: routing.routedBy,
      ...(routing.note ? { routingNote: routing.note } : {}),
    });
  }
}

/** Person, then kind, account, name: the order of every packet and export. */
export function sortRows<T extends ReviewRow>(rows: T[]): T[] {
  const key = (r: ReviewRow): string => `${r.person.sAMAccountName.toLowerCase()}\u0000${r.entitlement.kind}\u0000${r.entitlement.accountId}\u0000${r.entitlement.name}`;
  const keys = new Map(rows.map((r) => [r, key(r)]));
  return rows.sort((a, b) => ((keys.get(a) as string) < (keys.get(b) as string) ? -1 : (keys.get(a) as string) > (keys.get(b) as string) ? 1 : 0));
}
