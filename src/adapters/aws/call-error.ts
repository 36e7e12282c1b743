/**
 * A failed AWS call, as a typed rolemap error: which service, operation, account and object,
 * AWS's error code and request id, the request ids of the calls that succeeded before it in the
 * same change (for the journal), and whether a later retry is worth it (throttling, 5xx, a
 * dropped connection: the SDK's own retries were already spent).
 */
import { RolemapError } from '../../core/errors.js';

const THROTTLING_CODES = new Set([
  'Throttling',
  'ThrottlingException',
  'ThrottledException',
  'TooManyRequestsException',
  'RequestLimitExceeded',
  'RequestThrottled',
  'RequestThrottledException',
  'SlowDown',
  'PriorRequestNotComplete',
]);
/** Conflicts and server trouble that go away by themselves (compared without an `Exception` suffix). */
const TRANSIENT_CODES = new Set(['ConcurrentModification', 'ServiceFailure', 'InternalFailure', 'InternalServer', 'ServiceUnavailable', 'TimeoutError', 'RequestTimeout', 'EntityTemporarilyUnmodifiable']);
const NETWORK_CODES = new Set(['ECONNRESET', 'ECONNREFUSED', 'EPIPE', 'ETIMEDOUT', 'EAI_AGAIN', 'ENOTFOUND', 'UND_ERR_SOCKET']);

export interface AwsCallFacts {
  readonly service: string;
  readonly operation: string;
  readonly account: string;
  /** The object the call was about, e.g. `iam_role.222222222222.Admin`. */
  readonly resource?: string | undefined;
  /** The SDK's error name (`NoSuchEntityException`, `Throttling`) or the network error code (`ECONNRESET`). */
  readonly code: string;
  readonly requestId?: string | undefined;
  readonly httpStatus?: number | undefined;
  /** Request ids of the mutating calls that succeeded before this one in the same change. */
  readonly completedRequestIds: readonly string[];
}

interface SdkErrorShape {
  name?: unknown;
  code?: unknown;
  Code?: unknown;
  message?: unknown;
  $retryable?: unknown;
  $metadata?: { requestId?: unknown; httpStatusCode?: unknown };
}

export class AwsCallError extends RolemapError {
  readonly retryable: boolean;
  readonly service: string;
  readonly operation: string;
  readonly account: string;
  readonly resource: string | undefined;
  readonly code: string;
  readonly requestId: string | undefined;
  readonly httpStatus: number | undefined;
  readonly completedRequestIds: readonly string[];

  constructor(facts: AwsCallFacts, retryable: boolean, message: string, options?: { cause?: unknown }) {
    const where = facts.resource ? `${facts.resource} in account ${facts.account}` : `account ${facts.account}`;
    super(`${facts.service} ${facts.operation} failed for ${where}: ${facts.code}: ${message}${facts.requestId ? ` (request id ${facts.requestId})` : ''}`, options);
    this.retryable = retryable;
    this.service = facts.service;
    this.operation = facts.operation;
    this.account = facts.account;
    this.resource = facts.resource;
    this.code = facts.code;
    this.requestId = facts.requestId;
    this.httpStatus = facts.httpStatus;
    this.completedRequestIds = facts.completedRequestIds;
  }

  /** Wraps whatever the SDK threw. */
  static from(error: unknown, context: Omit<AwsCallFacts, 'code' | 'requestId' | 'httpStatus'>): AwsCallError {
    if (error instanceof AwsCallError) return error;
    const e = (typeof error === 'object' && error !== null ? error : {}) as SdkErrorShape;
    // The SDK's error name: the modelled exception (`NoSuchEntityException`) or AWS's code (`Throttling`);
    // a network failure carries its errno code instead.
    const errno = typeof e.code === 'string' ? e.code : undefined;
    const code = errno !== undefined && NETWORK_CODES.has(errno) ? errno : String(e.name ?? errno ?? 'UnknownError');
    const requestId = typeof e.$metadata?.requestId === 'string' ? e.$metadata.requestId : undefined;
    const httpStatus = typeof e.$metadata?.httpStatusCode === 'number' ? e.$metadata.httpStatusCode : undefined;
    const bare = code.replace(/Exception$/, '');
    const retryable =
      e.$retryable !== undefined ||
      THROTTLING_CODES.has(code) ||
      TRANSIENT_CODES.has(code) ||
      TRANSIENT_CODES.has(bare) ||
      NETWORK_CODES.has(code) ||
      (httpStatus !== undefined && httpStatus >= 500) ||
      (error instanceof Error && /socket hang up|aborted|ECONNRESET/i.test(error.message));
    const message = typeof e.message === 'string' ? e.message : String(error);
    return new AwsCallError({ ...context, code, requestId, httpStatus }, retryable, message, { cause: error });
  }
}

/** The AWS error code of an SDK error (`NoSuchEntityException` -> its name), for branching on expected errors. */
export function awsErrorName(error: unknown): string | undefined {
  if (typeof error !== 'object' || error === null) return undefined;
  const e = error as SdkErrorShape;
  return typeof e.name === 'string' ? e.name : undefined;
}

/**
 * Sends mutating calls for one change and keeps their request ids in order; a failure becomes an
 * `AwsCallError` that carries the ids of the calls that succeeded before it.
 */
export class CallRecorder {
  readonly requestIds: string[] = [];
  constructor(
    readonly service: string,
    readonly account: string,
    readonly resource: string | undefined,
  ) {}

  async send<T extends { $metadata: { requestId?: string | undefined } }>(operation: string, call: () => Promise<T>): Promise<T> {
    try {
      const out = await call();
      if (out.$metadata.requestId) this.requestIds.push(out.$metadata.requestId);
      return out;
    } catch (error) {
      throw this.wrap(operation, error);
    }
  }

  wrap(operation: string, error: unknown): AwsCallError {
    return AwsCallError.from(error, { service: this.service, operation, account: this.account, resource: this.resource, completedRequestIds: [...this.requestIds] });
  }
}
