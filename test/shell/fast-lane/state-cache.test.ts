/** The AWS state last known: reads and applies through the wrapped targets keep it; the rest of a target is forwarded. */
import { describe, expect, it } from 'vitest';
import { StateCache } from '../../../src/shell/fast-lane/state-cache.js';
import type { Change, Target } from '../../../src/core/index.js';
import { acmeMap, acmeSnapshot } from '../../support/acme.js';
import { converged, planFor, actual } from '../../support/builders.js';
import { InMemoryTarget } from '../../support/in-memory-target.js';

class GuardedTarget extends InMemoryTarget {
  readonly #down = new Set<string>();
  down(key: string): void {
    this.#down.add(key);
  }
  /** An optional port method using private state: it must be called on the target itself. */
  unavailable(change: Change): string | undefined {
    return this.#down.has(change.key) ? 'endpoint down' : undefined;
  }
}

describe('StateCache', () => {
  it('is empty until each target is read, then follows every apply; other methods reach the target', async () => {
    const world = await converged(acmeSnapshot(), acmeMap());
    const target = new GuardedTarget([...world.resources.values()]);
    const cache = new StateCache();
    const [wrapped] = cache.wrap([target]) as [Target & { unavailable(c: Change): string | undefined }];
    expect(cache.actual([wrapped])).toBeNull();
    await wrapped.readActual(acmeMap());
    expect(cache.actual([wrapped])?.resources).toHaveLength(target.resources.size);

    // bob leaves the Developers: the plan deletes his Identity Center membership; the cache follows.
    const { plan } = planFor(acmeSnapshot({ groups: { developers: [] } }), acmeMap(), actual([...target.resources.values()]));
    const del = plan.changes.find((c) => c.action === 'delete' && c.kind === 'identitystore_membership');
    if (!del) throw new Error('expected a membership delete');
    target.down(del.key);
    expect(wrapped.unavailable(del)).toBe('endpoint down');
    await wrapped.apply(del);
    expect(cache.actual([wrapped])?.resources.some((r) => `${r.kind}:${r.id}` === del.key)).toBe(false);
    expect(wrapped.name).toBe(target.name);
  });
});
