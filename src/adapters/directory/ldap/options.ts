/** Settings of the LDAP directory source. The shell maps the `directory:` block of the config onto it. */

export type NestingStrategy = 'in-chain' | 'client';

export interface LdapSourceOptions {
  /** `ldaps://dc1.example.com` (default port 636) or `ldap://...:389` with `startTls` (or `allowInsecure`). */
  readonly url: string;
  /** Upgrade an `ldap://` connection with StartTLS before binding. */
  readonly startTls?: boolean | undefined;
  /** PEM file of the CA that signed the DC's certificate; without it (and `ca`) Node's default CAs are used. */
  readonly caFile?: string | undefined;
  /** The CA as PEM text, for callers that already hold it. */
  readonly ca?: string | Buffer | undefined;
  /** Permit a plain `ldap://` connection without StartTLS: the bind password then crosses the network in clear. */
  readonly allowInsecure?: boolean | undefined;
  /** A DN or a UPN (`svc-rolemap@example.com`). */
  readonly bindDn: string;
  /** The resolved password (from an environment variable or a file). Never logged, never put in an error. */
  readonly bindPassword: string;
  /** Every user object under this base is read, enabled or not. */
  readonly userBase: string;
  /** Where the role map's groups are looked up (nested groups are followed wherever they live). */
  readonly groupBase: string;
  /** `in-chain`: the server resolves nesting (LDAP_MATCHING_RULE_IN_CHAIN); `client`: rolemap walks `member`. */
  readonly nesting?: NestingStrategy | undefined;
  /** Entries per page of the paged results control (AD caps a page at MaxPageSize, 1,000). Default 500. */
  readonly pageSize?: number | undefined;
  /** Values of `member` asked for per round (`member;range=0-1499`). Default 1,500 (AD's MaxValRange). */
  readonly rangeSize?: number | undefined;
  /** TCP + TLS connect timeout. Default 10 s. */
  readonly connectTimeoutMs?: number | undefined;
  /** Timeout of each LDAP operation (each page); also sent as the server time limit. Default 30 s. */
  readonly timeoutMs?: number | undefined;
  /** LDAP operations kept in flight at once on the connection. Default 4. */
  readonly concurrency?: number | undefined;
  /** Hooks for tests and metrics: every page and every range round. */
  readonly observer?: LdapReadObserver | undefined;
}

export interface LdapReadObserver {
  /** One page of a paged search has arrived (`page` counts from 1 within that search). */
  onPage?(event: { readonly what: string; readonly base: string; readonly page: number; readonly entries: number }): void;
  /** One `member;range=` round has arrived for a group. */
  onRange?(event: { readonly dn: string; readonly range: string; readonly values: number }): void;
}

/** Counts of one read, for logs and metrics. */
export interface LdapReadStats {
  readonly nesting: NestingStrategy;
  readonly searches: number;
  readonly pages: number;
  readonly rangeRounds: number;
  readonly ignoredReferences: number;
  readonly users: number;
  readonly groups: number;
  readonly elapsedMs: number;
}

export const LDAP_DEFAULTS = {
  nesting: 'client' as NestingStrategy,
  pageSize: 500,
  rangeSize: 1500,
  connectTimeoutMs: 10_000,
  timeoutMs: 30_000,
  concurrency: 4,
} as const;
