/**
 * The fixture of the core bench (bench/core.bench.ts): an organisation of N people, its role map, and
 * what the last run left (AWS as it made it, with a little drift, and the journal's entitlements, in a
 * real SQLite journal).
 * Deterministic: every run benchmarks the same directory.
 */
import type { ActualState, EntitlementHistory, AssignmentSpec, DirectoryGroup, DirectoryUser, FederatedRoleSpec, PermissionSetSpec, Resource, RoleMap } from '../src/core/index.js';
import { NO_ATTRS, computeDesired } from '../src/core/index.js';
import { SqliteJournal } from '../src/adapters/journal/index.js';
import { guidFromBytes, guidToBytes } from '../src/adapters/directory/guid.js';

export const NOW = new Date('2026-11-28T12:00:00.000Z');
const ACCOUNTS = 200;

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
/** An objectGUID as the directory source renders it (guidFromBytes of the 16 bytes on the wire). */
const guid = (kind: number, i: number): string => guidFromBytes(guidToBytes(`${hex(i, 8)}-${hex(kind, 4)}-4000-8000-${hex(i * 7919, 12).slice(-12)}`));
/** An attribute value as the LDAP client gives it: decoded from the answer's bytes (ldapts: Buffer toString), one flat string. */
const wire = (s: string): string => Buffer.from(s, 'utf8').toString('utf8');
const accountId = (i: number): string => String(100000000000 + i);

/**
 * The directory and role map of an organisation of `USERS` people: a tenth as many groups, 200 accounts;
 * the first 20% of groups have explicit federated roles, the next 10% match the ADFS pattern, the next
 * 30% have Identity Center assignments (the shape of the 100,000-user bench of issue 2, scaled).
 */
