/**
 * The plan, told as stories about the Acme organisation (test/support/acme.ts).
 * Each story starts from an AWS that already matches the directory (`converged`), changes one thing
 * in AD or the role map, and reads the plan.
 */
import { describe, expect, it } from 'vitest';
import type { Entitlement, Resource } from '../../src/core/index.js';
import { computeDesired, OWNER_TAG, renderPlan } from '../../src/core/index.js';
import { InMemoryTarget } from '../support/in-memory-target.js';
import { acmeMap, acmeSnapshot, alice, bob, carol, dave, erin, frank } from '../support/acme.js';
import { actions, actual, applied, converged, DEV, guidFor, history, NO_HISTORY, NOW, planFor, PROD, SSO, user } from '../support/builders.js';

async function acmeToday(): Promise<{ entitlements: readonly Entitlement[]; resources: Resource[] }> {
  const target = await converged(acmeSnapshot(), acmeMap());
  const desired = computeDesired(acmeSnapshot(), acmeMap(), NOW, NO_HISTORY);
  return { entitlements: [...desired.entitlements], resources: [...target.resources.values()] };
}

describe('idempotency', () => {
  it('plans nothing when AWS already matches the directory and the role map', async () => {
    const today = await acmeToday();
    const { plan } = planFor(acmeSnapshot(), acmeMap(), actual(today.resources), { history: history(today.entitlements) });
    expect(plan.changes).toEqual([]);
    expect(plan.summary).toEqual({ add: 0, change: 0, destroy: 0, leavers: 0 });
    expect(renderPlan(plan, { color: false })).toContain('No changes. AWS matches the directory and the role map.');
  });

  it('builds the whole organisation from nothing in dependency order', () => {
    const { plan } = planFor(acmeSnapshot(), acmeMap(), actual([]));
    const seqOf = (address: string): number => plan.changes.find((c) => c.address === address)?.seq ?? -1;
    expect(actions(plan)).toContain('create iam_role.prod.Admin');
    expect(actions(plan)).toContain('create iam_role.prod.Billing');
    expect(seqOf('identitystore_membership.Developers/bob@example.com')).toBeGreaterThan(seqOf('identitystore_user.bob@example.com'));
    expect(seqOf('sso_account_assignment.PowerUser/dev/Developers')).toBeGreaterThan(seqOf('sso_permission_set.PowerUser'));
    const membership = plan.changes.find((c) => c.address === 'identitystore_membership.Developers/bob@example.com');
    expect(membership?.dependsOn).toEqual([seqOf('identitystore_group.Developers'), seqOf('identitystore_user.bob@example.com')].sort((a, b) => a - b));
    expect(plan.summary.add).toBe(plan.changes.length);
  });
});

describe('joiner', () => {
  it('frank joins Developers: an Identity Center user and one membership, nothing else', async () => {
    const today = await acmeToday();
    const snap = acmeSnapshot({ groups: { developers: [bob, carol, frank] } });
    const { plan, desired } = planFor(snap, acmeMap(), actual(today.resources), { history: history(today.entitlements) });
    expect(actions(plan)).toEqual(['create identitystore_user.frank@example.com', 'create identitystore_membership.Developers/frank@example.com']);
    expect([...desired.entitlements].filter((e) => e.userName === 'frank').map((e) => `${e.kind}:${e.target}`).sort()).toEqual(['iam_role:Developer', 'permission_set:PowerUser']);
    expect(desired.leavers).toEqual([]);
  });
});

