import type { Resource, ResourceKey, ResourceKind } from '../model/resources.js';

/** What the plan needs of a state: look a resource up by key. */
export interface ResourceLookup {
  get(key: ResourceKey): Resource | undefined;
}

/**
 * Resources by kind, then id. Looking up by (kind, id) needs no `kind:id` string per resource, which
 * matters at 100,000 users: building and hashing those keys was a good part of planning time.
 */
export class ResourceIndex implements ResourceLookup {
  readonly #byKind = new Map<string, Map<string, Resource>>();

  constructor(resources: Iterable<Resource>) {
    for (const r of resources) {
      let ids = this.#byKind.get(r.kind);
      if (ids === undefined) {
        ids = new Map();
        this.#byKind.set(r.kind, ids);
      }
      ids.set(r.id, r);
    }
  }

  find(kind: ResourceKind, id: string): Resource | undefined {
    return this.#byKind.get(kind)?.get(id);
  }

  has(kind: ResourceKind, id: string): boolean {
    return this.#byKind.get(kind)?.has(id) ?? false;
  }

  get(key: ResourceKey): Resource | undefined {
    const colon = key.indexOf(':');
    return colon < 0 ? undefined : this.#byKind.get(key.slice(0, colon))?.get(key.slice(colon + 1));
  }

  /** Every resource once, sorted by kind then id: a canonical order for digests. */
  *sorted(): IterableIterator<Resource> {
    for (const kind of [...this.#byKind.keys()].sort()) {
      const ids = this.#byKind.get(kind) as Map<string, Resource>;
      for (const id of [...ids.keys()].sort()) yield ids.get(id) as Resource;
    }
  }

  /** Every resource once (the last one read wins when a target listed a key twice). */
  *values(): IterableIterator<Resource> {
    for (const ids of this.#byKind.values()) yield* ids.values();
  }
}
