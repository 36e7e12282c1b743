/**
 * Issue 12, defect 1 (the rest of it): a person renamed in AD (UPN changed) who then leaves has live
 * sessions under the old name too (RoleSessionName = the old UPN, so aws:userid = ROLEID:old UPN). The
 * entitlement history's `names` says which names each person carried, and until when; the leaver (and a
 * mover) carries them, and each role's revocation denies every one a session on that role can still carry.
 *
 * Acme (test/support/acme.ts): alice -> role Admin in prod (AWS-Admins); Developers bob, carol -> role
 * Developer in dev. Both roles allow 1-hour sessions.
 */
import { describe, expect, it } from 'vitest';
import type { Change, DirectoryUser, Entitlement, EntitlementHistory, FormerNames, Plan, Resource } from '../../src/core/index.js';
import { planLeaverRevocations } from '../../src/core/fast-lane/plan-leavers.js';
import { acmeMap, acmeSnapshot, alice, bob, carol, dave, erin, frank } from '../support/acme.js';
import { actual, converged, DEV, NOW, planFor, PROD } from '../support/builders.js';

const iso = (hoursFromNow: number): string => new Date(NOW.getTime() + hoursFromNow * 3600_000).toISOString();

// alice married: her sAMAccountName, UPN and mail changed 30 minutes ago.
const OLD: FormerNames = { sAMAccountName: 'alice', userPrincipalName: 'alice@example.com', mail: 'alice@example.com' };
const aliceNow: DirectoryUser = { ...alice, sAMAccountName: 'alice.jones', userPrincipalName: 'alice.jones@example.com', mail: 'alice.jones@example.com' };
const NEW: FormerNames = { sAMAccountName: aliceNow.sAMAccountName, userPrincipalName: aliceNow.userPrincipalName, mail: aliceNow.mail };

/** What a converged Acme holds, with the names each session can carry, as the journal keeps them. */
function held(users: readonly DirectoryUser[], groups = {}): Entitlement[] {
  const byGuid = new Map(users.map((u) => [u.guid, u]));
  return [...planFor(acmeSnapshot({ users, groups }), acmeMap(), actual([])).desired.entitlements].map((e) => ({
    ...e,
    userPrincipalName: byGuid.get(e.userGuid)?.userPrincipalName,
    mail: byGuid.get(e.userGuid)?.mail,
  }));
}

/**
 * The journal after the rename: its last snapshot (written 15 minutes ago, after the rename) shows the
 * new names; the one before showed the old ones, replaced `replacedAt` (the time of that later snapshot).
 */
function renamedHistory(last: readonly Entitlement[], replacedAt = iso(-0.25), extra: readonly FormerNames[] = []): EntitlementHistory {
  return { last, at: iso(-0.25), names: new Map([[alice.guid, [NEW, { ...OLD, until: replacedAt }, ...extra]]]) };
}

function revocationOf(plan: Plan, id: string): Change | undefined {
  return plan.changes.find((c) => c.key === `iam_role_revocations:${id}` && c.action === 'revoke');
}

function entriesOf(c: Change | undefined): Record<string, string> {
  return { ...((c?.after?.attrs as { entries?: Record<string, string> } | undefined)?.entries ?? {}) };
}

const others = [bob, carol, dave, erin, frank];

async function world(groups = {}): Promise<Resource[]> {
  return [...(await converged(acmeSnapshot({ users: [aliceNow, ...others], groups }), acmeMap())).resources.values()];
}

