/** applyPlan against the in-memory target: order, concurrency, failures, aborts, hooks. */
import { describe, expect, it } from 'vitest';
import type { Change, Plan } from '../../src/core/index.js';
import { applyPlan, PlanRefusedError } from '../../src/core/index.js';
import { acmeMap, acmeSnapshot } from '../support/acme.js';
import { actual, planFor } from '../support/builders.js';
import { InMemoryTarget } from '../support/in-memory-target.js';

const fromScratch = (): Plan => planFor(acmeSnapshot(), acmeMap(), actual([])).plan;

describe('applyPlan', () => {
  it('applies every change in dependency order with bounded concurrency, hooks around each', async () => {
    const plan = fromScratch();
    const target = new InMemoryTarget([], { delayMs: 2 });
    const events: string[] = [];
    const report = await applyPlan(plan, {
      targetFor: () => target,
      concurrency: 3,
      hooks: { preApply: (c) => events.push(`pre ${c.seq}`), postApply: (c, o) => events.push(`post ${c.seq} ${o.requestIds.length}`) },
    });
    expect(report).toMatchObject({ applied: plan.changes.length, failed: 0, skipped: 0, interrupted: false });
    expect(target.maxInFlight).toBe(3);
    const done = target.applied.map((c) => c.seq);
    for (const c of plan.changes) for (const d of c.dependsOn) expect(done.indexOf(d)).toBeLessThan(done.indexOf(c.seq));
    for (const c of plan.changes) expect(events.indexOf(`pre ${c.seq}`)).toBeLessThan(events.indexOf(`post ${c.seq} 1`));
  });

  it('a failed change skips only its dependents, transitively; the rest is applied', async () => {
    const plan = fromScratch();
    const failing = plan.changes.find((c) => c.address === 'identitystore_group.Developers') as Change;
    const target = new InMemoryTarget([], { failOn: (c) => c.seq === failing.seq });
    const failed: number[] = [];
    const skipped: string[] = [];
    const report = await applyPlan(plan, { targetFor: () => target, hooks: { applyFailed: (c) => failed.push(c.seq), skipped: (c) => skipped.push(c.address) } });
    expect(failed).toEqual([failing.seq]);
    expect(skipped.sort()).toEqual(['identitystore_membership.Developers/bob@example.com', 'identitystore_membership.Developers/carol@example.com', 'sso_account_assignment.PowerUser/dev/Developers']);
    expect(report.failed).toBe(1);
    expect(report.skipped).toBe(3);
    expect(report.applied).toBe(plan.changes.length - 4);
    const failure = report.results.find((r) => r.status === 'failed');
    expect(failure?.error).toMatch(/simulated failure/);
    expect(failure?.requestIds).toHaveLength(1);
  });

  it('asks the guard before each change and before its intent; a reason stops the run: that change and every one not started are skipped with it', async () => {
    const plan = fromScratch();
    const target = new InMemoryTarget([], { delayMs: 1 });
    const events: string[] = [];
    let asked = 0;
    const report = await applyPlan(plan, {
      targetFor: () => target,
      concurrency: 1,
      guard: async (c) => {
        asked++;
        events.push(`guard ${c.seq}`);
        return asked > 3 ? 'fenced: epoch 1 mine (a) vs 2 seen (b)' : null;
      },
      hooks: { preApply: (c) => events.push(`pre ${c.seq}`), skipped: (c, why) => events.push(`skip ${c.seq} ${why}`) },
    });
    expect(report).toMatchObject({ applied: 3, failed: 0, interrupted: true, haltedBy: 'fenced: epoch 1 mine (a) vs 2 seen (b)' });
    expect(target.applied).toHaveLength(3);
    expect(report.skipped).toBe(plan.changes.length - 3);
    const [first] = plan.changes;
    expect(events.indexOf(`guard ${first?.seq}`)).toBeLessThan(events.indexOf(`pre ${first?.seq}`));
    // The fourth change was asked about, never got an intent row, and is skipped with the guard's reason.
    const fourth = report.results.find((r) => r.status === 'skipped' && r.error === 'fenced: epoch 1 mine (a) vs 2 seen (b)');
    expect(fourth).toBeDefined();
    expect(events).not.toContain(`pre ${fourth?.change.seq}`);
    expect(report.results.filter((r) => r.status === 'skipped').every((r) => /fenced: epoch 1 mine/.test(r.error ?? ''))).toBe(true);
  });

  it('on abort, changes in flight finish and nothing new starts', async () => {
    const plan = fromScratch();
    const controller = new AbortController();
    const target = new InMemoryTarget([], { delayMs: 5 });
    let started = 0;
    const report = await applyPlan(plan, {
      targetFor: () => target,
      concurrency: 2,
      signal: controller.signal,
      hooks: { preApply: () => ++started === 3 && controller.abort() },
    });
    expect(report.interrupted).toBe(true);
    expect(report.applied).toBe(3);
    expect(report.skipped).toBe(plan.changes.length - 3);
    expect(report.results.filter((r) => r.status === 'skipped').every((r) => /interrupted/.test(r.error ?? ''))).toBe(true);
  });

  it('refuses a refused plan with a typed error', async () => {
    const plan = { ...fromScratch(), refusal: { code: 'deletion-threshold' as const, message: 'too many' } };
    await expect(applyPlan(plan, { targetFor: () => new InMemoryTarget() })).rejects.toBeInstanceOf(PlanRefusedError);
  });
});

describe('applyPlan when the journal fails', () => {
  it('a failing intent hook stops the run before AWS is touched for that change', async () => {
    const plan = fromScratch();
    const target = new InMemoryTarget();
    let n = 0;
    const report = await applyPlan(plan, {
      targetFor: () => target,
      concurrency: 1,
      hooks: {
        preApply: () => {
          if (++n === 3) throw new Error('disk full');
        },
      },
    });
    expect(target.applied).toHaveLength(2);
    expect(report.interrupted).toBe(true);
    expect(report.haltedBy).toMatch(/preApply hook failed on #3 .*disk full/);
    expect(report.failed).toBe(1);
    expect(report.applied + report.failed + report.skipped).toBe(plan.changes.length);
  });

  it('skips the dependents of a change whose dependency is not in the plan', async () => {
    const plan = fromScratch();
    const group = plan.changes.find((c) => c.address === 'identitystore_group.Developers') as Change;
    const broken = { ...plan, changes: plan.changes.map((c) => (c.seq === group.seq ? { ...c, dependsOn: [999] } : c)) };
    const dependents = plan.changes.filter((c) => c.dependsOn.includes(group.seq)).map((c) => c.seq);
    expect(dependents).toHaveLength(3);
    const target = new InMemoryTarget();
    const report = await applyPlan(broken, { targetFor: () => target });
    const skipped = report.results.filter((r) => r.status === 'skipped').map((r) => r.change.seq);
    expect(skipped.sort((a, b) => a - b)).toEqual([group.seq, ...dependents].sort((a, b) => a - b));
    expect(report.results.find((r) => r.change.seq === group.seq)?.error).toMatch(/depends on #999/);
    expect(report.applied).toBe(plan.changes.length - 4);
  });
});
