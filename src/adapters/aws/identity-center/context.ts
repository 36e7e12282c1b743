/**
 * What every Identity Center resource kind shares: the two clients (behind one token bucket and one call
 * counter), the ownership registry, the settings taken from the role map, the ids learnt while reading and
 * creating, and the helpers for AWS's rules (request ids, ConflictException retry, polling asynchronous requests).
 */
import type { IdentitystoreClient } from '@aws-sdk/client-identitystore';
import type { SSOAdminClient } from '@aws-sdk/client-sso-admin';
import type { AccountId, RoleMap } from '../../../core/model/role-map.js';
import type { OwnershipRegistry } from '../../../core/ports.js';
import { awsErrorName, awsErrorReason } from '../call-error.js';
import { backoffDelay, KeyedRwLock, Semaphore, sleep } from './async-tools.js';
import type { Backoff } from './async-tools.js';
import { AsyncRequestFailedError, IdentityCenterError } from './errors.js';
import { CallCounter, rateLimitPlugin, TokenBucket } from './rate-limiter.js';

export interface IdentityCenterTargetOptions {
  readonly identityStore: IdentitystoreClient;
  readonly ssoAdmin: SSOAdminClient;
  /** Which identity store users rolemap created or adopted (the journal's table; in memory for tests). */
  readonly registry: OwnershipRegistry;
  /** The role map, when apply may run before readActual (a saved plan). readActual replaces it. */
  readonly roleMap?: RoleMap | undefined;
  /** Client-side limit shared by both clients: AWS allows 20 requests per second for all Identity Center APIs. */
  readonly rateLimit?: { readonly rps: number; readonly burst?: number | undefined } | undefined;
  /** Assignment operations in flight at once (AWS: at most 10 outstanding CreateAccountAssignment). */
  readonly maxAssignmentsInFlight?: number | undefined;
  /** Polling of asynchronous requests. */
  readonly poll?: (Backoff & { readonly timeoutMs: number }) | undefined;
  /** Retrying ConflictException (a concurrent operation on the same permission set). */
  readonly conflictRetry?: (Backoff & { readonly attempts: number }) | undefined;
  /** List calls in flight at once while reading (memberships, permission sets). */
  readonly readConcurrency?: number | undefined;
}

export interface Settings {
  readonly instanceArn: string;
  readonly identityStoreId: string;
  readonly account: AccountId;
  readonly ownerId: string;
  readonly adoptUsers: boolean;
  readonly adoptGroups: boolean;
  readonly accounts: readonly AccountId[];
  readonly aliases: ReadonlyMap<AccountId, string>;
  readonly configuredPermissionSets: ReadonlySet<string>;
}

/** The id prefix of objects rolemap does not own: `unowned:<AWS id>`. */
export const UNOWNED = 'unowned:';

export function settingsFrom(roleMap: RoleMap): Settings | null {
  const ic = roleMap.identityCenter;
  if (!ic) return null;
  const accounts = new Set<AccountId>(roleMap.accounts.map((a) => a.id));
  for (const a of ic.assignments) for (const id of a.accounts) accounts.add(id);
  return {
    instanceArn: ic.instanceArn,
    identityStoreId: ic.identityStoreId,
    account: ic.account,
    ownerId: roleMap.safety.ownerId,
    adoptUsers: ic.adoptUsers,
    adoptGroups: ic.adoptGroups,
    accounts: [...accounts].sort(),
    aliases: new Map(roleMap.accounts.map((a) => [a.id, a.alias])),
    configuredPermissionSets: new Set(ic.permissionSets.map((p) => p.name)),
  };
}

/** Whether an SDK error is one of the named AWS errors (`awsErrorName`, shared with the IAM targets). */
export function isName(e: unknown, ...names: string[]): boolean {
  const name = awsErrorName(e);
  return name !== undefined && names.includes(name);
}

export type Meta = { $metadata: { requestId?: string | undefined } };

/** What SSO Admin's Describe*Status calls return about an asynchronous request. */
export type AsyncRequestStatus = { readonly Status?: string | undefined; readonly FailureReason?: string | undefined };

/** What applying one change collects for its outcome: AWS request ids and details for the journal. */
export interface ApplyLog {
  readonly requestIds: string[];
  readonly detail: Record<string, string>;
}

