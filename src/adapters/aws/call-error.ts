/**
 * A failed AWS call, as a typed rolemap error: which service and operation, account and object,
 * the HTTP status, AWS's error code and request id, the request ids of the calls that succeeded before it in the
 * same change (for the journal), and whether a later retry is worth it (throttling, 5xx, a
 * dropped connection: the SDK's own retries were already spent).
 */
import { RolemapError } from '../../core/errors.js';

/**
 * Throttling error codes: those the SDK's retry strategy recognises (and HTTP 429). The one list
 * rolemap has; the daemon's throttle counter and every target's errors classify with it.
 */
const THROTTLING_CODES = new Set([
  'BandwidthLimitExceeded',
  'EC2ThrottledException',
  'LimitExceededException',
  'PriorRequestNotComplete',
  'ProvisionedThroughputExceededException',
  'RequestLimitExceeded',
  'RequestThrottled',
  'RequestThrottledException',
  'SlowDown',
  'ThrottledException',
  'Throttling',
  'ThrottlingException',
  'TooManyRequestsException',
  'TransactionInProgressException',
]);
/** Conflicts and server trouble that go away by themselves (compared without an `Exception` suffix). */
const TRANSIENT_CODES = new Set(['ConcurrentModification', 'Conflict', 'ServiceFailure', 'InternalFailure', 'InternalServer', 'ServiceUnavailable', 'TimeoutError', 'RequestTimeout', 'EntityTemporarilyUnmodifiable']);
/** Failures to reach the endpoint at all (the request never got an answer). */
const NETWORK_CODES = new Set(['ECONNRESET', 'ECONNREFUSED', 'EPIPE', 'ETIMEDOUT', 'EAI_AGAIN', 'ENOTFOUND', 'EHOSTUNREACH', 'ENETUNREACH', 'UND_ERR_SOCKET']);

export interface AwsCallFacts {
  /** The IAM action prefix of the service: iam, sts, identitystore, sso. */
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
  cause?: unknown;
  $fault?: unknown;
  $retryable?: { throttling?: boolean } | unknown;
  $metadata?: { requestId?: unknown; httpStatusCode?: unknown };
  $response?: { headers?: Record<string, string | undefined> };
}

/** What kind of failure an SDK error is: the one classifier (targets, throttle counter, circuit breaker). */
export interface AwsErrorClass {
  /** AWS's error code, the network errno, `NonJsonBody` / `UnknownError` when AWS gave none. */
  readonly code: string;
  readonly httpStatus: number | undefined;
  readonly requestId: string | undefined;
  /** AWS answered with a throttling error. */
  readonly throttling: boolean;
  /** The endpoint could not be reached or the connection broke: no answer at all. */
  readonly network: boolean;
  /** A later attempt may succeed (throttling, 5xx, a conflict, a dropped connection). */
  readonly retryable: boolean;
  /** The answer was not AWS's (an HTML page from a proxy): the SDK could not parse it. */
  readonly unparsable: boolean;
  /** The answer's content type, when it was unparsable. */
  readonly contentType: string | undefined;
  readonly message: string;
}

function errnoOf(e: SdkErrorShape): string | undefined {
  if (typeof e.code === 'string' && NETWORK_CODES.has(e.code)) return e.code;
  const cause = e.cause as SdkErrorShape | undefined;
  if (cause && typeof cause === 'object' && typeof cause.code === 'string' && NETWORK_CODES.has(cause.code)) return cause.code;
  return undefined;
}

export function classifyAwsError(error: unknown): AwsErrorClass {
  if (error instanceof AwsCallError) return error.class;
  const e = (typeof error === 'object' && error !== null ? error : {}) as SdkErrorShape;
  const errno = errnoOf(e);
  const httpStatus = typeof e.$metadata?.httpStatusCode === 'number' ? e.$metadata.httpStatusCode : undefined;
  const requestId = typeof e.$metadata?.requestId === 'string' ? e.$metadata.requestId : undefined;
  const name = typeof e.name === 'string' ? e.name : undefined;
  // The SDK's JSON deserializer meeting an HTML page throws a bare SyntaxError; the query one, `Unknown`.
  const unparsable = name === 'SyntaxError' || (httpStatus !== undefined && (name === 'Unknown' || name === undefined) && errno === undefined);
  const code = errno ?? (unparsable ? 'NonJsonBody' : (name ?? (typeof e.Code === 'string' ? e.Code : 'UnknownError')));
  const bare = code.replace(/Exception$/, '');
  const throttling = (e.$retryable as { throttling?: boolean } | undefined)?.throttling === true || httpStatus === 429 || THROTTLING_CODES.has(code) || (typeof e.Code === 'string' && THROTTLING_CODES.has(e.Code));
  const network = errno !== undefined || (error instanceof Error && /socket hang up|ECONNRESET|ECONNREFUSED/i.test(error.message));
  const retryable =
    e.$retryable !== undefined || e.$fault === 'server' || throttling || network || TRANSIENT_CODES.has(code) || TRANSIENT_CODES.has(bare) || (httpStatus !== undefined && httpStatus >= 500);
  const headers = e.$response?.headers ?? {};
  const contentType = unparsable ? (headers['content-type'] ?? headers['Content-Type']) : undefined;
  const raw = typeof e.message === 'string' ? e.message : String(error);
  const what = name === 'SyntaxError' ? 'a non-JSON body' : 'a body without an AWS error';
  const message = unparsable ? `${what}${contentType ? ` (${contentType})` : ''}` : raw;
  return { code, httpStatus, requestId, throttling, network, retryable, unparsable, contentType, message };
}

