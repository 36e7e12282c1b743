/**
 * Issue 14's vertical slice against the judging emulator, with the real LDIF source, IAM targets and a real
 * SQLite journal: a campaign is started, its CSV packet exported, the manager's filled packet imported; the
 * next reconcile denies the person's SAML sessions on that role (the one opened before and a new one),
 * leaves their AD membership and their other role alone and others unaffected; a later campaign that
 * re-approves the grant restores access.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { IamRolesTarget } from '../../../src/adapters/aws/iam-roles/iam-roles-target.js';
import { samlProviderArn } from '../../../src/adapters/aws/iam-roles/trust-policy.js';
import { LdifDirectorySource } from '../../../src/adapters/directory/ldif/ldif-source.js';
import type { SqliteJournal } from '../../../src/adapters/journal/sqlite-journal.js';
import { verifyJournal } from '../../../src/adapters/journal/verify.js';
import type { RoleMap } from '../../../src/core/model/role-map.js';
import { groupSelection, runOnce, type Runtime } from '../../../src/shell/reconcile/run-once.js';
import { parseCsv, csvLine } from '../../../src/shell/review/csv.js';
import { campaignReport, exportPackets, importDecisions, requireCampaign, startCampaign } from '../../../src/shell/review/review.js';
import { probe } from '../../aws-emulator/probe.js';
import { DEV, PROD, type World } from '../../adapters/aws/iam-roles/fixtures.js';
import type { tempDir } from '../../adapters/journal/fixtures.js';
import { MemoryLogger } from '../../support/fake-ports.js';
import { createSamlIdp, type SamlIdp } from '../../support/saml-idp.js';
import { DEV_ROLE, PROD_ROLE, closeSessionWorld, openSessionWorld } from '../../support/session-world.js';
import { samlLogin, type SessionCredentials } from '../../support/saml-login.js';

const LDIF = fileURLToPath(new URL('../../fixtures/review/managers.ldif', import.meta.url));
const REVIEWS = { reviewers: {}, fallbackReviewer: 'auditor@corp.example', ifNoDecision: 'keep' as const, schedule: null, dueDays: 14 };

let idp: SamlIdp;
let world: World;
let tmp: ReturnType<typeof tempDir>;
let journal: SqliteJournal;
let map: RoleMap;
const source = new LdifDirectorySource({ path: LDIF });

const tick = (): Promise<void> => new Promise((r) => setTimeout(r, 5));
const mayAct = async (s: { credentials: SessionCredentials }): Promise<boolean> => (await probe(world.emulator.url, s.credentials)) === 'allowed';
const login = (user: string, roleArn: string, account: string) => samlLogin(world.emulator, { idp, user, roleArn, providerArn: samlProviderArn(account, 'ADFS') });

async function reconcile(): Promise<Awaited<ReturnType<typeof runOnce>>> {
  await tick();
  const runtime: Runtime = { roleMap: map, source, targets: [new IamRolesTarget(world.clients)], journal, configHash: 'test', clock: () => new Date(), log: new MemoryLogger() };
  const result = await runOnce(runtime, { mode: 'apply', trigger: 'test' });
  expect(result.report?.failed ?? 0).toBe(0);
  await tick();
  return result;
}

async function start(name: string): Promise<void> {
  const history = journal.entitlementHistory();
  const snapshot = await source.read(groupSelection(map, history));
  startCampaign({ config: { roleMap: map, reviews: REVIEWS, path: 'test.yaml' }, snapshot, history, db: journal.database, now: new Date(), name });
}

/** mmeyer fills in their exported CSV packet: `verdict` for jdoe's Developer row, approve for the rest. */
function fillPacket(campaign: string, verdict: 'approve' | 'revoke'): string {
  const files = exportPackets(requireCampaign(journal.database, campaign), { reviewer: 'mmeyer@corp.example', format: 'csv', outDir: tmp.file(`packets-${campaign}`) });
  expect(files).toHaveLength(1);
  const file = files[0] as string;
  const [header, ...rows] = parseCsv(readFileSync(file, 'utf8'), file);
  const h = header?.fields ?? [];
  const at = (n: string): number => h.indexOf(n);
  const filled = rows.map((r) => {
    const f = [...r.fields];
    const jdoeDev = f[at('sam_account_name')] === 'jdoe' && f[at('entitlement')] === 'Developer';
    f[at('decision')] = jdoeDev ? verdict : 'approve';
    f[at('justification')] = jdoeDev ? 'no longer on the dev team' : 'still needed';
    return csvLine(f);
  });
  const out = join(tmp.file(`packets-${campaign}`), 'filled.csv');
  writeFileSync(out, [csvLine(h), ...filled].join('\r\n') + '\r\n');
  return out;
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

describe('a revoke decision, applied by reconcile and judged by the emulator', () => {
  it('denies jdoe\'s Developer sessions (old and new) while he stays in the AD group; his Admin role and asmith are untouched; Q2 re-approval restores it', async () => {
    await reconcile();
    const jdoeBefore = await login('jdoe@corp.example', DEV_ROLE, DEV);
    const asmithDev = await login('asmith@corp.example', DEV_ROLE, DEV);
    const jdoeProd = await login('jdoe@corp.example', PROD_ROLE, PROD);
    expect([await mayAct(jdoeBefore), await mayAct(asmithDev), await mayAct(jdoeProd)]).toEqual([true, true, true]);

    await start('Q1-2027');
    const imported = importDecisions(journal.database, 'Q1-2027', fillPacket('Q1-2027', 'revoke'), new Date());
    expect(imported.decisions.map((d) => d.verdict).sort()).toEqual(['approve', 'approve', 'revoke']); // asmith Developer, jdoe Admin, jdoe Developer

    const applied = await reconcile();
    const today = new Date().toISOString().slice(0, 10);
    const revoke = applied.plan.changes.find((c) => c.kind === 'iam_role_revocations' && c.address.includes('Developer'));
    expect(revoke?.action).toBe('revoke');
    expect(revoke?.reason).toContain(`jdoe: revoked in review Q1-2027 by M. Meyer on ${today}`);
    expect(applied.plan.warnings.join('\n')).toContain(`revoked in review Q1-2027 by M. Meyer on ${today}, but AD still grants it through AWS-Dev-Developer: remove jdoe from that group in AD`);

    const jdoeAfter = await login('jdoe@corp.example', DEV_ROLE, DEV); // ADFS still sends the role: AD is unchanged
    expect(await mayAct(jdoeBefore)).toBe(false);
    expect(await mayAct(jdoeAfter)).toBe(false);
    expect(await mayAct(asmithDev)).toBe(true);
    expect(await mayAct(jdoeProd)).toBe(true);
    const dir = await source.read(groupSelection(map));
    expect(dir.groups.find((g) => g.name === 'AWS-Dev-Developer')?.members).toContain('7e000000-0000-4000-8000-0000000000b1');

    // The next run changes nothing: the revocation stands.
    expect((await reconcile()).plan.changes.filter((c) => c.kind === 'iam_role_revocations')).toEqual([]);

    // The auditor's report: the executed revocation with its request ids; the journal verifies.
    const report = campaignReport(journal.database, requireCampaign(journal.database, 'Q1-2027'), new Date());
    expect(report.executedRevocations).toHaveLength(1);
    expect(report.executedRevocations[0]?.requestIds.length).toBeGreaterThan(0);
    expect(report.journalVerify.ok).toBe(true);
    expect(verifyJournal(journal.database).reviewEvents).toBeGreaterThan(0);

    await start('Q2-2027');
    importDecisions(journal.database, 'Q2-2027', fillPacket('Q2-2027', 'approve'), new Date());
    const restored = await reconcile();
    expect(restored.plan.changes.find((c) => c.kind === 'iam_role_revocations')?.reason).toMatch(/review revocation lifted for jdoe@corp\.example/);
    const jdoeAgain = await login('jdoe@corp.example', DEV_ROLE, DEV);
    expect(await mayAct(jdoeAgain)).toBe(true);
    expect(await mayAct(asmithDev)).toBe(true);
  });
});
