/**
 * Issue 14, what a campaign reads from AWS at start, against the emulator (real SDK clients, SigV4, policy
 * evaluation): IAM RoleLastUsed of rolemap's roles (per role, set by the emulator on AssumeRoleWithSAML), an
 * account that cannot be read (its reconciler role lost its permissions) reported without stopping the
 * campaign. Linked IAM users as `iam-user` rows with their access keys' last use, and a revoke decision on
 * one taking effect through reconcile: keys Inactive in the emulator, a call signed with the key refused.
 */
import { fileURLToPath } from 'node:url';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { AttachUserPolicyCommand, CreateAccessKeyCommand, CreateLoginProfileCommand, CreateUserCommand, UpdateAccessKeyCommand } from '@aws-sdk/client-iam';
import { GetSessionTokenCommand, STSClient } from '@aws-sdk/client-sts';
import { afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { IamRolesTarget } from '../../../src/adapters/aws/iam-roles/iam-roles-target.js';
import { IamUsersTarget } from '../../../src/adapters/aws/iam-users/iam-users-target.js';
import { samlProviderArn } from '../../../src/adapters/aws/iam-roles/trust-policy.js';
import { LdifDirectorySource } from '../../../src/adapters/directory/ldif/ldif-source.js';
import type { SqliteJournal } from '../../../src/adapters/journal/sqlite-journal.js';
import type { RoleMap } from '../../../src/core/model/role-map.js';
import { groupSelection, runOnce, type Runtime } from '../../../src/shell/reconcile/run-once.js';
import { readReviewAws } from '../../../src/shell/review/aws-context.js';
import { rowIdOf } from '../../../src/core/review/population.js';
import { toEntraCsv } from '../../../src/shell/review/html.js';
import { campaignReport, exportPackets, importDecisions, reportCsv, requireCampaign, startCampaign } from '../../../src/shell/review/review.js';
import { probeResult } from '../../aws-emulator/probe.js';
import type { IamState } from '../../aws-emulator/services/iam.js';
import { DEV, PROD, RECONCILER, SANDBOX, type World } from '../../adapters/aws/iam-roles/fixtures.js';
import type { tempDir } from '../../adapters/journal/fixtures.js';
import { MemoryLogger } from '../../support/fake-ports.js';
import { createSamlIdp, type SamlIdp } from '../../support/saml-idp.js';
import { DEV_ROLE, S3_READ, closeSessionWorld, openSessionWorld } from '../../support/session-world.js';
import { samlLogin } from '../../support/saml-login.js';

const LDIF = fileURLToPath(new URL('../../fixtures/review/managers.ldif', import.meta.url));
const REVIEWS = { reviewers: {}, fallbackReviewer: 'auditor@corp.example', ifNoDecision: 'keep' as const, schedule: null, dueDays: 14 };

let idp: SamlIdp;
let world: World;
let tmp: ReturnType<typeof tempDir>;
let journal: SqliteJournal;
let map: RoleMap;
const source = new LdifDirectorySource({ path: LDIF });

async function reconcile(): Promise<Awaited<ReturnType<typeof runOnce>>> {
  const runtime: Runtime = { roleMap: map, source, targets: [new IamRolesTarget(world.clients), new IamUsersTarget(world.clients)], journal, configHash: 'test', clock: () => new Date(), log: new MemoryLogger() };
  const result = await runOnce(runtime, { mode: 'apply', trigger: 'test' });
  expect(result.report?.failed ?? 0).toBe(0);
  return result;
}

async function start(name: string): Promise<ReturnType<typeof startCampaign>> {
  const history = journal.entitlementHistory();
  const snapshot = await source.read(groupSelection(map, history));
  const aws = await readReviewAws(world.clients, map);
  return startCampaign({ config: { roleMap: map, reviews: REVIEWS, path: 'test.yaml' }, snapshot, history, db: journal.database, now: new Date(), name, aws });
}

beforeAll(async () => {
  idp = await createSamlIdp();
});
beforeEach(async () => {
  ({ world, tmp, journal, map } = await openSessionWorld(idp));
});
afterEach(async () => {
  await closeSessionWorld({ world, tmp, journal });
});

describe('role last use at campaign start', () => {
  it('shows the RoleLastUsed of the role assumed via SAML on every row of that role, none on the unused one', async () => {
    await reconcile();
    const before = Date.now();
    await samlLogin(world.emulator, { idp, user: 'jdoe@corp.example', roleArn: DEV_ROLE, providerArn: samlProviderArn(DEV, 'ADFS') });
    const { campaign, rows } = await start('Q1-2027');
    expect(campaign.awsNotRead).toBeUndefined();
    const dev = rows.filter((r) => r.entitlement.name === 'Developer');
    const admin = rows.filter((r) => r.entitlement.name === 'Admin');
    expect(dev.length).toBeGreaterThan(1);
    expect(admin.length).toBeGreaterThan(0);
    for (const r of dev) {
      // Per role: asmith never signed in, and still shows jdoe's use.
      expect(Date.parse(r.context.lastUsed.roleLastUsedAt ?? '')).toBeGreaterThanOrEqual(before - 1000);
      expect(r.context.lastUsed.roleLastUsedRegion).toBe('us-east-1');
      expect(r.context.lastUsed.perRoleNotPerPerson).toBe(true);
    }
    for (const r of admin) expect(r.context.lastUsed.roleLastUsedAt).toBeUndefined();
    // Journaled as snapshotted.
    expect(requireCampaign(journal.database, 'Q1-2027').rows.find((r) => r.entitlement.name === 'Developer')?.context.lastUsed.roleLastUsedAt).toBe(dev[0]?.context.lastUsed.roleLastUsedAt);
  });

  it('an account that cannot be read is reported and the campaign still starts; its rows have no last use', async () => {
    await reconcile();
    await samlLogin(world.emulator, { idp, user: 'jdoe@corp.example', roleArn: DEV_ROLE, providerArn: samlProviderArn(DEV, 'ADFS') });
    // The reconciler role in dev loses its IAM permissions: GetAccountAuthorizationDetails is AccessDenied there.
    const iam = world.emulator.state<IamState>('iam');
    iam.accounts[DEV]!.roles[RECONCILER]!.attachedPolicies = [];
    const { campaign, rows } = await start('Q1-2027');
    expect(campaign.awsNotRead).toHaveLength(1);
    expect(campaign.awsNotRead?.[0]?.account).toBe(DEV);
    expect(campaign.awsNotRead?.[0]?.reason).toMatch(/AccessDenied|not authorized/);
    expect(rows.filter((r) => r.entitlement.name === 'Developer').length).toBeGreaterThan(1);
    for (const r of rows) expect(r.context.lastUsed.roleLastUsedAt).toBeUndefined();
    expect(requireCampaign(journal.database, 'Q1-2027').campaign.awsNotRead?.[0]?.account).toBe(DEV);
    expect([PROD, SANDBOX]).not.toContain(campaign.awsNotRead?.[0]?.account);
  });
});

const JDOE = '7e000000-0000-4000-8000-0000000000b1';

/** The reviewer fills their JSON packet: `verdict(row)` per row. */
function decide(campaign: string, reviewer: string, verdict: (r: { rowId: string; entitlement: string }) => 'approve' | 'revoke'): string {
  const dir = tmp.file(`packets-${campaign}`);
  const [file] = exportPackets(requireCampaign(journal.database, campaign), { reviewer, format: 'json', outDir: dir });
  const packet = JSON.parse(readFileSync(file as string, 'utf8')) as { decisions: { rowId: string; entitlement: string; decision: string; justification: string }[] };
  for (const d of packet.decisions) Object.assign(d, { decision: verdict(d), justification: verdict(d) === 'revoke' ? 'CI moved to OIDC' : 'still needed' });
  const out = join(dir, 'filled.json');
  writeFileSync(out, JSON.stringify(packet));
  return out;
}

describe('linked IAM users as iam-user rows', () => {
  it('a linked IAM user with two keys (one used) is a row for the manager with key last use; revoke -> reconcile -> keys Inactive, the key refused, AD and the roles untouched', async () => {
    const c = world.console(DEV);
    await c.send(new CreateUserCommand({ UserName: 'jdoe-ci', Tags: [{ Key: 'ad-account', Value: 'jdoe' }] }));
    await c.send(new AttachUserPolicyCommand({ UserName: 'jdoe-ci', PolicyArn: S3_READ }));
    await c.send(new CreateLoginProfileCommand({ UserName: 'jdoe-ci', Password: 'Correct-Horse-9' }));
    const k1 = (await c.send(new CreateAccessKeyCommand({ UserName: 'jdoe-ci' }))).AccessKey!;
    const k2 = (await c.send(new CreateAccessKeyCommand({ UserName: 'jdoe-ci' }))).AccessKey!;
    const used = { accessKeyId: k1.AccessKeyId!, secretAccessKey: k1.SecretAccessKey! };
    await reconcile();
    expect((await probeResult(world.emulator.url, used, { region: 'eu-west-1' })).outcome).toBe('allowed');
    // Temporary credentials made from the key before the review: they outlive the key (up to 36 hours).
    const sts = new STSClient({ region: 'us-east-1', endpoint: world.emulator.url, credentials: used });
    const t = (await sts.send(new GetSessionTokenCommand({ DurationSeconds: 129_600 }))).Credentials;
    sts.destroy();
    const token = { accessKeyId: t?.AccessKeyId ?? '', secretAccessKey: t?.SecretAccessKey ?? '', sessionToken: t?.SessionToken ?? '' };
    expect((await probeResult(world.emulator.url, token, { region: 'eu-west-1' })).outcome).toBe('allowed');

    const { rows } = await start('Q1-2027');
    const row = rows.find((r) => r.entitlement.kind === 'iam-user');
    expect(row).toBeDefined();
    expect(rows.filter((r) => r.entitlement.kind === 'iam-user')).toHaveLength(1);
    expect(row).toMatchObject({ rowId: rowIdOf(JDOE, 'iam-user', DEV, 'jdoe-ci'), person: { sAMAccountName: 'jdoe' }, reviewer: { userPrincipalName: 'mmeyer@corp.example' }, routedBy: 'manager' });
    expect(row?.entitlement.group).toBeUndefined();
    const keys = row?.entitlement.accessKeys ?? [];
    expect(keys.map((k) => [k.accessKeyId, k.status, k.lastUsedAt !== undefined])).toEqual(
      [[k1.AccessKeyId, 'Active', true], [k2.AccessKeyId, 'Active', false]].sort((a, b) => ((a[0] as string) < (b[0] as string) ? -1 : 1)),
    );
    const k1Use = keys.find((k) => k.accessKeyId === k1.AccessKeyId)?.lastUsedAt;
    expect(row?.context.lastUsed.accessKeyLastUsedAt).toBe(k1Use);

    // Rendered in every format: CSV and HTML packets, the Entra CSV, the report.
    const rec = requireCampaign(journal.database, 'Q1-2027');
    const [csvFile] = exportPackets(rec, { reviewer: 'mmeyer@corp.example', format: 'csv', outDir: tmp.file('csv') });
    const csv = readFileSync(csvFile as string, 'utf8');
    expect(csv).toContain(`iam-user,${DEV},dev,jdoe-ci,,,`);
    expect(csv).toContain(`${k1.AccessKeyId} Active used ${k1Use}; `.replace('; ', ''));
    const [htmlFile] = exportPackets(rec, { reviewer: 'mmeyer@corp.example', format: 'html', outDir: tmp.file('html') });
    const html = readFileSync(htmlFile as string, 'utf8');
    expect(html).toContain(`data-row-id="${row?.rowId}"`);
    expect(html).toContain('no AD group');
    expect(toEntraCsv(rec.campaign, rec.rows).csv).toContain('dev / jdoe-ci');

    const imported = importDecisions(journal.database, 'Q1-2027', decide('Q1-2027', 'mmeyer@corp.example', (d) => (d.rowId === row?.rowId ? 'revoke' : 'approve')), new Date());
    expect(imported.decisions.filter((d) => d.verdict === 'revoke')).toHaveLength(1);

    const applied = await reconcile();
    const today = new Date().toISOString().slice(0, 10);
    const disable = applied.plan.changes.find((ch) => ch.kind === 'iam_user_credentials');
    expect(disable?.action).toBe('disable');
    expect(disable?.reason).toContain(`jdoe: revoked in review Q1-2027 by M. Meyer on ${today}: IAM user jdoe-ci (dev): deactivate access keys, remove console password`);
    expect(applied.plan.changes.filter((ch) => ch.kind !== 'iam_user_credentials')).toEqual([]); // the roles and their revocations are untouched

    const iam = world.emulator.state<IamState>('iam');
    const user = iam.accounts[DEV]!.users['jdoe-ci']!;
    expect(user.accessKeys.map((k) => k.status)).toEqual(['Inactive', 'Inactive']);
    expect(user.loginProfile).toBeUndefined();
    const refused = await probeResult(world.emulator.url, used, { region: 'eu-west-1' });
    expect(refused).toMatchObject({ outcome: 'denied', code: 'InvalidAccessKeyId' });
    // The session made before is denied by the policy evaluation (the deny on tokens issued before the revocation).
    expect(await probeResult(world.emulator.url, token, { region: 'eu-west-1' })).toMatchObject({ outcome: 'denied', code: 'AccessDenied' });
    // AD is unchanged: jdoe is still in both groups, his Developer role still works.
    const dir = await source.read(groupSelection(map));
    expect(dir.groups.find((g) => g.name === 'AWS-Dev-Developer')?.members).toContain(JDOE);
    const dev = await samlLogin(world.emulator, { idp, user: 'jdoe@corp.example', roleArn: DEV_ROLE, providerArn: samlProviderArn(DEV, 'ADFS') });
    expect((await probeResult(world.emulator.url, dev.credentials)).outcome).toBe('allowed');

    // The auditor's report carries the executed revocation with its request ids.
    const report = campaignReport(journal.database, requireCampaign(journal.database, 'Q1-2027'), new Date());
    const executed = report.executedRevocations.find((x) => x.rowId === row?.rowId);
    expect(executed?.requestIds.length).toBeGreaterThan(0);
    expect(reportCsv(report)).toContain(`${row?.rowId},${JDOE},jdoe,`);

    // Nothing more while it stands; a key re-activated by hand is switched off again.
    expect((await reconcile()).plan.changes).toEqual([]);
    await c.send(new UpdateAccessKeyCommand({ UserName: 'jdoe-ci', AccessKeyId: k1.AccessKeyId!, Status: 'Active' }));
    expect((await reconcile()).plan.changes.find((ch) => ch.kind === 'iam_user_credentials')?.action).toBe('disable');
    expect(user.accessKeys.map((k) => k.status)).toEqual(['Inactive', 'Inactive']);

    // Re-approved in Q2: rolemap does not re-activate the keys, but no longer forces them off.
    await start('Q2-2027');
    importDecisions(journal.database, 'Q2-2027', decide('Q2-2027', 'mmeyer@corp.example', () => 'approve'), new Date());
    expect((await reconcile()).plan.changes).toEqual([]);
    expect(user.accessKeys.map((k) => k.status)).toEqual(['Inactive', 'Inactive']);
    await c.send(new UpdateAccessKeyCommand({ UserName: 'jdoe-ci', AccessKeyId: k1.AccessKeyId!, Status: 'Active' }));
    expect((await reconcile()).plan.changes).toEqual([]);
    expect((await probeResult(world.emulator.url, used, { region: 'eu-west-1' })).outcome).toBe('allowed');
  });
});