export class IdentityCenterContext {
  readonly ids: IdentitystoreClient;
  readonly sso: SSOAdminClient;
  readonly registry: OwnershipRegistry;
  readonly counter = new CallCounter();
  /** Assignment operations in flight at once. */
  readonly assignments: Semaphore;
  /** Per permission set: its own changes exclusive, assignments on it shared (no self-inflicted conflicts). */
  readonly psLock = new KeyedRwLock();
  /**
   * Per account: a re-provisioning holds every account it reaches, because AWS updates one permission
   * set in an account at a time (Identity Center quotas) and answers a second with ConflictException.
   */
  readonly accountLock = new KeyedRwLock();
  readonly poll: Backoff & { readonly timeoutMs: number };
  readonly conflict: Backoff & { readonly attempts: number };
  readonly readConcurrency: number;
  settings: Settings | null;

  /** AD guid (or `unowned:<id>`) -> AWS id, learnt while reading and creating. */
  readonly userIds = new Map<string, string>();
  readonly groupIds = new Map<string, string>();
  /** Permission set name -> ARN. */
  readonly psArns = new Map<string, string>();
  /** The one read of users and groups a saved plan's apply makes to learn their ids (until the next readActual). */
  rescan: Promise<void> | undefined;

  constructor(options: IdentityCenterTargetOptions) {
    this.ids = options.identityStore;
    this.sso = options.ssoAdmin;
    this.registry = options.registry;
    this.settings = options.roleMap ? settingsFrom(options.roleMap) : null;
    this.assignments = new Semaphore(options.maxAssignmentsInFlight ?? 10);
    this.poll = options.poll ?? { initialMs: 1000, maxMs: 10_000, timeoutMs: 15 * 60_000 };
    this.conflict = options.conflictRetry ?? { initialMs: 1000, maxMs: 20_000, attempts: 8 };
    this.readConcurrency = options.readConcurrency ?? 8;
    const bucket = new TokenBucket(options.rateLimit?.rps ?? 20, options.rateLimit?.burst);
    this.ids.middlewareStack.use(rateLimitPlugin(bucket, this.counter));
    this.sso.middlewareStack.use(rateLimitPlugin(bucket, this.counter));
  }

  /** The settings, or a typed error when the role map has no identityCenter section. */
  s(): Settings {
    if (!this.settings) throw new IdentityCenterError('identityCenter is not configured in the role map', { code: 'NotConfigured', retryable: false, subject: 'identityCenter' });
    return this.settings;
  }

  /** Forgets every learnt id; the next read or apply starts from AWS. */
  clearIds(): void {
    this.rescan = undefined;
    this.userIds.clear();
    this.groupIds.clear();
    this.psArns.clear();
  }

  rid(out: Meta, requestIds: string[]): void {
    if (out.$metadata.requestId) requestIds.push(out.$metadata.requestId);
  }

  /** Retries ConflictException (a concurrent operation) with backoff; an Identity Store uniqueness conflict is final. */
  async retryConflict<T>(fn: () => Promise<T>, signal?: AbortSignal): Promise<T> {
    for (let attempt = 0; ; attempt++) {
      try {
        return await fn();
      } catch (e) {
        const uniqueness = awsErrorReason(e) === 'UNIQUENESS_CONSTRAINT_VIOLATION';
        if (!isName(e, 'ConflictException') || uniqueness || attempt + 1 >= this.conflict.attempts) throw e;
        await sleep(backoffDelay(this.conflict, attempt), signal);
      }
    }
  }

  /**
   * Polls an asynchronous SSO Admin request with backoff until it leaves IN_PROGRESS (or times out, naming
   * `what`); FAILED becomes an AsyncRequestFailedError naming `subject`. Returns the final status.
   */
  async pollUntilDone(
    request: { readonly what: string; readonly subject: string; readonly operation: string; readonly asyncId: string; readonly httpRequestId: string | undefined },
    signal: AbortSignal | undefined,
    describe: () => Promise<AsyncRequestStatus | undefined>,
  ): Promise<string> {
    const started = Date.now();
    for (let attempt = 0; ; attempt++) {
      await sleep(backoffDelay(this.poll, attempt), signal);
      const st = await describe();
      const status = st?.Status ?? 'IN_PROGRESS';
      if (status === 'FAILED') throw new AsyncRequestFailedError(request.subject, request.operation, request.asyncId, st?.FailureReason ?? 'no reason given', request.httpRequestId);
      if (status !== 'IN_PROGRESS') return status;
      if (Date.now() - started > this.poll.timeoutMs) {
        throw new IdentityCenterError(`${request.what}: still IN_PROGRESS after ${this.poll.timeoutMs} ms`, { code: 'PollTimeout', retryable: true, subject: request.what });
      }
    }
  }
}
