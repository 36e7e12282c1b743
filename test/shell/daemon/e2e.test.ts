/**
 * End to end: `rolemap daemon` as a child process on a one-second schedule, against the AWS
 * emulator (IAM and Identity Center; real SDK clients over HTTP via AWS_ENDPOINT_URL) and an LDIF
 * directory. Everything is observed from the outside: the child's JSON log lines, its exit code,
 * /healthz, /metrics, the emulator's call counts and the journal's `runs` table and `changes` view
 * (read-only).
 */
import { spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { hostname, tmpdir, userInfo } from 'node:os';
import { join } from 'node:path';
import { IAMClient, CreateSAMLProviderCommand, ListRolesCommand } from '@aws-sdk/client-iam';
import { IdentitystoreClient, ListUsersCommand } from '@aws-sdk/client-identitystore';
import { ListAccountAssignmentsCommand, ListPermissionSetsCommand, SSOAdminClient } from '@aws-sdk/client-sso-admin';
import Database from 'better-sqlite3';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { startEmulator } from '../../aws-emulator/index.js';
import type { Emulator } from '../../aws-emulator/index.js';
import { DEFAULT_IDENTITY_STORE_ID } from '../../aws-emulator/services/identitystore.js';
import { DEFAULT_INSTANCE_ARN } from '../../aws-emulator/services/sso-admin.js';
import { EXIT } from '../../../src/shell/exit-codes.js';
import { BIN, CREDENTIALS, emulatorEnv, startDaemon as startDaemonProcess } from '../../support/daemon-process.js';
import type { DaemonProcess } from '../../support/daemon-process.js';

const ACCOUNT = '111111111111';
// The SDK warns once per process that its 2027 releases need Node 22; the lockfile pins a release that runs on 20.
process.env['AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED'] = 'true';

// --- the directory ----------------------------------------------------------------------------

function guid(seed: string): string {
  return createHash('sha256').update(seed).digest().subarray(0, 16).toString('base64');
}

interface DirUser {
  readonly sam: string;
  readonly disabled?: boolean;
}

/** An `ldapsearch -LLL` style LDIF: users under OU=People, groups under OU=Groups with their members. */
function ldif(users: readonly DirUser[], groups: Readonly<Record<string, readonly string[]>>): string {
  const base = 'DC=corp,DC=example';
  const out: string[] = [];
  for (const u of users) {
    out.push(
      [
        `dn: CN=${u.sam},OU=People,${base}`,
        'objectClass: user',
        `objectGUID:: ${guid(u.sam)}`,
        `sAMAccountName: ${u.sam}`,
        `userPrincipalName: ${u.sam}@corp.example`,
        `mail: ${u.sam}@corp.example`,
        `displayName: ${u.sam}`,
        `givenName: ${u.sam}`,
        'sn: Test',
        `userAccountControl: ${u.disabled ? 514 : 512}`,
        'accountExpires: 0',
        ...Object.entries(groups).filter(([, m]) => m.includes(u.sam)).map(([g]) => `memberOf: CN=${g},OU=Groups,${base}`),
      ].join('\n'),
    );
  }
  for (const [g, members] of Object.entries(groups)) {
    out.push(
      [
        `dn: CN=${g},OU=Groups,${base}`,
        'objectClass: group',
        `objectGUID:: ${guid(g)}`,
        `sAMAccountName: ${g}`,
        `name: ${g}`,
        ...members.map((m) => `member: CN=${m},OU=People,${base}`),
      ].join('\n'),
    );
  }
  return `${out.join('\n\n')}\n`;
}

const PEOPLE: DirUser[] = Array.from({ length: 12 }, (_, i) => ({ sam: `user${i + 1}` }));
const GROUPS = { [`AWS-${ACCOUNT}-Admin`]: ['user1', 'user2'], [`AWS-${ACCOUNT}-ReadOnly`]: ['user3', 'user4', 'user5'], Analysts: ['user7', 'user8'] };

// --- the config -------------------------------------------------------------------------------------

function writeConfig(dir: string, over: { schedule?: string; broken?: boolean } = {}): string {
  const path = join(dir, 'rolemap.yaml');
  if (over.broken) {
    writeFileSync(path, 'accounts:\n  prod: "not-an-account-id"\nschedule: [\n');
    return path;
  }
  writeFileSync(
    path,
    `# e2e config
directory:
  type: ldif
  path: ${join(dir, 'directory.ldif')}
accounts:
  prod:
    id: "${ACCOUNT}"
federatedRolePatterns:
  - regex: '^AWS-(?<account>\\d{12})-(?<role>[A-Za-z0-9+=,.@_-]+)$'
    samlProvider: ADFS
    managedPolicyArns: ["arn:aws:iam::aws:policy/ReadOnlyAccess"]
identityCenter:
  instanceArn: ${DEFAULT_INSTANCE_ARN}
  identityStoreId: ${DEFAULT_IDENTITY_STORE_ID}
  account: prod
  permissionSets:
    Analyst:
      description: Read-only analysts
      sessionDuration: PT4H
      managedPolicyArns: ["arn:aws:iam::aws:policy/ReadOnlyAccess"]
  assignments:
    - group: {sAMAccountName: Analysts}
      permissionSet: Analyst
      accounts: [prod]
safety:
  ownerId: e2e
  minDirectoryUsers: 1
  maxDeletePercentFloor: 0   # a handful of objects: the percentage applies, so a shrunken directory is refused
schedule: "${over.schedule ?? '* * * * * *'}"
journal:
  path: ${join(dir, 'journal.db')}
daemon:
  runAtStart: true
  healthPort: 0
  logLevel: info
aws:
  region: us-east-1
`,
  );
  return path;
}

/** The journal's plan_records rows (refused plans, approvals), in order, read-only. */
function planRecords(journal: string): Record<string, unknown>[] {
  const db = new Database(journal, { readonly: true, fileMustExist: true });
  try {
    return db.prepare('SELECT id, at, event, run_id, plan_hash, refusal_code, changes, by_run_id, os_uid, os_user, sudo_user, host, detail FROM plan_records ORDER BY id').all() as Record<string, unknown>[];
  } finally {
    db.close();
  }
}

/** The IAM roles in the account, sorted, without Identity Center's own (its provisioned permission sets live under /aws-reserved/, as on AWS). */
async function roleNames(): Promise<string[]> {
  const iam = iamClient();
  try {
    // Identity Center's own roles (provisioned permission sets) live under /aws-reserved/, as on AWS.
    return ((await iam.send(new ListRolesCommand({}))).Roles ?? []).filter((r) => !(r.Path ?? '').startsWith('/aws-reserved/')).map((r) => r.RoleName ?? '').sort();
  } finally {
    iam.destroy();
  }
}

/** Rows of the journal's `runs` table or `changes` view (migrations/), read-only. */
function journalRows(journal: string, table: 'runs' | 'changes'): Record<string, unknown>[] {
  const db = new Database(journal, { readonly: true, fileMustExist: true });
  try {
    return db.prepare(`SELECT * FROM ${table}`).all() as Record<string, unknown>[];
  } finally {
    db.close();
  }
}

// --- the daemon process ---------------------------------------------------------------------------

let emulator: Emulator;
let dir: string;
const children: ChildProcess[] = [];

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

/** The child's environment: the SDK pointed at the emulator with dummy keys, nothing from the developer's machine. */
const childEnv = (): NodeJS.ProcessEnv => emulatorEnv(emulator.url, dir);

/** `rolemap ARGS` to its end: exit code and output. */
async function rolemap(...args: string[]): Promise<{ code: number | null; stdout: string; stderr: string }> {
  const child = spawn(process.execPath, [BIN, ...args], { env: childEnv(), stdio: ['ignore', 'pipe', 'pipe'] });
  children.push(child);
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (d: Buffer) => (stdout += d.toString('utf8')));
  child.stderr.on('data', (d: Buffer) => (stderr += d.toString('utf8')));
  const code = await new Promise<number | null>((resolve) => child.on('exit', (c) => resolve(c)));
  return { code, stdout, stderr };
}

