/**
 * Defence in depth for "no secret reaches the journal". Plans hold no secrets by construction, but
 * free text from outside (an AWS or LDAP error message) could echo one. Every string the journal
 * writes passes through a redactor that masks the values of secret-looking environment variables
 * (rolemap's own AWS keys, session token, bind password) and any secret passed in explicitly.
 * AWS access key ids in general are not masked: they are identifiers, and an auditor must see which
 * of a leaver's keys were switched off.
 */
const SECRET_ENV = /PASSWORD|PASSWD|SECRET|TOKEN|CREDENTIAL|PRIVATE|ACCESS_KEY/i;
/** Values shorter than this are too likely to be ordinary words to mask everywhere. */
const MIN_SECRET_LENGTH = 8;

export const REDACTED = '[redacted]';

export type Redactor = (text: string) => string;

export function secretsFromEnv(env: NodeJS.ProcessEnv = process.env): string[] {
  return Object.entries(env)
    .filter(([k, v]) => SECRET_ENV.test(k) && v !== undefined && v.length >= MIN_SECRET_LENGTH)
    .map(([, v]) => v as string);
}

export function makeRedactor(secrets: readonly string[]): Redactor {
  // Each secret also in its JSON-escaped form, since before/after are stored as JSON.
  const forms = secrets.filter((s) => s.length >= MIN_SECRET_LENGTH).flatMap((s) => [s, JSON.stringify(s).slice(1, -1)]);
  const values = [...new Set(forms)].sort((a, b) => b.length - a.length);
  if (values.length === 0) return (t) => t;
  const pattern = new RegExp(values.map((v) => v.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')).join('|'), 'g');
  return (t) => (t.length < MIN_SECRET_LENGTH ? t : t.replace(pattern, REDACTED));
}
