import type { OwnershipRegistry } from '../../../core/ports.js';

/**
 * An OwnershipRegistry in memory, for tests and the emulator demo; the journal keeps the durable one.
 * It can be seeded and copied, so a test can simulate a lost or restored journal.
 */
export class InMemoryOwnershipRegistry implements OwnershipRegistry {
  readonly #scopes = new Map<string, Map<string, string>>();

  constructor(seed: Readonly<Record<string, Readonly<Record<string, string>>>> = {}) {
    for (const [scope, entries] of Object.entries(seed)) this.#scopes.set(scope, new Map(Object.entries(entries)));
  }

  owned(scope: string): ReadonlyMap<string, string> {
    return new Map(this.#scopes.get(scope) ?? []);
  }

  record(scope: string, awsId: string, guid: string): void {
    let m = this.#scopes.get(scope);
    if (!m) {
      m = new Map();
      this.#scopes.set(scope, m);
    }
    m.set(awsId, guid);
  }

  forget(scope: string, awsId: string): void {
    this.#scopes.get(scope)?.delete(awsId);
  }

  toJSON(): Record<string, Record<string, string>> {
    return Object.fromEntries([...this.#scopes].map(([s, m]) => [s, Object.fromEntries(m)]));
  }
}
