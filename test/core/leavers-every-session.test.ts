/**
 * Issue 12: every session of a leaver (or of a mover, on what they lost) is cut, on every path.
 * Stories on the Acme fixture (test/support/acme.ts):
 *
 *   AWS-Admins   alice       -> role Admin in prod (max session 1 h)
 *   Developers   bob, carol  -> role Developer in dev; PowerUser on dev (Identity Center, PT8H)
 *   Auditors     dave        -> ReadOnly on prod and dev (Identity Center)
 */
import { describe, expect, it } from 'vitest';
import type { Change, DirectoryUser, Entitlement, EntitlementHistory, Plan, Resource } from '../../src/core/index.js';
import { applyPlan } from '../../src/core/index.js';
import { acmeGroups, acmeMap, acmeSnapshot, alice, bob, carol, dave, erin, frank } from '../support/acme.js';
import { actual, converged, DEV, group, NOW, planFor, PROD, role, roleMap, snapshot, user } from '../support/builders.js';
import { InMemoryTarget } from '../support/in-memory-target.js';

const at = (hoursFromNow: number): Date => new Date(NOW.getTime() + hoursFromNow * 3600_000);
const iso = (hoursFromNow: number): string => at(hoursFromNow).toISOString();

/** The entitlements a converged Acme holds, with the names a session can carry (as the journal keeps them). */
function acmeEntitlements(users: readonly DirectoryUser[] = [alice, bob, carol, dave, erin, frank], groups = {}): Entitlement[] {
  const byGuid = new Map(users.map((u) => [u.guid, u]));
  return [...planFor(acmeSnapshot({ users, groups }), acmeMap(), actual([])).desired.entitlements].map((e) => ({
    ...e,
    userPrincipalName: byGuid.get(e.userGuid)?.userPrincipalName,
    mail: byGuid.get(e.userGuid)?.mail,
  }));
}

function recorded(entitlements: readonly Entitlement[], when: string = iso(-1)): EntitlementHistory {
  return { last: entitlements, at: when } as EntitlementHistory;
}

function revocationOf(plan: Plan, kind: 'iam_role_revocations' | 'sso_permission_set_revocations', id: string): Change | undefined {
  return plan.changes.find((c) => c.key === `${kind}:${id}` && c.action === 'revoke');
}

function entriesOf(c: Change | undefined): Record<string, string> {
  return { ...((c?.after?.attrs as { entries?: Record<string, string> } | undefined)?.entries ?? {}) };
}

async function acmeWorld(extra: Resource[] = []): Promise<Resource[]> {
  const target = await converged(acmeSnapshot(), acmeMap());
  return [...target.resources.values(), ...extra];
}

describe('defect 1: a leaver gone from AD is revoked under the session name ADFS sends', () => {
  const aliceSmith: DirectoryUser = { ...alice, userPrincipalName: 'alice.smith@example.com', mail: 'a.smith@mail.example.com' };
  const users = [aliceSmith, bob, carol, dave, erin, frank];

  it('deleted from AD (or moved out of userBase): the UPN from the entitlement history, not the sAMAccountName', async () => {
    const gone = acmeSnapshot({ users: [bob, carol, dave, erin, frank], groups: { admins: [] } });
    const { plan, desired } = planFor(gone, acmeMap(), actual(await acmeWorld()), { history: recorded(acmeEntitlements(users)) });
    expect(desired.leavers.map((l) => [l.sAMAccountName, l.reason])).toEqual([['alice', 'deleted-from-ad']]);
    expect(Object.keys(entriesOf(revocationOf(plan, 'iam_role_revocations', `${PROD}/Admin`)))).toEqual(['alice.smith@example.com']);
  });

  it('with roleSessionName: mail, the mail address', async () => {
    const gone = acmeSnapshot({ users: [bob, carol, dave, erin, frank], groups: { admins: [] } });
    const map = acmeMap({ leavers: { roleSessionName: 'mail' as never } });
    const { plan } = planFor(gone, map, actual(await acmeWorld()), { history: recorded(acmeEntitlements(users)) });
    expect(Object.keys(entriesOf(revocationOf(plan, 'iam_role_revocations', `${PROD}/Admin`)))).toEqual(['a.smith@mail.example.com']);
  });
});