describe('mover', () => {
  it('bob moves from Developers to Auditors: memberships move, the user stays, bob is no leaver, his sessions on what he lost are cut', async () => {
    const today = await acmeToday();
    const snap = acmeSnapshot({ groups: { developers: [carol], auditors: [dave, bob] } });
    const { plan, desired } = planFor(snap, acmeMap(), actual(today.resources), { history: history(today.entitlements) });
    expect(actions(plan)).toEqual([
      'revoke iam_role_revocations.dev.Developer',
      'revoke sso_permission_set_revocations.PowerUser',
      'create identitystore_membership.Auditors/bob@example.com',
      'delete identitystore_membership.Developers/bob@example.com',
    ]);
    expect(desired.leavers).toEqual([]);
    expect(desired.movers?.map((m) => [m.sAMAccountName, m.lostEntitlements.map((e) => e.target).sort()])).toEqual([['bob', ['Developer', 'PowerUser']]]);
    expect(plan.changes[0]?.reason).toBe(
      'bob no longer in AD group Developers, which gave role Developer (dev), seen 2026-11-28 12:00 UTC: live sessions on Developer (dev) denied from 2026-11-28 12:00 UTC',
    );
    expect(plan.summary.leavers).toBe(0);
  });
});

describe('leavers', () => {
  it('carol is disabled: her access goes, her live sessions are revoked, then her user is deleted', async () => {
    const today = await acmeToday();
    const snap = acmeSnapshot({ users: [alice, bob, { ...carol, disabled: true }, dave, erin, frank] });
    const { plan, desired } = planFor(snap, acmeMap(), actual(today.resources), { history: history(today.entitlements) });
    expect(desired.leavers.map((l) => [l.sAMAccountName, l.reason])).toEqual([['carol', 'disabled']]);
    // AWS's order for a leaver: live sessions are denied first (depending on nothing), then memberships and
    // direct assignments go, then the user (after the deny on its UserId).
    expect(actions(plan)).toEqual([
      'revoke iam_role_revocations.dev.Developer',
      'revoke sso_permission_set_revocations.PowerUser',
      'delete identitystore_membership.Developers/carol@example.com',
      'delete identitystore_user.carol@example.com',
    ]);
    const [roleRevoke, psRevoke, membership, icUser] = plan.changes;
    expect(roleRevoke?.dependsOn).toEqual([]);
    expect(psRevoke?.dependsOn).toEqual([]);
    expect(membership?.dependsOn).toEqual([]);
    expect(roleRevoke?.after?.attrs).toEqual({ entries: { 'carol@example.com': NOW.toISOString() } });
    const carolsUserId = today.resources.find((r) => r.kind === 'identitystore_user' && r.id === carol.guid)?.awsId as string;
    expect(psRevoke?.after?.attrs).toEqual({ entries: { [carolsUserId]: NOW.toISOString() } });
    expect(icUser?.dependsOn).toEqual([psRevoke?.seq, membership?.seq]);
    for (const c of plan.changes) expect(c.leaver).toEqual({ guid: carol.guid, name: 'carol', reason: 'disabled' });
    expect(plan.summary).toEqual({ add: 0, change: 2, destroy: 2, leavers: 1 });
    expect(renderPlan(plan, { color: false })).toMatch(/\n1 leaver \([^)]*\): .*session revocation/);
  });

  it('an expired account is a leaver with reason expired', async () => {
    const today = await acmeToday();
    const snap = acmeSnapshot({ users: [alice, { ...bob, expiresAt: '2026-11-01T00:00:00.000Z' }, carol, dave, erin, frank] });
    const { desired, plan } = planFor(snap, acmeMap(), actual(today.resources), { history: history(today.entitlements) });
    expect(desired.leavers.map((l) => [l.sAMAccountName, l.reason])).toEqual([['bob', 'expired']]);
    expect(actions(plan)).toContain('delete identitystore_user.bob@example.com');
  });

  it('an account that expires later is not a leaver yet', () => {
    const snap = acmeSnapshot({ users: [alice, { ...bob, expiresAt: '2027-01-01T00:00:00.000Z' }, carol, dave, erin, frank] });
    expect(computeDesired(snap, acmeMap(), NOW, NO_HISTORY).leavers).toEqual([]);
  });

  it('dave is removed from every mapped group: a leaver (removed-from-groups) though still enabled', async () => {
    const today = await acmeToday();
    const snap = acmeSnapshot({ groups: { auditors: [] } });
    const { desired, plan } = planFor(snap, acmeMap(), actual(today.resources), { history: history(today.entitlements) });
    expect(desired.leavers.map((l) => [l.sAMAccountName, l.reason])).toEqual([['dave', 'removed-from-groups']]);
    expect(desired.leavers[0]?.formerEntitlements.map((e) => `${e.target}@${e.account}`).sort()).toEqual([`ReadOnly@${PROD}`, `ReadOnly@${DEV}`]);
    expect(actions(plan)).toEqual([
      'revoke sso_permission_set_revocations.ReadOnly',
      'delete identitystore_membership.Auditors/dave@example.com',
      'delete identitystore_user.dave@example.com',
    ]);
  });

  it('erin is deleted from AD: a leaver (deleted-from-ad); her pattern role stays, with her sessions revoked', async () => {
    const today = await acmeToday();
    const snap = acmeSnapshot({ users: [alice, bob, carol, dave, frank], groups: { billing: [] } });
    const { desired, plan } = planFor(snap, acmeMap({ leavers: { roleSessionName: 'sAMAccountName' } }), actual(today.resources), { history: history(today.entitlements) });
    expect(desired.leavers.map((l) => [l.sAMAccountName, l.reason])).toEqual([['erin', 'deleted-from-ad']]);
    expect(actions(plan)).toEqual(['revoke iam_role_revocations.prod.Billing']);
    expect(plan.changes[0]?.after?.attrs).toEqual({ entries: { erin: NOW.toISOString() } });
  });

  it('a leaver already handled (no entitlements in the last snapshot) is not a leaver again', async () => {
    const today = await acmeToday();
    const snap = acmeSnapshot({ users: [alice, bob, { ...carol, disabled: true }, dave, erin, frank] });
    const after = computeDesired(snap, acmeMap(), NOW, history(today.entitlements));
    expect(after.leavers).toHaveLength(1);
    expect(computeDesired(snap, acmeMap(), NOW, history([...after.entitlements])).leavers).toEqual([]);
  });

  it('on a first run without history, a disabled member of a mapped group is a leaver', () => {
    const snap = acmeSnapshot({ users: [alice, bob, { ...carol, disabled: true }, dave, erin, frank] });
    const { leavers } = computeDesired(snap, acmeMap(), NOW, NO_HISTORY);
    expect(leavers.map((l) => l.sAMAccountName)).toEqual(['carol']);
    expect(leavers[0]?.formerEntitlements.map((e) => e.target).sort()).toEqual(['Developer', 'PowerUser']);
  });

  it('with remove-access, a leaver loses memberships but the Identity Center user stays', async () => {
    const today = await acmeToday();
    const snap = acmeSnapshot({ users: [alice, bob, { ...carol, disabled: true }, dave, erin, frank] });
    const map = acmeMap({ leavers: { identityCenter: 'remove-access', revokeSessions: false } });
    const { plan } = planFor(snap, map, actual(today.resources), { history: history(today.entitlements) });
    expect(actions(plan)).toEqual(['delete identitystore_membership.Developers/carol@example.com']);
  });
});

