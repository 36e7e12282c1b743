/**
 * Identity Center benchmarks against the emulator, with the real SDK clients and the real target.
 *
 * 1. Throughput under AWS's shared limit: the emulator throttles Identity Store + SSO Admin together at
 *    20 requests per second (burst 20); the target applies 1,000 membership changes and 200 account
 *    assignments. Reports achieved requests per second, throttled answers and failed changes.
 *    Target: at least 18 requests per second, no failed change.
 * 2. A no-op read of 5,000 users and 500 groups (with their memberships and 10 permission sets on
 *    2 accounts): calls per operation against the minimum number of list pages that state needs.
 *    Target: within 10% of the minimum.
 *
 * `npm run bench identity-center`; `BENCH_SCALE=0.1` runs a tenth of the sizes (a quick check).
 */
import { randomUUID } from 'node:crypto';
import { CreatePermissionSetCommand } from '@aws-sdk/client-sso-admin';
import { IdentityCenterTarget, InMemoryOwnershipRegistry, userOwnershipScope } from '../src/adapters/aws/identity-center/index.js';
import { mapLimit } from '../src/adapters/aws/identity-center/async-tools.js';
import { groupDescription } from '../src/core/model/ownership.js';
import type { Change } from '../src/core/plan/change.js';
import type { IdentitystoreState } from '../test/aws-emulator/services/identitystore.js';
import { DEFAULT_IDENTITY_STORE_ID } from '../test/aws-emulator/services/identitystore.js';
import { DEFAULT_INSTANCE_ARN } from '../test/aws-emulator/services/sso-admin.js';
import { assignment, change, membership, OWNER, roleMap } from '../test/adapters/aws/identity-center/fixtures.js';
import { startIdentityCenterEmulator } from '../test/support/identity-center-emulator.js';
import type { IcHarness } from '../test/support/identity-center-emulator.js';

const SCALE = Number(process.env['BENCH_SCALE'] ?? '1');
const STORE = DEFAULT_IDENTITY_STORE_ID;

function guid(prefix: number, i: number): string {
  return `${prefix.toString(16).padStart(8, '0')}-0000-4000-8000-${i.toString(16).padStart(12, '0')}`;
}

/** Seeds users and groups straight into the emulator's state (fast), marked as rolemap's. */
function seed(h: IcHarness, registry: InMemoryOwnershipRegistry, users: number, groups: number, membersPerUser: number): { userGuids: string[]; groupGuids: string[]; memberships: number[] } {
  const state = h.emulator.state<IdentitystoreState>('identitystore');
  const store = state.stores[STORE];
  if (!store) throw new Error('no store');
  const t = Date.now() / 1000;
  const userGuids: string[] = [];
  const groupGuids: string[] = [];
  const userIds: string[] = [];
  const groupIds: string[] = [];
  for (let i = 0; i < users; i++) {
    const id = `u${i}-${randomUUID()}`;
    const g = guid(0xb, i);
    store.users[id] = { UserId: id, UserName: `user${i}@example.com`, DisplayName: `User ${i}`, Name: { GivenName: 'User', FamilyName: String(i) }, Emails: [{ Value: `user${i}@example.com`, Type: 'work', Primary: true }], UserStatus: 'ENABLED', CreatedAt: t, UpdatedAt: t };
    registry.record(userOwnershipScope(STORE), id, g);
    userGuids.push(g);
    userIds.push(id);
  }
  for (let i = 0; i < groups; i++) {
    const id = `g${i}-${randomUUID()}`;
    const g = guid(0xa, i);
    store.groups[id] = { GroupId: id, DisplayName: `Group ${i}`, Description: groupDescription(OWNER, g, `Group ${i}`), CreatedAt: t, UpdatedAt: t };
    groupGuids.push(g);
    groupIds.push(id);
  }
  const memberships = new Array<number>(groups).fill(0);
  for (let u = 0; u < users && groups > 0; u++) {
    // Most groups get a few dozen members; every 10th user is also in one of 5 big groups (several pages).
    const extra = membersPerUser > 0 && u % 10 === 0 ? [((u / 10) % 5) * Math.floor(groups / 5)] : [];
    const seen = new Set<number>();
    for (let k = 0; k < membersPerUser + extra.length; k++) {
      const gi = k < membersPerUser ? (u * 7 + k * 13) % groups : (extra[k - membersPerUser] as number);
      if (seen.has(gi)) continue;
      seen.add(gi);
      const mid = `m-${randomUUID()}`;
      store.memberships[mid] = { MembershipId: mid, GroupId: groupIds[gi] ?? '', UserId: userIds[u] ?? '' };
      memberships[gi] = (memberships[gi] ?? 0) + 1;
    }
  }
  return { userGuids, groupGuids, memberships };
}

