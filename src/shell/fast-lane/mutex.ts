/**
 * One lock inside the daemon: a full apply and the fast lane never run at the same time. Waiters are
 * served in order. (The journal lock keeps other processes out; this keeps the daemon's two writers apart.)
 */
export class Mutex {
  #tail: Promise<void> = Promise.resolve();
  #held = false;

  get held(): boolean {
    return this.#held;
  }

  /** Runs `fn` once every earlier holder is done; releases even when `fn` throws. */
  async runExclusive<T>(fn: () => Promise<T>): Promise<T> {
    const before = this.#tail;
    let release!: () => void;
    this.#tail = new Promise<void>((resolve) => {
      release = resolve;
    });
    await before;
    this.#held = true;
    try {
      return await fn();
    } finally {
      this.#held = false;
      release();
    }
  }
}