/** The daemon (test/support/daemon-process.ts), with the run summaries it logged so far. */
function startDaemon(configPath: string, backoff: { initial: string; max: string } = { initial: '1', max: '2' }): DaemonProcess & { finished(): Record<string, unknown>[] } {
  const d = startDaemonProcess(configPath, childEnv(), ['--grace', '10', '--backoff', backoff.initial, '--backoff-max', backoff.max]);
  children.push(d.child);
  return { ...d, finished: () => d.lines.filter((l) => l['msg'] === 'run summary' || l['msg'] === 'run summary: finished with failures' || l['msg'] === 'run failed') };
}

const SAML_METADATA =
  '<EntityDescriptor xmlns="urn:oasis:names:tc:SAML:2.0:metadata" entityID="http://adfs.corp.example/adfs/services/trust">' +
  '<IDPSSODescriptor protocolSupportEnumeration="urn:oasis:names:tc:SAML:2.0:protocol"><KeyDescriptor use="signing">' +
  `<KeyInfo xmlns="http://www.w3.org/2000/09/xmldsig#"><X509Data><X509Certificate>${Buffer.from('rolemap e2e ADFS token-signing certificate (placeholder) '.repeat(20)).toString('base64')}</X509Certificate></X509Data></KeyInfo>` +
  '</KeyDescriptor><SingleSignOnService Binding="urn:oasis:names:tc:SAML:2.0:bindings:HTTP-Redirect" Location="https://adfs.corp.example/adfs/ls/"/>' +
  '</IDPSSODescriptor></EntityDescriptor>';