describe('identity is the objectGUID', () => {
  it('a user renamed in AD is updated in place, never deleted and recreated', async () => {
    const today = await acmeToday();
    const robert = { ...bob, sAMAccountName: 'robert', userPrincipalName: 'robert@example.com', mail: 'robert@example.com', displayName: 'Robert Example' };
    const snap = acmeSnapshot({ users: [alice, robert, carol, dave, erin, frank], groups: { developers: [robert, carol] } });
    const { plan } = planFor(snap, acmeMap(), actual(today.resources), { history: history(today.entitlements) });
    expect(actions(plan)).toEqual(['update identitystore_user.robert@example.com']);
    expect(plan.changes[0]?.diffs.map((d) => d.name)).toEqual(['userName', 'displayName', 'email']);
    expect(plan.changes[0]?.reason).toMatch(/renamed in AD/);
    expect(plan.changes[0]?.before?.awsId).toBe(plan.changes[0]?.after?.awsId);
  });

  it('a user renamed to the name a leaver frees waits for the leaver to be deleted', async () => {
    const today = await acmeToday();
    const newBob = { ...bob, userPrincipalName: 'carol@example.com' };
    const snap = acmeSnapshot({ users: [alice, newBob, { ...carol, disabled: true }, dave, erin, frank], groups: { developers: [newBob, carol] } });
    const { plan } = planFor(snap, acmeMap({ leavers: { revokeSessions: false } }), actual(today.resources), { history: history(today.entitlements) });
    const rename = plan.changes.find((c) => c.action === 'update' && c.kind === 'identitystore_user');
    const deletion = plan.changes.find((c) => c.action === 'delete' && c.kind === 'identitystore_user');
    expect(rename?.dependsOn).toContain(deletion?.seq);
    expect(rename?.seq).toBeGreaterThan(deletion?.seq ?? Infinity);
    await applied(plan, new InMemoryTarget(today.resources));
  });

  it('a group renamed in AD is updated in place; its assignments are untouched', async () => {
    const today = await acmeToday();
    const map = acmeMap();
    const byGuid = { ...map, identityCenter: map.identityCenter && { ...map.identityCenter, assignments: map.identityCenter.assignments.map((a) => (a.permissionSet === 'ReadOnly' ? { ...a, group: { by: 'guid' as const, value: guidFor('group:Auditors') } } : a)) } };
    const groups = acmeSnapshot().groups.map((g) => (g.name === 'Auditors' ? { ...g, name: 'Compliance', sAMAccountName: 'Compliance', dn: 'CN=Compliance,OU=Groups,DC=example,DC=com' } : g));
    const { plan } = planFor({ ...acmeSnapshot(), groups }, byGuid, actual(today.resources), { history: history(today.entitlements) });
    expect(actions(plan)).toEqual(['update identitystore_group.Compliance']);
    expect(plan.changes[0]?.diffs.map((d) => d.name)).toEqual(['displayName', 'description']);
  });
});

