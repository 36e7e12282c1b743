/**
 * A binary min-heap of integers: the dependency ordering (node ranks) and the apply engine (ready
 * seqs) both take the lowest ready number next, often among 100,000.
 */
export class MinHeap {
  readonly #items: number[] = [];

  get size(): number {
    return this.#items.length;
  }

  push(value: number): void {
    const a = this.#items;
    let i = a.push(value) - 1;
    while (i > 0) {
      const parent = (i - 1) >> 1;
      if ((a[parent] as number) <= value) break;
      a[i] = a[parent] as number;
      i = parent;
    }
    a[i] = value;
  }

  /** The smallest value; only when size > 0. */
  pop(): number {
    const a = this.#items;
    const top = a[0] as number;
    const last = a.pop() as number;
    if (a.length > 0) {
      let i = 0;
      for (;;) {
        const l = 2 * i + 1;
        if (l >= a.length) break;
        const r = l + 1;
        const child = r < a.length && (a[r] as number) < (a[l] as number) ? r : l;
        if ((a[child] as number) >= last) break;
        a[i] = a[child] as number;
        i = child;
      }
      a[i] = last;
    }
    return top;
  }
}
