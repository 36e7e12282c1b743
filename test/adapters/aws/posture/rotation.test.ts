/**
 * posture.rotation through the normal plan: the iam-users target reads linked and listed IAM users
 * (with key creation dates) from the emulator, the core plans over-age keys as `disable` with their
 * reason, the safety policy counts them, and applying deactivates the key (never deleting it); a
 * protected principal's key and a young key are left alone.
 */
import { CreateAccessKeyCommand, CreateUserCommand, ListAccessKeysCommand } from '@aws-sdk/client-iam';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { IamUsersTarget } from '../../../../src/adapters/aws/iam-users/iam-users-target.js';
import { applyPlan } from '../../../../src/core/apply/engine.js';
import type { RoleMap } from '../../../../src/core/model/role-map.js';
import { setAccessKey } from '../../../aws-emulator/services/iam-posture.js';
import type { IamState } from '../../../aws-emulator/services/iam.js';
import { actions, planFor, snapshot, user } from '../../../support/builders.js';
import { PROD, roleMap, startWorld } from '../iam-roles/fixtures.js';
import type { World } from '../iam-roles/fixtures.js';

const NOW = new Date('2026-12-02T12:00:00Z');
let world: World;

beforeEach(async () => {
  world = await startWorld();
});
afterEach(async () => {
  await world.stop();
});

async function userWithKeys(name: string, ages: readonly number[], tag?: string): Promise<string[]> {
  const c = world.console(PROD);
  await c.send(new CreateUserCommand({ UserName: name, ...(tag ? { Tags: [{ Key: 'ad-account', Value: tag }] } : {}) }));
  const ids: string[] = [];
  for (const age of ages) {
    const id = (await c.send(new CreateAccessKeyCommand({ UserName: name }))).AccessKey?.AccessKeyId ?? '';
    setAccessKey(world.emulator.state<IamState>('iam'), { account: PROD, accessKeyId: id, createDate: new Date(NOW.getTime() - age * 86_400_000).toISOString() });
    ids.push(id);
  }
  return ids;
}

async function statuses(name: string): Promise<Record<string, string>> {
  const out = await world.console(PROD).send(new ListAccessKeysCommand({ UserName: name }));
  return Object.fromEntries((out.AccessKeyMetadata ?? []).map((k) => [k.AccessKeyId ?? '', k.Status ?? '']));
}

function rotating(overrides: Partial<RoleMap> = {}): RoleMap {
  const base = roleMap();
  return {
    ...base,
    leavers: { ...base.leavers, iamUsers: { ...base.leavers.iamUsers, disableCredentials: false } },
    rotation: { maxKeyAgeDays: 90, action: 'deactivate', users: ['^ci-'] },
    ...overrides,
  };
}

describe('posture.rotation: deactivate', () => {
  it('plans over-age keys as disable with the reason, applies them, and leaves protected and young keys alone', async () => {
    const [jOld, jNew] = await userWithKeys('jdoe-legacy', [120, 10]); // linked by name pattern, AD active
    const [ciOld] = await userWithKeys('ci-deploy', [400]); // listed by posture.rotation.users
    const [pOld] = await userWithKeys('ci-protected', [400]); // listed, but a protected principal
    const [uOld] = await userWithKeys('unlisted-bot', [400]); // neither linked nor listed
    const map = rotating({ safety: { ...roleMap().safety, maxDeletePercent: 100, protectedPrincipals: ['ci-protected'] } });
    const target = new IamUsersTarget(world.clients, { clock: () => NOW });
    const current = await target.readActual(map);
    const snap = snapshot([user('jdoe')], []);

    const { plan } = planFor(snap, map, current, { now: NOW });
    expect(plan.refusal).toBeNull();
    expect(actions(plan)).toEqual(['disable iam_user_credentials.prod.ci-deploy', 'disable iam_user_credentials.prod.jdoe-legacy']);
    const jdoe = plan.changes.find((c) => c.address.endsWith('jdoe-legacy'));
    expect(jdoe?.reason).toBe(`posture.rotation: deactivate access key older than 90 days: ${jOld} (120 days old, created 2026-08-04)`);
    expect((jdoe?.after?.attrs as { accessKeys: Record<string, string> }).accessKeys).toEqual({ [jOld as string]: 'Inactive', [jNew as string]: 'Active' });

    // A dry run is stopping here: nothing changed in AWS.
    expect(await statuses('jdoe-legacy')).toEqual({ [jOld as string]: 'Active', [jNew as string]: 'Active' });

    const report = await applyPlan(plan, { targetFor: () => target });
    expect(report.failed).toBe(0);
    expect(await statuses('jdoe-legacy')).toEqual({ [jOld as string]: 'Inactive', [jNew as string]: 'Active' });
    expect(await statuses('ci-deploy')).toEqual({ [ciOld as string]: 'Inactive' });
    expect(await statuses('ci-protected')).toEqual({ [pOld as string]: 'Active' });
    expect(await statuses('unlisted-bot')).toEqual({ [uOld as string]: 'Active' });
    expect(world.emulator.calls()['iam:DeleteAccessKey']).toBeUndefined();

    // Converged: the next plan is empty.
    expect(actions(planFor(snap, map, await target.readActual(map), { now: NOW }).plan)).toEqual([]);
  });

  it('is counted by the deletion threshold, and does nothing with action warn', async () => {
    for (let i = 0; i < 3; i++) await userWithKeys(`ci-${i}`, [200]);
    const target = new IamUsersTarget(world.clients, { clock: () => NOW });
    const strict = rotating({ safety: { ...roleMap().safety, maxDeletes: 2, maxDeletePercent: 100 } });
    const { plan } = planFor(snapshot([], []), strict, await target.readActual(strict), { now: NOW });
    expect(plan.refusal?.code).toBe('deletion-threshold');
    expect(plan.refusal?.message).toContain('The plan deletes or deactivates (posture.rotation: 3 key changes) 3 of the 3 objects');
    const warn = rotating({ rotation: { maxKeyAgeDays: 90, action: 'warn', users: ['^ci-'] } });
    expect(actions(planFor(snapshot([], []), warn, await target.readActual(warn), { now: NOW }).plan)).toEqual([]);
  });
});
