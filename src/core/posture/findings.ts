/**
 * The findings of one account, from what was read of it (types.ts). Pure: `now` is passed in.
 *
 * | kind | severity | from |
 * |---|---|---|
 * | root-mfa-off | critical | GetAccountSummary AccountMFAEnabled = 0 |
 * | root-access-keys | critical | GetAccountSummary AccountAccessKeysPresent = 1 |
 * | root-used-recently | high | report: root's password or a key used within rootUseDays |
 * | access-key-too-old | medium | report: an active key last rotated more than maxKeyAgeDays ago |
 * | access-key-unused | medium | report: an active key not used for unusedDays (never used: created that long ago) |
 * | console-without-mfa | high | report: password enabled, mfa_active false |
 * | two-active-keys | low | report: both keys active, the newer one not used since it was created (a rotation under way) |
 * | rotation-ready | medium | report: both keys active and the newer one used since its creation: the older one can be deactivated |
 * | leaver-iam-user | high | an IAM user linked to an AD leaver that still has an active key or a password |
 * | password-policy-missing / -weak | medium | GetAccountPasswordPolicy against the configured minimum |
 * | too-few-admins / too-many-admins | medium | the administrators counted against admins.min / max |
 */
import type { AccountPostureInput, AccountPasswordPolicy, Finding, FindingKind, PasswordPolicyMinimum, PostureSettings, Severity } from './types.js';

const DAY_MS = 86_400_000;

function days(from: Date, now: Date): number {
  return Math.floor((now.getTime() - from.getTime()) / DAY_MS);
}

function day(d: Date): string {
  return d.toISOString().slice(0, 10);
}

export function findingId(kind: FindingKind, account: string, principal: string): string {
  return `${kind}:${account}:${principal}`;
}

/** What falls short of the minimum, in words; empty when the policy meets it. */
export function passwordPolicyShortfalls(p: AccountPasswordPolicy, min: PasswordPolicyMinimum): string[] {
  const out: string[] = [];
  if (p.minimumLength < min.minimumLength) out.push(`minimum length ${p.minimumLength} < ${min.minimumLength}`);
  if (min.requireSymbols && !p.requireSymbols) out.push('symbols not required');
  if (min.requireNumbers && !p.requireNumbers) out.push('numbers not required');
  if (min.requireUppercase && !p.requireUppercase) out.push('uppercase not required');
  if (min.requireLowercase && !p.requireLowercase) out.push('lowercase not required');
  if (min.maxAgeDays !== null && (p.maxAgeDays === null || p.maxAgeDays > min.maxAgeDays)) out.push(`passwords expire after ${p.maxAgeDays === null ? 'never' : `${p.maxAgeDays} days`} (at most ${min.maxAgeDays})`);
  if (min.reusePrevention !== null && (p.reusePrevention === null || p.reusePrevention < min.reusePrevention)) out.push(`${p.reusePrevention ?? 0} previous passwords remembered (at least ${min.reusePrevention})`);
  return out;
}

