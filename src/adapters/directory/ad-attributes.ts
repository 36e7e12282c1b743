/**
 * Decoding of the AD attributes a snapshot needs, shared by the LDAP source and the LDIF reader.
 */
import type { DirectoryUser } from '../../core/model/directory.js';

/** userAccountControl ACCOUNTDISABLE. */
export const UF_ACCOUNTDISABLE = 0x2;

/** accountExpires / FILETIME: 100-ns intervals since 1601-01-01 UTC. */
const FILETIME_UNIX_EPOCH = 116_444_736_000_000_000n;
const NEVER = 0x7fff_ffff_ffff_ffffn;

/** A userAccountControl value (decimal string) -> disabled? Throws RangeError on a non-number. */
export function isDisabled(userAccountControl: string | undefined): boolean {
  if (userAccountControl === undefined) return false;
  const n = Number(userAccountControl.trim());
  if (!Number.isInteger(n)) throw new RangeError(`userAccountControl is not an integer: ${JSON.stringify(userAccountControl)}`);
  return (n & UF_ACCOUNTDISABLE) !== 0;
}

/**
 * accountExpires -> ISO instant, or undefined when the account never expires (absent, 0 or
 * 0x7FFFFFFFFFFFFFFF). Throws RangeError on a value that is not a FILETIME.
 */
export function decodeAccountExpires(value: string | undefined): string | undefined {
  if (value === undefined) return undefined;
  const text = value.trim();
  if (!/^-?\d+$/.test(text)) throw new RangeError(`accountExpires is not an integer: ${JSON.stringify(value)}`);
  const v = BigInt(text);
  if (v === 0n || v >= NEVER || v < 0n) return undefined;
  const ms = Number((v - FILETIME_UNIX_EPOCH) / 10_000n);
  const date = new Date(ms);
  if (Number.isNaN(date.getTime())) throw new RangeError(`accountExpires out of range: ${text}`);
  return date.toISOString();
}

/** The inverse, for fixtures: an instant -> accountExpires. */
export function encodeAccountExpires(at: Date): string {
  return (BigInt(at.getTime()) * 10_000n + FILETIME_UNIX_EPOCH).toString();
}

/** GeneralizedTime (`20261128235901.0Z`) -> ISO instant; undefined when absent. */
export function decodeGeneralizedTime(value: string | undefined): string | undefined {
  if (value === undefined) return undefined;
  const m = /^(\d{4})(\d{2})(\d{2})(\d{2})(\d{2})(\d{2})(?:[.,](\d+))?Z$/.exec(value.trim());
  if (!m) throw new RangeError(`not a GeneralizedTime: ${JSON.stringify(value)}`);
  const [, y, mo, d, h, mi, s, frac] = m;
  const ms = frac === undefined ? 0 : Math.round(Number(`0.${frac}`) * 1000);
  return new Date(Date.UTC(Number(y), Number(mo) - 1, Number(d), Number(h), Number(mi), Number(s), ms)).toISOString();
}

/** A DN in a form fit for comparing: the core's one normaliser, for the directory sources too. */
export { normalizeDn } from '../../core/model/directory.js';

/**
 * The attributes `userFields` reads, besides objectGUID and sAMAccountName: every search that builds a
 * DirectoryUser asks for these (the full read and the incremental one), so a field added here reaches both.
 */
export const USER_FIELD_ATTRIBUTES: readonly string[] = ['userPrincipalName', 'mail', 'givenName', 'sn', 'displayName', 'manager', 'department', 'title', 'userAccountControl', 'accountExpires', 'whenChanged'];

/**
 * The user fields decoded from AD's attributes, read through `get` (the attribute's first value, named
 * as AD spells it), so that the LDAP source and the LDIF reader map a user the same way. Throws
 * RangeError on a value that cannot be decoded.
 */
export function userFields(get: (attribute: string) => string | undefined): Omit<DirectoryUser, 'guid' | 'dn' | 'sAMAccountName'> {
  return {
    userPrincipalName: get('userPrincipalName'),
    mail: get('mail'),
    givenName: get('givenName'),
    surname: get('sn'),
    displayName: get('displayName'),
    ...optional('manager', get('manager')),
    ...optional('department', get('department')),
    ...optional('title', get('title')),
    disabled: isDisabled(get('userAccountControl')),
    expiresAt: decodeAccountExpires(get('accountExpires')),
    whenChanged: decodeGeneralizedTime(get('whenChanged')),
  };
}

/** A field only when the directory has it: snapshots without these attributes stay as they were (digests unchanged). */
function optional<K extends string>(key: K, value: string | undefined): { [P in K]?: string } {
  return value === undefined || value === '' ? {} : ({ [key]: value } as { [P in K]: string });
}