describe('defect 4: removed, re-added, removed again: each removal gets its own instant', () => {
  it('a session opened after the re-add is cut by the second removal', async () => {
    const firstRemoval = iso(-6);
    // alice was revoked 6 hours ago... (Admin allows 1-hour sessions; use the 8-hour PowerUser through Developers instead)
    const world = await acmeWorld();
    const bobUserId = world.find((r) => r.kind === 'identitystore_user' && r.id === bob.guid)?.awsId as string;
    const rev: Resource = { kind: 'sso_permission_set_revocations', id: 'PowerUser', account: '999999999999', name: 'PowerUser', owned: true, awsId: 'arn:ps', attrs: { entries: { [bobUserId]: firstRemoval } } } as Resource;
    // ... then re-added: the run two hours ago saw him in Developers again, and recorded it.
    const history = recorded(acmeEntitlements(), iso(-2));
    // Now removed again.
    const removed = acmeSnapshot({ groups: { developers: [carol] } });
    const { plan } = planFor(removed, acmeMap(), actual([...world, rev]), { history });
    expect(entriesOf(revocationOf(plan, 'sso_permission_set_revocations', 'PowerUser'))).toEqual({ [bobUserId]: NOW.toISOString() });
  });

  it('the same role revocation is not renewed on every run while the leaver is still being handled', async () => {
    const world = await acmeWorld();
    const rev: Resource = { kind: 'iam_role_revocations', id: `${DEV}/Developer`, account: DEV, name: 'Developer', owned: true, awsId: 'AROA', attrs: { entries: { 'bob@example.com': iso(-0.5) } } } as Resource;
    // The snapshot recorded after that revocation kept bob's former grants (his Identity Center removal failed): seen until before the revocation.
    const kept = acmeEntitlements().map((e) => (e.userGuid === bob.guid ? ({ ...e, seenAt: iso(-1) } as Entitlement) : e));
    const removed = acmeSnapshot({ groups: { developers: [carol] } });
    const { plan } = planFor(removed, acmeMap(), actual([...world, rev]), { history: recorded(kept, iso(-0.25)) });
    expect(plan.changes.filter((c) => c.key === `iam_role_revocations:${DEV}/Developer`)).toEqual([]);
  });
});

describe('defect 5: revocations go first and depend on nothing', () => {
  it('every revocation has no dependency and comes before every removal of access', async () => {
    const removed = acmeSnapshot({ users: [alice, { ...bob, disabled: true }, carol, dave, erin, frank] });
    const { plan } = planFor(removed, acmeMap(), actual(await acmeWorld()), { history: recorded(acmeEntitlements()) });
    const revokes = plan.changes.filter((c) => c.action === 'revoke');
    expect(revokes.map((c) => c.address).sort()).toEqual(['iam_role_revocations.dev.Developer', 'sso_permission_set_revocations.PowerUser']);
    for (const r of revokes) expect(r.dependsOn).toEqual([]);
    const firstDelete = Math.min(...plan.changes.filter((c) => c.action === 'delete').map((c) => c.seq));
    for (const r of revokes) expect(r.seq).toBeLessThan(firstDelete);
    // The Identity Center user still goes only after its deny is in place (AWS's order; its UserId is the deny's key).
    const icUser = plan.changes.find((c) => c.kind === 'identitystore_user');
    expect(icUser?.dependsOn).toContain(revokes.find((c) => c.kind === 'sso_permission_set_revocations')?.seq);
  });

  it('an Identity Center that fails every call does not hold back the IAM role revocation', async () => {
    const world = await acmeWorld();
    const removed = acmeSnapshot({ users: [alice, { ...bob, disabled: true }, carol, dave, erin, frank] });
    const { plan } = planFor(removed, acmeMap(), actual(world), { history: recorded(acmeEntitlements()) });
    const iam = new InMemoryTarget(world);
    const ic = new InMemoryTarget(world, { failOn: () => true });
    const report = await applyPlan(plan, { targetFor: (kind) => (kind.startsWith('iam_') ? iam : ic) });
    const role = report.results.find((r) => r.change.address === 'iam_role_revocations.dev.Developer');
    expect(role?.status).toBe('applied');
    expect(Object.keys(entriesOf(role?.change))).toEqual(['bob@example.com']);
  });
});

describe('defect 7: a mover loses the sessions of the role they lost', () => {
  it('alice leaves AWS-Admins but stays in Developers: her Admin sessions are cut, her Developer ones are not', async () => {
    const before = acmeEntitlements(undefined, { developers: [alice, bob, carol] });
    const world = (await converged(acmeSnapshot({ groups: { developers: [alice, bob, carol] } }), acmeMap())).state().resources;
    const moved = acmeSnapshot({ groups: { admins: [], developers: [alice, bob, carol] } });
    const { plan, desired } = planFor(moved, acmeMap(), actual(world), { history: recorded(before) });
    expect(desired.leavers).toEqual([]);
    const admin = revocationOf(plan, 'iam_role_revocations', `${PROD}/Admin`);
    expect(entriesOf(admin)).toEqual({ 'alice@example.com': NOW.toISOString() });
    expect(revocationOf(plan, 'iam_role_revocations', `${DEV}/Developer`)).toBeUndefined();
    expect(admin?.reason).toContain('alice');
    // A mover keeps their Identity Center user and their linked IAM user: nothing is deleted or disabled.
    expect(plan.changes.filter((c) => c.action === 'delete' || c.action === 'disable')).toEqual([]);
  });

  it('a mover who loses a permission set has that set denied by UserId', async () => {
    const world = (await converged(acmeSnapshot({ groups: { developers: [bob, carol, dave] } }), acmeMap())).state().resources;
    const daveUserId = world.find((r) => r.kind === 'identitystore_user' && r.id === dave.guid)?.awsId as string;
    const before = acmeEntitlements(undefined, { developers: [bob, carol, dave] });
    const { plan } = planFor(acmeSnapshot(), acmeMap(), actual(world), { history: recorded(before) });
    expect(entriesOf(revocationOf(plan, 'sso_permission_set_revocations', 'PowerUser'))).toEqual({ [daveUserId]: NOW.toISOString() });
  });
});

