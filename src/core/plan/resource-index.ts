import type { Resource, ResourceKey, ResourceKind } from '../model/resources.js';

/** What the plan needs of a state: look a resource up by key. */
export interface ResourceLookup {
  get(key: ResourceKey): Resource | undefined;
  /** Every resource of one kind, once: a pass over revocations need not walk 100,000 memberships. */
  ofKind(kind: ResourceKind): readonly Resource[];
  /** The position of (kind, id) in the order the state was listed (first listing), or -1. */
  slotOf(kind: ResourceKind, id: string): number;
  /** Does any resource of this kind declare `dependsOn`? */
  declaresDependencies(kind: ResourceKind): boolean;
}

/**
 * A string built by concatenation (`${group}/${user}`) stays a rope of pieces in V8 until something reads it
 * character by character, and hashing it walks the rope; sorting it then flattens it in a runtime call per
 * string. Reading one character flattens it once, up front, so that hashing, sorting and the digest read one
 * flat string. Only speed depends on this; the result is the same either way.
 */
function flatten(s: string): void {
  s.charCodeAt(0);
}

/**
 * Resources by kind, then id. Looking up by (kind, id) needs no `kind:id` string per resource, which
 * matters at 100,000 users: building and hashing those keys was a good part of planning time.
 * Each distinct resource also has a slot number (0 .. size-1), so that a pass over the state can mark
 * resources in a byte array instead of a `Set` of 100,000 objects.
 */
export class ResourceIndex implements ResourceLookup {
  readonly #byKind = new Map<string, Map<string, number>>();
  readonly #slots: Resource[] = [];
  readonly #ofKind = new Map<string, readonly Resource[]>();
  readonly #withDependencies = new Set<string>();

  constructor(resources: Iterable<Resource>) {
    let kind = '';
    let ids: Map<string, number> | undefined;
    for (const r of resources) {
      if (r.kind !== kind || ids === undefined) {
        kind = r.kind;
        ids = this.#byKind.get(kind);
        if (ids === undefined) {
          ids = new Map();
          this.#byKind.set(kind, ids);
        }
      }
      if (r.dependsOn !== undefined && r.dependsOn.length > 0) this.#withDependencies.add(kind);
      flatten(r.id);
      const slot = ids.get(r.id);
      if (slot === undefined) {
        ids.set(r.id, this.#slots.length);
        this.#slots.push(r);
      } else {
        this.#slots[slot] = r; // the last one read wins when a target listed a key twice
      }
    }
  }

  /** Number of distinct resources (slots). */
  get size(): number {
    return this.#slots.length;
  }

  /** The slot of (kind, id), or -1. */
  slotOf(kind: ResourceKind, id: string): number {
    return this.#byKind.get(kind)?.get(id) ?? -1;
  }

  /** The resource in a slot. */
  at(slot: number): Resource {
    return this.#slots[slot] as Resource;
  }

  get(key: ResourceKey): Resource | undefined {
    const colon = key.indexOf(':');
    if (colon < 0) return undefined;
    const slot = this.#byKind.get(key.slice(0, colon))?.get(key.slice(colon + 1));
    return slot === undefined ? undefined : this.#slots[slot];
  }

  ofKind(kind: ResourceKind): readonly Resource[] {
    let list = this.#ofKind.get(kind);
    if (list === undefined) {
      const ids = this.#byKind.get(kind);
      list = ids === undefined ? [] : Array.from(ids.values(), (slot) => this.#slots[slot] as Resource);
      this.#ofKind.set(kind, list);
    }
    return list;
  }

  declaresDependencies(kind: ResourceKind): boolean {
    return this.#withDependencies.has(kind);
  }

  /** Every resource once, sorted by kind then id: a canonical order for digests. */
  *sorted(): IterableIterator<Resource> {
    for (const kind of [...this.#byKind.keys()].sort()) {
      const ids = this.#byKind.get(kind) as Map<string, number>;
      for (const id of [...ids.keys()].sort()) yield this.#slots[ids.get(id) as number] as Resource;
    }
  }

  /** Every resource once (the last one read wins when a target listed a key twice), in slot order. */
  values(): readonly Resource[] {
    return this.#slots;
  }
}
