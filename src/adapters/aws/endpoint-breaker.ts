/**
 * A circuit breaker per AWS endpoint (service): after `threshold` consecutive calls that got no
 * answer at all (connection refused or reset, timeouts: the SDK's own retries already spent), the
 * endpoint is taken as down and rolemap stops sending to it for the rest of the run. The changes
 * left for it are skipped with the cause, said once, instead of each being tried and failing on
 * "connection refused" (2,013 of them, over 103 s, in the review). One answered call closes it.
 */
import type { AwsCallError } from './call-error.js';

export const DEFAULT_BREAKER_THRESHOLD = 3;

export class EndpointBreaker {
  readonly #threshold: number;
  readonly #consecutive = new Map<string, number>();
  readonly #open = new Map<string, string>();

  constructor(threshold = DEFAULT_BREAKER_THRESHOLD) {
    this.#threshold = Math.max(1, threshold);
  }

  /** An answered call (success, or an AWS error answer): the endpoint is up. */
  answered(service: string): void {
    this.#consecutive.set(service, 0);
    this.#open.delete(service);
  }

  /** A call that failed: counted when it got no answer (a retryable network failure). */
  failed(error: AwsCallError): void {
    if (!(error.class.network && error.retryable)) {
      if (error.httpStatus !== undefined) this.answered(error.service);
      return;
    }
    const n = (this.#consecutive.get(error.service) ?? 0) + 1;
    this.#consecutive.set(error.service, n);
    if (n >= this.#threshold && !this.#open.has(error.service)) {
      this.#open.set(error.service, `not sent: ${error.service} is unreachable (${n} consecutive calls got no answer; the last: ${error.message})`);
    }
  }

  /** Why changes that need any of `services` are not sent now, or undefined when all are up. */
  openFor(services: readonly string[]): string | undefined {
    for (const s of services) {
      const why = this.#open.get(s);
      if (why !== undefined) return why;
    }
    return undefined;
  }
}
