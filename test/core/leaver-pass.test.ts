/** Leavers' live sessions and long-lived credentials: revocation entries, pruning, linked IAM users. */
import { describe, expect, it } from 'vitest';
import type { Resource } from '../../src/core/index.js';
import { acmeMap, acmeSnapshot, alice, bob, carol, dave, erin, frank } from '../support/acme.js';
import { actions, actual, applied, converged, DEV, history, NO_HISTORY, NOW, planFor, PROD } from '../support/builders.js';
import { InMemoryTarget } from '../support/in-memory-target.js';

const hoursAgo = (h: number): string => new Date(NOW.getTime() - h * 3600_000).toISOString();

function revocations(kind: 'iam_role_revocations' | 'sso_permission_set_revocations', id: string, account: string, name: string, entries: Record<string, string>): Resource {
  return { kind, id, account, name, owned: true, awsId: `rev-${name}`, attrs: { entries }, dependsOn: [] } as Resource;
}

async function world(extra: Resource[] = []): Promise<Resource[]> {
  const target = await converged(acmeSnapshot(), acmeMap());
  return [...target.resources.values(), ...extra];
}

describe('revocations', () => {
  it('prunes entries older than the role max session duration even when nobody new left', async () => {
    const rev = revocations('iam_role_revocations', `${DEV}/Developer`, DEV, 'Developer', { 'old@example.com': hoursAgo(2), 'recent@example.com': hoursAgo(0.5) });
    const { plan } = planFor(acmeSnapshot(), acmeMap(), actual(await world([rev])));
    expect(actions(plan)).toEqual(['update iam_role_revocations.dev.Developer']);
    expect(plan.changes[0]?.after?.attrs).toEqual({ entries: { 'recent@example.com': hoursAgo(0.5) } });
    expect(plan.changes[0]?.reason).toMatch(/prune 1 revocation/);
  });

  it('deletes the revocation policy once every entry is pruned', async () => {
    const rev = revocations('iam_role_revocations', `${DEV}/Developer`, DEV, 'Developer', { 'old@example.com': hoursAgo(2) });
    const { plan } = planFor(acmeSnapshot(), acmeMap(), actual(await world([rev])));
    expect(actions(plan)).toEqual(['delete iam_role_revocations.dev.Developer']);
    // Housekeeping is not a deletion the threshold counts.
    expect(planFor(acmeSnapshot(), acmeMap({ safety: { maxDeletes: 0, maxDeletePercent: 0 } }), actual(await world([rev]))).plan.refusal).toBeNull();
  });

  it('permission set entries live as long as the session duration (PT8H)', async () => {
    const rev = revocations('sso_permission_set_revocations', 'PowerUser', '999999999999', 'PowerUser', { 'u-old': hoursAgo(9), 'u-new': hoursAgo(7) });
    const { plan } = planFor(acmeSnapshot(), acmeMap(), actual(await world([rev])));
    expect(plan.changes[0]?.after?.attrs).toEqual({ entries: { 'u-new': hoursAgo(7) } });
  });

  it('adds a new leaver next to live entries, and not twice', async () => {
    const today = await world();
    const entitlements = planFor(acmeSnapshot(), acmeMap(), actual([])).desired.entitlements;
    const rev = revocations('iam_role_revocations', `${DEV}/Developer`, DEV, 'Developer', { 'someone@example.com': hoursAgo(0.25) });
    const snap = acmeSnapshot({ users: [alice, { ...bob, disabled: true }, carol, dave, erin, frank] });
    const { plan } = planFor(snap, acmeMap(), actual([...today, rev]), { history: history(entitlements) });
    const revoke = plan.changes.find((c) => c.kind === 'iam_role_revocations');
    expect(revoke?.action).toBe('revoke');
    expect(revoke?.after?.attrs).toEqual({ entries: { 'someone@example.com': hoursAgo(0.25), 'bob@example.com': NOW.toISOString() } });
    expect(revoke?.diffs).toEqual([{ name: 'entries', type: 'stringMap', before: { 'someone@example.com': hoursAgo(0.25) }, after: (revoke?.after?.attrs as { entries: unknown }).entries }]);

    const target = await applied(plan, new InMemoryTarget([...today, rev]));
    const again = planFor(snap, acmeMap(), target.state(), { history: NO_HISTORY });
    expect(again.desired.leavers.map((l) => l.sAMAccountName)).toEqual(['bob']);
    expect(again.plan.changes).toEqual([]);
  });

  it('revokes nothing when leavers.revokeSessions is off', async () => {
    const snap = acmeSnapshot({ users: [alice, { ...bob, disabled: true }, carol, dave, erin, frank] });
    const { plan } = planFor(snap, acmeMap({ leavers: { revokeSessions: false } }), actual(await world()));
    expect(plan.changes.filter((c) => c.action === 'revoke')).toEqual([]);
  });

  it('removes the revocation policy before its role is deleted', async () => {
    const rev = revocations('iam_role_revocations', `${PROD}/Admin`, PROD, 'Admin', { 'x@example.com': hoursAgo(0.1) });
    const map = acmeMap();
    const { plan } = planFor(acmeSnapshot(), { ...map, federatedRoles: map.federatedRoles.filter((r) => r.roleName !== 'Admin') }, actual(await world([rev])));
    expect(actions(plan)).toEqual(['delete iam_role_revocations.prod.Admin', 'delete iam_role.prod.Admin']);
    expect(plan.changes[1]?.dependsOn).toEqual([1]);
  });
});

