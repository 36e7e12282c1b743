/**
 * computeDesired + calculatePlan at the scale of a large enterprise:
 * 100,000 users, 10,000 groups, 200 accounts; federated roles (explicit and ADFS-pattern) and
 * Identity Center assignments; an actual state that matches except for a little drift and a few leavers.
 * Target: under 2 s and under 500 MB peak RSS on a 2-core machine.   Run: npm run bench core
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import type { ActualState, DirectorySnapshot, EntitlementHistory, AssignmentSpec, DirectoryGroup, DirectoryUser, FederatedRoleSpec, PermissionSetSpec, Resource, RoleMap } from '../src/core/index.js';
import { calculatePlan, computeDesired } from '../src/core/index.js';

const USERS = 100_000;
const GROUPS = 10_000;
const ACCOUNTS = 200;
const NOW = new Date('2026-11-28T12:00:00.000Z');

/** A small deterministic PRNG (mulberry32), so every run benchmarks the same directory. */
function rng(seed: number): () => number {
  let a = seed;
  return () => {
    a = (a + 0x6d2b79f5) | 0;
    let t = Math.imul(a ^ (a >>> 15), 1 | a);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const hex = (n: number, width: number): string => n.toString(16).padStart(width, '0');
const guid = (kind: number, i: number): string => `${hex(i, 8)}-${hex(kind, 4)}-4000-8000-${hex(i * 7919, 12).slice(-12)}`;
const accountId = (i: number): string => String(100000000000 + i);

function generate(): { users: DirectoryUser[]; groups: DirectoryGroup[]; roleMap: RoleMap } {
  const rand = rng(42);
  const users: DirectoryUser[] = [];
  for (let i = 0; i < USERS; i++) {
    const sam = `user${i}`;
    users.push({
      guid: guid(1, i),
      dn: `CN=User ${i},OU=Staff,DC=corp,DC=example,DC=com`,
      sAMAccountName: sam,
      userPrincipalName: `${sam}@corp.example.com`,
      mail: `${sam}@example.com`,
      givenName: 'User',
      surname: String(i),
      displayName: `User ${i}`,
      disabled: rand() < 0.03,
      expiresAt: rand() < 0.01 ? '2026-01-01T00:00:00.000Z' : undefined,
    });
  }
  // Realistic membership: every user in ~4 groups, group sizes skewed (a few large, many small).
  const members: string[][] = Array.from({ length: GROUPS }, () => []);
  for (let i = 0; i < USERS; i++) {
    const n = 2 + Math.floor(rand() * 5);
    for (let k = 0; k < n; k++) {
      const g = Math.floor(GROUPS * rand() * rand());
      // The directory source's default (client-side nesting) hands out each user's own guid string.
      (members[g] as string[]).push((users[i] as DirectoryUser).guid);
    }
  }
  const accounts = Array.from({ length: ACCOUNTS }, (_, i) => ({ alias: `acct${i}`, id: accountId(i) }));
  const groups: DirectoryGroup[] = [];
  const federatedRoles: FederatedRoleSpec[] = [];
  const assignments: AssignmentSpec[] = [];
  const permissionSets: PermissionSetSpec[] = Array.from({ length: 60 }, (_, i) => ({
    name: `PS${i}`,
    description: `permission set ${i}`,
    sessionDuration: 'PT8H',
    managedPolicyArns: ['arn:aws:iam::aws:policy/ReadOnlyAccess'],
    customerManagedPolicies: [{ name: `Team${i}`, path: '/teams/' }],
    inlinePolicy: { Version: '2012-10-17', Statement: [{ Effect: 'Deny', Action: ['iam:*'], Resource: '*' }] },
    permissionsBoundary: null,
    tags: { costcentre: String(i) },
  }));
  for (let g = 0; g < GROUPS; g++) {
    // 0-1999: explicit federated roles (10 per account); 2000-2999: ADFS pattern groups;
    // 3000-5999: Identity Center assignments; the rest are groups the map does not name.
    const account = accountId(g % ACCOUNTS);
    const name = g >= 2000 && g < 3000 ? `AWS-${account}-Pattern${g}` : `Group${g}`;
    groups.push({ guid: guid(2, g), dn: `CN=${name},OU=Groups,DC=corp,DC=example,DC=com`, sAMAccountName: name, name, members: members[g] as string[] });
    if (g < 2000) {
      federatedRoles.push({
        group: { by: 'sAMAccountName', value: name },
        account,
        roleName: `Role${g}`,
        path: '/',
        description: `role for ${name}`,
        maxSessionDuration: 3600,
        permissionsBoundary: null,
        managedPolicyArns: ['arn:aws:iam::aws:policy/ReadOnlyAccess'],
        inlinePolicies: { s3: { Version: '2012-10-17', Statement: [{ Effect: 'Allow', Action: ['s3:GetObject'], Resource: `arn:aws:s3:::bucket-${g}/*` }] } },
        tags: { team: name },
        samlProvider: 'ADFS',
        allowTagSession: false,
        adopt: false,
      });
    } else if (g >= 3000 && g < 6000) {
      assignments.push({ group: { by: 'guid', value: guid(2, g) }, permissionSet: `PS${g % 60}`, accounts: [accountId(g % ACCOUNTS), accountId((g * 7) % ACCOUNTS)] });
    }
  }
  const roleMap: RoleMap = {
    accounts,
    federatedRoles,
    federatedRolePatterns: [
      {
        regex: '^AWS-(?<account>\\d{12})-(?<role>[A-Za-z0-9+=,.@_-]+)$',
        template: { path: '/', description: 'pattern', maxSessionDuration: 3600, permissionsBoundary: null, managedPolicyArns: [], inlinePolicies: {}, tags: {}, samlProvider: 'ADFS', allowTagSession: true, adopt: false },
      },
    ],
    identityCenter: {
      instanceArn: 'arn:aws:sso:::instance/ssoins-0000000000000000',
      identityStoreId: 'd-0000000000',
      account: accountId(0),
      permissionSets,
      assignments,
      userAttributes: { userName: 'userPrincipalName', displayName: 'displayName', email: 'mail', groupDisplayName: 'name' },
      adoptUsers: false,
      adoptGroups: false,
    },
    leavers: { identityCenter: 'delete', revokeSessions: true, roleSessionName: 'userPrincipalName', iamUsers: { disableCredentials: true, linkTag: 'ad', namePattern: null, keyAgeWarningDays: 90 } },
    safety: { ownerId: 'bench', maxDeletes: 1_000_000, maxDeletePercent: 100, minDirectoryUsers: 1000, protectedPrincipals: ['Administrator', 'breakglass'] },
  };
  return { users, groups, roleMap };
}

/** AWS as the last run left it: everything desired, with AWS ids; then a little drift. */
function actualFrom(resources: readonly Resource[]): Resource[] {
  const rand = rng(7);
  const out: Resource[] = [];
  let n = 0;
  for (const r of resources) {
    const x = rand();
    if (x < 0.001) continue; // deleted by hand -> create
    // A target parses what AWS returns into fresh objects: no attribute object is shared with the desired state.
    let copy = { ...r, attrs: structuredClone(r.attrs), awsId: `aws-${n++}` } as Resource;
    if (x < 0.002 && copy.kind === 'iam_role') copy = { ...copy, attrs: { ...copy.attrs, description: 'edited by hand' } };
    if (x < 0.002 && copy.kind === 'identitystore_user') copy = { ...copy, attrs: { ...copy.attrs, displayName: 'Old Name' } };
    out.push(copy);
  }
  return out;
}

/** A full collection before measuring, so the fixture's garbage does not count (bench runs without --expose-gc). */
function collectGarbage(): void {
  setFlagsFromString('--expose-gc');
  (runInNewContext('gc') as () => void)();
}

/**
 * Peak RSS of what runs after this call: Linux lets a process reset its high-water mark (VmHWM) to its
 * current RSS (`/proc/self/clear_refs`, value 5). Returns a reader of the peak since the reset, or null
 * where that is not possible (then only the whole-process peak is reported).
 */
function resetPeakRss(): (() => number) | null {
  try {
    writeFileSync('/proc/self/clear_refs', '5');
    return () => Number(/VmHWM:\s+(\d+) kB/.exec(readFileSync('/proc/self/status', 'utf8'))?.[1] ?? Number.NaN) * 1024;
  } catch {
    return null;
  }
}

/** What the last run left: AWS as it made it, and the journal's entitlement snapshot (nothing else is kept). */
function lastRun(snapshot: DirectorySnapshot, roleMap: RoleMap): { actual: ActualState; history: EntitlementHistory } {
  const yesterday = computeDesired({ ...snapshot, users: snapshot.users.map((u) => ({ ...u, disabled: false, expiresAt: undefined })) }, roleMap, NOW, { last: null });
  return { actual: { resources: actualFrom(yesterday.resources), warnings: [] }, history: { last: yesterday.entitlements } };
}

export default async function bench(): Promise<void> {
  const { users, groups, roleMap } = generate();
  const snapshot = { source: 'bench', users, groups };
  // Last run's desired state with everyone active: today's disabled users are leavers.
  const { actual, history } = lastRun(snapshot, roleMap);
  const memberships = groups.reduce((n, g) => n + g.members.length, 0);
  collectGarbage();
  // V8 hands freed pages back to the OS from a background thread: give it a moment, so that the fixture's
  // garbage does not count as memory that computeDesired and calculatePlan used.
  await sleep(500);
  collectGarbage();
  const peakSinceReset = resetPeakRss();
  const rssBefore = process.memoryUsage().rss;
  const heapBefore = process.memoryUsage().heapUsed;

  const c0 = process.cpuUsage();
  const t0 = performance.now();
  const desired = computeDesired(snapshot, roleMap, NOW, history);
  const t1 = performance.now();
  const cDesired = process.cpuUsage(c0);
  const plan = calculatePlan({ desired, actual, roleMap, now: NOW, approvedRefusal: true });
  const t2 = performance.now();
  const cpu = process.cpuUsage(c0);
  const heapAfter = process.memoryUsage().heapUsed;
  const peakMeasured = peakSinceReset?.() ?? null;
  // Not part of a dry run: the digest is computed when a plan is saved, compared with a saved one or approved.
  const t3 = performance.now();
  const digest = plan.actualDigest;
  const t4 = performance.now();
  const peakWithDigest = peakSinceReset?.() ?? null;
  const peak = process.resourceUsage().maxRSS * 1024;

  const mb = (b: number): string => `${(b / 1024 / 1024).toFixed(0)} MB`;
  console.log(`directory: ${users.length} users, ${groups.length} groups, ${memberships} group memberships, ${roleMap.accounts.length} accounts`);
  console.log(`desired: ${desired.resources.length} resources, ${desired.entitlements.length} entitlements, ${desired.leavers.length} leavers`);
  console.log(`actual: ${actual.resources.length} resources`);
  console.log(`plan: ${plan.changes.length} changes (+${plan.summary.add} ~${plan.summary.change} -${plan.summary.destroy}, ${plan.summary.leavers} leavers)`);
  const ms = (c: NodeJS.CpuUsage): string => `${((c.user + c.system) / 1000).toFixed(0)} ms CPU`;
  console.log(`computeDesired: ${(t1 - t0).toFixed(0)} ms wall, ${ms(cDesired)}`);
  console.log(`calculatePlan:  ${(t2 - t1).toFixed(0)} ms wall, ${ms({ user: cpu.user - cDesired.user, system: cpu.system - cDesired.system })}`);
  console.log(`total:          ${(t2 - t0).toFixed(0)} ms wall, ${((cpu.user + cpu.system) / 1000).toFixed(0)} ms CPU   (target < 2000 ms; wall time suffers on a shared machine, CPU time less so)`);
  console.log(`plan.actualDigest on first read (saving, comparing or approving a plan only): ${(t4 - t3).toFixed(0)} ms (${digest.slice(0, 15)}...)${peakWithDigest !== null ? `, peak RSS with it ${mb(peakWithDigest)}` : ''}`);
  console.log(`heap: ${mb(heapBefore)} before (fixture, history and actual state), ${mb(heapAfter)} after (+ desired state and plan)`);
  console.log(`RSS: ${mb(rssBefore)} before (fixture, history and actual state resident)`);
  if (peakMeasured !== null) console.log(`peak RSS while computeDesired + calculatePlan ran (inputs resident): ${mb(peakMeasured)}   (target < 500 MB)`);
  else console.log('peak RSS of computeDesired + calculatePlan alone: not measurable here (no /proc/self/clear_refs)');
  console.log(`peak RSS of the whole process, generating the fixture included: ${mb(peak)}`);
}
