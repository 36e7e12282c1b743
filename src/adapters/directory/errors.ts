/**
 * Typed errors of the directory sources. Each names what failed and where (URL, base DN, group DN,
 * LDIF file and line), keeps its `cause`, and says whether a retry may help. None ever carries the
 * bind password.
 */
import { InvalidInputError, RolemapError } from '../../core/errors.js';

/** The source's settings cannot work (a plain ldap:// URL without allowInsecure, a missing CA file...). */
export class DirectoryConfigError extends InvalidInputError {}

/** Why a bind was refused, from the AD sub-code in the diagnostic message (`data 52e`). */
export type BindFailureReason =
  | 'invalid-credentials' // 52e
  | 'no-such-user' // 525
  | 'logon-not-permitted-now' // 530
  | 'logon-not-permitted-here' // 531
  | 'password-expired' // 532
  | 'account-disabled' // 533
  | 'account-expired' // 701
  | 'password-must-change' // 773
  | 'account-locked' // 775
  | 'other';

const AD_BIND_SUBCODES: Readonly<Record<string, { reason: BindFailureReason; text: string }>> = {
  '525': { reason: 'no-such-user', text: 'the bind account does not exist' },
  '52e': { reason: 'invalid-credentials', text: 'wrong password (or unknown bind DN/UPN)' },
  '530': { reason: 'logon-not-permitted-now', text: 'the bind account may not log on at this time' },
  '531': { reason: 'logon-not-permitted-here', text: 'the bind account may not log on from this workstation' },
  '532': { reason: 'password-expired', text: 'the bind account password has expired' },
  '533': { reason: 'account-disabled', text: 'the bind account is disabled' },
  '701': { reason: 'account-expired', text: 'the bind account has expired (accountExpires is in the past)' },
  '773': { reason: 'password-must-change', text: 'the bind account must change its password before it can bind' },
  '775': { reason: 'account-locked', text: 'the bind account is locked out' },
};

/** Reads the AD sub-code out of a bind diagnostic such as `80090308: LdapErr: ..., data 52e, v1db1`. */
export function bindFailureFromDiagnostic(diagnostic: string): { reason: BindFailureReason; subCode?: string; text: string } {
  const m = /\bdata ([0-9a-f]{3,8})\b/i.exec(diagnostic);
  const subCode = m?.[1]?.toLowerCase();
  const known = subCode === undefined ? undefined : AD_BIND_SUBCODES[subCode];
  if (known) return { ...known, subCode: subCode! };
  return subCode === undefined
    ? { reason: 'other', text: 'the server refused the bind' }
    : { reason: 'other', subCode, text: `the server refused the bind (AD sub-code ${subCode})` };
}

/** The server refused the bind credentials. Not retryable: someone has to fix the account or the secret. */
export class DirectoryBindError extends RolemapError {
  readonly retryable = false;
  constructor(
    readonly reason: BindFailureReason,
    readonly bindDn: string,
    readonly url: string,
    readonly subCode: string | undefined,
    text: string,
    options?: { cause?: unknown },
  ) {
    super(`LDAP bind as ${bindDn} at ${url} failed: ${text}${subCode ? ` (AD data ${subCode})` : ''}`, options);
  }
}

/** Could not reach or trust the server: refused connection, timeout, TLS verification failure. */
export class DirectoryConnectError extends RolemapError {
  constructor(
    readonly url: string,
    readonly detail: string,
    readonly retryable: boolean,
    options?: { cause?: unknown },
  ) {
    super(`cannot connect to ${url}: ${detail}`, options);
  }
}

/** What made a read fail. `timeout`/`connection-lost`/`busy` are worth a retry; the others need a person. */
export type ReadFailureKind =
  | 'timeout'
  | 'time-limit'
  | 'size-limit'
  | 'admin-limit'
  | 'referral'
  | 'connection-lost'
  | 'busy'
  | 'no-such-object'
  | 'insufficient-access'
  | 'server-error'
  | 'bad-data';

const RETRYABLE_READ: ReadonlySet<ReadFailureKind> = new Set(['timeout', 'time-limit', 'connection-lost', 'busy']);

/**
 * A read failed part way: the whole snapshot is abandoned. `what` is the step (e.g. `users page 3`,
 * `member;range=1500-2999`), `where` the DN or base it was reading.
 */
export class DirectoryReadError extends RolemapError {
  readonly retryable: boolean;
  constructor(
    readonly kind: ReadFailureKind,
    readonly what: string,
    readonly where: string,
    detail: string,
    options?: { cause?: unknown },
  ) {
    super(`directory read failed (${kind}) while reading ${what} at ${where}: ${detail}; no snapshot was produced`, options);
    this.retryable = RETRYABLE_READ.has(kind);
  }
}

/** The LDIF snapshot file cannot be read at all (missing, unreadable): names the file and the OS error. */
export class LdifFileError extends RolemapError {
  readonly retryable = false;
  constructor(
    readonly file: string,
    readonly code: string,
    options?: { cause?: unknown },
  ) {
    super(`cannot read the LDIF directory snapshot ${file} (${code}); no snapshot was produced`, options);
  }
}

/** An LDIF file that cannot be read as a directory. */
export class LdifSyntaxError extends InvalidInputError {
  constructor(
    readonly file: string,
    readonly line: number,
    detail: string,
    options?: { cause?: unknown },
  ) {
    super(`${file}:${line}: ${detail}`, options);
  }
}
