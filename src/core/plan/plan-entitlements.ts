/**
 * Who held what when a plan was made, carried by the plan itself (`Plan.entitlements`), so that applying a
 * saved plan (`--plan FILE`) or an approved one records the entitlements the plan was computed from, not
 * those of the fresh read at apply time: someone who left in between stays in the history and is revoked
 * on the next run, instead of dropping out of it unseen.
 *
 * Packed by grant, with each user's names once, because a plan of 100,000 users holds ~440,000 of them:
 *
 * ```json
 * { "users": { "<guid>": ["jdoe", "jdoe@corp.example", "j.doe@mail.example"] },
 *   "grants": [{ "account": "111111111111", "kind": "iam_role", "target": "Admin",
 *                "viaGroupGuid": "<guid>", "viaGroupName": "AWS-Admins", "users": ["<guid>", ...] }] }
 * ```
 */
import type { Guid } from '../model/directory.js';
import type { Entitlement } from '../model/state.js';
import type { Entitlements } from '../model/entitlements.js';
import { grantsOf } from '../model/entitlements.js';

export interface PlanEntitlementGrant {
  readonly account: string;
  readonly kind: Entitlement['kind'];
  readonly target: string;
  readonly viaGroupGuid: Guid;
  readonly viaGroupName: string;
  readonly users: readonly Guid[];
}

export interface PlanEntitlements {
  /** guid -> [sAMAccountName, userPrincipalName or null, mail or null]. */
  readonly users: Readonly<Record<Guid, readonly [string, string | null, string | null]>>;
  readonly grants: readonly PlanEntitlementGrant[];
}

export function packEntitlements(entitlements: Entitlements): PlanEntitlements {
  const users: Record<Guid, readonly [string, string | null, string | null]> = Object.create(null) as Record<Guid, readonly [string, string | null, string | null]>;
  const grants = new Map<string, { readonly g: Omit<PlanEntitlementGrant, 'users'>; readonly users: Guid[] }>();
  // Each person's names from their first entitlement (computeDesired gives one person the same names throughout).
  for (const { grant: e, holders } of grantsOf(entitlements)) {
    const key = `${e.account}\u0000${e.kind}\u0000${e.target}\u0000${e.viaGroupGuid}\u0000${e.viaGroupName}`;
    let grant = grants.get(key);
    if (grant === undefined) {
      grant = { g: { account: e.account, kind: e.kind, target: e.target, viaGroupGuid: e.viaGroupGuid, viaGroupName: e.viaGroupName }, users: [] };
      grants.set(key, grant);
    }
    for (const h of holders) {
      users[h.userGuid] ??= [h.userName, h.userPrincipalName ?? null, h.mail ?? null];
      grant.users.push(h.userGuid);
    }
  }
  const list = [...grants.entries()].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)).map(([, { g, users: u }]) => ({ ...g, users: [...new Set(u)].sort() }));
  return { users, grants: list };
}

export function unpackEntitlements(packed: PlanEntitlements): Entitlement[] {
  const out: Entitlement[] = [];
  for (const g of packed.grants) {
    for (const guid of g.users) {
      const names = packed.users[guid];
      out.push({
        userGuid: guid,
        userName: names?.[0] ?? guid,
        ...(typeof names?.[1] === 'string' ? { userPrincipalName: names[1] } : {}),
        ...(typeof names?.[2] === 'string' ? { mail: names[2] } : {}),
        account: g.account,
        kind: g.kind,
        target: g.target,
        viaGroupGuid: g.viaGroupGuid,
        viaGroupName: g.viaGroupName,
      });
    }
  }
  return out;
}
