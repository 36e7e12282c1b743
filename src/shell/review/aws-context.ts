/**
 * What a campaign reads from AWS at start (issue 14), beside the directory: IAM `RoleLastUsed` of rolemap's
 * roles, per account. An account that cannot be read does not stop the campaign: it is listed in `unread`
 * (journaled with the campaign, printed by `review start`), and its rows have no last use.
 */
import type { IAMClient } from '@aws-sdk/client-iam';
import { readRoleLastUsed } from '../../adapters/aws/iam-roles/role-last-used.js';
import type { RoleLastUse, UnreadAccount } from '../../adapters/aws/iam-roles/role-last-used.js';
import type { AccountId, RoleMap } from '../../core/model/role-map.js';

export interface ReviewAwsContext {
  /** `<account>/<roleName>` -> RoleLastUsed (per role: anyone's last use). */
  readonly roleLastUsed: ReadonlyMap<string, RoleLastUse>;
  /** Accounts not read, each once, with the first reason. */
  readonly unread: readonly UnreadAccount[];
}

export async function readReviewAws(clients: { iam(account: AccountId): IAMClient }, roleMap: RoleMap): Promise<ReviewAwsContext> {
  const roles = await readRoleLastUsed(clients, roleMap);
  return { roleLastUsed: roles.lastUsed, unread: roles.unread };
}

/** The line `review start` prints (stderr) per account not read. */
export function unreadWarning(u: { readonly account: string; readonly reason: string }, alias?: string): string {
  return `warning: last use not read for account ${alias !== undefined && alias !== u.account ? `${alias} (${u.account})` : u.account}: ${u.reason}`;
}
