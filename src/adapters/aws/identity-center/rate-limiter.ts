/**
 * One client-side rate limit for every Identity Center API call: Identity Store and SSO Admin share
 * AWS's 20 requests per second, so both clients take their tokens from one bucket. It is SDK middleware
 * placed after the SDK's retry middleware, so every attempt (retries included) waits for a token, and the
 * SDK's `adaptive` retry still backs off on top of it when AWS throttles anyway (another tool, the console).
 *
 * The same middleware counts attempts per operation, for the benchmarks and the run summary.
 */
import type { FinalizeRequestMiddleware, MetadataBearer, Pluggable } from '@smithy/types';

/** A token bucket as a virtual schedule (GCRA): callers reserve their slot synchronously and wait for it. */
export class TokenBucket {
  readonly #intervalMs: number;
  readonly #toleranceMs: number;
  #tat = 0;

  constructor(
    readonly rps: number,
    /**
     * Half a second's worth by default: less than the server's bucket, so that requests of a burst that
     * reach AWS late (a new connection) leave room for the next ones that reach it on time.
     */
    readonly burst: number = Math.max(1, Math.floor(rps / 2)),
  ) {
    if (!(rps > 0)) throw new RangeError(`rate must be positive, got ${rps}`);
    this.#intervalMs = 1000 / rps;
    this.#toleranceMs = (Math.max(1, burst) - 1) * this.#intervalMs;
  }

  /** How long the caller must wait for its token (the slot is reserved). */
  reserve(now: number = Date.now()): number {
    this.#tat = Math.max(this.#tat, now);
    const wait = Math.max(0, this.#tat - this.#toleranceMs - now);
    this.#tat += this.#intervalMs;
    return wait;
  }

  async take(): Promise<void> {
    const wait = this.reserve();
    // +1 ms: Node's timers may fire up to a millisecond early against Date.now(), which would put the
    // request a hair ahead of a server bucket that refills at exactly the same rate.
    if (wait > 0) await new Promise((r) => setTimeout(r, wait + 1));
  }
}

/** Calls per operation (each attempt, as AWS sees it). */
export class CallCounter {
  #counts = new Map<string, number>();
  add(operation: string): void {
    this.#counts.set(operation, (this.#counts.get(operation) ?? 0) + 1);
  }
  snapshot(): Record<string, number> {
    return Object.fromEntries([...this.#counts].sort(([a], [b]) => (a < b ? -1 : 1)));
  }
  total(): number {
    let n = 0;
    for (const v of this.#counts.values()) n += v;
    return n;
  }
  reset(): void {
    this.#counts = new Map();
  }
}

export const RATE_LIMIT_MIDDLEWARE = 'rolemapIdentityCenterRateLimit';

/** The SDK plugin: `client.middlewareStack.use(rateLimitPlugin(bucket, counter))` on both clients. */
export function rateLimitPlugin<I extends object, O extends MetadataBearer>(bucket: TokenBucket, counter?: CallCounter): Pluggable<I, O> {
  const middleware: FinalizeRequestMiddleware<I, O> = (next, context) => async (args) => {
    await bucket.take();
    counter?.add(String(context['commandName'] ?? 'unknown').replace(/Command$/, ''));
    return next(args);
  };
  return {
    applyToStack(stack) {
      stack.addRelativeTo(middleware, { name: RATE_LIMIT_MIDDLEWARE, relation: 'after', toMiddleware: 'retryMiddleware', override: true });
    },
  };
}