describe('renamed, then left: every name a live session can carry is denied', () => {
  it('renamed then disabled: both the old and the new UPN are denied on her role, and the plan says the old name is covered', async () => {
    const history = renamedHistory(held([aliceNow, ...others]));
    const left = acmeSnapshot({ users: [{ ...aliceNow, disabled: true }, ...others] });
    const { plan, desired } = planFor(left, acmeMap(), actual(await world()), { history });
    expect(desired.leavers.map((l) => [l.sAMAccountName, l.formerNames?.map((n) => n.userPrincipalName)])).toEqual([['alice.jones', ['alice@example.com']]]);
    const admin = revocationOf(plan, `${PROD}/Admin`);
    expect(entriesOf(admin)).toEqual({ 'alice.jones@example.com': NOW.toISOString(), 'alice@example.com': NOW.toISOString() });
    expect(admin?.reason).toBe(
      'alice.jones disabled in AD, seen 2026-11-28 12:00 UTC: live sessions on Admin (prod) as alice.jones@example.com and former name alice@example.com denied from 2026-11-28 12:00 UTC',
    );
  });

  it('the same history and directory give the same plan, byte for byte (names in a fixed order)', async () => {
    const extra: FormerNames = { sAMAccountName: 'alice.b', userPrincipalName: 'alice.b@example.com', mail: 'alice.b@example.com', until: iso(-0.5) };
    const left = acmeSnapshot({ users: [{ ...aliceNow, disabled: true }, ...others] });
    const w = await world();
    const a = planFor(left, acmeMap(), actual(w), { history: renamedHistory(held([aliceNow, ...others]), iso(-0.25), [extra]) }).plan;
    // The journal's order must not matter.
    const reversed: EntitlementHistory = { ...renamedHistory(held([aliceNow, ...others]), iso(-0.25), [extra]), names: new Map([[alice.guid, [extra, { ...OLD, until: iso(-0.25) }, NEW]]]) };
    const b = planFor(left, acmeMap(), actual(w), { history: reversed }).plan;
    expect(revocationOf(a, `${PROD}/Admin`)?.reason).toContain('as alice.jones@example.com and former names alice@example.com and alice.b@example.com denied');
    expect(JSON.stringify(b.changes.map((c) => [c.key, c.reason, c.after?.attrs]))).toBe(JSON.stringify(a.changes.map((c) => [c.key, c.reason, c.after?.attrs])));
  });

  it('a name replaced longer ago than the role’s max session duration is dropped, so the policy does not grow for ever', async () => {
    // Renamed two hours ago; Admin sessions last at most an hour: nothing under the old name can be live.
    const history = renamedHistory(held([aliceNow, ...others]), iso(-2));
    const left = acmeSnapshot({ users: [{ ...aliceNow, disabled: true }, ...others] });
    const { plan } = planFor(left, acmeMap(), actual(await world()), { history });
    const admin = revocationOf(plan, `${PROD}/Admin`);
    expect(entriesOf(admin)).toEqual({ 'alice.jones@example.com': NOW.toISOString() });
    expect(admin?.reason).not.toContain('former name');
  });

  it('deleted from AD after the rename: the history’s names, the current and the former one', async () => {
    const history = renamedHistory(held([aliceNow, ...others]));
    const gone = acmeSnapshot({ users: others, groups: { admins: [] } });
    const { plan, desired } = planFor(gone, acmeMap(), actual(await world()), { history });
    expect(desired.leavers.map((l) => l.reason)).toEqual(['deleted-from-ad']);
    expect(Object.keys(entriesOf(revocationOf(plan, `${PROD}/Admin`))).sort()).toEqual(['alice.jones@example.com', 'alice@example.com']);
  });

  it('with roleSessionName: sAMAccountName, the old sAMAccountName', async () => {
    const map = acmeMap({ leavers: { roleSessionName: 'sAMAccountName' as never } });
    const history = renamedHistory(held([aliceNow, ...others]));
    const left = acmeSnapshot({ users: [{ ...aliceNow, disabled: true }, ...others] });
    const w = [...(await converged(acmeSnapshot({ users: [aliceNow, ...others] }), map)).resources.values()];
    const { plan } = planFor(left, map, actual(w), { history });
    expect(Object.keys(entriesOf(revocationOf(plan, `${PROD}/Admin`))).sort()).toEqual(['alice', 'alice.jones']);
  });

  it('a former name STS would reject is skipped with a warning naming the user; the current name is still denied', async () => {
    const bad: FormerNames = { sAMAccountName: 'alicé', userPrincipalName: 'alicé@example.com', mail: 'alicé@example.com', until: iso(-0.5) };
    const history: EntitlementHistory = { last: held([aliceNow, ...others]), at: iso(-0.25), names: new Map([[alice.guid, [NEW, bad]]]) };
    const left = acmeSnapshot({ users: [{ ...aliceNow, disabled: true }, ...others] });
    const { plan } = planFor(left, acmeMap(), actual(await world()), { history });
    expect(Object.keys(entriesOf(revocationOf(plan, `${PROD}/Admin`)))).toEqual(['alice.jones@example.com']);
    expect(plan.warnings.join('\n')).toMatch(/alice\.jones .*former name "alicé@example\.com"/);
  });

  it('a mover renamed earlier: the sessions on the role she lost are cut under both names, the role she keeps is untouched', async () => {
    const groups = { developers: [aliceNow, bob, carol] };
    const history = renamedHistory(held([aliceNow, ...others], groups));
    const moved = acmeSnapshot({ users: [aliceNow, ...others], groups: { admins: [], developers: [aliceNow, bob, carol] } });
    const { plan, desired } = planFor(moved, acmeMap(), actual(await world(groups)), { history });
    expect(desired.leavers).toEqual([]);
    expect(Object.keys(entriesOf(revocationOf(plan, `${PROD}/Admin`))).sort()).toEqual(['alice.jones@example.com', 'alice@example.com']);
    expect(revocationOf(plan, `${DEV}/Developer`)).toBeUndefined();
  });

  it('the fast lane plans the same: both names denied', async () => {
    const history = renamedHistory(held([aliceNow, ...others]));
    const left = acmeSnapshot({ users: [{ ...aliceNow, disabled: true }, ...others] });
    const { plan, leavers } = planLeaverRevocations({ snapshot: left, roleMap: acmeMap(), now: NOW, history, actual: actual(await world()) });
    expect(leavers.map((l) => l.sAMAccountName)).toEqual(['alice.jones']);
    expect(Object.keys(entriesOf(revocationOf(plan, `${PROD}/Admin`))).sort()).toEqual(['alice.jones@example.com', 'alice@example.com']);
  });

  it('without names in the history (an older journal), the leaver is revoked under the name the directory has, as before', async () => {
    const left = acmeSnapshot({ users: [{ ...aliceNow, disabled: true }, ...others] });
    const { plan } = planFor(left, acmeMap(), actual(await world()), { history: { last: held([aliceNow, ...others]), at: iso(-0.25) } });
    expect(Object.keys(entriesOf(revocationOf(plan, `${PROD}/Admin`)))).toEqual(['alice.jones@example.com']);
  });
});
