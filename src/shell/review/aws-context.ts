/**
 * What a campaign reads from AWS at start (issue 14), beside the directory: IAM `RoleLastUsed` of rolemap's
 * roles, and the IAM users linked to AD accounts with their access keys, per account. An account that cannot be read does not stop the campaign: it is listed in `unread`
 * (journaled with the campaign, printed by `review start`), and its rows have no last use.
 */
import type { IAMClient } from '@aws-sdk/client-iam';
import { readLinkedIamUsers } from '../../adapters/aws/iam-users/linked-users.js';
import type { LinkedIamUser } from '../../adapters/aws/iam-users/linked-users.js';
import { readRoleLastUsed } from '../../adapters/aws/iam-roles/role-last-used.js';
import type { RoleLastUse, UnreadAccount } from '../../adapters/aws/iam-roles/role-last-used.js';
import type { AccountId, RoleMap } from '../../core/model/role-map.js';

export interface ReviewAwsContext {
  /** `<account>/<roleName>` -> RoleLastUsed (per role: anyone's last use). */
  readonly roleLastUsed: ReadonlyMap<string, RoleLastUse>;
  /** IAM users linked to an AD account, with their access keys and key last use. */
  readonly iamUsers: readonly LinkedIamUser[];
  /** Accounts not read, each once, with the first reason. */
  readonly unread: readonly UnreadAccount[];
}

export async function readReviewAws(clients: { iam(account: AccountId): IAMClient }, roleMap: RoleMap): Promise<ReviewAwsContext> {
  const [roles, users] = await Promise.all([readRoleLastUsed(clients, roleMap), readLinkedIamUsers(clients, roleMap)]);
  const unread = new Map<string, UnreadAccount>();
  for (const u of [...roles.unread, ...users.unread]) if (!unread.has(u.account)) unread.set(u.account, u);
  return { roleLastUsed: roles.lastUsed, iamUsers: users.users, unread: roleMap.accounts.flatMap((a) => unread.get(a.id) ?? []) };
}

/** The line `review start` prints (stderr) per account not read. */
export function unreadWarning(u: { readonly account: string; readonly reason: string }, alias?: string): string {
  return `warning: ${unreadText(u.account, u.reason, alias)}`;
}

/** What is missing from a campaign for an account AWS did not answer for (CLI warning, daemon log). */
export function unreadText(account: string, reason: string, alias?: string): string {
  const name = alias !== undefined && alias !== account ? `${alias} (${account})` : account;
  return `account ${name} not read: ${reason}; its rows have no last use and its linked IAM users are not in the campaign`;
}