describe('defect 8: one session name STS would reject does not block the others', () => {
  it('skips the invalid name with a warning naming the user, and revokes everyone else', async () => {
    const carole: DirectoryUser = { ...carol, userPrincipalName: 'carolé@example.com' };
    const users = [alice, { ...bob, disabled: true }, { ...carole, disabled: true }, dave, erin, frank];
    const { plan } = planFor(snapshot(users, acmeGroups({ developers: [bob, carole] })), acmeMap(), actual(await acmeWorld()), {
      history: recorded(acmeEntitlements([alice, bob, carole, dave, erin, frank], { developers: [bob, carole] })),
    });
    expect(Object.keys(entriesOf(revocationOf(plan, 'iam_role_revocations', `${DEV}/Developer`)))).toEqual(['bob@example.com']);
    expect(plan.warnings.join('\n')).toMatch(/carol.*carolé@example\.com/);
  });
});

describe('defect 6: permission-set revocations and the 10,240-character inline-policy quota', () => {
  const ids = (n: number, at: string): Record<string, string> =>
    Object.fromEntries(Array.from({ length: n }, (_, i) => [`${i.toString(16).padStart(10, '0')}-00000000-0000-4000-8000-${i.toString(16).padStart(12, '0')}`, at]));
  const psRevocations = (entries: Record<string, string>): Resource =>
    ({ kind: 'sso_permission_set_revocations', id: 'PowerUser', account: '999999999999', name: 'PowerUser', owned: true, awsId: 'arn:ps', attrs: { entries } }) as Resource;
  const bobLeaves = acmeSnapshot({ users: [alice, { ...bob, disabled: true }, carol, dave, erin, frank] });

  it('a layoff of 150 people on one set fits beside its configured policy', async () => {
    const { plan } = planFor(bobLeaves, acmeMap(), actual(await acmeWorld([psRevocations(ids(149, iso(-1)))])), { history: recorded(acmeEntitlements()) });
    const revoke = revocationOf(plan, 'sso_permission_set_revocations', 'PowerUser');
    expect(Object.keys(entriesOf(revoke))).toHaveLength(150);
    expect(revoke?.reason).not.toMatch(/cannot apply/);
    expect(plan.warnings.join('\n')).not.toMatch(/quota/);
  });

  it('past the quota: the revocation is planned as a clear error naming the set, the size and the quota', async () => {
    const { plan } = planFor(bobLeaves, acmeMap(), actual(await acmeWorld([psRevocations(ids(230, iso(-1)))])), { history: recorded(acmeEntitlements()) });
    const revoke = revocationOf(plan, 'sso_permission_set_revocations', 'PowerUser');
    expect(revoke?.reason).toMatch(/^cannot apply: the inline policy of permission set PowerUser would be 1\d{4} characters with these revocations \(231 UserIds\), over Identity Center's quota of 10240/);
    expect(plan.warnings.join('\n')).toMatch(/sso_permission_set_revocations\.PowerUser: cannot apply: .* quota of 10240/);
    // The Developer role revocation is not held back by it.
    expect(revocationOf(plan, 'iam_role_revocations', `${DEV}/Developer`)?.dependsOn).toEqual([]);
  });

  it('entries older than the set’s session duration are pruned first, which makes room', async () => {
    const old = psRevocations({ ...ids(230, iso(-9)) });
    const { plan } = planFor(bobLeaves, acmeMap(), actual(await acmeWorld([old])), { history: recorded(acmeEntitlements()) });
    const revoke = revocationOf(plan, 'sso_permission_set_revocations', 'PowerUser');
    expect(Object.keys(entriesOf(revoke))).toHaveLength(1);
    expect(revoke?.reason).toMatch(/prune 230 revocation\(s\) older than the session duration$/);
  });
});

describe('defect 9: a leaver’s IAM user loses its temporary credentials too', () => {
  const legacy = (keys: Record<string, 'Active' | 'Inactive'>, revokedBefore: string | null = null): Resource =>
    ({
      kind: 'iam_user_credentials',
      id: `${PROD}/bob-ci`,
      account: PROD,
      name: 'bob-ci',
      owned: false,
      awsId: 'AIDABOBCI',
      principal: { guid: '', name: 'bob' },
      attrs: { accessKeys: keys, loginProfile: false, sessionsRevokedBefore: revokedBefore },
    }) as Resource;
  const bobLeaves = acmeSnapshot({ users: [alice, { ...bob, disabled: true }, carol, dave, erin, frank] });

  it('the disable denies credentials issued before now (aws:TokenIssueTime), beside deactivating the keys', async () => {
    const { plan } = planFor(bobLeaves, acmeMap(), actual(await acmeWorld([legacy({ AKIA1: 'Active' })])), { history: recorded(acmeEntitlements()) });
    const disable = plan.changes.find((c) => c.kind === 'iam_user_credentials');
    expect(disable?.after?.attrs).toEqual({ accessKeys: { AKIA1: 'Inactive' }, loginProfile: false, sessionsRevokedBefore: NOW.toISOString() });
    expect(disable?.reason).toBe('IAM user linked to bob disabled in AD, seen 2026-11-28 12:00 UTC: deactivate access keys, remove console password, deny its temporary credentials issued before 2026-11-28 12:00 UTC');
    expect(disable?.dependsOn).toEqual([]);
  });

  it('keys switched off by hand when bob left: the deny still comes, once', async () => {
    const { plan } = planFor(bobLeaves, acmeMap(), actual(await acmeWorld([legacy({ AKIA1: 'Inactive' })])), { history: recorded(acmeEntitlements()) });
    expect(plan.changes.find((c) => c.kind === 'iam_user_credentials')?.after?.attrs).toMatchObject({ sessionsRevokedBefore: NOW.toISOString() });
    const denied = planFor(bobLeaves, acmeMap(), actual(await acmeWorld([legacy({ AKIA1: 'Inactive' }, iso(0))])), { history: recorded(acmeEntitlements()) });
    expect(denied.plan.changes.filter((c) => c.kind === 'iam_user_credentials')).toEqual([]);
  });
});

describe('the plan says each leaver step in words an auditor understands', () => {
  it('"asmith disabled in AD at 09:14: live sessions on PlatformAdmin (prod) denied from 09:15"', async () => {
    const asmith = user('asmith', { userPrincipalName: 'asmith@corp.example' });
    const admins = group('AWS-Platform-Admins', [asmith]);
    const map = roleMap({ federatedRoles: [role('AWS-Platform-Admins', PROD, 'PlatformAdmin')] });
    const t0 = new Date('2026-12-02T08:00:00.000Z');
    const world = await converged(snapshot([asmith], [admins]), map, { now: t0 });
    const held = planFor(snapshot([asmith], [admins]), map, actual([]), { now: t0 }).desired.entitlements;
    const seen = new Date('2026-12-02T09:15:00.000Z');
    const disabled = { ...asmith, disabled: true, whenChanged: '2026-12-02T09:14:03.000Z' };
    const { plan } = planFor(snapshot([disabled], [admins]), map, world.state(), { now: seen, history: { last: held, at: t0.toISOString() } as EntitlementHistory });
    expect(plan.changes.map((c) => [c.address, c.reason])).toEqual([
      ['iam_role_revocations.prod.PlatformAdmin', 'asmith disabled in AD at 2026-12-02 09:14 UTC, seen 2026-12-02 09:15 UTC: live sessions on PlatformAdmin (prod) denied from 2026-12-02 09:15 UTC'],
    ]);
    expect(plan.changes[0]?.after?.attrs).toEqual({ entries: { 'asmith@corp.example': seen.toISOString() } });
  });

  it('a shared revocation names each person and what happened to them', async () => {
    const { plan } = planFor(
      acmeSnapshot({ users: [alice, { ...bob, disabled: true }, { ...carol, expiresAt: '2026-11-28T11:00:00.000Z' }, dave, erin, frank] }),
      acmeMap(),
      actual(await acmeWorld()),
      { history: recorded(acmeEntitlements()) },
    );
    expect(revocationOf(plan, 'iam_role_revocations', `${DEV}/Developer`)?.reason).toBe(
      'bob disabled in AD, seen 2026-11-28 12:00 UTC: live sessions on Developer (dev) denied from 2026-11-28 12:00 UTC; ' +
        'carol expired in AD at 2026-11-28 11:00 UTC, seen 2026-11-28 12:00 UTC: live sessions on Developer (dev) denied from 2026-11-28 12:00 UTC',
    );
  });
});
