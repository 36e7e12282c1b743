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
