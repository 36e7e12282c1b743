/** Small concurrency tools of the Identity Center target: a semaphore, per-key locks, backoff. */

export class Semaphore {
  #free: number;
  readonly #waiting: (() => void)[] = [];
  constructor(readonly size: number) {
    this.#free = size;
  }
  async run<T>(fn: () => Promise<T>): Promise<T> {
    if (this.#free > 0) this.#free--;
    else await new Promise<void>((resolve) => this.#waiting.push(resolve));
    try {
      return await fn();
    } finally {
      const next = this.#waiting.shift();
      if (next) next();
      else this.#free++;
    }
  }
}

interface RwState {
  readers: number;
  writer: boolean;
  readonly queue: { readonly exclusive: boolean; readonly go: () => void }[];
}

/**
 * A readers-writer lock per key, first come first served: `shared` holders run together, an `exclusive`
 * holder runs alone. Changes to a permission set (and its re-provisioning) are exclusive; account
 * assignments on it are shared, so rolemap never causes its own ConflictException.
 */
export class KeyedRwLock {
  readonly #keys = new Map<string, RwState>();

  async run<T>(key: string, mode: 'shared' | 'exclusive', fn: () => Promise<T>): Promise<T> {
    let st = this.#keys.get(key);
    if (!st) {
      st = { readers: 0, writer: false, queue: [] };
      this.#keys.set(key, st);
    }
    const state = st;
    const exclusive = mode === 'exclusive';
    const free = exclusive ? !state.writer && state.readers === 0 && state.queue.length === 0 : !state.writer && state.queue.length === 0;
    if (free) this.#enter(state, exclusive);
    else await new Promise<void>((go) => state.queue.push({ exclusive, go }));
    try {
      return await fn();
    } finally {
      if (exclusive) state.writer = false;
      else state.readers--;
      this.#wake(key, state);
    }
  }

  #enter(state: RwState, exclusive: boolean): void {
    if (exclusive) state.writer = true;
    else state.readers++;
  }

  #wake(key: string, state: RwState): void {
    while (state.queue.length > 0 && !state.writer) {
      const next = state.queue[0] as RwState['queue'][number];
      if (next.exclusive && state.readers > 0) break;
      state.queue.shift();
      this.#enter(state, next.exclusive);
      next.go();
      if (next.exclusive) break;
    }
    if (!state.writer && state.readers === 0 && state.queue.length === 0) this.#keys.delete(key);
  }
}

export interface Backoff {
  /** First wait, ms. */
  readonly initialMs: number;
  /** Longest wait, ms. */
  readonly maxMs: number;
}

/** Exponential backoff with full jitter in the upper half: attempt 0 waits about initialMs. */
export function backoffDelay(b: Backoff, attempt: number): number {
  const base = Math.min(b.maxMs, b.initialMs * 2 ** attempt);
  return base / 2 + Math.random() * (base / 2);
}

export function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) {
      reject(signal.reason as Error);
      return;
    }
    const t = setTimeout(() => {
      signal?.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    const onAbort = (): void => {
      clearTimeout(t);
      reject(signal?.reason as Error);
    };
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}

/** Runs `fn` over items with at most `limit` at once, keeping order of results. */
export async function mapLimit<T, R>(items: readonly T[], limit: number, fn: (item: T) => Promise<R>): Promise<R[]> {
  const out: R[] = new Array<R>(items.length);
  let i = 0;
  const workers = Array.from({ length: Math.min(limit, items.length) }, async () => {
    while (i < items.length) {
      const idx = i++;
      out[idx] = await fn(items[idx] as T);
    }
  });
  await Promise.all(workers);
  return out;
}
