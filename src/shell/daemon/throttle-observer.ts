/**
 * Counts throttled AWS attempts for the daemon's `rolemap_aws_throttle_retries_total`: an SDK v3
 * middleware placed just inside the SDK's own retry middleware, so it sees every attempt, and
 * reports each attempt AWS answered with a throttling error (the SDK's `adaptive` retry then backs
 * off and retries it). It only observes: it never retries, delays or changes a request.
 */
import { classifyAwsError } from '../../adapters/aws/call-error.js';
import type { FinalizeHandler, FinalizeHandlerArguments, FinalizeRequestMiddleware, MiddlewareStack } from '@smithy/types';

/** A throttled attempt, by the one AWS error classifier rolemap has. */
export function isThrottlingError(e: unknown): boolean {
  return classifyAwsError(e).throttling;
}

export const THROTTLE_OBSERVER_NAME = 'rolemapThrottleObserver';

/** Adds the observer to a client (any SDK v3 client: pass `client.middlewareStack`). Idempotent. */
export function observeThrottling(
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  stack: MiddlewareStack<any, any>,
  service: string,
  onThrottle: (service: string) => void,
): void {
  if (stack.identify().some((m) => m.startsWith(THROTTLE_OBSERVER_NAME))) return;
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  const middleware: FinalizeRequestMiddleware<any, any> = (next: FinalizeHandler<any, any>) => async (args: FinalizeHandlerArguments<any>) => {
    try {
      return await next(args);
    } catch (e) {
      if (isThrottlingError(e)) onThrottle(service);
      throw e;
    }
  };
  stack.addRelativeTo(
    middleware,
    { relation: 'after', toMiddleware: 'retryMiddleware', name: THROTTLE_OBSERVER_NAME, override: true },
  );
}