/** "identitystore:UpdateUser answered HTTP 500 with a non-JSON body", "iam:GetRole answered HTTP 404 NoSuchEntity: ...". */
function describe(facts: AwsCallFacts, c: AwsErrorClass): string {
  const call = `${facts.service}:${facts.operation}`;
  const where = facts.resource ? ` for ${facts.resource} in account ${facts.account}` : ` in account ${facts.account}`;
  const rid = facts.requestId ? ` (request id ${facts.requestId})` : '';
  if (c.network) return `${call}${where} got no answer: ${c.code}: ${c.message}`;
  if (c.unparsable) return `${call}${where} answered HTTP ${facts.httpStatus ?? '?'} with ${c.message}${rid}`;
  if (facts.httpStatus === undefined) return `${call}${where} failed: ${c.code}: ${c.message}${rid}`;
  return `${call}${where} answered HTTP ${facts.httpStatus} ${c.code}: ${c.message}${rid}`;
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
  /** How the error was classified. */
  readonly class: AwsErrorClass;

  constructor(facts: AwsCallFacts, klass: AwsErrorClass, options?: { cause?: unknown; message?: string }) {
    super(options?.message ?? describe(facts, klass), options);
    this.class = klass;
    this.retryable = klass.retryable;
    this.service = facts.service;
    this.operation = facts.operation;
    this.account = facts.account;
    this.resource = facts.resource;
    this.code = facts.code;
    this.requestId = facts.requestId;
    this.httpStatus = facts.httpStatus;
    this.completedRequestIds = facts.completedRequestIds;
  }

  /**
   * Wraps whatever the SDK threw. An AwsCallError already made (by the naming middleware every
   * client carries) keeps its service and operation and gains the resource and request ids it lacked.
   */
  static from(error: unknown, context: Omit<AwsCallFacts, 'code' | 'requestId' | 'httpStatus'>): AwsCallError {
    if (error instanceof AwsCallError) {
      if ((error.resource !== undefined || context.resource === undefined) && error.completedRequestIds.length >= context.completedRequestIds.length) return error;
      const facts = { ...error.facts(), resource: error.resource ?? context.resource, completedRequestIds: context.completedRequestIds.length > error.completedRequestIds.length ? context.completedRequestIds : error.completedRequestIds };
      return new AwsCallError(facts, error.class, { cause: error.cause, ...(error instanceof AccountMismatchError ? { message: error.message } : {}) });
    }
    const c = classifyAwsError(error);
    return new AwsCallError({ ...context, code: c.code, requestId: c.requestId, httpStatus: c.httpStatus }, c, { cause: error });
  }

  facts(): AwsCallFacts {
    return { service: this.service, operation: this.operation, account: this.account, resource: this.resource, code: this.code, requestId: this.requestId, httpStatus: this.httpStatus, completedRequestIds: this.completedRequestIds };
  }
}

/**
 * An SDK middleware that turns every failure of a client's calls into an AwsCallError naming the
 * service (IAM action prefix), the operation (`UpdateUser`), HTTP status, AWS's code and request id.
 * Added outermost, so it sees the error after the SDK's own retries.
 */
export function nameAwsErrors(
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  stack: { add(middleware: any, options: { step: 'initialize'; name: string; priority: 'high'; override: boolean }): void },
  service: string,
  account: string,
  /** Told of every call's end, after the SDK's retries (the endpoint circuit breaker). */
  observer?: { answered(service: string): void; failed(error: AwsCallError): void } | undefined,
): void {
  stack.add(
    (next: (args: unknown) => Promise<unknown>, context: { commandName?: string }) => async (args: unknown) => {
      try {
        const out = await next(args);
        observer?.answered(service);
        return out;
      } catch (e) {
        const error = AwsCallError.from(e, { service, operation: (context.commandName ?? 'call').replace(/Command$/, ''), account, completedRequestIds: [] });
        observer?.failed(error);
        throw error;
      }
    },
    { step: 'initialize', name: 'rolemapNameAwsErrors', priority: 'high', override: true },
  );
}

/** The AWS error code of an SDK error (`NoSuchEntityException` -> its name), for branching on expected errors. */
export function awsErrorName(error: unknown): string | undefined {
  if (error instanceof AwsCallError) return error.code;
  if (typeof error !== 'object' || error === null) return undefined;
  const e = error as SdkErrorShape;
  return typeof e.name === 'string' ? e.name : undefined;
}

/** The `Reason` field some AWS errors carry (Identity Store's UNIQUENESS_CONSTRAINT_VIOLATION). */
export function awsErrorReason(error: unknown): string | undefined {
  const e = (error instanceof AwsCallError ? error.cause : error) as { Reason?: unknown } | null | undefined;
  return typeof e?.Reason === 'string' ? e.Reason : undefined;
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

/**
 * The credentials for an account act in another one (a short-form account read with base
 * credentials of a different account, or an assumeRoleArn naming the wrong account). Nothing is
 * read or changed there with them.
 */
export class AccountMismatchError extends AwsCallError {
  constructor(
    readonly alias: string,
    readonly expected: string,
    readonly actual: string,
    arn?: string | undefined,
  ) {
    const message =
      `account ${alias}: the role map says ${expected}, but the credentials act in ${actual}${arn ? ` (${arn})` : ''}; ` +
      `give the account an assumeRoleArn in ${expected}, or correct its id`;
    const klass: AwsErrorClass = { code: 'AccountMismatch', httpStatus: undefined, requestId: undefined, throttling: false, network: false, retryable: false, unparsable: false, contentType: undefined, message };
    super({ service: 'sts', operation: 'GetCallerIdentity', account: expected, code: 'AccountMismatch', completedRequestIds: [] }, klass, { message });
  }
}
