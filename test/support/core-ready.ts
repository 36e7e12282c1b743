/**
 * Whether the pure core (desired, plan, apply, render) is implemented in this checkout. Shell tests
 * that need real plans are guarded by it while the core is developed in parallel; the lead removes
 * the guard after merging.
 */
import { applyPlan } from '../../src/core/apply/engine.js';
import { computeDesired } from '../../src/core/desired/desired.js';
import type { RoleMap } from '../../src/core/model/role-map.js';
import type { Plan } from '../../src/core/plan/change.js';
import { calculatePlan } from '../../src/core/plan/plan.js';
import { renderPlan } from '../../src/core/render/human.js';
import { planFromJson, planToJson } from '../../src/core/render/json.js';

function stubbed(e: unknown): boolean {
  return e instanceof Error && e.message === 'not implemented yet';
}

async function probe(): Promise<boolean> {
  const checks: Array<() => unknown> = [
    () => computeDesired({ source: 'probe', users: [], groups: [] }, {} as RoleMap, new Date(0), { last: null }),
    () => calculatePlan({} as Parameters<typeof calculatePlan>[0]),
    () => renderPlan({} as Plan, { color: false }),
    () => planToJson({} as Plan),
    () => planFromJson('{}'),
    () => applyPlan({ changes: [] } as unknown as Plan, { targetFor: () => { throw new Error('probe'); } }),
  ];
  for (const check of checks) {
    try {
      await check();
    } catch (e) {
      if (stubbed(e)) return false;
    }
  }
  return true;
}

export const coreReady = await probe();
