/**
 * Defence in depth for "no secret reaches the journal". Plans hold no secrets by construction, but
 * free text from outside (an AWS or LDAP error message) could echo one. Every string the journal
 * writes passes through a redactor that masks the values of secret-looking environment variables
 * (rolemap's own AWS keys, session token, bind password) and any secret passed in explicitly.
 * AWS access key ids in general are not masked: they are identifiers, and an auditor must see which
 * of a leaver's keys were switched off.
 */
const SECRET_ENV = /PASSWORD|PASSWD|SECRET|TOKEN|CREDENTIAL|PRIVATE|ACCESS_KEY/i;
/**
 * Values of secret-looking environment variables shorter than this are too likely to be ordinary
 * words ("none", "true") to mask everywhere. Secrets passed in explicitly (the bind password rolemap
 * resolved) are masked whatever their length: AD's default minimum password length is 7.
 */
const MIN_ENV_SECRET_LENGTH = 6;
/** `CREDENTIALS_DIRECTORY` (systemd) names a directory, not a secret. */
const NOT_SECRET_ENV = /_DIRECTORY$/;

export const REDACTED = '[redacted]';

export type Redactor = (text: string) => string;

export function secretsFromEnv(env: NodeJS.ProcessEnv = process.env): string[] {
  return Object.entries(env)
    .filter(([k, v]) => SECRET_ENV.test(k) && !NOT_SECRET_ENV.test(k) && v !== undefined && v.length >= MIN_ENV_SECRET_LENGTH)
    .map(([, v]) => v as string);
}

export function makeRedactor(secrets: readonly string[]): Redactor {
  // Each secret also in its JSON-escaped form, since before/after are stored as JSON.
  const forms = secrets.filter((s) => s.length > 0).flatMap((s) => [s, JSON.stringify(s).slice(1, -1)]);
  const values = [...new Set(forms)].sort((a, b) => b.length - a.length);
  if (values.length === 0) return (t) => t;
  const shortest = values.at(-1)?.length ?? 1;
  const pattern = new RegExp(values.map((v) => v.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')).join('|'), 'g');
  return (t) => (t.length < shortest ? t : t.replace(pattern, REDACTED));
}
