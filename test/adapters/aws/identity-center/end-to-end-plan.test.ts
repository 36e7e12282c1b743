/**
 * The Identity Center target driven by the core: computeDesired -> readActual -> calculatePlan -> applyPlan.
 */
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { IdentityCenterTarget, InMemoryOwnershipRegistry } from '../../../../src/adapters/aws/identity-center/index.js';
import { applyPlan } from '../../../../src/core/apply/engine.js';
import { computeDesired } from '../../../../src/core/desired/desired.js';
import type { DirectorySnapshot, DirectoryUser } from '../../../../src/core/model/directory.js';
import type { Plan } from '../../../../src/core/plan/change.js';
import { calculatePlan } from '../../../../src/core/plan/plan.js';
import type { RoleMap } from '../../../../src/core/model/role-map.js';
import { startIdentityCenterEmulator } from '../../../support/identity-center-emulator.js';
import type { IcHarness } from '../../../support/identity-center-emulator.js';
import { GUID, roleMap } from './fixtures.js';


function person(guid: string, sam: string, extra: Partial<DirectoryUser> = {}): DirectoryUser {
  return { guid, dn: `CN=${sam},OU=Users,DC=example,DC=com`, sAMAccountName: sam, userPrincipalName: `${sam}@example.com`, mail: `${sam}@example.com`, givenName: sam, surname: 'Test', displayName: sam, disabled: false, ...extra };
}

function snapshot(options: { jdoeDisabled?: boolean; adminsName?: string } = {}): DirectorySnapshot {
  return {
    source: 'test',
    users: [person(GUID.jdoe, 'jdoe', { disabled: options.jdoeDisabled ?? false }), person(GUID.asmith, 'asmith')],
    groups: [
      { guid: GUID.admins, dn: 'CN=Admins,OU=Groups,DC=example,DC=com', sAMAccountName: 'Admins', name: options.adminsName ?? 'Admins', members: [GUID.jdoe] },
      { guid: GUID.devs, dn: 'CN=Developers,OU=Groups,DC=example,DC=com', sAMAccountName: 'Developers', name: 'Developers', members: [GUID.asmith, GUID.jdoe] },
    ],
  };
}

let h: IcHarness;
let target: IdentityCenterTarget;
let rm: RoleMap;
const now = new Date('2026-11-29T00:00:00.000Z');

async function plan(snap: DirectorySnapshot): Promise<Plan> {
  const desired = computeDesired(snap, rm, now, { last: null });
  const actual = await target.readActual(rm);
  return calculatePlan({ desired, actual, roleMap: rm, now });
}

beforeAll(async () => {
  h = await startIdentityCenterEmulator();
});
afterAll(async () => h.stop());
beforeEach(() => {
  h.emulator.load({});
  h.emulator.asyncDelayMs = 15;
  rm = roleMap();
  target = new IdentityCenterTarget({ identityStore: h.identityStore, ssoAdmin: h.ssoAdmin, registry: new InMemoryOwnershipRegistry(), rateLimit: { rps: 1000 }, poll: { initialMs: 5, maxMs: 40, timeoutMs: 10_000 } });
});

describe('Identity Center end to end through the core', () => {
  it('joiners: applies, then a second plan is empty', async () => {
    const first = await plan(snapshot());
    expect(first.changes.length).toBeGreaterThan(0);
    const report = await applyPlan(first, { targetFor: () => target });
    expect(report.failed).toBe(0);
    expect((await plan(snapshot())).changes).toEqual([]);
  });

  it('a group rename in AD is an update of the Identity Center group, never delete and create', async () => {
    await applyPlan(await plan(snapshot()), { targetFor: () => target });
    const renamed = await plan(snapshot({ adminsName: 'Platform Admins' }));
    const groupChanges = renamed.changes.filter((c) => c.kind === 'identitystore_group');
    expect(groupChanges.map((c) => c.action)).toEqual(['update']);
    expect(renamed.changes.filter((c) => c.action === 'delete')).toEqual([]);
    expect((await applyPlan(renamed, { targetFor: () => target })).failed).toBe(0);
    expect((await plan(snapshot({ adminsName: 'Platform Admins' }))).changes).toEqual([]);
  });

  it('a leaver: sessions denied first (AWS\'s order), then memberships removed, then the user deleted; then no changes', async () => {
    await applyPlan(await plan(snapshot()), { targetFor: () => target });
    const leaving = await plan(snapshot({ jdoeDisabled: true }));
    const seqOf = (pred: (c: Plan['changes'][number]) => boolean): number[] => leaving.changes.filter(pred).map((c) => c.seq);
    const memberships = seqOf((c) => c.kind === 'identitystore_membership' && c.action === 'delete');
    const revokes = seqOf((c) => c.kind === 'sso_permission_set_revocations');
    const userDelete = seqOf((c) => c.kind === 'identitystore_user' && c.action === 'delete');
    expect(memberships.length).toBe(2);
    expect(revokes.length).toBeGreaterThan(0);
    expect(userDelete.length).toBe(1);
    expect(Math.max(...revokes)).toBeLessThan(Math.min(...memberships));
    expect(Math.max(...revokes)).toBeLessThan(userDelete[0] as number);
    expect((await applyPlan(leaving, { targetFor: () => target })).failed).toBe(0);
    expect((await plan(snapshot({ jdoeDisabled: true }))).changes).toEqual([]);
  });
});
