/**
 * SDK v3 clients for every account rolemap touches.
 *
 * Credentials: the SDK's default chain (instance profile on the bastion, AWS_PROFILE, environment);
 * per account, the role the config names is assumed with `fromTemporaryCredentials`. Each SDK client
 * caches and refreshes its own credentials; `sharedAcrossClients` makes the clients of one account
 * (IAM, STS, Identity Center) share one session, so an account costs one `AssumeRole`. Retries: the SDK's own `adaptive` mode. Endpoints: the SDK honours
 * `AWS_ENDPOINT_URL` and `AWS_ENDPOINT_URL_<SERVICE>` by itself; `endpoint` in config overrides both.
 */
import { IAMClient } from '@aws-sdk/client-iam';
import { IdentitystoreClient } from '@aws-sdk/client-identitystore';
import { SSOAdminClient } from '@aws-sdk/client-sso-admin';
import { GetCallerIdentityCommand, STSClient } from '@aws-sdk/client-sts';
import { fromNodeProviderChain, fromTemporaryCredentials } from '@aws-sdk/credential-providers';
import type { AwsCredentialIdentity, AwsCredentialIdentityProvider } from '@smithy/types';
import type { Account, AccountId } from '../../core/model/role-map.js';
import { AccountMismatchError, AwsCallError, nameAwsErrors } from './call-error.js';
import type { EndpointBreaker } from './endpoint-breaker.js';

export interface AwsSettings {
  readonly region: string;
  /** Overrides AWS_ENDPOINT_URL(_<SERVICE>) for every client (an AWS-compatible endpoint, the emulator). */
  readonly endpoint?: string | undefined;
  /** SDK attempts per call, including the first (adaptive retry mode). */
  readonly maxAttempts: number;
  /** Session name rolemap uses when it assumes a role, so CloudTrail shows it: `rolemap-<ownerId>`. */
  readonly sessionName: string;
  /** Base credentials; the SDK's default chain when absent. Tests pass static dummy keys. */
  readonly credentials?: AwsCredentialIdentityProvider | undefined;
  /** Called once for each client built, e.g. to add an observing middleware (the daemon's throttle counter). */
  readonly onClient?: ((client: { readonly middlewareStack: unknown }, service: 'iam' | 'sts' | 'identitystore' | 'sso') => void) | undefined;
  /** Told of every call's end (answered or not): the endpoint circuit breaker. */
  readonly breaker?: EndpointBreaker | undefined;
}

type ClientConfig = {
  region: string;
  endpoint?: string;
  maxAttempts: number;
  retryMode: 'adaptive';
  credentials?: AwsCredentialIdentityProvider;
};

/** Refresh this long before the credentials expire (the SDK's own margin is five minutes as well). */
const REFRESH_MARGIN_MS = 5 * 60_000;

/**
 * One session for every client of an account: concurrent first calls wait for the same
 * `AssumeRole`, later calls reuse it until five minutes before it expires. A failed assume is
 * not cached.
 */
export function sharedAcrossClients(provider: AwsCredentialIdentityProvider, now: () => number = Date.now): AwsCredentialIdentityProvider {
  let cached: AwsCredentialIdentity | undefined;
  let inflight: Promise<AwsCredentialIdentity> | undefined;
  return async (options) => {
    const expiresAt = cached?.expiration?.getTime() ?? Number.POSITIVE_INFINITY;
    if (cached !== undefined && options?.forceRefresh !== true && now() < expiresAt - REFRESH_MARGIN_MS) return cached;
    inflight ??= provider(options)
      .then((c) => {
        cached = c;
        return c;
      })
      .finally(() => {
        inflight = undefined;
      });
    return inflight;
  };
}

/**
 * Credentials that are proven to act in `account`: after each fetch (the first, and every refresh),
 * `sts:GetCallerIdentity` with them must answer that account, or AccountMismatchError. A short-form
 * account (no assumeRoleArn) is read with the base credentials, so without this check two aliases
 * would read whichever account those act in, and roles there would flip between wanted and unwanted.
 * A failure to get the credentials (AssumeRole denied) becomes an AwsCallError naming sts:AssumeRole.
 */
export function verifiedFor(
  account: Account,
  provider: AwsCredentialIdentityProvider,
  stsFor: (credentials: AwsCredentialIdentity) => STSClient,
): AwsCredentialIdentityProvider {
  return async (options) => {
    let credentials: AwsCredentialIdentity;
    try {
      credentials = await provider(options);
    } catch (e) {
      throw AwsCallError.from(e, { service: 'sts', operation: account.assumeRoleArn ? 'AssumeRole' : 'credentials', account: account.id, resource: account.assumeRoleArn, completedRequestIds: [] });
    }
    const sts = stsFor(credentials);
    try {
      const who = await sts.send(new GetCallerIdentityCommand({})).catch((e: unknown) => {
        throw AwsCallError.from(e, { service: 'sts', operation: 'GetCallerIdentity', account: account.id, completedRequestIds: [] });
      });
      if (who.Account !== account.id) throw new AccountMismatchError(account.alias, account.id, who.Account ?? 'unknown', who.Arn);
    } finally {
      sts.destroy();
    }
    return credentials;
  };
}

