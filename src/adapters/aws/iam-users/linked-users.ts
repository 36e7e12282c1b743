/**
 * Linked IAM users for access reviews (issue 14): every IAM user of each account that is linked to an AD
 * account (`linkedAdAccount`: the tag `leavers.iamUsers.linkTag`, or a name matching `namePattern`), with
 * its access keys, their status and `AccessKeyLastUsed`. Read at campaign start whatever
 * `leavers.iamUsers.disableCredentials` says. Calls: `GetAccountAuthorizationDetails` (Filter=User: every user
 * with its tags in pages, as the IAM users target reads them, rather than ListUsers and a ListUserTags per
 * user), then `ListAccessKeys` and `GetAccessKeyLastUsed`
 * (https://docs.aws.amazon.com/IAM/latest/APIReference/API_GetAccessKeyLastUsed.html) per linked user.
 *
 * Each account on its own: one that cannot be read is returned in `unread` with the reason.
 */
import { GetAccessKeyLastUsedCommand, paginateGetAccountAuthorizationDetails, paginateListAccessKeys } from '@aws-sdk/client-iam';
import type { IAMClient, UserDetail } from '@aws-sdk/client-iam';
import type { Account, AccountId, RoleMap } from '../../../core/model/role-map.js';
import { CallRecorder } from '../call-error.js';
import { reasonOf, type UnreadAccount } from '../iam-roles/role-last-used.js';
import { linkedAdAccount } from './iam-users-target.js';

export interface LinkedIamUser {
  readonly account: AccountId;
  readonly userName: string;
  /** The AD sAMAccountName or UPN it is linked to. */
  readonly adAccount: string;
  readonly accessKeys: readonly { readonly accessKeyId: string; readonly status: 'Active' | 'Inactive'; readonly lastUsedAt?: string | undefined }[];
}

export async function readLinkedIamUsers(
  clients: { iam(account: AccountId): IAMClient },
  roleMap: Pick<RoleMap, 'accounts' | 'leavers'>,
): Promise<{ users: LinkedIamUser[]; unread: UnreadAccount[] }> {
  const policy = roleMap.leavers.iamUsers;
  const readAccount = async (account: Account): Promise<LinkedIamUser[]> => {
    const client = clients.iam(account.id);
    const rec = new CallRecorder('iam', account.id, undefined);
    const call = async <T>(operation: string, f: () => Promise<T>): Promise<T> => {
      try {
        return await f();
      } catch (e) {
        throw rec.wrap(operation, e);
      }
    };
    const details = await call('GetAccountAuthorizationDetails', async () => {
      const out: UserDetail[] = [];
      for await (const page of paginateGetAccountAuthorizationDetails({ client, pageSize: 1000 }, { Filter: ['User'] })) out.push(...(page.UserDetailList ?? []));
      return out;
    });
    const users: LinkedIamUser[] = [];
    for (const user of details.sort((a, b) => ((a.UserName ?? '') < (b.UserName ?? '') ? -1 : 1))) {
      const UserName = user.UserName ?? '';
      // The tag, when set, wins over the name pattern (linkedAdAccount).
      const adAccount = linkedAdAccount(user, policy);
      if (adAccount === undefined) continue;
      const keys = await call('ListAccessKeys', async () => {
        const out: { id: string; status: 'Active' | 'Inactive' }[] = [];
        for await (const page of paginateListAccessKeys({ client }, { UserName })) for (const k of page.AccessKeyMetadata ?? []) out.push({ id: k.AccessKeyId ?? '', status: k.Status === 'Active' ? 'Active' : 'Inactive' });
        return out.sort((a, b) => (a.id < b.id ? -1 : 1));
      });
      const accessKeys = [];
      for (const k of keys) {
        const used = await call('GetAccessKeyLastUsed', () => client.send(new GetAccessKeyLastUsedCommand({ AccessKeyId: k.id })));
        const at = used.AccessKeyLastUsed?.LastUsedDate;
        accessKeys.push({ accessKeyId: k.id, status: k.status, ...(at !== undefined ? { lastUsedAt: at.toISOString() } : {}) });
      }
      users.push({ account: account.id, userName: UserName, adAccount, accessKeys });
    }
    return users;
  };
  const settled = await Promise.allSettled(roleMap.accounts.map(readAccount));
  const users: LinkedIamUser[] = [];
  const unread: UnreadAccount[] = [];
  settled.forEach((r, i) => {
    const a = roleMap.accounts[i] as Account;
    if (r.status === 'fulfilled') users.push(...r.value);
    else unread.push({ account: a.id, alias: a.alias, reason: reasonOf(r.reason) });
  });
  return { users, unread };
}
