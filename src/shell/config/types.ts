/**
 * The loaded configuration: the core's `RoleMap` plus the settings the adapters and the daemon need.
 * Paths are absolute (resolved against the config file's directory). Secrets stay references and are
 * read only at use time with `resolveSecret`.
 */
import type { RoleMap } from '../../core/model/role-map.js';
import type { PostureSettings } from '../../core/posture/types.js';
import type { LOG_LEVELS } from './schema.js';

/** A secret by reference; `credential` is a systemd credential, read from `$CREDENTIALS_DIRECTORY/<name>`. */
export type SecretRef = { readonly env: string } | { readonly file: string } | { readonly credential: string };

export interface LdapDirectoryConfig {
  readonly type: 'ldap';
  readonly url: string;
  readonly startTls: boolean;
  readonly allowInsecure: boolean;
  /** Absolute path of a PEM CA bundle, if any. */
  readonly caFile?: string | undefined;
  /** A DN or a UPN. */
  readonly bindDn: string;
  readonly bindPassword: SecretRef;
  readonly userBase: string;
  /** Defaults to userBase. */
  readonly groupBase: string;
  readonly nesting: 'in-chain' | 'client';
  readonly pageSize: number;
  readonly rangeSize: number;
  readonly connectTimeoutMs: number;
  readonly timeoutMs: number;
}

export interface LdifDirectoryConfig {
  readonly type: 'ldif';
  /** Absolute path. */
  readonly path: string;
}

export type DirectoryConfig = LdapDirectoryConfig | LdifDirectoryConfig;

export interface AwsConfig {
  readonly region: string;
  /** Overrides AWS_ENDPOINT_URL(_<SERVICE>); absent lets the SDK use those variables itself. */
  readonly endpoint?: string | undefined;
  readonly maxAttempts: number;
}

export type LogLevel = (typeof LOG_LEVELS)[number];

export interface DaemonConfig {
  readonly runAtStart: boolean;
  /** IANA time zone of the schedule; the host's when absent. */
  readonly timezone?: string | undefined;
  readonly healthHost: string;
  /** null: no health/metrics server. */
  readonly healthPort: number | null;
  readonly logLevel: LogLevel;
}

export interface HaConfig {
  readonly bucket: string;
  readonly key: string;
  readonly leaseSeconds: number;
  /** The host name when the config does not name one. */
  readonly nodeId: string;
}

/** `journal.archive`: where segments of the journal are shipped (docs/journal.md#archive). */
export interface ArchiveConfig {
  readonly bucket: string;
  readonly prefix: string;
  /** aws.region when the config names none. */
  readonly region: string;
  readonly retention: { readonly mode: 'COMPLIANCE' | 'GOVERNANCE'; readonly days: number };
  readonly timeoutSeconds: number;
}

export interface LoadedConfig {
  /** Absolute path of the config file. */
  readonly path: string;
  /** sha256 (hex) of the file's bytes, journaled with each run. */
  readonly hash: string;
  readonly roleMap: RoleMap;
  readonly directory: DirectoryConfig;
  readonly aws: AwsConfig;
  /** Cron expression (node-cron), validated. */
  readonly schedule: string;
  /** Absolute path of the SQLite journal. */
  readonly journal: { readonly path: string; readonly archive?: ArchiveConfig | undefined };
  readonly daemon: DaemonConfig;
  /** The daemon's leaver fast lane (`leavers.pollSeconds`; 0: off). */
  readonly fastLane: { readonly pollSeconds: number };
  /** Active/standby over an S3 lease; absent: this daemon is the only one and always applies. */
  readonly ha?: HaConfig | undefined;
  /** The posture report's thresholds; absent in configs built by hand (tests): the defaults. */
  readonly posture?: PostureSettings | undefined;
  /** Access reviews (docs/review.md); absent in configs built by hand (tests): the defaults. */
  readonly reviews?: ReviewSettings | undefined;
}

export interface ReviewSettings {
  /** AD group name (lower case) -> reviewer UPN. */
  readonly reviewers: Readonly<Record<string, string>>;
  readonly fallbackReviewer: string | null;
  readonly ifNoDecision: 'keep' | 'revoke';
  readonly schedule: string | null;
  /** Default due, in days. */
  readonly dueDays: number;
}
