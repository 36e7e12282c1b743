/**
 * Issue 12 through run-once: the real IAM roles target against the emulator, a real SQLite journal.
 *
 * - defect 2: a revocation shared by two leavers that fails keeps both in the entitlement history, so
 *   the next run plans it again until it succeeds;
 * - defect 3: applying a saved plan records the entitlements the plan was made from: someone who left
 *   between the plan and its apply stays in the history and is revoked on the next run.
 */
import { GetRolePolicyCommand, UpdateSAMLProviderCommand } from '@aws-sdk/client-iam';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { IamRolesTarget } from '../../../src/adapters/aws/iam-roles/iam-roles-target.js';
import { SqliteJournal } from '../../../src/adapters/journal/sqlite-journal.js';
import type { DirectorySnapshot, DirectoryUser } from '../../../src/core/model/directory.js';
import { REVOCATION_POLICY_NAME } from '../../../src/core/model/ownership.js';
import type { RoleMap } from '../../../src/core/model/role-map.js';
import { planFromJson, planToJson } from '../../../src/core/render/json.js';
import { planHash } from '../../../src/core/plan/plan-hash.js';
import { runOnce, type Runtime } from '../../../src/shell/reconcile/run-once.js';
import { DEV, roleMap, spec, startWorld, type World } from '../../adapters/aws/iam-roles/fixtures.js';
import { FakeDirectorySource, MemoryLogger } from '../../support/fake-ports.js';
import { tempDir } from '../../adapters/journal/fixtures.js';
import { probe } from '../../aws-emulator/probe.js';
import { samlProviderArn } from '../../../src/adapters/aws/iam-roles/trust-policy.js';
import { createSamlIdp } from '../../support/saml-idp.js';
import { samlLogin } from '../../support/saml-login.js';

const JDOE = '0c000000-0000-4000-8000-000000000001';
const ASMITH = '0c000000-0000-4000-8000-000000000002';
const BWHITE = '0c000000-0000-4000-8000-000000000003';
const DEVS = '0c000000-0000-4000-8000-0000000000d1';

const person = (guid: string, sam: string, disabled = false): DirectoryUser => ({ guid, dn: `CN=${sam},OU=Staff,DC=corp,DC=example`, sAMAccountName: sam, userPrincipalName: `${sam}@corp.example`, disabled });

function directory(disabled: readonly string[] = []): DirectorySnapshot {
  const users = [person(JDOE, 'jdoe'), person(ASMITH, 'asmith'), person(BWHITE, 'bwhite')].map((u) => (disabled.includes(u.sAMAccountName) ? { ...u, disabled: true } : u));
  return {
    source: 'test',
    users,
    groups: [{ guid: DEVS, dn: `CN=AWS-${DEV}-Developer,OU=Groups,DC=corp,DC=example`, sAMAccountName: `AWS-${DEV}-Developer`, name: `AWS-${DEV}-Developer`, members: [JDOE, ASMITH, BWHITE] }],
  };
}

let world: World;
let tmp: ReturnType<typeof tempDir>;
let journal: SqliteJournal;
let source: FakeDirectorySource;
let now: Date;

function runtime(map: RoleMap): Runtime {
  return { roleMap: map, source, targets: [new IamRolesTarget(world.clients)], journal, configHash: 'test', clock: () => now, log: new MemoryLogger() };
}