function newTarget(h: IcHarness, registry: InMemoryOwnershipRegistry): IdentityCenterTarget {
  return new IdentityCenterTarget({
    identityStore: h.identityStore,
    ssoAdmin: h.ssoAdmin,
    registry,
    rateLimit: { rps: 20 },
    poll: { initialMs: 250, maxMs: 2000, timeoutMs: 120_000 },
    conflictRetry: { initialMs: 250, maxMs: 4000, attempts: 8 },
  });
}

function total(calls: Record<string, number>): number {
  return Object.values(calls).reduce((a, b) => a + b, 0);
}

async function throughput(): Promise<void> {
  const h = await startIdentityCenterEmulator({ maxAttempts: 10 });
  try {
    h.emulator.asyncDelayMs = 300;
    const registry = new InMemoryOwnershipRegistry();
    const nMemberships = Math.round(1000 * SCALE);
    const nAssignments = Math.round(200 * SCALE);
    const { userGuids, groupGuids } = seed(h, registry, nMemberships, 50, 0);
    const accounts = Array.from({ length: 20 }, (_, i) => String(500000000000 + i));
    const psCount = Math.max(1, Math.ceil(nAssignments / accounts.length));
    for (let p = 0; p < psCount; p++) {
      await h.ssoAdmin.send(new CreatePermissionSetCommand({ InstanceArn: DEFAULT_INSTANCE_ARN, Name: `Bench${p}`, Tags: [{ Key: 'rolemap:owner', Value: OWNER }] }));
    }
    const target = newTarget(h, registry);
    const rm = roleMap();
    await target.readActual(rm);

    const changes: Change[] = [];
    for (let i = 0; i < nMemberships; i++) changes.push(change('create', null, membership(groupGuids[i % groupGuids.length] ?? '', userGuids[i] ?? '')));
    for (let i = 0; i < nAssignments; i++) changes.push(change('create', null, assignment(`Bench${i % psCount}`, accounts[Math.floor(i / psCount) % accounts.length] ?? '', 'GROUP', groupGuids[i % groupGuids.length] ?? '')));
    // Interleave so assignments and memberships compete for the same 20 requests per second.
    changes.sort((a, b) => (a.seq % 6) - (b.seq % 6));

    h.emulator.setThrottle('identitycenter', { rps: 20, burst: 20 });
    h.emulator.resetCalls();
    target.resetCallCounts();
    const started = Date.now();
    let failed = 0;
    const errors = new Map<string, number>();
    await mapLimit(changes, 32, async (c) => {
      try {
        await target.apply(c);
      } catch (e) {
        failed++;
        const key = e instanceof Error ? e.message.slice(0, 120) : String(e);
        errors.set(key, (errors.get(key) ?? 0) + 1);
      }
    });
    const seconds = (Date.now() - started) / 1000;
    const calls = h.emulator.calls();
    const requests = total(calls);
    const rps = requests / seconds;
    console.log(`1. throughput at 20 rps (shared Identity Store + SSO Admin bucket): ${nMemberships} membership changes + ${nAssignments} assignments`);
    console.log(`   ${requests} requests in ${seconds.toFixed(1)} s = ${rps.toFixed(2)} requests/s (target >= 18); throttled answers: ${h.emulator.throttledCount()}; failed changes: ${failed} (target 0)`);
    console.log(`   calls: ${JSON.stringify(calls)}`);
    for (const [m, n] of errors) console.log(`   failure x${n}: ${m}`);
    console.log(`   ${rps >= 18 && failed === 0 ? 'MET' : 'NOT MET'}`);
  } finally {
    await h.stop();
  }
}