describe('nested groups', () => {
  it('a member of a nested group becomes a direct member in Identity Center (no nesting there)', async () => {
    const today = await acmeToday();
    // Developers now contains the group Interns (gina); the source flattens transitive members.
    const gina = user('gina');
    const snap = acmeSnapshot({ users: [alice, bob, carol, dave, erin, frank, gina], groups: { developers: [bob, carol, gina] } });
    const { plan } = planFor(snap, acmeMap(), actual(today.resources), { history: history(today.entitlements) });
    expect(actions(plan)).toEqual(['create identitystore_user.gina@example.com', 'create identitystore_membership.Developers/gina@example.com']);
  });

  it('a disabled transitive member gets no membership', () => {
    const snap = acmeSnapshot({ users: [alice, bob, { ...carol, disabled: true }, dave, erin, frank] });
    const desired = computeDesired(snap, acmeMap(), NOW, NO_HISTORY);
    expect(desired.resources.filter((r) => r.kind === 'identitystore_membership').map((r) => r.name).sort()).toEqual(['Auditors/dave@example.com', 'Developers/bob@example.com']);
  });
});

describe('protected principals', () => {
  it('a protected leaver is never touched, and the plan says so', async () => {
    const today = await acmeToday();
    const snap = acmeSnapshot({ users: [alice, bob, { ...carol, disabled: true }, dave, erin, frank] });
    const { plan } = planFor(snap, acmeMap({ safety: { protectedPrincipals: ['CAROL'] } }), actual(today.resources), { history: history(today.entitlements) });
    expect(plan.changes).toEqual([]);
    expect(plan.warnings).toEqual([
      'identitystore_membership.Developers/carol@example.com: CAROL is a protected principal; delete skipped',
      'identitystore_user.carol@example.com: CAROL is a protected principal; delete skipped',
    ]);
  });

  it('a protected role name is never updated', async () => {
    const today = await acmeToday();
    const map = acmeMap({ safety: { protectedPrincipals: ['Admin'] } });
    const changed = { ...map, federatedRoles: map.federatedRoles.map((r) => (r.roleName === 'Admin' ? { ...r, description: 'changed' } : r)) };
    const { plan } = planFor(acmeSnapshot(), changed, actual(today.resources), { history: history(today.entitlements) });
    expect(plan.changes).toEqual([]);
    expect(plan.warnings).toEqual(['iam_role.prod.Admin: Admin is a protected principal; update skipped']);
  });
});