async function revokedNames(): Promise<string[]> {
  const doc = await world.console(DEV).send(new GetRolePolicyCommand({ RoleName: 'Developer', PolicyName: REVOCATION_POLICY_NAME }));
  return [...decodeURIComponent(doc.PolicyDocument ?? '').matchAll(/\*:([^"]+)"/g)].map((m) => m[1] as string).sort();
}

const historyHolds = (): string[] => [...new Set([...(journal.entitlementHistory().last ?? [])].map((e) => e.userName))].sort();

beforeEach(async () => {
  world = await startWorld({ maxAttempts: 2 });
  tmp = tempDir();
  journal = SqliteJournal.open(tmp.file('journal.db'));
  source = new FakeDirectorySource(directory());
  now = new Date('2026-12-02T09:00:00.000Z');
});
afterEach(async () => {
  journal.close();
  tmp.cleanup();
  await world.stop();
});

describe('defect 2: a failed shared revocation is retried until it succeeds', () => {
  it('two leavers share the Developer revocation; it fails while another change succeeds; both stay leavers and the next run revokes both', async () => {
    const map = roleMap([spec(DEV, 'Developer', { managedPolicyArns: ['arn:aws:iam::aws:policy/AmazonS3ReadOnlyAccess'] })]);
    expect((await runOnce(runtime(map), { mode: 'apply', trigger: 'test' })).outcome).toBe('applied');
    // Everyone has a live SAML session on Developer.
    const idp = await createSamlIdp();
    await world.console(DEV).send(new UpdateSAMLProviderCommand({ SAMLProviderArn: samlProviderArn(DEV, 'ADFS'), SAMLMetadataDocument: idp.metadataXml() }));
    const session = (user: string) => samlLogin(world.emulator, { idp, user, roleArn: `arn:aws:iam::${DEV}:role/federated/Developer`, providerArn: samlProviderArn(DEV, 'ADFS') });
    const [jdoeS, asmithS, bwhiteS] = [await session('jdoe@corp.example'), await session('asmith@corp.example'), await session('bwhite@corp.example')];
    const mayAct = async (s: typeof jdoeS): Promise<boolean> => (await probe(world.emulator.url, s.credentials)) === 'allowed';
    await new Promise((r) => setTimeout(r, 5));

    // jdoe and asmith leave; in the same run a new role is made (which succeeds) while IAM refuses the deny.
    source.snapshot = directory(['jdoe', 'asmith']);
    // The sessions above carry the real clock's aws:TokenIssueTime: the revocation instants must come after it.
    const leftAt = Date.now() + 60_000;
    now = new Date(leftAt);
    world.emulator.injectFault({ kind: 'error', service: 'iam', operation: 'PutRolePolicy', code: 'ServiceFailure', status: 500, message: 'try later' });
    const withAuditor = roleMap([spec(DEV, 'Developer', { managedPolicyArns: ['arn:aws:iam::aws:policy/AmazonS3ReadOnlyAccess'] }), spec(DEV, 'Auditor', { group: { by: 'sAMAccountName', value: `AWS-${DEV}-Developer` } })]);
    const failed = await runOnce(runtime(withAuditor), { mode: 'apply', trigger: 'test' });
    expect(failed.outcome).toBe('partial');
    const shared = failed.plan.changes.find((c) => c.address === 'iam_role_revocations.dev.Developer');
    expect(shared?.concerns).toHaveLength(2);
    expect(failed.report?.results.find((r) => r.change.seq === shared?.seq)?.status).toBe('failed');
    // Both are still in the history as holding what they lost, and their sessions still work: not done yet.
    expect(historyHolds()).toEqual(['asmith', 'bwhite', 'jdoe']);
    expect(await mayAct(jdoeS)).toBe(true);

    world.emulator.clearFaults();
    now = new Date(leftAt + 60_000);
    const retry = await runOnce(runtime(withAuditor), { mode: 'apply', trigger: 'test' });
    expect(retry.outcome).toBe('applied');
    // Only Developer: the new Auditor role was never theirs (they were disabled before it existed).
    expect(retry.plan.changes.filter((c) => c.action === 'revoke').map((c) => c.address)).toEqual(['iam_role_revocations.dev.Developer']);
    expect(await revokedNames()).toEqual(['asmith@corp.example', 'jdoe@corp.example']);
    expect(historyHolds()).toEqual(['bwhite']);
    // The emulator judges: both leavers' sessions are denied, bwhite's still works.
    expect([await mayAct(jdoeS), await mayAct(asmithS), await mayAct(bwhiteS)]).toEqual([false, false, true]);
    // And then it converges.
    expect((await runOnce(runtime(withAuditor), { mode: 'apply', trigger: 'test' })).outcome).toBe('no-changes');
  });
});

describe('defect 3: a saved plan records the entitlements it was made from', () => {
  // A saved plan is applied only while the same directory and AWS state give the same plan (issue 17):
  // a leaver with sessions to revoke changes the plan, so the saved one is refused. What remains is a
  // change in who holds what that needs no AWS change (here: revocation off), which the history must not lose.
  it('asmith leaves between plan and apply: applying the saved plan keeps him in the history', async () => {
    const quiet = (specs: Parameters<typeof roleMap>[0]): RoleMap => {
      const m = roleMap(specs);
      return { ...m, leavers: { ...m.leavers, revokeSessions: false } };
    };
    await runOnce(runtime(quiet([spec(DEV, 'Developer')])), { mode: 'apply', trigger: 'test' });

    // A plan with something to do (a new role), saved to a file and read back as `--plan FILE` does.
    const withAuditor = quiet([spec(DEV, 'Developer'), spec(DEV, 'Auditor', { group: { by: 'sAMAccountName', value: `AWS-${DEV}-Developer` } })]);
    const dry = await runOnce(runtime(withAuditor), { mode: 'dry-run', trigger: 'test' });
    expect(dry.plan.entitlements?.grants.map((g) => [g.target, g.users.length])).toEqual([['Auditor', 3], ['Developer', 3]]);
    journal.recordSavedPlan(dry.runId, planHash(dry.plan), dry.plan.changes.length); // what --plan-out does
    const saved = planFromJson(planToJson(dry.plan), 'plan.json');

    // asmith is disabled before the saved plan is applied; the plan is still the same plan.
    source.snapshot = directory(['asmith']);
    now = new Date('2026-12-02T09:30:00.000Z');
    const applied = await runOnce(runtime(withAuditor), { mode: 'saved-plan', trigger: 'test', savedPlan: saved });
    expect(applied.outcome).toBe('applied');
    // Recorded from the plan (and the fresh read): asmith still holds what he held, so the next run sees him leave.
    expect(historyHolds()).toEqual(['asmith', 'bwhite', 'jdoe']);
  });
});
