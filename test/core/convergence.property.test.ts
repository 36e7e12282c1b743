/**
 * Convergence and idempotence, for random directories, role maps and AWS states (including objects
 * rolemap does not own): plan, apply the plan to the in-memory AWS, plan again -> empty; record the
 * entitlements as the journal would and plan a third time -> still empty.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { DirectoryUser, EntitlementHistory, Plan, Resource, RoleMap } from '../../src/core/index.js';
import { applyPlan, calculatePlan, computeDesired, resourceKey } from '../../src/core/index.js';
import { ADFS_PATTERN } from '../support/acme.js';
import { assignment, DEV, group, identityCenter, NOW, permissionSet, PROD, role, roleMap, snapshot, SSO, user } from '../support/builders.js';
import { InMemoryTarget } from '../support/in-memory-target.js';

const USERS = 10;
const GROUPS = ['g0', 'g1', 'g2', 'g3', `AWS-${PROD}-Pat`];

const userArb = (i: number): fc.Arbitrary<DirectoryUser | null> =>
  fc.record({ present: fc.integer({ min: 0, max: 9 }), disabled: fc.integer({ min: 0, max: 9 }), expired: fc.integer({ min: 0, max: 9 }), renamed: fc.boolean(), noUpn: fc.integer({ min: 0, max: 5 }) }).map((o) =>
    o.present === 0
      ? null
      : user(`u${i}`, {
          disabled: o.disabled === 0,
          expiresAt: o.expired === 0 ? '2026-01-01T00:00:00.000Z' : undefined,
          userPrincipalName: o.noUpn === 0 ? undefined : o.renamed ? `u${i}.r@example.com` : `u${i}@example.com`,
          displayName: o.renamed ? `U${i} Renamed` : undefined,
        }),
  );

const snapshotArb = fc
  .tuple(
    fc.tuple(...Array.from({ length: USERS }, (_, i) => userArb(i))),
    fc.array(fc.tuple(fc.boolean(), fc.subarray(Array.from({ length: USERS }, (_, i) => i))), { minLength: GROUPS.length, maxLength: GROUPS.length }),
    fc.boolean(),
  )
  .map(([maybeUsers, groupSpecs, renameGroup]) => {
    const users = maybeUsers.filter((u): u is DirectoryUser => u !== null);
    const byIndex = new Map(users.map((u) => [Number(u.sAMAccountName.slice(1)), u]));
    const groups = groupSpecs.flatMap(([present, members], j) => {
      if (!present) return [];
      const g = group(GROUPS[j] as string, members.flatMap((m) => (byIndex.has(m) ? [byIndex.get(m) as DirectoryUser] : [])));
      return [renameGroup && j === 2 ? { ...g, name: 'g2-renamed' } : g];
    });
    return snapshot(users, groups);
  });

const roleMapArb = fc
  .record({
    adoptRole: fc.boolean(),
    adoptUsers: fc.boolean(),
    adoptGroups: fc.boolean(),
    removeAccess: fc.boolean(),
    revoke: fc.boolean(),
    sessionBySam: fc.boolean(),
    userName: fc.constantFrom('userPrincipalName' as const, 'sAMAccountName' as const, 'mail' as const),
    assignments: fc.subarray([0, 1, 2, 3]),
    protect: fc.subarray(['u1', 'R0', 'g3', 'u2@example.com']),
    inline: fc.boolean(),
    permissionSets: fc.subarray(['PS0', 'PS1'], { minLength: 0 }),
    roleR1: fc.boolean(),
  })
  .map((o): RoleMap => {
    const all = [assignment('g2', 'PS0', [PROD]), assignment('g3', 'PS1', [PROD, DEV]), assignment('g1', 'PS0', [DEV]), assignment('g0', 'PS1', [DEV])];
    return roleMap({
      federatedRoles: [
        role('g0', PROD, 'R0', { adopt: o.adoptRole }),
        ...(o.roleR1 ? [role('g1', DEV, 'R1', { inlinePolicies: o.inline ? { s3: { Version: '2012-10-17', Statement: [{ Effect: 'Allow', Action: 's3:Get*', Resource: '*' }] } } : {} })] : []),
      ],
      federatedRolePatterns: [{ regex: ADFS_PATTERN, template: { ...role('x', PROD, 'x'), adopt: false } }],
      identityCenter: identityCenter({
        permissionSets: [permissionSet('PS0'), permissionSet('PS1', { sessionDuration: 'PT1H', inlinePolicy: o.inline ? { Version: '2012-10-17', Statement: [{ Effect: 'Deny', Action: 'iam:*', Resource: '*' }] } : null })].filter((ps) => o.permissionSets.includes(ps.name)),
        assignments: o.assignments.map((i) => all[i] as (typeof all)[number]).filter((a) => o.permissionSets.includes(a.permissionSet)),
        adoptUsers: o.adoptUsers,
        adoptGroups: o.adoptGroups,
        userAttributes: { userName: o.userName, displayName: 'displayName', email: 'mail', groupDisplayName: 'name' },
      }),
      leavers: { identityCenter: o.removeAccess ? 'remove-access' : 'delete', revokeSessions: o.revoke, roleSessionName: o.sessionBySam ? 'sAMAccountName' : 'userPrincipalName' },
      safety: { protectedPrincipals: o.protect },
    });
  });

/** Extra objects in AWS: things made by hand (unowned, some with wanted names), legacy IAM users, old revocations. */
const extrasArb = fc.record({
  unownedRoles: fc.subarray(['R0', 'R1', 'Other']),
  unownedUsers: fc.subarray([0, 1, 2, 3, 4]),
  unownedGroups: fc.subarray(['g0', 'g1', 'g2', 'g3']),
  legacy: fc.subarray([0, 1, 2, 3, 11]),
  oldRevocation: fc.boolean(),
  dropLeaves: fc.integer({ min: 0, max: 4 }),
  drift: fc.boolean(),
});