describe('safety', () => {
  it('refuses a plan past the deletion threshold, keeps its changes to show, and takes --allow-deletes', async () => {
    const today = await acmeToday();
    const map = acmeMap({ safety: { maxDeletes: 2, maxDeletePercent: 100 } });
    const noIc = { ...map, identityCenter: map.identityCenter && { ...map.identityCenter, assignments: [] } };
    const { plan } = planFor(acmeSnapshot(), noIc, actual(today.resources), { history: history(today.entitlements) });
    expect(plan.refusal?.code).toBe('deletion-threshold');
    const deletes = plan.changes.filter((c) => c.action === 'delete').length;
    expect(deletes).toBe(plan.summary.destroy);
    expect(plan.refusal?.message).toContain(`--allow-deletes ${deletes}`);
    expect(renderPlan(plan, { color: false })).toContain('Error: Plan refused (deletion-threshold)');
    expect(planFor(acmeSnapshot(), noIc, actual(today.resources), { history: history(today.entitlements), allowDeletes: deletes }).plan.refusal).toBeNull();
    expect(planFor(acmeSnapshot(), noIc, actual(today.resources), { history: history(today.entitlements), allowDeletes: deletes - 1 }).plan.refusal?.code).toBe('deletion-threshold');
  });

  it('refuses by percentage of managed objects', async () => {
    const today = await acmeToday();
    const map = acmeMap({ safety: { maxDeletes: 1000, maxDeletePercent: 10 } });
    const { plan } = planFor(acmeSnapshot({ groups: { developers: [], auditors: [] } }), map, actual(today.resources), { history: history(today.entitlements) });
    expect(plan.refusal?.code).toBe('deletion-threshold');
  });

  it('refuses when the directory returns fewer users than the minimum, whatever the plan', async () => {
    const today = await acmeToday();
    const map = acmeMap({ safety: { minDirectoryUsers: 100 } });
    const { plan } = planFor(acmeSnapshot({ users: [] }), map, actual(today.resources), { history: history(today.entitlements), allowDeletes: 1000 });
    expect(plan.refusal?.code).toBe('directory-too-small');
    expect(plan.refusal?.message).toContain('returned 0 users, fewer than safety.minDirectoryUsers (100)');
    expect(plan.changes.length).toBeGreaterThan(0);
  });
});

