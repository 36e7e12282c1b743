/**
 * IAM `RoleLastUsed` of rolemap's roles, for access reviews (issue 14): read at campaign start, never part of
 * the `iam_role` resource (the plan digest compares attributes field by field; last use must not plan changes).
 *
 * `RoleLastUsed` (https://docs.aws.amazon.com/IAM/latest/APIReference/API_RoleLastUsed.html) is per role: when
 * anyone last used it, and in which Region. AWS notes the tracking can lag up to four hours. It comes with the
 * `RoleDetailList` of `GetAccountAuthorizationDetails` (Filter=Role), the call the IAM roles target reads with.
 *
 * Each account on its own: one that cannot be read (AccessDenied, endpoint down) is returned in `unread` with
 * the reason, and the others are read.
 */
import { paginateGetAccountAuthorizationDetails } from '@aws-sdk/client-iam';
import type { IAMClient } from '@aws-sdk/client-iam';
import { OWNER_TAG } from '../../../core/model/ownership.js';
import type { Account, AccountId, RoleMap } from '../../../core/model/role-map.js';
import { CallRecorder } from '../call-error.js';

export interface RoleLastUse {
  /** ISO-8601 UTC instant. */
  readonly at: string;
  readonly region?: string | undefined;
}

/** An account whose IAM could not be read for a review, and why. */
export interface UnreadAccount {
  readonly account: AccountId;
  readonly alias: string;
  readonly reason: string;
}

export const reasonOf = (e: unknown): string => (e instanceof Error ? e.message : String(e));

/** `<account>/<roleName>` -> last use, for the roles rolemap owns (tag `OWNER_TAG` = `safety.ownerId`) that were ever used. */
export async function readRoleLastUsed(
  clients: { iam(account: AccountId): IAMClient },
  roleMap: Pick<RoleMap, 'accounts' | 'safety'>,
  options: { readonly pageSize?: number | undefined } = {},
): Promise<{ lastUsed: Map<string, RoleLastUse>; unread: UnreadAccount[] }> {
  const readAccount = async (account: Account): Promise<[string, RoleLastUse][]> => {
    const rec = new CallRecorder('iam', account.id, undefined);
    const out: [string, RoleLastUse][] = [];
    try {
      for await (const page of paginateGetAccountAuthorizationDetails({ client: clients.iam(account.id), pageSize: options.pageSize ?? 1000 }, { Filter: ['Role'] })) {
        for (const d of page.RoleDetailList ?? []) {
          if (!(d.Tags ?? []).some((t) => t.Key === OWNER_TAG && t.Value === roleMap.safety.ownerId)) continue;
          const at = d.RoleLastUsed?.LastUsedDate;
          if (at === undefined) continue;
          out.push([`${account.id}/${d.RoleName ?? ''}`, { at: at.toISOString(), ...(d.RoleLastUsed?.Region ? { region: d.RoleLastUsed.Region } : {}) }]);
        }
      }
    } catch (e) {
      throw rec.wrap('GetAccountAuthorizationDetails', e);
    }
    return out;
  };
  const settled = await Promise.allSettled(roleMap.accounts.map(readAccount));
  const lastUsed = new Map<string, RoleLastUse>();
  const unread: UnreadAccount[] = [];
  settled.forEach((r, i) => {
    const a = roleMap.accounts[i] as Account;
    if (r.status === 'fulfilled') for (const [k, v] of r.value) lastUsed.set(k, v);
    else unread.push({ account: a.id, alias: a.alias, reason: reasonOf(r.reason) });
  });
  return { lastUsed, unread };
}