export function computeFindings(input: AccountPostureInput, settings: PostureSettings, now: Date): Finding[] {
  const out: Finding[] = [];
  const add = (kind: FindingKind, severity: Severity, principal: string, detail: string, fix: string): void => {
    out.push({ id: findingId(kind, input.account, principal), kind, severity, account: input.account, accountAlias: input.alias, principal, detail, fix });
  };
  const where = `account ${input.alias} (${input.account})`;

  // ----- root -----
  if (!input.rootMfaEnabled) add('root-mfa-off', 'critical', 'root', `the root user of ${where} has no MFA device`, 'Sign in as root and assign an MFA device (IAM console: Security credentials > Multi-factor authentication).');
  if (input.rootAccessKeysPresent) add('root-access-keys', 'critical', 'root', `the root user of ${where} has access keys`, 'Delete the root user\'s access keys (Security credentials > Access keys) and use an IAM role instead.');
  const root = input.report.find((r) => r.isRoot);
  if (root !== undefined) {
    const uses = [root.passwordLastUsed, ...root.keys.map((k) => k.lastUsed)].filter((d): d is Date => d !== null);
    const last = uses.reduce<Date | null>((a, d) => (a === null || d > a ? d : a), null);
    if (last !== null && days(last, now) < settings.rootUseDays) {
      add('root-used-recently', 'high', 'root', `the root user of ${where} was last used on ${day(last)}, within ${settings.rootUseDays} days`, 'Find out who used root and why (CloudTrail), and use an IAM role or Identity Center for that task instead.');
    }
  }

  // ----- IAM users -----
  for (const row of input.report) {
    if (row.isRoot) continue;
    const user = `user/${row.user}`;
    row.keys.forEach((k, i) => {
      if (!k.active) return;
      const slot = `${user}/key${i + 1}`;
      if (k.lastRotated !== null && days(k.lastRotated, now) > settings.maxKeyAgeDays) {
        add('access-key-too-old', 'medium', slot, `access key ${i + 1} of IAM user ${row.user} in ${where} was created ${day(k.lastRotated)}, ${days(k.lastRotated, now)} days ago (more than ${settings.maxKeyAgeDays})`, `Rotate it: create a second key, move its users to it, then deactivate and delete key ${i + 1}.`);
      }
      const since = k.lastUsed ?? k.lastRotated;
      if (since !== null && days(since, now) > settings.unusedDays) {
        const what = k.lastUsed === null ? `has never been used since ${day(since)}` : `was last used ${day(since)}`;
        add('access-key-unused', 'medium', slot, `access key ${i + 1} of IAM user ${row.user} in ${where} ${what} (more than ${settings.unusedDays} days)`, `Deactivate access key ${i + 1} of ${row.user}, and delete it if nothing breaks.`);
      }
    });
    if (row.passwordEnabled && !row.mfaActive) add('console-without-mfa', 'high', user, `IAM user ${row.user} in ${where} has a console password and no MFA device`, `Assign an MFA device to ${row.user}, or delete its console password if it does not sign in.`);
    if (row.keys[0].active && row.keys[1].active) {
      // The overlap rotation: two keys while the users of the old one move to the new one. Once the
      // newer key has been used since it was created, the move has begun and the older key can go.
      const [a, b] = row.keys;
      const newer = (b.lastRotated?.getTime() ?? 0) >= (a.lastRotated?.getTime() ?? 0) ? 1 : 0;
      const n = row.keys[newer];
      const inUse = n.lastUsed !== null && n.lastRotated !== null && n.lastUsed.getTime() >= n.lastRotated.getTime();
      if (inUse) {
        const older = 1 - newer;
        add(
          'rotation-ready',
          'medium',
          `${user}/key${older + 1}`,
          `IAM user ${row.user} in ${where}: access key ${newer + 1} (created ${day(n.lastRotated as Date)}) has been used since (last ${day(n.lastUsed as Date)}), so key ${older + 1} is no longer needed`,
          `Deactivate access key ${older + 1} of ${row.user} (posture.rotation with action: deactivate does it), then delete it if nothing breaks.`,
        );
      } else {
        add('two-active-keys', 'low', user, `IAM user ${row.user} in ${where} has two active access keys, and the newer one has not been used yet`, `Finish the rotation: move the users of ${row.user}'s older key to the newer one, then deactivate the older key.`);
      }
    }
  }

  // ----- leavers -----
  const byName = new Map(input.report.filter((r) => !r.isRoot).map((r) => [r.user, r]));
  for (const link of input.leaverLinks ?? []) {
    const row = byName.get(link.userName);
    const live = row === undefined || row.passwordEnabled || row.keys.some((k) => k.active);
    if (!live) continue;
    add('leaver-iam-user', 'high', `user/${link.userName}`, `IAM user ${link.userName} in ${where} is linked to AD account ${link.adName}, which is ${link.why}, and still has credentials`, `Deactivate the access keys and delete the console password of ${link.userName} (rolemap does it when leavers.iamUsers.disableCredentials is on).`);
  }

  // ----- password policy -----
  if (input.passwordPolicy === null) {
    add('password-policy-missing', 'medium', 'account', `${where} has no account password policy`, `Set one (IAM > Account settings) of at least ${settings.passwordPolicy.minimumLength} characters.`);
  } else {
    const short = passwordPolicyShortfalls(input.passwordPolicy, settings.passwordPolicy);
    if (short.length > 0) add('password-policy-weak', 'medium', 'account', `the password policy of ${where} is below the minimum: ${short.join('; ')}`, 'Raise the account password policy (IAM > Account settings) to posture.passwordPolicy.');
  }

  // ----- administrators -----
  if (input.admins !== null) {
    const n = input.admins.length;
    const names = input.admins.map((a) => a.principal).join(', ') || 'none';
    if (n < settings.admins.min) add('too-few-admins', 'medium', 'account', `${where} has ${n} administrators (at least ${settings.admins.min}): ${names}`, 'Give a second person administrator access through a role or permission set, so one absence does not lock the account.');
    if (n > settings.admins.max) add('too-many-admins', 'medium', 'account', `${where} has ${n} administrators (at most ${settings.admins.max}): ${names}`, `Take AdministratorAccess (or Allow * on *) away from all but ${settings.admins.max} of them.`);
  }

  return out.sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
}