type Extras = typeof extrasArb extends fc.Arbitrary<infer T> ? T : never;

/** AWS as an earlier run left it, from an earlier directory and an earlier role map, then touched by hand. */
async function previousWorld(prevSnap: ReturnType<typeof snapshot>, prevMap: RoleMap, map: RoleMap, extras: Extras): Promise<Resource[]> {
  const desired = computeDesired(prevSnap, prevMap, NOW, { last: null });
  const plan = calculatePlan({ desired, actual: { resources: [], warnings: [] }, roleMap: { ...prevMap, safety: { ...prevMap.safety, protectedPrincipals: [] } }, now: NOW });
  const target = new InMemoryTarget();
  await applyPlan(plan, { targetFor: () => target });
  return buildExtras([...target.resources.values()], map, extras);
}

function buildExtras(base: Resource[], map: RoleMap, x: Extras): Resource[] {
  let out = [...base];
  // Someone removed a few memberships or assignments by hand.
  let dropped = 0;
  out = out.filter((r) => !((r.kind === 'identitystore_membership' || r.kind === 'sso_account_assignment') && dropped++ < x.dropLeaves));
  if (x.drift) {
    out = out.map((r) => (r.kind === 'iam_role' ? ({ ...r, attrs: { ...r.attrs, description: 'edited by hand', managedPolicyArns: [] } } as Resource) : r.kind === 'identitystore_user' ? ({ ...r, attrs: { ...r.attrs, displayName: 'edited' } } as Resource) : r.kind === 'sso_permission_set' ? ({ ...r, attrs: { ...r.attrs, description: 'edited', inlinePolicy: null } } as Resource) : r));
  }
  const taken = (kind: string, account: string, name: string): boolean => out.some((r) => r.kind === kind && r.account === account && r.name.toLowerCase() === name.toLowerCase());
  for (const name of x.unownedRoles) {
    if (taken('iam_role', PROD, name)) continue;
    out.push({ kind: 'iam_role', id: `${PROD}/${name}`, account: PROD, name, owned: false, awsId: `AROA${name}`, attrs: { path: '/', description: 'by hand', maxSessionDuration: 3600, permissionsBoundary: null, trustPolicy: { Statement: [] }, managedPolicyArns: [], inlinePolicies: {}, tags: {} } });
  }
  const nameOf = (i: number): string => (map.identityCenter?.userAttributes.userName === 'sAMAccountName' ? `u${i}` : `u${i}@example.com`);
  for (const i of x.unownedUsers) {
    const name = nameOf(i);
    if (taken('identitystore_user', SSO, name)) continue;
    out.push({ kind: 'identitystore_user', id: `unowned:uid-${i}`, account: SSO, name, owned: false, awsId: `uid-${i}`, attrs: { userName: name, displayName: 'by hand', givenName: 'X', familyName: 'Y', email: null } });
  }
  for (const name of x.unownedGroups) {
    if (taken('identitystore_group', SSO, name)) continue;
    out.push({ kind: 'identitystore_group', id: `unowned:gid-${name}`, account: SSO, name, owned: false, awsId: `gid-${name}`, attrs: { displayName: name, description: 'made by Control Tower' } });
  }
  for (const i of x.legacy) {
    out.push({ kind: 'iam_user_credentials', id: `${PROD}/legacy-${i}`, account: PROD, name: `legacy-${i}`, owned: false, principal: { guid: '', name: `u${i}` }, attrs: { accessKeys: { [`AKIA${i}`]: 'Active' }, loginProfile: i % 2 === 0 } });
  }
  if (x.oldRevocation) {
    for (const r of out.filter((o) => o.kind === 'iam_role' && o.owned)) {
      out.push({ kind: 'iam_role_revocations', id: r.id, account: r.account, name: r.name, owned: true, attrs: { entries: { 'gone@example.com': '2026-11-28T08:00:00.000Z', 'fresh@example.com': '2026-11-28T11:30:00.000Z' } } });
    }
  }
  return out;
}