describe('IAM users linked to an AD account', () => {
  const legacy = (name: string, linked: string, keys: Record<string, 'Active' | 'Inactive'>, loginProfile: boolean): Resource => ({
    kind: 'iam_user_credentials',
    id: `${PROD}/${name}`,
    account: PROD,
    name,
    owned: false,
    awsId: `AIDA${name.toUpperCase()}`,
    principal: { guid: '', name: linked },
    attrs: { accessKeys: keys, loginProfile },
  });

  it('switches off keys and console password of a disabled account, never deletes the user, then converges', async () => {
    const carolLegacy = legacy('carol-legacy', 'carol', { AKIA1: 'Active', AKIA2: 'Inactive' }, true);
    const aliceLegacy = legacy('alice-legacy', 'alice@example.com', { AKIA3: 'Active' }, true);
    const snap = acmeSnapshot({ users: [alice, bob, { ...carol, disabled: true }, dave, erin, frank] });
    const today = await world([carolLegacy, aliceLegacy]);
    const { plan } = planFor(snap, acmeMap(), actual(today));
    const disable = plan.changes.find((c) => c.kind === 'iam_user_credentials');
    expect(plan.changes.filter((c) => c.kind === 'iam_user_credentials').map((c) => `${c.action} ${c.address}`)).toEqual(['disable iam_user_credentials.prod.carol-legacy']);
    expect(disable?.after?.attrs).toEqual({ accessKeys: { AKIA1: 'Inactive', AKIA2: 'Inactive' }, loginProfile: false });
    expect(disable?.diffs.map((d) => d.name)).toEqual(['accessKeys', 'loginProfile']);
    expect(disable?.leaver).toEqual({ guid: carol.guid, name: 'carol', reason: 'disabled' });
    expect(disable?.reason).toMatch(/carol disabled in AD/);

    const target = await applied(plan, new InMemoryTarget(today));
    expect(target.resources.get(`iam_user_credentials:${PROD}/carol-legacy`)).toBeDefined();
    expect(planFor(snap, acmeMap(), target.state()).plan.changes).toEqual([]);
  });

  it('treats a linked account gone from AD as a leaver, and leaves already-disabled credentials alone', async () => {
    const gone = legacy('ghost-legacy', 'ghost', { AKIA9: 'Active' }, false);
    const done = legacy('old-legacy', 'oldtimer', { AKIA8: 'Inactive' }, false);
    const { plan } = planFor(acmeSnapshot(), acmeMap(), actual(await world([gone, done])));
    expect(actions(plan)).toEqual(['disable iam_user_credentials.prod.ghost-legacy']);
    expect(plan.changes[0]?.leaver?.reason).toBe('deleted-from-ad');
  });

  it('does nothing with disableCredentials off, and never counts disables toward the deletion threshold (they are reversible)', async () => {
    const gone = legacy('ghost-legacy', 'ghost', { AKIA9: 'Active' }, false);
    const off = acmeMap({ leavers: { iamUsers: { disableCredentials: false, linkTag: 't', namePattern: null, keyAgeWarningDays: 90 } } });
    expect(planFor(acmeSnapshot(), off, actual(await world([gone]))).plan.changes).toEqual([]);
    const strict = acmeMap({ safety: { maxDeletes: 0 } });
    const strictPlan = planFor(acmeSnapshot(), strict, actual(await world([gone]))).plan;
    expect(strictPlan.refusal).toBeNull();
    expect(strictPlan.changes.map((c) => c.action)).toEqual(['disable']);
  });
});