describe('ownership', () => {
  const unownedAdmin: Resource = {
    kind: 'iam_role',
    id: `${PROD}/Admin`,
    account: PROD,
    name: 'Admin',
    owned: false,
    awsId: 'AROAUNOWNED',
    attrs: { path: '/', description: 'made by hand', maxSessionDuration: 3600, permissionsBoundary: null, trustPolicy: { Version: '2012-10-17', Statement: [] }, managedPolicyArns: [], inlinePolicies: {}, tags: {} },
  };
  const unownedBob: Resource = {
    kind: 'identitystore_user',
    id: 'unowned:u-bob',
    account: SSO,
    name: 'bob@example.com',
    owned: false,
    awsId: 'u-bob',
    attrs: { userName: 'bob@example.com', displayName: 'Bob (Control Tower)', givenName: 'Bob', familyName: 'Example', email: 'bob@example.com' },
  };

  it('an unowned object with the wanted name is not touched, and nothing that hangs on it is planned', () => {
    const { plan } = planFor(acmeSnapshot(), acmeMap(), actual([unownedAdmin, unownedBob]));
    expect(actions(plan).filter((a) => a.includes('Admin') || a.includes('bob'))).toEqual([]);
    expect(plan.warnings).toEqual([
      'iam_role.prod.Admin: exists but is not owned by rolemap; left alone (set adopt: true on the role to take it over)',
      'identitystore_user.bob@example.com: exists but is not owned by rolemap; left alone (set identityCenter.adoptUsers: true to take it over)',
    ]);
  });

  it('a role kept for a role-map group the directory lacks is created with a reason that says so, not "AD group ?"', () => {
    const snap = { ...acmeSnapshot(), groups: acmeSnapshot().groups.filter((g) => g.name !== 'AWS-Admins') };
    const { plan } = planFor(snap, acmeMap(), actual([]));
    const admin = plan.changes.find((c) => c.address === 'iam_role.prod.Admin');
    expect(admin?.action).toBe('create');
    expect(admin?.reason).toBe('declared in the role map; its AD group is not in the directory (see Warnings), so no one can use the role until it is');
    expect(plan.changes.map((c) => c.reason).join('\n')).not.toContain('AD group ?');
  });

  it('a target that already reported an unowned object left alone is not echoed by the ownership filter', () => {
    const targetSaid = 'iam_role.prod.Admin: exists without rolemap:owner=acme (tagged for owner "other"); left alone. Set adopt: true on this role to take it over.';
    const { plan } = planFor(acmeSnapshot(), acmeMap(), actual([unownedAdmin], [targetSaid]));
    expect(plan.warnings.filter((w) => w.startsWith('iam_role.prod.Admin: '))).toEqual([targetSaid]);
  });

  it('with nothing else to do, the summary says what was left alone and why, instead of "AWS matches"', async () => {
    const today = await acmeToday();
    const hand = today.resources.filter((r) => !(r.kind === 'iam_role' && r.name === 'Admin'));
    const { plan } = planFor(acmeSnapshot(), acmeMap(), actual([...hand, unownedAdmin]), { history: history(today.entitlements) });
    expect(plan.changes).toEqual([]);
    const text = renderPlan(plan, { color: false });
    expect(text).not.toContain('AWS matches the directory and the role map.');
    expect(text).toContain('No changes. What rolemap owns matches the directory and the role map. 1 wanted object was left alone because rolemap does not own it (see Warnings).');
  });

  it('two AD users that map to one Identity Center user name: the first is created, the plan says why not the second', () => {
    const twin = user('bob2', { userPrincipalName: 'bob@example.com' });
    const snap = acmeSnapshot({ users: [alice, bob, twin, carol, dave, erin, frank], groups: { developers: [bob, twin, carol] } });
    const { plan } = planFor(snap, acmeMap(), actual([]));
    expect(actions(plan).filter((a) => a.startsWith('create identitystore_user.bob@'))).toEqual(['create identitystore_user.bob@example.com']);
    expect(plan.warnings.some((w) => w.includes('both want this name'))).toBe(true);
    expect(plan.changes.filter((c) => c.kind === 'identitystore_membership' && c.principal?.name === 'bob2')).toEqual([]);
  });

  it('unowned objects rolemap does not want are never deleted', async () => {
    const today = await acmeToday();
    const stranger: Resource = { ...unownedAdmin, id: `${PROD}/BreakGlass`, name: 'BreakGlass' };
    const { plan } = planFor(acmeSnapshot(), acmeMap(), actual([...today.resources, stranger]), { history: history(today.entitlements) });
    expect(plan.changes).toEqual([]);
  });

  it('adopts an unowned role and user when the role map says so, and then converges', async () => {
    const base = acmeMap();
    const map = {
      ...base,
      federatedRoles: base.federatedRoles.map((r) => (r.roleName === 'Admin' ? { ...r, adopt: true } : r)),
      identityCenter: base.identityCenter && { ...base.identityCenter, adoptUsers: true },
    };
    const { plan } = planFor(acmeSnapshot(), map, actual([unownedAdmin, unownedBob]));
    const adoptRole = plan.changes.find((c) => c.address === 'iam_role.prod.Admin');
    expect(adoptRole?.action).toBe('update');
    expect(adoptRole?.reason).toMatch(/^adopt:/);
    expect((adoptRole?.after?.attrs as { tags: Record<string, string> }).tags[OWNER_TAG]).toBe('test-owner');
    const adoptUser = plan.changes.find((c) => c.address === 'identitystore_user.bob@example.com');
    expect(adoptUser).toMatchObject({ action: 'update', key: `identitystore_user:${bob.guid}`, before: { id: 'unowned:u-bob' }, after: { id: bob.guid, awsId: 'u-bob' } });
    expect(adoptUser?.diffs.map((d) => d.name)).toEqual(['displayName']);
    const membership = plan.changes.find((c) => c.address === 'identitystore_membership.Developers/bob@example.com');
    expect(membership?.dependsOn).toContain(adoptUser?.seq);

    const target = await applied(plan, new (await import('../support/in-memory-target.js')).InMemoryTarget([unownedAdmin, unownedBob]));
    expect(planFor(acmeSnapshot(), map, target.state()).plan.changes).toEqual([]);
  });
});

