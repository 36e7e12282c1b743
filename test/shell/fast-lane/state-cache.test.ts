/** The AWS state last known: reads and applies through the wrapped targets keep it; the rest of a target is forwarded. */
import { describe, expect, it } from 'vitest';
import { StateCache } from '../../../src/shell/fast-lane/state-cache.js';
import type { ActualState, Change, Target } from '../../../src/core/index.js';
import { acmeMap, acmeSnapshot } from '../../support/acme.js';
import { converged, planFor, actual, PROD } from '../../support/builders.js';
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

describe('StateCache and what a read could not see', () => {
  class Blind extends InMemoryTarget {
    blind = true;
    override async readActual(): Promise<ActualState> {
      const state = await super.readActual();
      return this.blind ? { ...state, unreadable: [{ kinds: ['iam_role', 'iam_role_revocations'], account: PROD, name: `account prod (${PROD})`, reason: 'AccessDenied' }] } : state;
    }
  }

  it('keeps `unreadable` from the last read, through applies, until a read that sees everything', async () => {
    const world = await converged(acmeSnapshot(), acmeMap());
    const target = new Blind([...world.resources.values()]);
    const cache = new StateCache();
    const [wrapped] = cache.wrap([target]) as [Target];
    await wrapped.readActual(acmeMap());
    expect(cache.actual([wrapped])?.unreadable).toEqual([{ kinds: ['iam_role', 'iam_role_revocations'], account: PROD, name: `account prod (${PROD})`, reason: 'AccessDenied' }]);
    // A plan from the cached state holds what is in the unreadable account (alice's Admin role in prod).
    const left = acmeSnapshot({ groups: { admins: [] } });
    const { plan } = planFor(left, acmeMap(), cache.actual([wrapped])!);
    expect(plan.changes.filter((c) => c.key.includes(PROD) && c.kind.startsWith('iam_role'))).toEqual([]);
    expect(plan.warnings.join('\n')).toContain(`account prod (${PROD})`);
    // An apply elsewhere does not make the account readable.
    const del = plan.changes.find((c) => c.action === 'delete');
    if (del) await wrapped.apply(del);
    expect(cache.actual([wrapped])?.unreadable).toHaveLength(1);
    target.blind = false;
    await wrapped.readActual(acmeMap());
    expect(cache.actual([wrapped])?.unreadable).toBeUndefined();
  });
});
