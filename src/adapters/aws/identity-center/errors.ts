/**
 * Typed errors of the Identity Center target. Each carries the AWS request id (when AWS gave one),
 * AWS's error code, whether a retry may help, and the object it concerns.
 */
import { RolemapError } from '../../../core/errors.js';

export class IdentityCenterError extends RolemapError {
  readonly retryable: boolean;
  readonly code: string;
  readonly requestId: string | undefined;
  /** The resource address (`identitystore_user.jdoe`) or the operation it concerns. */
  readonly subject: string;
  /** Request ids of the mutating calls that succeeded within the change before it failed (for the journal). */
  requestIds: readonly string[] = [];
  constructor(message: string, details: { code: string; requestId?: string | undefined; retryable: boolean; subject: string; cause?: unknown }) {
    super(message, { cause: details.cause });
    this.code = details.code;
    this.requestId = details.requestId;
    this.retryable = details.retryable;
    this.subject = details.subject;
  }
}

/** An asynchronous SSO Admin request (assignment, provisioning) ended FAILED: carries AWS's FailureReason. */
export class AsyncRequestFailedError extends IdentityCenterError {
  readonly failureReason: string;
  /** SSO Admin's id of the asynchronous request (what Describe*Status takes). */
  readonly asyncRequestId: string;
  constructor(subject: string, operation: string, asyncRequestId: string, failureReason: string, httpRequestId: string | undefined) {
    super(`${operation} for ${subject} FAILED (request ${asyncRequestId}): ${failureReason}`, {
      code: `${operation}Failed`,
      requestId: httpRequestId,
      retryable: false,
      subject,
    });
    this.failureReason = failureReason;
    this.asyncRequestId = asyncRequestId;
  }
}

/**
 * A permission set's inline policy would exceed Identity Center's 10,240-character quota with the wanted
 * revocation statements: refused before any call, so the set keeps the policy it has.
 */
export class InlinePolicyQuotaError extends IdentityCenterError {
  constructor(
    subject: string,
    readonly permissionSet: string,
    readonly size: number,
    readonly quota: number,
  ) {
    super(`${subject}: the inline policy of permission set ${permissionSet} would be ${size} non-whitespace characters with the revocations, over Identity Center's quota of ${quota}; nothing was changed`, {
      code: 'InlinePolicyQuotaExceeded',
      retryable: false,
      subject,
    });
  }
}

/** A change that would touch an object rolemap does not own, without the role map's opt-in. */
export class NotOwnedError extends IdentityCenterError {
  constructor(subject: string, message: string, aws?: { requestId?: string | undefined; cause?: unknown }) {
    super(message, { code: 'NotOwned', retryable: false, subject, requestId: aws?.requestId, cause: aws?.cause });
  }
}

interface SdkErrorLike {
  name?: string;
  message?: string;
  $fault?: 'client' | 'server';
  $retryable?: unknown;
  $metadata?: { requestId?: string; httpStatusCode?: number };
}

/** AWS's error (or a network failure) as an IdentityCenterError naming the subject. */
export function toIdentityCenterError(e: unknown, subject: string, operation: string): IdentityCenterError {
  if (e instanceof IdentityCenterError) return e;
  const err = (typeof e === 'object' && e !== null ? e : {}) as SdkErrorLike;
  const code = err.name ?? 'Error';
  const status = err.$metadata?.httpStatusCode;
  const network = (err as { code?: string }).code;
  const retryable =
    err.$retryable !== undefined ||
    err.$fault === 'server' ||
    (status !== undefined && status >= 500) ||
    ['ThrottlingException', 'ConflictException', 'InternalServerException', 'TimeoutError'].includes(code) ||
    (network !== undefined && ['ECONNRESET', 'ECONNREFUSED', 'EPIPE', 'ETIMEDOUT', 'EAI_AGAIN'].includes(network));
  return new IdentityCenterError(`${operation} for ${subject} failed: ${code}: ${err.message ?? String(e)}`, {
    code,
    requestId: err.$metadata?.requestId,
    retryable,
    subject,
    cause: e,
  });
}
