/**
 * Per-account reads: a target reads every account on its own, and one account that fails (its role
 * cannot be assumed, its credentials act elsewhere, a SAML provider is missing, throttled out) is
 * reported as an unreadable scope instead of failing the read of every other account. When no
 * account can be read at all, the first error is thrown, as a single-account read always did.
 */
import type { ResourceKind } from '../../core/model/resources.js';
import type { Account } from '../../core/model/role-map.js';
import type { ActualState, UnreadableScope } from '../../core/model/state.js';

/** How an account is named in messages: `account prod (222222222222)`. */
export function accountName(a: Account): string {
  return a.alias === a.id ? `account ${a.id}` : `account ${a.alias} (${a.id})`;
}

export function settleAccounts(
  accounts: readonly Account[],
  settled: readonly PromiseSettledResult<{ readonly resources: ActualState['resources']; readonly warnings: readonly string[] }>[],
  kinds: readonly ResourceKind[],
): ActualState {
  const failures = settled.flatMap((r, i) => (r.status === 'rejected' ? [{ account: accounts[i] as Account, error: r.reason as unknown }] : []));
  if (failures.length > 0 && failures.length === settled.length) throw failures[0]?.error;
  const read = settled.flatMap((r) => (r.status === 'fulfilled' ? [r.value] : []));
  const unreadable: UnreadableScope[] = failures.map((f) => ({
    kinds,
    account: f.account.id,
    name: accountName(f.account),
    reason: f.error instanceof Error ? f.error.message : String(f.error),
  }));
  return { resources: read.flatMap((r) => r.resources), warnings: read.flatMap((r) => r.warnings), ...(unreadable.length > 0 ? { unreadable } : {}) };
}