async function run(snap: ReturnType<typeof snapshot>, map: RoleMap, target: InMemoryTarget, history: EntitlementHistory): Promise<{ plan: Plan; history: EntitlementHistory }> {
  const desired = computeDesired(snap, map, NOW, history);
  const plan = calculatePlan({ desired, actual: target.state(), roleMap: map, now: NOW, approvedRefusal: true });
  const report = await applyPlan(plan, { targetFor: () => target, concurrency: 3 });
  const problems = report.results.filter((r) => r.status !== 'applied').map((r) => `${r.change.address}: ${r.error}`);
  expect(problems).toEqual([]);
  return { plan, history: { last: desired.entitlements } };
}

describe('property: plans converge and are idempotent', () => {
  it('plan -> apply -> plan is empty, and stays empty once the journal recorded the run', async () => {
    await fc.assert(
      fc.asyncProperty(snapshotArb, snapshotArb, roleMapArb, roleMapArb, extrasArb, fc.boolean(), async (prevSnap, snap, prevMap, map, extras, withHistory) => {
        const start = await previousWorld(prevSnap, prevMap, map, extras);
        const target = new InMemoryTarget(start);
        const history: EntitlementHistory = withHistory ? { last: computeDesired(prevSnap, prevMap, NOW, { last: null }).entitlements } : { last: null };
        const first = await run(snap, map, target, history);
        const second = await run(snap, map, target, first.history);
        expect(second.plan.changes.map((c) => `${c.action} ${c.address}: ${c.reason}`)).toEqual([]);
        const third = await run(snap, map, target, second.history);
        expect(third.plan.changes).toEqual([]);
        // Unowned objects are never changed or deleted.
        for (const r of start.filter((s) => !s.owned && s.kind !== 'iam_user_credentials')) {
          const now = target.resources.get(resourceKey(r));
          const adopted = [...target.resources.values()].some((o) => o.awsId === r.awsId && o.owned);
          expect(now === r || adopted).toBe(true);
        }
      }),
      { numRuns: Number(process.env['PROPERTY_RUNS'] ?? 300) },
    );
  });
});
