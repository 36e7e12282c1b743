/**
 * The fast lane's planner: the full run's plan cut down to the leavers' changes, before the safety
 * checks. Stories on the Acme fixture (test/support/acme.ts): alice -> Admin (prod); bob, carol ->
 * Developer (dev) and PowerUser (Identity Center); dave -> ReadOnly (Identity Center).
 */
import { describe, expect, it } from 'vitest';
import { historyAfter, planLeaverRevocations } from '../../../src/core/fast-lane/plan-leavers.js';
import type { DirectoryUser, Entitlement, Resource } from '../../../src/core/index.js';
import { acmeMap, acmeSnapshot, alice, bob, carol, dave, erin, frank } from '../../support/acme.js';
import { actions, actual, converged, history, NOW, planFor, user } from '../../support/builders.js';

const everyone = [alice, bob, carol, dave, erin, frank];

function entitlementsOf(users: readonly DirectoryUser[] = everyone): readonly Entitlement[] {
  return [...planFor(acmeSnapshot({ users }), acmeMap(), actual([])).desired.entitlements];
}

async function world(): Promise<Resource[]> {
  return [...(await converged(acmeSnapshot(), acmeMap())).resources.values()];
}

describe('planLeaverRevocations', () => {
  it('plans only the leaver: a joiner and a new group member wait for the full run', async () => {
    const gina = user('gina');
    const disabledBob = { ...bob, disabled: true };
    const snap = acmeSnapshot({ users: [alice, disabledBob, carol, dave, erin, frank, gina], groups: { auditors: [dave, gina] } });
    const current = actual(await world());
    const full = planFor(snap, acmeMap(), current, { history: history(entitlementsOf()) }).plan;
    expect(actions(full).some((a) => a.includes('gina'))).toBe(true);

    const lane = planLeaverRevocations({ snapshot: snap, roleMap: acmeMap(), now: NOW, history: history(entitlementsOf()), actual: current });
    expect(lane.leavers.map((l) => [l.sAMAccountName, l.reason])).toEqual([['bob', 'disabled']]);
    expect(lane.plan.changes.length).toBeGreaterThan(0);
    expect(actions(lane.plan).some((a) => a.includes('gina'))).toBe(false);
    for (const c of lane.plan.changes) expect(lane.concerns.get(c.key)).toEqual([bob.guid]);
    expect(lane.plan.changes.map((c) => `${c.action} ${c.kind}`)).toEqual(
      expect.arrayContaining(['revoke iam_role_revocations', 'revoke sso_permission_set_revocations', 'delete identitystore_membership']),
    );
    expect(lane.plan.refusal).toBeNull();
  });

  it('without an entitlement history nobody is a leaver: the first full run decides', async () => {
    const snap = acmeSnapshot({ users: [alice, { ...bob, disabled: true }, carol, dave, erin, frank] });
    const lane = planLeaverRevocations({ snapshot: snap, roleMap: acmeMap(), now: NOW, history: { last: null }, actual: actual(await world()) });
    expect(lane.leavers).toEqual([]);
    expect(lane.plan.changes).toEqual([]);
  });

  it('keeps the deletion threshold; sessionsOnly then plans the session revocations alone', async () => {
    const map = acmeMap({ safety: { ownerId: 'test-owner', maxDeletes: 1, maxDeletePercent: 100, minDirectoryUsers: 1, protectedPrincipals: [] } });
    const layoff = acmeSnapshot({ users: [alice, { ...bob, disabled: true }, { ...carol, disabled: true }, { ...dave, disabled: true }, erin, frank] });
    const input = { snapshot: layoff, roleMap: map, now: NOW, history: history(entitlementsOf()), actual: actual(await world()) };
    const refused = planLeaverRevocations(input);
    expect(refused.plan.refusal?.code).toBe('deletion-threshold');

    const sessions = planLeaverRevocations({ ...input, sessionsOnly: true });
    expect(sessions.plan.refusal).toBeNull();
    expect(sessions.plan.changes.length).toBeGreaterThan(0);
    expect(new Set(sessions.plan.changes.map((c) => c.action))).toEqual(new Set(['revoke']));
    const denied = sessions.plan.changes.flatMap((c) => Object.keys((c.after?.attrs as { entries: Record<string, string> }).entries));
    expect(denied).toEqual(expect.arrayContaining([bob.userPrincipalName, carol.userPrincipalName]));
  });
});

describe('historyAfter', () => {
  it('takes out the leavers whose changes all applied and keeps those still unfinished', () => {
    const last = entitlementsOf();
    const leavers = [bob, carol].map((u) => ({ guid: u.guid, sAMAccountName: u.sAMAccountName, reason: 'disabled' as const, formerEntitlements: last.filter((e) => e.userGuid === u.guid) }));
    const after = historyAfter(last, leavers, new Set([carol.guid]));
    expect(after.some((e) => e.userGuid === bob.guid)).toBe(false);
    expect(after.filter((e) => e.userGuid === carol.guid)).toEqual(last.filter((e) => e.userGuid === carol.guid));
    expect(after.filter((e) => e.userGuid === alice.guid)).toEqual(last.filter((e) => e.userGuid === alice.guid));
  });
});