async function noOpRead(): Promise<void> {
  const h = await startIdentityCenterEmulator({ maxAttempts: 10 });
  try {
    const registry = new InMemoryOwnershipRegistry();
    const nUsers = Math.round(5000 * SCALE);
    const nGroups = Math.round(500 * SCALE);
    const { memberships } = seed(h, registry, nUsers, nGroups, 3);
    const nPs = 10;
    for (let p = 0; p < nPs; p++) {
      await h.ssoAdmin.send(new CreatePermissionSetCommand({ InstanceArn: DEFAULT_INSTANCE_ARN, Name: `Set${p}`, Tags: [{ Key: 'rolemap:owner', Value: OWNER }] }));
    }
    const target = newTarget(h, registry);
    const rm = roleMap();
    h.emulator.setThrottle('identitycenter', { rps: 20, burst: 20 });
    h.emulator.resetCalls();
    target.resetCallCounts();
    const started = Date.now();
    const actual = await target.readActual(rm);
    const seconds = (Date.now() - started) / 1000;
    const calls = target.callCounts();
    const pages = (n: number): number => Math.max(1, Math.ceil(n / 100));
    const accounts = rm.accounts.length;
    const minimum: Record<string, number> = {
      ListUsers: pages(nUsers),
      ListGroups: pages(nGroups),
      ListGroupMemberships: memberships.reduce((a, m) => a + pages(m), 0),
      ListPermissionSets: pages(nPs),
      // What any reader of a permission set's full definition must ask, one call each:
      DescribePermissionSet: nPs,
      ListTagsForResource: nPs,
      ListManagedPoliciesInPermissionSet: nPs,
      ListCustomerManagedPolicyReferencesInPermissionSet: nPs,
      GetInlinePolicyForPermissionSet: nPs,
      GetPermissionsBoundaryForPermissionSet: nPs,
      ListAccountAssignments: nPs * accounts,
    };
    const minTotal = total(minimum);
    const actualTotal = total(calls);
    console.log(`2. no-op read: ${nUsers} users, ${nGroups} groups, ${memberships.reduce((a, b) => a + b, 0)} memberships, ${nPs} permission sets x ${accounts} accounts -> ${actual.resources.length} resources in ${seconds.toFixed(1)} s at 20 rps; throttled answers: ${h.emulator.throttledCount()}`);
    for (const op of [...new Set([...Object.keys(minimum), ...Object.keys(calls)])].sort()) {
      console.log(`   ${op.padEnd(52)} ${String(calls[op] ?? 0).padStart(5)}  (minimum ${minimum[op] ?? 0})`);
    }
    const over = (actualTotal / minTotal - 1) * 100;
    console.log(`   total ${actualTotal} calls vs minimum ${minTotal}: ${over.toFixed(1)}% over (target within 10%) ${over <= 10 ? 'MET' : 'NOT MET'}`);
    console.log(`   identity store only: ${calls['ListUsers'] ?? 0} + ${calls['ListGroups'] ?? 0} + ${calls['ListGroupMemberships'] ?? 0} = minimum ${minimum['ListUsers']} + ${minimum['ListGroups']} + ${minimum['ListGroupMemberships']}`);
  } finally {
    await h.stop();
  }
}

export default async function run(): Promise<void> {
  const which = process.env['BENCH_IC'] ?? 'all';
  if (which === 'all' || which === 'read') await noOpRead();
  if (which === 'all' || which === 'throughput') await throughput();
}
