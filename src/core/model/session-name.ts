import type { FormerNames } from './state.js';

/**
 * AWS's rules for the names a leaver's sessions carry, which the core needs to plan a revocation that
 * AWS accepts and that can match.
 *
 * A federated session's `aws:userid` is `ROLE-ID:<RoleSessionName>`. STS accepts a RoleSessionName of
 * 2 to 64 characters from `[\w+=,.@-]` (ASCII letters, digits, underscore and `+=,.@-`); a SAML
 * assertion whose RoleSessionName breaks the rule is rejected by `AssumeRoleWithSAML`, so no session
 * with such a name can exist, and a deny on it would only make IAM refuse the whole policy.
 */
const SESSION_NAME = /^[\w+=,.@-]{2,64}$/;

export function isValidSessionName(name: string): boolean {
  return SESSION_NAME.test(name);
}

/**
 * The longest a session opened under a name can outlive the name: a role's MaxSessionDuration is at most
 * 12 hours (43,200 s, IAM `CreateRole`), and so is a permission set's SessionDuration (PT12H). The journal
 * keeps a renamed person's former names this long after the rename; a revocation's entry for a name
 * older than its own role's or set's duration is not planned (it could match no live session).
 * IAM users' `GetSessionToken` credentials (up to 36 h) are cut per user, not by name.
 */
export const LONGEST_SESSION_SECONDS = 43_200;

/** Names carried now (no `until`) first, then the most recently replaced; ties by the names: plans stay the same run after run. */
export function compareFormerNames(a: FormerNames, b: FormerNames): number {
  if (a.until !== b.until) {
    if (a.until === undefined) return -1;
    if (b.until === undefined) return 1;
    return a.until > b.until ? -1 : 1;
  }
  const ka = `${a.sAMAccountName}\u0000${a.userPrincipalName ?? ''}\u0000${a.mail ?? ''}`;
  const kb = `${b.sAMAccountName}\u0000${b.userPrincipalName ?? ''}\u0000${b.mail ?? ''}`;
  return ka < kb ? -1 : ka > kb ? 1 : 0;
}
