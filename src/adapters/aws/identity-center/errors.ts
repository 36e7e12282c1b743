/**
 * Typed errors of the Identity Center target. Each carries the AWS request id (when AWS gave one),
 * AWS's error code, whether a retry may help, and the object it concerns.
 */
import { RolemapError } from '../../../core/errors.js';
import { AwsCallError, classifyAwsError } from '../call-error.js';

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

/** A change that would touch an object rolemap does not own, without the role map's opt-in. */
export class NotOwnedError extends IdentityCenterError {
  constructor(subject: string, message: string, aws?: { requestId?: string | undefined; cause?: unknown }) {
    super(message, { code: 'NotOwned', retryable: false, subject, requestId: aws?.requestId, cause: aws?.cause });
  }
}

/**
 * AWS's error (or a network failure) as an IdentityCenterError naming the subject. The message is
 * the AWS call's own (service:operation, HTTP status, AWS code, request id; see AwsCallError), the
 * classification the one in call-error.ts.
 */
export function toIdentityCenterError(e: unknown, subject: string, operation: string): IdentityCenterError {
  if (e instanceof IdentityCenterError) return e;
  const aws = e instanceof AwsCallError ? AwsCallError.from(e, { ...e.facts(), resource: e.resource ?? subject }) : undefined;
  const c = classifyAwsError(e);
  const message = aws ? aws.message : `${operation} for ${subject} failed: ${c.code}: ${c.message}`;
  return new IdentityCenterError(message, { code: c.code, requestId: c.requestId, retryable: c.retryable, subject, cause: e });
}
