/**
 * From a loaded configuration to the parts a run needs (directory source, AWS targets, journal).
 * The CLI and the daemon take a `RuntimeFactory`, so tests inject fakes of the ports and the real
 * program injects `createRuntime`.
 */
import type { DirectorySource, OwnershipRegistry, RunJournal, Target } from '../../core/ports.js';
import type { MiddlewareStack } from '@smithy/types';
import { AwsClients } from '../../adapters/aws/clients.js';
import { EndpointBreaker } from '../../adapters/aws/endpoint-breaker.js';
import { IamRolesTarget } from '../../adapters/aws/iam-roles/iam-roles-target.js';
import { IamUsersTarget } from '../../adapters/aws/iam-users/iam-users-target.js';
import { IdentityCenterTarget } from '../../adapters/aws/identity-center/identity-center-target.js';
import { SqliteJournal } from '../../adapters/journal/sqlite-journal.js';
import { LdapChangeReader } from '../../adapters/directory/ldap/incremental.js';
import { LdapDirectorySource } from '../../adapters/directory/ldap/ldap-source.js';
import type { LdapSourceOptions } from '../../adapters/directory/ldap/options.js';
import { LdifDirectorySource } from '../../adapters/directory/ldif/ldif-source.js';
import { resolveSecret } from '../config/index.js';
import type { LoadedConfig } from '../config/types.js';
import { observeThrottling } from '../daemon/throttle-observer.js';
import type { RunLogger, Runtime } from './run-once.js';

export interface RuntimeOptions {
  readonly log: RunLogger;
  /** Defaults to the system clock. */
  readonly clock?: (() => Date) | undefined;
  /** Called for each AWS attempt that was throttled (the daemon's metric). */
  readonly onThrottleRetry?: ((service: string) => void) | undefined;
  /** The lease held (active/standby): stamped on every journal row. */
  readonly fencing?: (() => { readonly epoch: number; readonly nodeId: string } | null) | undefined;
}

/** A runtime that holds resources (LDAP connections, the SQLite journal): close it when done. */
export interface OpenRuntime extends Runtime {
  close(): Promise<void>;
  /** Secrets the runtime resolved (the bind password), so whatever prints can mask them. */
  readonly secrets?: readonly string[] | undefined;
}

export type RuntimeFactory = (config: LoadedConfig, options: RuntimeOptions) => Promise<OpenRuntime>;

/**
 * The directory source for `config.directory` (LDAP or LDIF). The bind password is read from its
 * reference (environment variable or file) here, once, and returned so the journal can keep it out.
 */
export function createDirectorySource(config: LoadedConfig): { source: DirectorySource; secrets: readonly string[] } {
  const d = config.directory;
  if (d.type === 'ldif') return { source: new LdifDirectorySource({ path: d.path }), secrets: [] };
  const options = ldapOptions(d);
  return { source: new LdapDirectorySource(options), secrets: [options.bindPassword] };
}

/** The fast lane's reader of what changed in AD, on the same DC and with the same settings as the source; null for an LDIF directory. */
export function createChangeReader(config: LoadedConfig): LdapChangeReader | null {
  const d = config.directory;
  return d.type === 'ldif' ? null : new LdapChangeReader(ldapOptions(d));
}

function ldapOptions(d: Extract<LoadedConfig['directory'], { type: 'ldap' }>): LdapSourceOptions {
  const bindPassword = resolveSecret(d.bindPassword);
  return {
    url: d.url,
    startTls: d.startTls,
    allowInsecure: d.allowInsecure,
    caFile: d.caFile,
    bindDn: d.bindDn,
    bindPassword,
    userBase: d.userBase,
    groupBase: d.groupBase,
    nesting: d.nesting,
    pageSize: d.pageSize,
    rangeSize: d.rangeSize,
    connectTimeoutMs: d.connectTimeoutMs,
    timeoutMs: d.timeoutMs,
  };
}

/** The SQLite journal at `config.journal.path`: the run journal, the ownership registry of untaggable objects, and its close function. */
export function openJournal(config: LoadedConfig, options: RuntimeOptions, secrets: readonly string[] = []): { journal: RunJournal; ownership: OwnershipRegistry; close(): void } {
  const journal = SqliteJournal.open(config.journal.path, { clock: options.clock, secrets, fencing: options.fencing });
  return { journal, ownership: journal, close: () => journal.close() };
}

/**
 * The AWS targets: IAM roles and IAM users in every account, and Identity Center when the role map
 * has it (its users' ownership lives in `ownership`). SDK clients from `config.aws`, assuming each
 * account's `assumeRoleArn` with the session name `rolemap-<ownerId>`.
 */
export function createTargets(config: LoadedConfig, options: RuntimeOptions, ownership: OwnershipRegistry): { targets: Target[]; close(): void } {
  const onThrottleRetry = options.onThrottleRetry;
  const breaker = new EndpointBreaker();
  const clients = new AwsClients(
    {
      breaker,
      region: config.aws.region,
      endpoint: config.aws.endpoint,
      maxAttempts: config.aws.maxAttempts,
      sessionName: `rolemap-${config.roleMap.safety.ownerId}`.slice(0, 64),
      ...(onThrottleRetry ? { onClient: (client, service) => observeThrottling(client.middlewareStack as MiddlewareStack<object, object>, service, onThrottleRetry) } : {}),
    },
    config.roleMap.accounts,
    config.roleMap.identityCenter?.account,
  );
  const clock = options.clock ?? (() => new Date());
  const targets: Target[] = [guarded(new IamRolesTarget(clients), breaker, ['iam', 'sts']), guarded(new IamUsersTarget(clients, { clock }), breaker, ['iam', 'sts'])];
  if (config.roleMap.identityCenter) {
    targets.push(
      guarded(new IdentityCenterTarget({
        identityStore: clients.identityStore(),
        ssoAdmin: clients.ssoAdmin(),
        registry: ownership,
        roleMap: config.roleMap,
        rateLimit: { rps: 20 },
      }), breaker, ['identitystore', 'sso', 'sts']),
    );
  }
  return { targets, close: () => clients.destroy() };
}

/** A target that is not sent more once the endpoints it needs stopped answering (EndpointBreaker). */
function guarded(target: Target, breaker: EndpointBreaker, services: readonly string[]): Target {
  return {
    name: target.name,
    kinds: target.kinds,
    readActual: (roleMap) => target.readActual(roleMap),
    apply: (change, signal) => target.apply(change, signal),
    unavailable: () => breaker.openFor(services),
  };
}

export const createRuntime: RuntimeFactory = async (config, options) => {
  const { source, secrets } = createDirectorySource(config);
  const { journal, ownership, close } = openJournal(config, options, secrets);
  let targets: { targets: Target[]; close(): void };
  try {
    targets = createTargets(config, options, ownership);
  } catch (e) {
    close();
    throw e;
  }
  return {
    roleMap: config.roleMap,
    source,
    targets: targets.targets,
    journal,
    configHash: config.hash,
    clock: options.clock ?? (() => new Date()),
    log: options.log,
    secrets,
    close: async () => {
      targets.close();
      close();
    },
  };
};
