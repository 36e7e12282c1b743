import { describe, expect, it } from 'vitest';
import type { Resource } from '../../src/core/index.js';
import { canonicalJson, planFromJson, planToJson, stateDigest } from '../../src/core/index.js';
import { acmeMap, acmeSnapshot } from '../support/acme.js';
import { converged, planFor } from '../support/builders.js';

describe('actual state digest', () => {
  it('does not depend on listing order, key order or policy spelling, and sees every real change', async () => {
    const resources = [...(await converged(acmeSnapshot(), acmeMap())).resources.values()];
    const digest = stateDigest(resources);
    expect(digest).toMatch(/^sha256:[0-9a-f]{64}$/);
    const respelled = [...resources].reverse().map((r) => {
      const copy = Object.fromEntries(Object.entries(r).reverse()) as unknown as Resource;
      if (copy.kind === 'iam_role') return { ...copy, attrs: { ...copy.attrs, managedPolicyArns: [...copy.attrs.managedPolicyArns].reverse(), trustPolicy: { ...copy.attrs.trustPolicy, Statement: (copy.attrs.trustPolicy['Statement'] as unknown[])[0] as never } } } as Resource;
      return copy;
    });
    expect(stateDigest(respelled)).toBe(digest);
    const renamed = resources.map((r) => (r.kind === 'identitystore_user' && r.name === 'bob@example.com' ? ({ ...r, attrs: { ...r.attrs, displayName: 'Robert' } } as Resource) : r));
    expect(stateDigest(renamed)).not.toBe(digest);
    expect(stateDigest(resources.slice(1))).not.toBe(digest);
    expect(stateDigest(resources.map((r, i) => (i === 0 ? { ...r, owned: !r.owned } : r)))).not.toBe(digest);
  });

  it("a plan's actualDigest (computed on first read) is the digest of the state it was computed from, in every copy of the plan", async () => {
    const state = (await converged(acmeSnapshot(), acmeMap())).state();
    const expected = stateDigest(state.resources);
    const { plan } = planFor(acmeSnapshot(), acmeMap(), state);
    expect(plan.actualDigest).toBe(expected);
    expect(plan.actualDigest).toBe(expected); // kept, the same on every read
    expect({ ...plan }.actualDigest).toBe(expected);
    expect((JSON.parse(JSON.stringify(plan)) as { actualDigest: unknown }).actualDigest).toBe(expected);
    expect(planFromJson(planToJson(plan)).actualDigest).toBe(expected);
    // A plan of another state carries that state's digest.
    const fewer = { ...state, resources: state.resources.slice(1) };
    expect(planFor(acmeSnapshot(), acmeMap(), fewer).plan.actualDigest).toBe(stateDigest(fewer.resources));
    expect(planFor(acmeSnapshot(), acmeMap(), fewer).plan.actualDigest).not.toBe(expected);
  });

  it('canonical JSON sorts keys at every level and omits undefined like JSON.stringify', () => {
    expect(canonicalJson({ b: 1, a: { d: [3, { f: undefined, e: null }], c: 'x' } })).toBe('{"a":{"c":"x","d":[3,{"e":null}]},"b":1}');
    expect(canonicalJson({ b: [], a: {} }, 2)).toBe(JSON.stringify({ a: {}, b: [] }, null, 2));
  });
});
