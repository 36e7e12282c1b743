/**
 * Issue 14, what a campaign reads from AWS at start, against the emulator (real SDK clients, SigV4, policy
 * evaluation): IAM RoleLastUsed of rolemap's roles (per role, set by the emulator on AssumeRoleWithSAML), an
 * account that cannot be read (its reconciler role lost its permissions) reported without stopping the
 * campaign.
 */
import { fileURLToPath } from 'node:url';
import { UpdateSAMLProviderCommand } from '@aws-sdk/client-iam';
import { afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { IamRolesTarget } from '../../../src/adapters/aws/iam-roles/iam-roles-target.js';
import { IamUsersTarget } from '../../../src/adapters/aws/iam-users/iam-users-target.js';
import { samlProviderArn } from '../../../src/adapters/aws/iam-roles/trust-policy.js';
import { LdifDirectorySource } from '../../../src/adapters/directory/ldif/ldif-source.js';
import { SqliteJournal } from '../../../src/adapters/journal/sqlite-journal.js';
import type { RoleMap } from '../../../src/core/model/role-map.js';
import { groupSelection, runOnce, type Runtime } from '../../../src/shell/reconcile/run-once.js';
import { readReviewAws } from '../../../src/shell/review/aws-context.js';
import { requireCampaign, startCampaign } from '../../../src/shell/review/review.js';
import type { IamState } from '../../aws-emulator/services/iam.js';
import { DEV, PROD, RECONCILER, SANDBOX, roleMap, spec, startWorld, type World } from '../../adapters/aws/iam-roles/fixtures.js';
import { tempDir } from '../../adapters/journal/fixtures.js';
import { MemoryLogger } from '../../support/fake-ports.js';
import { createSamlIdp, type SamlIdp } from '../../support/saml-idp.js';
import { samlLogin } from '../../support/saml-login.js';

const LDIF = fileURLToPath(new URL('../../fixtures/review/managers.ldif', import.meta.url));
const DEV_ROLE = `arn:aws:iam::${DEV}:role/federated/Developer`;
const S3_READ = 'arn:aws:iam::aws:policy/AmazonS3ReadOnlyAccess';
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
  world = await startWorld();
  for (const account of [PROD, DEV]) await world.console(account).send(new UpdateSAMLProviderCommand({ SAMLProviderArn: samlProviderArn(account, 'ADFS'), SAMLMetadataDocument: idp.metadataXml() }));
  tmp = tempDir();
  journal = SqliteJournal.open(tmp.file('journal.db'));
  map = roleMap([
    spec(DEV, 'Developer', { group: { by: 'sAMAccountName', value: 'AWS-Dev-Developer' }, managedPolicyArns: [S3_READ] }),
    spec(PROD, 'Admin', { group: { by: 'sAMAccountName', value: 'AWS-Prod-Admin' }, managedPolicyArns: [S3_READ] }),
  ]);
});
afterEach(async () => {
  journal.close();
  tmp.cleanup();
  await world.stop();
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