describe('policy documents compare by meaning', () => {
  it('no drift when AWS returns the same policies in another shape', async () => {
    const today = await acmeToday();
    const reshaped = today.resources.map((r) => {
      if (r.kind === 'iam_role') {
        const s = (r.attrs.trustPolicy['Statement'] as Record<string, unknown>[])[0] as Record<string, unknown>;
        const trust = { Statement: { Condition: { StringEquals: { 'SAML:aud': ['https://signin.aws.amazon.com/saml'] } }, Action: s['Action'], Principal: s['Principal'], Effect: 'Allow' }, Version: '2012-10-17' };
        return { ...r, attrs: { ...r.attrs, trustPolicy: trust, managedPolicyArns: [...r.attrs.managedPolicyArns].reverse() } };
      }
      if (r.kind === 'sso_permission_set' && r.attrs.inlinePolicy) {
        return { ...r, attrs: { ...r.attrs, inlinePolicy: { Version: '2012-10-17', Statement: { Resource: ['*'], Action: ['organizations:*', 'iam:*'], Effect: 'Deny' } } } };
      }
      return r;
    }) as Resource[];
    const { plan } = planFor(acmeSnapshot(), acmeMap(), actual(reshaped), { history: history(today.entitlements) });
    expect(plan.changes).toEqual([]);
  });

  it('a real policy difference is one attribute diff, rendered line by line', async () => {
    const today = await acmeToday();
    const drifted = today.resources.map((r) =>
      r.kind === 'sso_permission_set' && r.name === 'PowerUser' ? { ...r, attrs: { ...r.attrs, inlinePolicy: { Version: '2012-10-17', Statement: [{ Effect: 'Deny', Action: 'iam:*', Resource: '*' }] } } } : r,
    ) as Resource[];
    const { plan } = planFor(acmeSnapshot(), acmeMap(), actual(drifted), { history: history(today.entitlements) });
    expect(actions(plan)).toEqual(['update sso_permission_set.PowerUser']);
    expect(plan.changes[0]?.diffs.map((d) => d.name)).toEqual(['inlinePolicy']);
    const text = renderPlan(plan, { color: false });
    expect(text).toMatch(/^ +- +"Action": "iam:\*",$/m);
    expect(text).toMatch(/^ +\+ +"Action": \[$/m);
    expect(text).toMatch(/^ +\+ +"organizations:\*"$/m);
    expect(text).toMatch(/^ +  +"Effect": "Deny",$/m);
  });
});

describe('addresses and summary', () => {
  it('use account aliases and count each leaver once', async () => {
    const today = await acmeToday();
    const snap = acmeSnapshot({ users: [alice, bob, { ...carol, disabled: true }, { ...dave, disabled: true }, erin, frank] });
    const { plan } = planFor(snap, acmeMap(), actual(today.resources), { history: history(today.entitlements) });
    expect(plan.summary.leavers).toBe(2);
    expect(plan.changes.every((c) => !c.address.includes(PROD))).toBe(true);
  });
});