/** Builds and caches one client per service and account. */
export class AwsClients {
  readonly #accounts: ReadonlyMap<AccountId, Account>;
  readonly #credentials = new Map<AccountId, AwsCredentialIdentityProvider | undefined>();
  readonly #iam = new Map<AccountId, IAMClient>();
  readonly #sts = new Map<AccountId, STSClient>();
  #identityStore: IdentitystoreClient | undefined;
  #ssoAdmin: SSOAdminClient | undefined;

  constructor(
    readonly settings: AwsSettings,
    accounts: readonly Account[],
    /** The account Identity Center lives in, if any. */
    readonly identityCenterAccount?: AccountId | undefined,
  ) {
    this.#accounts = new Map(accounts.map((a) => [a.id, a]));
  }

  #baseConfig(): ClientConfig {
    return {
      region: this.settings.region,
      ...(this.settings.endpoint ? { endpoint: this.settings.endpoint } : {}),
      maxAttempts: this.settings.maxAttempts,
      retryMode: 'adaptive',
      ...(this.settings.credentials ? { credentials: this.settings.credentials } : {}),
    };
  }

  /**
   * Credentials acting in `account`: the assumed role when the config names one, else the base chain;
   * either way verified with sts:GetCallerIdentity once per fetch (verifiedFor).
   */
  credentialsFor(account: AccountId): AwsCredentialIdentityProvider | undefined {
    if (this.#credentials.has(account)) return this.#credentials.get(account);
    const acct = this.#accounts.get(account);
    const base = this.#baseConfig();
    let provider: AwsCredentialIdentityProvider | undefined = this.settings.credentials;
    if (acct?.assumeRoleArn) {
      provider = fromTemporaryCredentials({
        params: {
          RoleArn: acct.assumeRoleArn,
          RoleSessionName: this.settings.sessionName,
          ...(acct.externalId ? { ExternalId: acct.externalId } : {}),
          DurationSeconds: 3600,
        },
        ...(this.settings.credentials ? { masterCredentials: this.settings.credentials } : {}),
        clientConfig: { region: base.region, ...(base.endpoint ? { endpoint: base.endpoint } : {}), maxAttempts: base.maxAttempts, retryMode: 'adaptive' },
      });
    }
    if (acct) {
      const stsFor = (credentials: AwsCredentialIdentity): STSClient => new STSClient({ ...base, credentials });
      provider = sharedAcrossClients(verifiedFor(acct, provider ?? fromNodeProviderChain(), stsFor));
    }
    this.#credentials.set(account, provider);
    return provider;
  }

  #configFor(account: AccountId): ClientConfig {
    const credentials = this.credentialsFor(account);
    return { ...this.#baseConfig(), ...(credentials ? { credentials } : {}) };
  }

  iam(account: AccountId): IAMClient {
    let c = this.#iam.get(account);
    if (!c) {
      c = new IAMClient(this.#configFor(account));
      nameAwsErrors(c.middlewareStack, 'iam', account, this.settings.breaker);
      this.settings.onClient?.(c, 'iam');
      this.#iam.set(account, c);
    }
    return c;
  }

  sts(account: AccountId): STSClient {
    let c = this.#sts.get(account);
    if (!c) {
      c = new STSClient(this.#configFor(account));
      nameAwsErrors(c.middlewareStack, 'sts', account, this.settings.breaker);
      this.settings.onClient?.(c, 'sts');
      this.#sts.set(account, c);
    }
    return c;
  }

  #icAccount(): AccountId {
    if (!this.identityCenterAccount) throw new Error('identityCenter.account is not configured');
    return this.identityCenterAccount;
  }

  identityStore(): IdentitystoreClient {
    if (!this.#identityStore) {
      this.#identityStore = new IdentitystoreClient(this.#configFor(this.#icAccount()));
      nameAwsErrors(this.#identityStore.middlewareStack, 'identitystore', this.#icAccount(), this.settings.breaker);
      this.settings.onClient?.(this.#identityStore, 'identitystore');
    }
    return this.#identityStore;
  }

  ssoAdmin(): SSOAdminClient {
    if (!this.#ssoAdmin) {
      this.#ssoAdmin = new SSOAdminClient(this.#configFor(this.#icAccount()));
      nameAwsErrors(this.#ssoAdmin.middlewareStack, 'sso', this.#icAccount(), this.settings.breaker);
      this.settings.onClient?.(this.#ssoAdmin, 'sso');
    }
    return this.#ssoAdmin;
  }

  destroy(): void {
    for (const c of [...this.#iam.values(), ...this.#sts.values()]) c.destroy();
    this.#identityStore?.destroy();
    this.#ssoAdmin?.destroy();
  }
}