export function generate(USERS: number): { users: DirectoryUser[]; groups: DirectoryGroup[]; roleMap: RoleMap } {
  const GROUPS = Math.max(10, Math.round(USERS / 10));
  const explicit = Math.round(GROUPS * 0.2);
  const pattern = Math.round(GROUPS * 0.3);
  const assigned = Math.round(GROUPS * 0.6);
  const rand = rng(42);
  const users: DirectoryUser[] = [];
  for (let i = 0; i < USERS; i++) {
    const sam = `user${i}`;
    users.push({
      guid: guid(1, i),
      dn: wire(`CN=User ${i},OU=Staff,DC=corp,DC=example,DC=com`),
      sAMAccountName: wire(sam),
      userPrincipalName: wire(`${sam}@corp.example.com`),
      mail: wire(`${sam}@example.com`),
      givenName: wire('User'),
      surname: wire(String(i)),
      displayName: wire(`User ${i}`),
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
    // 0-20%: explicit federated roles; 20-30%: ADFS pattern groups; 30-60%: Identity Center
    // assignments; the rest are groups the map does not name (at 100,000 users: 2,000 / 1,000 / 3,000).
    const account = accountId(g % ACCOUNTS);
    const name = g >= explicit && g < pattern ? `AWS-${account}-Pattern${g}` : `Group${g}`;
    groups.push({ guid: guid(2, g), dn: wire(`CN=${name},OU=Groups,DC=corp,DC=example,DC=com`), sAMAccountName: wire(name), name: wire(name), members: members[g] as string[] });
    if (g < explicit) {
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
    } else if (g >= pattern && g < assigned) {
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
    safety: { ownerId: 'bench', maxDeletes: 10_000_000, maxDeletePercent: 100, minDirectoryUsers: Math.min(1000, USERS), protectedPrincipals: ['Administrator', 'breakglass'] },
  };
  return { users, groups, roleMap };
}

/** A string of its own (JSON.parse makes a flat copy): a target's strings come from AWS's answer. */
const fresh = (s: string): string => JSON.parse(JSON.stringify(s)) as string;

/** An id of the length AWS gives the kind: role ids AROA + 17, identity store ids 10 digits + uuid, ... */
function awsIdOf(kind: Resource['kind'], n: number): string {
  const u = `${hex(n, 8)}-${hex(n % 65536, 4)}-4${hex(n % 4096, 3)}-8${hex(n % 4096, 3)}-${hex(n * 7919, 12).slice(-12)}`;
  if (kind === 'iam_role') return `AROA${hex(n, 17).toUpperCase()}`;
  if (kind === 'sso_permission_set') return `arn:aws:sso:::permissionSet/ssoins-0000000000000000/ps-${hex(n, 16)}`;
  if (kind === 'sso_account_assignment') return `GROUP:9067${hex(n, 6)}-${u}`;
  return kind === 'identitystore_membership' ? u : `9067${hex(n, 6)}-${u}`;
}

/** One string per distinct value, of its own: a target reads each group's and user's id once and builds every membership from them. */
function interner(): (s: string) => string {
  const seen = new Map<string, string>();
  return (s) => {
    let own = seen.get(s);
    if (own === undefined) seen.set(s, (own = fresh(s)));
    return own;
  };
}

/**
 * AWS as the last run left it: everything desired, with AWS ids; then a little drift. Each resource is
 * built as the targets build theirs (src/adapters/aws): one object literal per resource, strings of its
 * own, attrs parsed from the answer, no principal. Memberships and account assignments have their id and
 * name put together by a template from strings the target holds once per group, user and permission set
 * (identity-center/memberships.ts, account-assignments.ts), and share the core's NO_ATTRS; everything
 * else has an id and a name of its own. So the actual state holds what it holds in production: not
 * spread copies of the desired objects (V8 gives a spread copy with one more property ~3x the bytes of a
 * literal) nor strings shared with the desired state.
 */
function actualFrom(resources: readonly Resource[]): Resource[] {
  const rand = rng(7);
  const own = interner();
  const out: Resource[] = [];
  let n = 0;
  for (const r of resources) {
    const x = rand();
    if (x < 0.001) continue; // deleted by hand -> create
    // As the SDK parses it from AWS's answer (JSON.parse: one flat string), not a rope of template parts.
    const awsId = fresh(awsIdOf(r.kind, n++));
    if (r.kind === 'identitystore_membership') {
      // `${guid}/${u.id}`, `${group.DisplayName}/${u.name}`
      const [g = '', u = ''] = r.id.split('/');
      const i = r.name.indexOf('/');
      out.push({ kind: r.kind, id: `${own(g)}/${own(u)}`, account: r.account, name: `${own(r.name.slice(0, i))}/${own(r.name.slice(i + 1))}`, attrs: NO_ATTRS, owned: r.owned, awsId });
      continue;
    }
    if (r.kind === 'sso_account_assignment') {
      // `${ps.name}/${account}/${type}:${p.id}`, `${ps.name}/${alias}/${p.name}`
      const [ps = '', account = '', principal = ''] = r.id.split('/');
      const [type = '', pid = ''] = principal.split(':');
      const [, alias = '', pname = ''] = r.name.split('/');
      const psName = own(ps);
      out.push({ kind: r.kind, id: `${psName}/${own(account)}/${type}:${own(pid)}`, account: r.account, name: `${psName}/${own(alias)}/${own(pname)}`, attrs: NO_ATTRS, owned: r.owned, awsId });
      continue;
    }
    const attrs = JSON.parse(JSON.stringify(r.attrs)) as Record<string, unknown>;
    if (x < 0.002 && r.kind === 'iam_role') attrs['description'] = 'edited by hand';
    if (x < 0.002 && r.kind === 'identitystore_user') attrs['displayName'] = 'Old Name';
    out.push({ kind: r.kind, id: fresh(r.id), account: r.account, name: fresh(r.name), attrs, owned: r.owned, awsId } as unknown as Resource);
  }
  return out;
}

/** Yesterday's directory (generated again: strings of its own) with everyone active: today's disabled users are leavers. */
function yesterdayOf(size: number, roleMap: RoleMap): ReturnType<typeof computeDesired> {
  const { users, groups } = generate(size);
  return computeDesired({ source: 'bench', users: users.map((u) => ({ ...u, disabled: false, expiresAt: undefined })), groups }, roleMap, NOW, { last: null });
}

const YESTERDAY_AT = new Date(NOW.getTime() - 3600_000).toISOString();

/**
 * The journal the last run left in `file`: a real SQLite journal holding its snapshot of yesterday's
 * entitlements, written an hour before NOW. Run in a process of its own (bench/core-worker.ts
 * --journal), as the last run was: the measured process only opens and reads it.
 */
export function writeJournal(size: number, roleMap: RoleMap, file: string): void {
  const journal = SqliteJournal.open(file, { clock: () => new Date(YESTERDAY_AT) });
  journal.startRun({ runId: 'yesterday', trigger: 'cli', mode: 'apply', host: 'bench', version: '0.0.0', configHash: '0'.repeat(64), startedAt: YESTERDAY_AT });
  journal.recordEntitlements('yesterday', YESTERDAY_AT, yesterdayOf(size, roleMap).entitlements);
  journal.finishRun('yesterday', { outcome: 'applied', finishedAt: YESTERDAY_AT });
  journal.close();
}

/**
 * What the last run left: AWS as it made it from yesterday's directory, and the entitlement history as
 * production reads it from the journal in `file` (see writeJournal). The journal stays open while
 * planning (a leaver's former names are read from it when asked); `close` closes it.
 */
export function lastRun(size: number, roleMap: RoleMap, file: string): { actual: ActualState; history: EntitlementHistory; close: () => void } {
  const actual = { resources: actualFrom(yesterdayOf(size, roleMap).resources), warnings: [] };
  const journal = SqliteJournal.open(file, { clock: () => NOW });
  return { actual, history: journal.entitlementHistory(NOW), close: () => journal.close() };
}
