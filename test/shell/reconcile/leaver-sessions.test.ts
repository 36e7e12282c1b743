/**
 * Issue 12, proven with live sessions: people log in (SAML, as ADFS and a browser would; an IAM user's
 * GetSessionToken), rolemap runs (runOnce with the real IAM targets against the judging emulator and a
 * real SQLite journal), and the emulator's policy evaluator says whose sessions still work (`probe`:
 * s3:GetObject). Each test shows a leaver's (or mover's) session denied and someone else's not.
 */
import { AttachUserPolicyCommand, CreateAccessKeyCommand, CreateUserCommand } from '@aws-sdk/client-iam';
import { GetSessionTokenCommand, STSClient } from '@aws-sdk/client-sts';
import { afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { IamRolesTarget } from '../../../src/adapters/aws/iam-roles/iam-roles-target.js';
import { samlProviderArn } from '../../../src/adapters/aws/iam-roles/trust-policy.js';
import { IamUsersTarget } from '../../../src/adapters/aws/iam-users/iam-users-target.js';
import type { SqliteJournal } from '../../../src/adapters/journal/sqlite-journal.js';
import type { DirectoryGroup, DirectorySnapshot, DirectoryUser } from '../../../src/core/model/directory.js';
import type { RoleMap } from '../../../src/core/model/role-map.js';
import { runOnce, type Runtime } from '../../../src/shell/reconcile/run-once.js';
import { probe } from '../../aws-emulator/probe.js';
import { DEV, PROD, type World } from '../../adapters/aws/iam-roles/fixtures.js';
import type { tempDir } from '../../adapters/journal/fixtures.js';
import { FakeDirectorySource, MemoryLogger } from '../../support/fake-ports.js';
import { createSamlIdp, type SamlIdp } from '../../support/saml-idp.js';
import { DEV_ROLE, PROD_ROLE, S3_READ, closeSessionWorld, openSessionWorld } from '../../support/session-world.js';
import { samlLogin, type SessionCredentials } from '../../support/saml-login.js';

const G = {
  jdoe: '0d000000-0000-4000-8000-000000000001',
  asmith: '0d000000-0000-4000-8000-000000000002',
  bwhite: '0d000000-0000-4000-8000-000000000003',
  devs: '0d000000-0000-4000-8000-0000000000d1',
  admins: '0d000000-0000-4000-8000-0000000000a1',
} as const;

const person = (guid: string, sam: string, upn = `${sam}@corp.example`): DirectoryUser => ({ guid, dn: `CN=${sam},OU=Staff,DC=corp,DC=example`, sAMAccountName: sam, userPrincipalName: upn, mail: `${sam}.mail@corp.example`, disabled: false });
const devs = (members: readonly DirectoryUser[]): DirectoryGroup => ({ guid: G.devs, dn: 'CN=AWS-Dev-Developer,OU=Groups,DC=corp,DC=example', sAMAccountName: 'AWS-Dev-Developer', name: 'AWS-Dev-Developer', members: members.map((m) => m.guid) });
const admins = (members: readonly DirectoryUser[]): DirectoryGroup => ({ guid: G.admins, dn: 'CN=AWS-Prod-Admin,OU=Groups,DC=corp,DC=example', sAMAccountName: 'AWS-Prod-Admin', name: 'AWS-Prod-Admin', members: members.map((m) => m.guid) });
const dir = (users: readonly DirectoryUser[], groups: readonly DirectoryGroup[]): DirectorySnapshot => ({ source: 'test', users, groups });

const jdoe = person(G.jdoe, 'jdoe', 'john.doe@corp.example');
const asmith = person(G.asmith, 'asmith');


let idp: SamlIdp;
let world: World;
let tmp: ReturnType<typeof tempDir>;
let journal: SqliteJournal;
let source: FakeDirectorySource;
let map: RoleMap;

const tick = (): Promise<void> => new Promise((r) => setTimeout(r, 5));
const mayAct = async (s: { credentials: SessionCredentials }): Promise<boolean> => (await probe(world.emulator.url, s.credentials)) === 'allowed';
const login = (user: string, roleArn: string, account: string) => samlLogin(world.emulator, { idp, user, roleArn, providerArn: samlProviderArn(account, 'ADFS') });

function runtime(): Runtime {
  return { roleMap: map, source, targets: [new IamRolesTarget(world.clients), new IamUsersTarget(world.clients)], journal, configHash: 'test', clock: () => new Date(), log: new MemoryLogger() };
}

async function reconcile(snapshot: DirectorySnapshot): Promise<Awaited<ReturnType<typeof runOnce>>> {
  await tick(); // sessions opened so far were issued strictly before this run's revocation instant
  source.snapshot = snapshot;
  const result = await runOnce(runtime(), { mode: 'apply', trigger: 'test' });
  expect(result.report?.failed ?? 0).toBe(0);
  await tick();
  return result;
}

beforeAll(async () => {
  idp = await createSamlIdp();
});
beforeEach(async () => {
  ({ world, tmp, journal, map } = await openSessionWorld(idp));
  source = new FakeDirectorySource(dir([], []));
});
afterEach(async () => {
  await closeSessionWorld({ world, tmp, journal });
});

describe('live sessions, judged by the emulator', () => {
  it('defect 1: jdoe deleted from AD (or moved out of userBase): his session under his UPN is denied; asmith’s is not', async () => {
    await reconcile(dir([jdoe, asmith], [devs([jdoe, asmith]), admins([])]));
    const jdoeDev = await login('john.doe@corp.example', DEV_ROLE, DEV);
    const asmithDev = await login('asmith@corp.example', DEV_ROLE, DEV);
    expect([await mayAct(jdoeDev), await mayAct(asmithDev)]).toEqual([true, true]);

    await reconcile(dir([asmith], [devs([asmith]), admins([])]));
    expect(await mayAct(jdoeDev)).toBe(false);
    expect(await mayAct(asmithDev)).toBe(true);
  });

  it('defect 7: jdoe leaves AWS-Prod-Admin but stays a developer: his Admin session is denied, his Developer one is not', async () => {
    await reconcile(dir([jdoe, asmith], [devs([jdoe, asmith]), admins([jdoe, asmith])]));
    const jdoeProd = await login('john.doe@corp.example', PROD_ROLE, PROD);
    const jdoeDev = await login('john.doe@corp.example', DEV_ROLE, DEV);
    const asmithProd = await login('asmith@corp.example', PROD_ROLE, PROD);

    await reconcile(dir([jdoe, asmith], [devs([jdoe, asmith]), admins([asmith])]));
    expect(await mayAct(jdoeProd)).toBe(false);
    expect(await mayAct(jdoeDev)).toBe(true);
    expect(await mayAct(asmithProd)).toBe(true);
  });

  it('defect 4: removed, re-added, removed again: the session opened after the re-add is denied by the second removal', async () => {
    await reconcile(dir([jdoe, asmith], [devs([jdoe, asmith]), admins([])]));
    await reconcile(dir([jdoe, asmith], [devs([asmith]), admins([])])); // first removal: a deny from now
    await reconcile(dir([jdoe, asmith], [devs([jdoe, asmith]), admins([])])); // re-added (the journal records it)
    const afterReAdd = await login('john.doe@corp.example', DEV_ROLE, DEV);
    const asmithDev = await login('asmith@corp.example', DEV_ROLE, DEV);
    expect(await mayAct(afterReAdd)).toBe(true);

    const second = await reconcile(dir([jdoe, asmith], [devs([asmith]), admins([])]));
    expect(second.plan.changes.map((c) => c.action)).toContain('revoke');
    expect(await mayAct(afterReAdd)).toBe(false);
    expect(await mayAct(asmithDev)).toBe(true);
  });

  it('defect 8: a leaver whose UPN STS would reject does not block the revocation of the others on that role', async () => {
    const accented = person(G.bwhite, 'bwhite', 'bérénice.white@corp.example');
    await reconcile(dir([jdoe, asmith, accented], [devs([jdoe, asmith, accented]), admins([])]));
    const jdoeDev = await login('john.doe@corp.example', DEV_ROLE, DEV);
    const asmithDev = await login('asmith@corp.example', DEV_ROLE, DEV);

    const result = await reconcile(dir([jdoe, { ...asmith }, { ...accented, disabled: true }].map((u) => (u === jdoe ? { ...u, disabled: true } : u)), [devs([jdoe, asmith, accented]), admins([])]));
    expect(result.plan.warnings.join('\n')).toMatch(/bwhite .*"bérénice\.white@corp\.example" is not a session name STS accepts/);
    expect(await mayAct(jdoeDev)).toBe(false);
    expect(await mayAct(asmithDev)).toBe(true);
  });

  it('defect 9: a leaver’s IAM user: keys off, and the GetSessionToken credentials made before are denied too; another user’s are not', async () => {
    const admin = world.console(DEV);
    const sessionOf = async (userName: string): Promise<{ credentials: SessionCredentials }> => {
      await admin.send(new CreateUserCommand({ UserName: userName }));
      await admin.send(new AttachUserPolicyCommand({ UserName: userName, PolicyArn: S3_READ }));
      const key = (await admin.send(new CreateAccessKeyCommand({ UserName: userName }))).AccessKey;
      const sts = new STSClient({ region: 'us-east-1', endpoint: world.emulator.url, credentials: { accessKeyId: key?.AccessKeyId ?? '', secretAccessKey: key?.SecretAccessKey ?? '' } });
      try {
        const c = (await sts.send(new GetSessionTokenCommand({ DurationSeconds: 129_600 }))).Credentials;
        return { credentials: { accessKeyId: c?.AccessKeyId ?? '', secretAccessKey: c?.SecretAccessKey ?? '', sessionToken: c?.SessionToken ?? '', expiration: c?.Expiration ?? new Date(0) } };
      } finally {
        sts.destroy();
      }
    };
    await reconcile(dir([jdoe, asmith], [devs([jdoe, asmith]), admins([])]));
    // Linked by the fixture's name pattern ^(?<sam>...)-legacy$.
    const jdoeToken = await sessionOf('jdoe-legacy');
    const asmithToken = await sessionOf('asmith-legacy');
    expect([await mayAct(jdoeToken), await mayAct(asmithToken)]).toEqual([true, true]);

    const result = await reconcile(dir([{ ...jdoe, disabled: true }, asmith], [devs([jdoe, asmith]), admins([])]));
    expect(result.plan.changes.find((c) => c.kind === 'iam_user_credentials')?.address).toBe('iam_user_credentials.dev.jdoe-legacy');
    expect(await mayAct(jdoeToken)).toBe(false);
    expect(await mayAct(asmithToken)).toBe(true);
  });
});
