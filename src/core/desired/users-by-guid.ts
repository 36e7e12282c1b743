import type { DirectoryUser, Guid } from '../model/directory.js';

/**
 * The snapshot's users by guid, as a read-only map over the user array and one guid -> position map:
 * `computeDesired` works with positions (flags in byte arrays instead of sets of 100,000 objects), and
 * the plan gets its `directoryUsers` map from the same table instead of a second one.
 * A guid listed twice maps to its last user, as `new Map(users.map((u) => [u.guid, u]))` would.
 */
export class UsersByGuid implements ReadonlyMap<Guid, DirectoryUser> {
  readonly #users: readonly DirectoryUser[];
  readonly #position = new Map<Guid, number>();

  constructor(users: readonly DirectoryUser[]) {
    this.#users = users;
    for (let i = 0; i < users.length; i++) this.#position.set((users[i] as DirectoryUser).guid, i);
  }

  /** Position of the user with this guid in the snapshot's user array, or -1. */
  positionOf(guid: Guid): number {
    return this.#position.get(guid) ?? -1;
  }

  get size(): number {
    return this.#position.size;
  }

  get(guid: Guid): DirectoryUser | undefined {
    const i = this.#position.get(guid);
    return i === undefined ? undefined : this.#users[i];
  }

  has(guid: Guid): boolean {
    return this.#position.has(guid);
  }

  forEach(fn: (user: DirectoryUser, guid: Guid, map: ReadonlyMap<Guid, DirectoryUser>) => void, thisArg?: unknown): void {
    for (const [guid, i] of this.#position) fn.call(thisArg, this.#users[i] as DirectoryUser, guid, this);
  }

  *entries(): MapIterator<[Guid, DirectoryUser]> {
    for (const [guid, i] of this.#position) yield [guid, this.#users[i] as DirectoryUser];
  }

  keys(): MapIterator<Guid> {
    return this.#position.keys();
  }

  *values(): MapIterator<DirectoryUser> {
    for (const i of this.#position.values()) yield this.#users[i] as DirectoryUser;
  }

  [Symbol.iterator](): MapIterator<[Guid, DirectoryUser]> {
    return this.entries();
  }
}