function iamClient(): IAMClient {
  return new IAMClient({ region: 'us-east-1', endpoint: emulator.url, credentials: CREDENTIALS });
}

async function health(url: string): Promise<{ status: number; body: Record<string, unknown> }> {
  const res = await fetch(`${url}/healthz`);
  return { status: res.status, body: (await res.json()) as Record<string, unknown> };
}

describe('rolemap daemon end to end (emulator + LDIF)', () => {
  beforeAll(async () => {
    emulator = await startEmulator({ homeAccount: ACCOUNT, baseCredentials: [CREDENTIALS] });
  });
  afterAll(async () => {
    await emulator?.stop();
  });
  beforeEach(async () => {
    dir = mkdtempSync(join(tmpdir(), 'rolemap-e2e-'));
    emulator.load({});
    emulator.clearFaults();
    emulator.resetCalls();
    // What an administrator set up by hand: the ADFS SAML provider the roles trust.
    const iam = iamClient();
    await iam.send(new CreateSAMLProviderCommand({ Name: 'ADFS', SAMLMetadataDocument: SAML_METADATA }));
    iam.destroy();
    writeFileSync(join(dir, 'directory.ldif'), ldif(PEOPLE, GROUPS));
  });
  afterEach(() => {
    for (const c of children.splice(0)) if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL');
    rmSync(dir, { recursive: true, force: true });
  });

  it('converges, then stays quiet; a directory change is applied on the next tick', async () => {
    const d = startDaemon(writeConfig(dir));
    await d.until(() => d.finished().some((l) => l['outcome'] === 'applied'), 30_000, 'a first applied run');
    await d.until(() => d.finished().filter((l) => l['outcome'] === 'no-changes').length >= 2, 30_000, 'two quiet runs');
    const roles = async (): Promise<string[]> => {
      const iam = iamClient();
      const out = await iam.send(new ListRolesCommand({}));
      iam.destroy();
      // Identity Center's own roles (provisioned permission sets) live under /aws-reserved/, as on AWS.
      return (out.Roles ?? []).filter((r) => !(r.Path ?? '').startsWith('/aws-reserved/')).map((r) => r.RoleName ?? '').sort();
    };
    const reservedRoles = async (): Promise<string[]> => {
      const iam = iamClient();
      const out = await iam.send(new ListRolesCommand({ PathPrefix: '/aws-reserved/sso.amazonaws.com/' }));
      iam.destroy();
      return (out.Roles ?? []).map((r) => r.RoleName ?? '').sort();
    };
    /** Identity Center: the users in the store, and the principals the permission set is assigned to in the account. */
    const identityCenter = async (): Promise<{ users: string[]; assigned: string[] }> => {
      const store = new IdentitystoreClient({ region: 'us-east-1', endpoint: emulator.url, credentials: CREDENTIALS });
      const sso = new SSOAdminClient({ region: 'us-east-1', endpoint: emulator.url, credentials: CREDENTIALS });
      try {
        const users = (await store.send(new ListUsersCommand({ IdentityStoreId: DEFAULT_IDENTITY_STORE_ID }))).Users ?? [];
        const sets = (await sso.send(new ListPermissionSetsCommand({ InstanceArn: DEFAULT_INSTANCE_ARN }))).PermissionSets ?? [];
        const assigned: string[] = [];
        for (const PermissionSetArn of sets) {
          const out = await sso.send(new ListAccountAssignmentsCommand({ InstanceArn: DEFAULT_INSTANCE_ARN, AccountId: ACCOUNT, PermissionSetArn }));
          for (const a of out.AccountAssignments ?? []) assigned.push(`${a.PrincipalType}`);
        }
        return { users: users.map((u) => u.UserName ?? '').sort(), assigned };
      } finally {
        store.destroy();
        sso.destroy();
      }
    };
    expect(await roles()).toEqual(['Admin', 'ReadOnly']);
    expect(await identityCenter()).toEqual({ users: ['user7@corp.example', 'user8@corp.example'], assigned: ['GROUP'] });
    // The assignment provisioned the permission set: its role is in the account, and rolemap leaves it alone.
    expect(await reservedRoles()).toEqual([expect.stringMatching(/^AWSReservedSSO_Analyst_[0-9a-f]{16}$/)]);
    // Quiet: no mutating call while converged.
    emulator.resetCalls();
    const quietFrom = d.finished().length;
    await d.until(() => d.finished().length >= quietFrom + 2, 10_000, 'two more runs');
    const reads = Object.keys(emulator.calls()).filter((k) => /^[a-z-]+:(Get|List|Describe)[A-Za-z]+$/.test(k));
    expect(reads).toEqual(expect.arrayContaining(['iam:ListRoles', 'identitystore:ListUsers', 'sso:ListAccountAssignments']));
    const mutations = Object.keys(emulator.calls()).filter((k) => !reads.includes(k));
    expect(mutations).toEqual([]);

    // A new ADFS group in AD, and a new member of the Analysts: a new role and a new Identity Center user at the next tick.
    writeFileSync(join(dir, 'directory.ldif'), ldif(PEOPLE, { ...GROUPS, Analysts: ['user6', 'user7', 'user8'], [`AWS-${ACCOUNT}-Auditor`]: ['user6'] }));
    const before = d.finished().length;
    await d.until(() => d.finished().slice(before).some((l) => l['outcome'] === 'applied'), 15_000, 'the change to be applied');
    expect(await roles()).toEqual(['Admin', 'Auditor', 'ReadOnly']);
    expect((await identityCenter()).users).toEqual(['user6@corp.example', 'user7@corp.example', 'user8@corp.example']);

    // Every journal row of a run carries the run id its log lines carry.
    const runs = journalRows(join(dir, 'journal.db'), 'runs');
    const changes = journalRows(join(dir, 'journal.db'), 'changes');
    const runIds = new Set(d.lines.filter((l) => l['msg'] === 'run started').map((l) => String(l['runId'])));
    expect(runs.length).toBeGreaterThanOrEqual(runIds.size - 1);
    for (const row of runs) expect(runIds).toContain(row['id']);
    expect(changes.length).toBeGreaterThan(0);
    for (const row of changes) expect(runIds).toContain(row['run_id']);

    d.child.kill('SIGTERM');
    expect(await d.exited).toBe(0);
    // Everything went to stdout as JSON lines (journald): nothing on stderr, no line that is not JSON.
    expect(d.stderr()).toBe('');
    expect(d.lines.filter((l) => l['unparsed'] === true)).toEqual([]);
  });

  it('a change that fails on every run is held back by itself (exponential, journaled); the rest of each plan stays on schedule', async () => {
    const journal = join(dir, 'journal.db');
    // Backoff of 30 s: were the schedule backed off, nothing below would happen within the test's waits.
    const d = startDaemon(writeConfig(dir), { initial: '30', max: '3600' });
    await d.until(() => d.finished().some((l) => l['outcome'] === 'applied'), 30_000, 'a first applied run');
    // AWS rejects this one role, every time (as it would a role name over 64 characters).
    emulator.resetCalls();
    emulator.injectFault({ kind: 'error', service: 'iam', operation: 'CreateRole', status: 400, code: 'ValidationError', message: 'roleName failed to satisfy constraint: Member must have length less than or equal to 64' });
    writeFileSync(join(dir, 'directory.ldif'), ldif(PEOPLE, { ...GROUPS, [`AWS-${ACCOUNT}-Auditor`]: ['user6'] }));
    const heldLine = (l: Record<string, unknown>): boolean => String(l['msg']).startsWith(`change iam_role.prod.Auditor failed in 1 run in a row: it is held back until `);
    await d.until(() => d.lines.some(heldLine), 15_000, 'the failing change to be held back');
    expect(d.lines.find(heldLine)).toMatchObject({ level: 'warn', change: 'iam_role.prod.Auditor', failures: 1 });
    const failedAt = d.finished().length;

    // Meanwhile AD changes elsewhere: the next ticks apply it, with the failing role held back.
    writeFileSync(join(dir, 'directory.ldif'), ldif(PEOPLE, { ...GROUPS, Analysts: ['user6', 'user7', 'user8'], [`AWS-${ACCOUNT}-Auditor`]: ['user6'] }));
    const storeUsers = async (): Promise<string[]> => {
      const store = new IdentitystoreClient({ region: 'us-east-1', endpoint: emulator.url, credentials: CREDENTIALS });
      try {
        return ((await store.send(new ListUsersCommand({ IdentityStoreId: DEFAULT_IDENTITY_STORE_ID }))).Users ?? []).map((u) => u.UserName ?? '').sort();
      } finally {
        store.destroy();
      }
    };
    const end = Date.now() + 15_000;
    while (!(await storeUsers()).includes('user6@corp.example')) {
      if (Date.now() > end) throw new Error(`user6 was not created while a change was held back; last log lines:\n${d.lines.slice(-6).map((l) => JSON.stringify(l)).join('\n')}`);
      await sleep(100);
    }
    await d.until(() => d.finished().length >= failedAt + 3, 15_000, 'more runs on schedule');

    // The schedule never backed off; the role was tried once, then held back in each later run, journaled as such.
    expect(d.lines.filter((l) => l['msg'] === 'backing off: scheduled runs before this time are skipped' || l['skipped'] === 'backoff')).toEqual([]);
    expect(emulator.calls()['iam:CreateRole']).toBe(1);
    const auditor = journalRows(journal, 'changes').filter((c) => c['address'] === 'iam_role.prod.Auditor');
    expect(auditor.filter((c) => c['status'] === 'failed')).toHaveLength(1);
    const held = auditor.filter((c) => c['status'] === 'skipped');
    expect(held.length).toBeGreaterThanOrEqual(2);
    for (const c of held) expect(String(c['error'])).toMatch(/^held back: it failed in 1 run in a row \(last: .*length less than or equal to 64.*\); next attempt after \d{4}-/);
    const h = await health(d.url());
    expect(h.status).toBe(503);
    expect(h.body).toMatchObject({ reason: 'failed', heldBack: [{ address: 'iam_role.prod.Auditor', failures: 1 }] });
    expect(String(h.body['message'])).toContain('1 change held back after failing (iam_role.prod.Auditor)');
    expect(await (await fetch(`${d.url()}/metrics`)).text()).toMatch(/^rolemap_changes_held_back 1$/m);
    d.child.kill('SIGTERM');
    expect(await d.exited).toBe(0);
  }, 90_000);

  it('a refused plan, rolemap approve RUN, and the next tick applies exactly that plan (the real run, emulator and journal)', async () => {
    const config = writeConfig(dir);
    const journal = join(dir, 'journal.db');
    const d = startDaemon(config);
    await d.until(() => d.finished().some((l) => l['outcome'] === 'applied'), 30_000, 'a first applied run');
    expect(await roleNames()).toEqual(['Admin', 'ReadOnly']);

    // Both ADFS groups go from AD at once: deleting both roles is past the 10% threshold.
    writeFileSync(join(dir, 'directory.ldif'), ldif(PEOPLE, { Analysts: GROUPS.Analysts }));
    await d.until(() => d.lines.some((l) => l['msg'] === 'the plan awaits an operator approval'), 15_000, 'a refusal awaiting approval');
    const awaiting = d.lines.find((l) => l['msg'] === 'the plan awaits an operator approval');
    const refusedRun = String(awaiting?.['runId']);
    expect(awaiting?.['approve']).toBe(`rolemap approve ${refusedRun}`);
    const h = await health(d.url());
    expect(h.status).toBe(503);
    expect(h.body).toMatchObject({ reason: 'refused', refusal: { code: 'deletion-threshold', approved: false } });
    expect(await roleNames()).toEqual(['Admin', 'ReadOnly']);

    // Refused again and again while nobody approves; nothing is applied.
    const refusedRuns = (): number => d.lines.filter((l) => l['msg'] === 'run summary: refused by the safety checks').length;
    const refusedSoFar = refusedRuns();
    await d.until(() => refusedRuns() >= refusedSoFar + 2, 10_000, 'two more refused runs');
    expect(await roleNames()).toEqual(['Admin', 'ReadOnly']);

    const approve = await rolemap('approve', refusedRun, '--config', config);
    expect(approve.code, approve.stderr).toBe(0);
    expect(approve.stdout).toMatch(new RegExp(`^Approved the plan of run ${refusedRun} \\(sha256:[0-9a-f]{64}\\): deletion-threshold, 2 changes \\(0 to add, 0 to change, 2 to destroy, 0 leavers\\), approved by ${userInfo().username} \\(uid ${userInfo().uid}\\)`));

    await d.until(() => d.lines.some((l) => String(l['msg']).startsWith(`applying the refused plan of run ${refusedRun}`)), 15_000, 'the approved plan to be applied');
    const approvedRun = String(d.lines.find((l) => String(l['msg']).startsWith(`applying the refused plan of run ${refusedRun}`))?.['runId']);
    await d.until(() => d.finished().some((l) => l['runId'] === approvedRun), 15_000, 'the approved run to finish');
    expect(d.finished().find((l) => l['runId'] === approvedRun)).toMatchObject({ msg: 'run summary', outcome: 'applied', changes: 2 });
    expect(await roleNames()).toEqual([]);
    // Exactly the approved plan: the changes applied are the refused run's, one by one.
    const changes = journalRows(journal, 'changes');
    const addresses = (runId: string, status: string): string[] => changes.filter((c) => c['run_id'] === runId && c['status'] === status).map((c) => String(c['address'])).sort();
    expect(addresses(approvedRun, 'applied')).toEqual(addresses(refusedRun, 'refused'));
    expect(addresses(approvedRun, 'applied')).toEqual([`iam_role.prod.Admin`, `iam_role.prod.ReadOnly`]);
    expect(journalRows(journal, 'runs').find((r) => r['id'] === approvedRun)).toMatchObject({ mode: 'saved-plan', outcome: 'applied' });
    // Then quiet and healthy; the approval is used once.
    await d.until(() => d.finished().some((l) => l['outcome'] === 'no-changes'), 15_000, 'a quiet run after the approved one');
    expect((await health(d.url())).status).toBe(200);
    expect(d.lines.filter((l) => String(l['msg']).startsWith('applying the refused plan'))).toHaveLength(1);

    // The journal holds the story, hash-chained: refused (each run), approved (by whom), used, cleared.
    const records = planRecords(journal);
    expect(records.filter((r) => r['event'] === 'approved')).toMatchObject([{ run_id: refusedRun, os_uid: userInfo().uid, os_user: userInfo().username }]);
    expect(records.filter((r) => r['event'] === 'used')).toMatchObject([{ run_id: refusedRun, by_run_id: approvedRun, detail: `run ${approvedRun} ended applied` }]);
    expect(records.filter((r) => r['event'] === 'cleared')).toMatchObject([{ run_id: expect.any(String), by_run_id: approvedRun }]);
    expect(records.filter((r) => r['event'] === 'refused').length).toBeGreaterThanOrEqual(3);
    d.child.kill('SIGTERM');
    expect(await d.exited).toBe(0);
    const verify = await rolemap('journal', 'verify', '--journal', journal);
    expect(verify.code, verify.stdout).toBe(0);
    expect(verify.stdout).toMatch(/[1-9]\d* plan records, /);
  }, 90_000);

  it('refuses an approval whose plan no longer matches what the directory and AWS give, and an approval of a superseded plan', async () => {
    const config = writeConfig(dir);
    const journal = join(dir, 'journal.db');
    let d = startDaemon(config);
    await d.until(() => d.finished().some((l) => l['outcome'] === 'applied'), 30_000, 'a first applied run');
    writeFileSync(join(dir, 'directory.ldif'), ldif(PEOPLE, { Analysts: GROUPS.Analysts }));
    await d.until(() => d.lines.some((l) => l['msg'] === 'the plan awaits an operator approval'), 15_000, 'a refusal awaiting approval');
    const refusedRun = String(d.lines.find((l) => l['msg'] === 'the plan awaits an operator approval')?.['runId']);
    d.child.kill('SIGTERM');
    expect(await d.exited).toBe(0);

    // Approved while the daemon is down; before it starts again, AD changes once more (Admin's group is back).
    const approve = await rolemap('approve', refusedRun, '--config', config);
    expect(approve.code, approve.stderr).toBe(0);
    writeFileSync(join(dir, 'directory.ldif'), ldif(PEOPLE, { [`AWS-${ACCOUNT}-Admin`]: ['user1'], Analysts: GROUPS.Analysts }));
    emulator.resetCalls();
    d = startDaemon(config);
    const notApplied = (l: Record<string, unknown>): boolean => String(l['msg']).startsWith(`the approved plan of run ${refusedRun} was not applied`);
    await d.until(() => d.lines.some(notApplied), 30_000, 'the approved plan to be refused');
    const line = d.lines.find(notApplied);
    expect(String(line?.['msg'])).toMatch(/it no longer matches what the directory and AWS give now \(the saved plan is not the plan that the same directory and AWS state give now: change #\d+ iam_role\.prod\.Admin \(delete\) is in the saved plan, but the plan made now has no such change/);
    expect(String(line?.['msg'])).toContain('the approval is used up and the next run plans afresh');
    // Nothing of the approved plan was applied: Admin is still there.
    expect(emulator.calls()['iam:DeleteRole']).toBeUndefined();
    expect((await roleNames()).includes('Admin')).toBe(true);
    const mismatchRun = String(line?.['runId']);
    expect(journalRows(journal, 'runs').find((r) => r['id'] === mismatchRun)).toMatchObject({ mode: 'saved-plan', outcome: 'refused' });

    // The approval is used up: the next run is an ordinary one; it plans only ReadOnly's deletion,
    // still past the threshold, and that new refusal supersedes the old run's.
    const isNewRefusal = (l: Record<string, unknown>): boolean => l['msg'] === 'the plan awaits an operator approval' && l['runId'] !== refusedRun;
    await d.until(() => d.lines.some(isNewRefusal), 15_000, 'a new refusal');
    const newRefusal = String(d.lines.find(isNewRefusal)?.['runId']);
    expect(d.lines.filter((l) => String(l['msg']).startsWith('applying the refused plan'))).toHaveLength(1);
    const stale = await rolemap('approve', refusedRun, '--config', config);
    expect(stale.code).toBe(EXIT.ERROR);
    expect(stale.stderr).toContain(`run ${refusedRun}'s plan is not the one awaiting approval: run `);
    expect(stale.stderr).toMatch(/was refused since with other changes \(deletion-threshold, \d+ changes\)\. Review that plan \(rolemap journal show \S+\) and run: rolemap approve \S+/);
    expect(await roleNames()).toEqual(['Admin', 'ReadOnly']);

    const approve2 = await rolemap('approve', newRefusal, '--config', config);
    expect(approve2.code, approve2.stderr).toBe(0);
    await d.until(() => d.finished().some((l) => l['outcome'] === 'applied' && l['runId'] !== newRefusal), 15_000, 'the new approved plan to be applied');
    expect(await roleNames()).toEqual(['Admin']);
    d.child.kill('SIGTERM');
    expect(await d.exited).toBe(0);
  }, 120_000);

  it('SIGTERM mid-run: the calls in flight finish, the rest is skipped, the run is journaled interrupted and the daemon exits 0', async () => {
    // Twelve roles to create, more than the apply runs at once; each CreateRole takes 2 s, so the
    // first run is mid-apply when SIGTERM comes.
    const teams = Object.fromEntries(Array.from({ length: 10 }, (_, i) => [`AWS-${ACCOUNT}-Team${i + 1}`, [`user${i + 1}`]]));
    writeFileSync(join(dir, 'directory.ldif'), ldif(PEOPLE, { ...GROUPS, ...teams }));
    emulator.injectFault({ kind: 'latency', service: 'iam', operation: 'CreateRole', latencyMs: 2_000 });
    const d = startDaemon(writeConfig(dir));
    await d.until(() => Object.keys(emulator.calls()).includes('iam:CreateRole'), 30_000, 'the apply to start');
    const runId = String(d.lines.find((l) => l['msg'] === 'run started')?.['runId']);
    const sentAt = Date.now();
    d.child.kill('SIGTERM');
    expect(await d.exited).toBe(0);
    expect(Date.now() - sentAt).toBeLessThan(15_000);
    const run = journalRows(join(dir, 'journal.db'), 'runs').find((r) => r['id'] === runId);
    expect(run?.['outcome']).toBe('interrupted');
    // Every change of the run has its final status: the ones whose AWS call was in flight applied
    // (no call is cut off), the ones not started skipped; nothing left pending.
    const changes = journalRows(join(dir, 'journal.db'), 'changes').filter((r) => r['run_id'] === runId);
    expect(changes.filter((r) => r['kind'] === 'iam_role')).toHaveLength(12);
    expect(changes.filter((r) => r['status'] !== 'applied' && r['status'] !== 'skipped')).toEqual([]);
    const rolesApplied = changes.filter((r) => r['kind'] === 'iam_role' && r['status'] === 'applied');
    expect(rolesApplied.length).toBeGreaterThan(0);
    expect(rolesApplied.length).toBe(emulator.calls()['iam:CreateRole']);
    expect(changes.filter((r) => r['status'] === 'skipped').length).toBeGreaterThan(0);
    expect(existsSync(join(dir, 'journal.db.lock'))).toBe(false);
  });

  it('refuses a second daemon (and an applying reconcile) on the same journal, and recovers a stale lock', async () => {
    const config = writeConfig(dir);
    const first = startDaemon(config);
    await first.until(() => first.url() !== '', 30_000, 'the first daemon to start');
    const second = startDaemon(config);
    expect(await second.exited).toBe(EXIT.LOCKED);
    expect(second.stderr()).toContain(`locked by pid ${first.child.pid}`);
    // An applying reconcile is refused too; a dry run is not.
    const apply = await rolemap('reconcile', '--auto-approve', '--config', config);
    expect(apply.code).toBe(EXIT.LOCKED);
    expect(apply.stderr).toContain(`the journal is locked by pid ${first.child.pid}`);
    const dry = await rolemap('reconcile', '--dry-run', '--config', config);
    expect([EXIT.OK, EXIT.CHANGES], dry.stderr).toContain(dry.code);
    // ... and neither disturbs the daemon's runs (a dry run used to close the daemon's live run as interrupted).
    const n = first.finished().length;
    await first.until(() => first.finished().length > n, 10_000, 'a daemon run after the dry run');
    expect(first.finished().filter((l) => l['msg'] !== 'run summary')).toEqual([]);
    first.child.kill('SIGTERM');
    expect(await first.exited).toBe(0);

    writeFileSync(join(dir, 'journal.db.lock'), JSON.stringify({ pid: 2 ** 22 - 1, host: hostname(), startedAt: '2026-01-01T00:00:00.000Z', command: 'rolemap daemon' }));
    const third = startDaemon(config);
    await third.until(() => third.url() !== '', 30_000, 'the third daemon to start');
    expect(third.lines.some((l) => String(l['msg']).startsWith('recovered a stale journal lock'))).toBe(true);
    third.child.kill('SIGTERM');
    expect(await third.exited).toBe(0);
  });

  it('SIGHUP with a broken config keeps the old one', async () => {
    const config = writeConfig(dir);
    const d = startDaemon(config);
    await d.until(() => d.finished().length >= 1, 30_000, 'a first run');
    writeConfig(dir, { broken: true });
    d.child.kill('SIGHUP');
    await d.until(() => d.lines.some((l) => String(l['msg']).startsWith('config reload failed; keeping the running config')), 10_000, 'the reload to fail');
    // It says why, naming the file and line.
    const failed = d.lines.find((l) => String(l['msg']).startsWith('config reload failed'));
    expect(String(failed?.['msg'])).toContain(`${config}:4:1: YAML syntax error`);
    const n = d.finished().length;
    await d.until(() => d.finished().slice(n).some((l) => l['msg'] === 'run summary'), 10_000, 'a successful run on the old config');
    d.child.kill('SIGTERM');
    expect(await d.exited).toBe(0);
    // Every run, before and after the reload, ran the old config (the journal records its sha256).
    const hashes = new Set(journalRows(join(dir, 'journal.db'), 'runs').map((r) => r['config_hash']));
    expect(hashes.size).toBe(1);
  });

  it('/healthz is unhealthy while AWS fails and healthy again after; /metrics is Prometheus text', async () => {
    const d = startDaemon(writeConfig(dir));
    await d.until(() => d.finished().some((l) => l['outcome'] === 'applied' || l['outcome'] === 'no-changes'), 30_000, 'a successful run');
    expect((await health(d.url())).status).toBe(200);

    // A 500 whose message echoes the caller's secret key: the daemon's log must not repeat it.
    emulator.injectFault({ kind: 'error', service: 'iam', status: 500, code: 'ServiceFailure', message: 'internal failure for request signed with e2e-secret-key' });
    await d.until(() => d.finished().some((l) => l['msg'] !== 'run summary'), 30_000, 'a failed run');
    const sick = await health(d.url());
    expect(sick.status).toBe(503);
    // IAM fails, Identity Center still answers: the IAM targets are held and the run is partial (degraded).
    expect(['failed', 'degraded']).toContain(sick.body['reason']);

    emulator.clearFaults();
    // Backoff (1 s, at most 2 s here): the daemon recovers at its next allowed run.
    await d.until(() => d.finished().at(-1)?.['msg'] === 'run summary', 20_000, 'a run to succeed again');
    expect((await health(d.url())).status).toBe(200);

    const metrics = await (await fetch(`${d.url()}/metrics`)).text();
    for (const line of metrics.split('\n')) {
      if (line === '' || line.startsWith('# HELP ') || line.startsWith('# TYPE ')) continue;
      expect(line).toMatch(/^[a-zA-Z_:][a-zA-Z0-9_:]*(\{[^}]*\})? [^ ]+$/);
    }
    expect(metrics).toMatch(/^rolemap_runs_total\{outcome="applied"\} [1-9]/m);
    expect(metrics).toMatch(/^rolemap_directory_users 12$/m);
    expect(metrics).toMatch(/^rolemap_last_success_timestamp_seconds [1-9]/m);
    expect(metrics).toMatch(/^rolemap_runs_total\{outcome="(?:error|failed|partial)"\} [1-9]/m);
    expect(metrics).toMatch(/^rolemap_consecutive_failures 0$/m);
    expect(metrics).toMatch(/^rolemap_run_duration_seconds_count\{outcome="applied"\} [1-9]/m);
    expect(metrics).toMatch(/^rolemap_changes_applied_total\{action="create",kind="iam_role"\} 2$/m);
    expect(metrics).toMatch(/^rolemap_changes_applied_total\{action="create",kind="identitystore_user"\} 2$/m);
    const log = JSON.stringify(d.lines);
    expect(log).not.toContain('e2e-secret-key');
    expect(log).toContain('internal failure for request signed with [redacted]');
    d.child.kill('SIGTERM');
    expect(await d.exited).toBe(0);
  }, 90_000);
});
