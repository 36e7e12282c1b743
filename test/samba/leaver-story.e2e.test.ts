/**
 * Issue 12, "What it must show", first item, end to end: the real Samba AD DC (a scratch OU, changed
 * through LDAP as an administrator would), the AWS emulator judging every request (rolemap acts as its
 * least-privilege principal: exactly config/iam-policy.json, assuming its role in the member account),
 * and the real command line (`rolemap reconcile --auto-approve`, `rolemap journal list --user`).
 *
 * Everyone logs in the way people do: SAML (a signed ADFS response, STS AssumeRoleWithSAML) to two
 * roles in two accounts, and the access portal for a permission set. Then each kind of leaver happens
 * in AD (disabled, expired, removed from all groups, deleted, moved out of userBase, renamed then
 * disabled, re-added then removed, a mover losing one of two privileged groups) and rolemap runs.
 * Afterwards the emulator's policy evaluator (`probe`: s3:GetObject) denies every session of every
 * leaver, and the mover's session on the role they lost, while everyone else's still works; and the
 * journal, asked about each person by name, tells what happened to them, why, and AWS's request ids.
 */
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CreateSAMLProviderCommand } from '@aws-sdk/client-iam';
import { IdentitystoreClient, paginateListUsers } from '@aws-sdk/client-identitystore';
import { Attribute, Change } from 'ldapts';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { encodeAccountExpires } from '../../src/adapters/directory/ad-attributes.js';
import { startEmulator, type Emulator } from '../aws-emulator/index.js';
import { probe } from '../aws-emulator/probe.js';
import { DEFAULT_IDENTITY_STORE_ID } from '../aws-emulator/services/identitystore.js';
import { DEFAULT_INSTANCE_ARN } from '../aws-emulator/services/sso-admin.js';
import { rolemap, useProcessEnv } from '../integration/world.js';
import { portalCredentials } from '../support/portal.js';
import { adminIam, provisionRolemapPrincipal, type AwsCredentials } from '../support/rolemap-principal.js';
import { createSamlIdp, type SamlIdp } from '../support/saml-idp.js';
import { samlLogin, type SessionCredentials } from '../support/saml-login.js';
import { facts, samba } from './helpers.js';
import { ScratchOu } from './scratch-ou.js';

const MANAGEMENT = '111111111111';
const PROD = '222222222222';
const REGION = 'us-east-1';
const ADMIN = { accessKeyId: 'AKIALEAVERSTORY00001', secretAccessKey: 'leaver-story-admin-secret-not-real' };
const RECONCILER = `arn:aws:iam::${PROD}:role/rolemap-reconciler`;
const S3_READ = 'arn:aws:iam::aws:policy/AmazonS3ReadOnlyAccess';
const ADMIN_ROLE = `arn:aws:iam::${PROD}:role/federated/StoryAdmin`;
const DEV_ROLE = `arn:aws:iam::${MANAGEMENT}:role/federated/StoryDev`;
const provider = (account: string): string => `arn:aws:iam::${account}:saml-provider/ADFS`;

/** One person's live sessions, by where they lead. */
interface Sessions {
  readonly admin: SessionCredentials;
  readonly dev: SessionCredentials;
  readonly analyst: SessionCredentials;
}

interface JournalLine {
  readonly runId: string;
  readonly status: string;
  readonly action: string;
  readonly kind: string;
  readonly address: string;
  readonly principalName: string | null;
  readonly leaverReason: string | null;
  readonly reason: string | null;
  readonly requestIds: readonly string[];
}

// Who is who (sAMAccountNames get a random suffix: they are unique in the whole domain).
const SUFFIX = randomBytes(2).toString('hex');
const KINDS = ['disabled', 'expired', 'nogroups', 'deleted', 'moved', 'renamed', 'readded', 'mover', 'stays'] as const;
type Kind = (typeof KINDS)[number];
const sam = (k: Kind): string => `ls.${k}-${SUFFIX}`;
const upn = (name: string): string => `${name}@rolemap.test`;
const RENAMED_TO = `ls.married-${SUFFIX}`;

describe.skipIf(!samba)('leaver story end to end (Samba AD + judging emulator + rolemap CLI)', () => {
  let emulator: Emulator;
  let idp: SamlIdp;
  let ou: ScratchOu;
  let dir: string;
  let configFile: string;
  let restoreEnv: () => void = () => undefined;
  let rolemapKey: AwsCredentials;
  const dn: Partial<Record<Kind, string>> = {};
  const groups = { admins: '', devs: '', analysts: '' };

  beforeAll(async () => {
    emulator = await startEmulator({ homeAccount: MANAGEMENT, baseCredentials: [ADMIN], memberAccounts: [PROD] });
    idp = await createSamlIdp();
    const setup = { endpoint: emulator.url, region: REGION, admin: ADMIN };
    // What an administrator set up before rolemap: ADFS in both accounts, rolemap's own user and role.
    for (const account of [MANAGEMENT, PROD]) {
      const iam = await adminIam(setup, MANAGEMENT, account);
      await iam.send(new CreateSAMLProviderCommand({ Name: 'ADFS', SAMLMetadataDocument: idp.metadataXml() }));
      iam.destroy();
    }
    rolemapKey = await provisionRolemapPrincipal({ ...setup, assumeRoleArns: [RECONCILER] }, MANAGEMENT);

    ou = await ScratchOu.create(facts(), 'LeaverStory');
    for (const k of KINDS) dn[k] = await ou.addUser(sam(k));
    const everyone = KINDS.map((k) => dn[k] as string);
    groups.admins = await ou.addGroup(`LS-Admins-${SUFFIX}`, everyone);
    groups.devs = await ou.addGroup(`LS-Devs-${SUFFIX}`, everyone);
    groups.analysts = await ou.addGroup(`LS-Analysts-${SUFFIX}`, everyone);

    dir = mkdtempSync(join(tmpdir(), 'rolemap-leaver-story-'));
    configFile = join(dir, 'rolemap.yaml');
    writeFileSync(configFile, config());
    restoreEnv = useProcessEnv({
      AWS_ENDPOINT_URL: emulator.url,
      AWS_ACCESS_KEY_ID: rolemapKey.accessKeyId,
      AWS_SECRET_ACCESS_KEY: rolemapKey.secretAccessKey,
      AWS_REGION: REGION,
      AWS_MAX_ATTEMPTS: '2',
      AWS_CONFIG_FILE: join(dir, 'no-aws-config'),
      AWS_SHARED_CREDENTIALS_FILE: join(dir, 'no-aws-credentials'),
      LS_BIND_PASSWORD: facts().adminPassword,
      NO_COLOR: '1',
    });
  });
  afterAll(async () => {
    restoreEnv();
    await ou?.remove();
    await emulator?.stop();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  const config = (): string => `directory:
  type: ldap
  url: ${facts().ldapsUrl}
  caFile: ${facts().caFile}
  bindDn: ${facts().adminUpn}
  bindPassword: {env: LS_BIND_PASSWORD}
  userBase: "${ou.staff}"
  groupBase: "${ou.groups}"
aws:
  region: ${REGION}
accounts:
  management: "${MANAGEMENT}"
  prod:
    id: "${PROD}"
    assumeRoleArn: ${RECONCILER}
federatedRoles:
  - group: {dn: "${groups.admins}"}
    account: prod
    roleName: StoryAdmin
    path: /federated/
    samlProvider: ADFS
    managedPolicyArns: ["${S3_READ}"]
  - group: {dn: "${groups.devs}"}
    account: management
    roleName: StoryDev
    path: /federated/
    samlProvider: ADFS
    managedPolicyArns: ["${S3_READ}"]
identityCenter:
  instanceArn: ${DEFAULT_INSTANCE_ARN}
  identityStoreId: ${DEFAULT_IDENTITY_STORE_ID}
  account: management
  permissionSets:
    StoryAnalyst:
      sessionDuration: PT4H
      managedPolicyArns: ["${S3_READ}"]
  assignments:
    - group: {dn: "${groups.analysts}"}
      permissionSet: StoryAnalyst
      accounts: [prod]
leavers:
  identityCenter: delete
  revokeSessions: true
  roleSessionName: userPrincipalName
safety:
  ownerId: leaver-story
  minDirectoryUsers: 1
  maxDeletes: 100
  maxDeletePercent: 100   # nine people: a layoff of seven is most of what rolemap owns in Identity Center
journal:
  path: ${join(dir, 'journal.db')}
`;

  const tick = (): Promise<void> => new Promise((r) => setTimeout(r, 10));

  /** `rolemap reconcile --auto-approve`: changes applied (exit 2), nothing failed; the plan's text. */
  const reconcile = async (): Promise<string> => {
    await tick(); // every session opened so far was issued strictly before this run's revocation instants
    const r = await rolemap(['reconcile', '--auto-approve', '--config', configFile]);
    if (r.code !== 2) throw new Error(`rolemap reconcile exited ${r.code}\n${r.stdout}\n${r.stderr}`);
    await tick();
    return r.stdout;
  };

  const userId = async (name: string): Promise<string> => {
    const store = new IdentitystoreClient({ region: REGION, endpoint: emulator.url, credentials: ADMIN });
    try {
      for await (const page of paginateListUsers({ client: store }, { IdentityStoreId: DEFAULT_IDENTITY_STORE_ID })) {
        const u = (page.Users ?? []).find((x) => x.UserName === upn(name) || x.UserName === name);
        if (u?.UserId) return u.UserId;
      }
    } finally {
      store.destroy();
    }
    throw new Error(`no Identity Center user for ${name}`);
  };

  /** SAML to StoryAdmin (prod) and StoryDev (management), as ADFS lists both; the portal for StoryAnalyst in prod. */
  const login = async (name: string): Promise<Sessions> => {
    const both = [
      { roleArn: ADMIN_ROLE, providerArn: provider(PROD) },
      { roleArn: DEV_ROLE, providerArn: provider(MANAGEMENT) },
    ];
    const admin = await samlLogin(emulator, { idp, user: upn(name), ...both[0]!, otherRoles: [both[1]!] });
    const dev = await samlLogin(emulator, { idp, user: upn(name), ...both[1]!, otherRoles: [both[0]!] });
    const analyst = await portalCredentials(emulator, { userId: await userId(name), accountId: PROD, permissionSetName: 'StoryAnalyst' });
    return { admin: admin.credentials, dev: dev.credentials, analyst: analyst.credentials };
  };

  const judged = async (s: Sessions): Promise<Record<keyof Sessions, string>> => ({
    admin: await probe(emulator.url, s.admin),
    dev: await probe(emulator.url, s.dev),
    analyst: await probe(emulator.url, s.analyst),
  });
  const ALLOWED = { admin: 'allowed', dev: 'allowed', analyst: 'allowed' };
  const DENIED = { admin: 'denied', dev: 'denied', analyst: 'denied' };

  const journalOf = async (name: string): Promise<JournalLine[]> => {
    const r = await rolemap(['journal', 'list', '--user', name, '--format', 'json', '--config', configFile]);
    if (r.code !== 0) throw new Error(`rolemap journal list --user ${name} exited ${r.code}\n${r.stderr}`);
    const text = r.stdout.trim();
    if (text === '') return [];
    return text.startsWith('[') ? (JSON.parse(text) as JournalLine[]) : text.split('\n').map((l) => JSON.parse(l) as JournalLine);
  };

  const removeFromAll = async (k: Kind): Promise<void> => {
    for (const g of Object.values(groups)) await ou.removeMember(g, dn[k] as string);
  };
  const addToAll = async (k: Kind): Promise<void> => {
    for (const g of Object.values(groups)) await ou.client.modify(g, new Change({ operation: 'add', modification: new Attribute({ type: 'member', values: [dn[k] as string] }) }));
  };

  // The story, in order: each step builds on the one before (one Samba OU, one emulator, one journal).
  const first: Partial<Record<Kind, Sessions>> = {};
  let readdedAgain: Sessions;
  let renamedAgain: Sessions;
  const LEAVERS = ['disabled', 'expired', 'nogroups', 'deleted', 'moved', 'renamed', 'readded'] as const;

  it('everyone logs in; a first removal cuts ls.readded, a rename cuts nobody; back in, they log in again', async () => {
    // rolemap makes the roles, the Identity Center users, group and assignment; everyone logs in.
    await reconcile();
    for (const k of KINDS) first[k] = await login(sam(k));
    for (const k of KINDS) expect({ who: k, ...(await judged(first[k]!)) }).toEqual({ who: k, ...ALLOWED });

    // ls.readded is removed from every group (a first removal); ls.renamed changes name (marriage).
    await removeFromAll('readded');
    for (const [type, value] of [['sAMAccountName', RENAMED_TO], ['userPrincipalName', upn(RENAMED_TO)], ['mail', upn(RENAMED_TO)]] as const) {
      await ou.setAttribute(dn.renamed!, type, value);
    }
    await reconcile();
    expect({ who: 'readded', ...(await judged(first.readded!)) }).toEqual({ who: 'readded', ...DENIED });
    expect({ who: 'renamed', ...(await judged(first.renamed!)) }).toEqual({ who: 'renamed', ...ALLOWED });

    // ls.readded comes back and logs in again; ls.renamed logs in under the new name.
    await addToAll('readded');
    await reconcile();
    readdedAgain = await login(sam('readded'));
    renamedAgain = await login(RENAMED_TO);
    expect({ who: 'readded again', ...(await judged(readdedAgain)) }).toEqual({ who: 'readded again', ...ALLOWED });
    expect({ who: 'renamed again', ...(await judged(renamedAgain)) }).toEqual({ who: 'renamed again', ...ALLOWED });
  }, 180_000);

  it('the layoff, every kind at once: every session of every leaver is denied, the mover loses only that role, the bystander nothing', async () => {
    await ou.disable(dn.disabled!);
    await ou.setAttribute(dn.expired!, 'accountExpires', encodeAccountExpires(new Date(Date.now() - 86_400_000)));
    await removeFromAll('nogroups');
    await ou.delete(dn.deleted!);
    await ou.moveToLeavers(dn.moved!);
    await ou.disable(dn.renamed!);
    await removeFromAll('readded');
    await ou.removeMember(groups.admins, dn.mover!); // keeps Devs and Analysts
    await reconcile();

    for (const k of LEAVERS.filter((x) => x !== 'renamed')) expect({ who: k, ...(await judged(first[k]!)) }).toEqual({ who: k, ...DENIED });
    expect({ who: 'readded again', ...(await judged(readdedAgain)) }).toEqual({ who: 'readded again', ...DENIED });
    expect({ who: 'renamed again', ...(await judged(renamedAgain)) }).toEqual({ who: 'renamed again', ...DENIED });
    // Its portal session (denied by identity store UserId, which a rename keeps) too; the old-name SAML sessions: below.
    expect(await probe(emulator.url, first.renamed!.analyst)).toBe('denied');
    expect({ who: 'mover', ...(await judged(first.mover!)) }).toEqual({ who: 'mover', admin: 'denied', dev: 'allowed', analyst: 'allowed' });
    expect({ who: 'stays', ...(await judged(first.stays!)) }).toEqual({ who: 'stays', ...ALLOWED });
    // And whoever stays may still sign in.
    expect(await judged(await login(sam('stays')))).toEqual(ALLOWED);
  }, 180_000);

  // DEFECT (issue 12, defect 1 not fully fixed): the entitlement history keeps only the names of the last
  // snapshot, so a leaver renamed in AD before leaving is revoked under the new UPN only; the SAML sessions
  // opened under the old UPN before the rename survive on both roles (up to their MaxSessionDuration).
  // `it.fails`: this asserts the right behaviour and turns red once it is fixed (then make it a plain `it`).
  it.fails('renamed then disabled: the SAML sessions opened under the old name are denied too', async () => {
    expect({ who: 'renamed', ...(await judged(first.renamed!)) }).toEqual({ who: 'renamed', ...DENIED });
  });

  it('the next run has nothing left to do', async () => {
    const again = await rolemap(['reconcile', '--dry-run', '--config', configFile]);
    expect(again.code, `${again.stdout}\n${again.stderr}`).toBe(0);
  });

  it('`journal list --user NAME` tells each person\'s story: the leaver reason, the revocations that cut them, AWS request ids', async () => {
    const expectedReason: Record<(typeof LEAVERS)[number], string> = {
      disabled: 'disabled',
      expired: 'expired',
      nogroups: 'removed-from-groups',
      deleted: 'deleted-from-ad',
      moved: 'deleted-from-ad',
      renamed: 'disabled',
      readded: 'removed-from-groups',
    };
    const revocationsOf = (lines: readonly JournalLine[]): string[] => [...new Set(lines.filter((l) => l.action === 'revoke' && l.status === 'applied').map((l) => l.address))].sort();
    const allRevocations = ['iam_role_revocations.management.StoryDev', 'iam_role_revocations.prod.StoryAdmin', 'sso_permission_set_revocations.StoryAnalyst'];
    for (const k of LEAVERS) {
      const name = k === 'renamed' ? RENAMED_TO : sam(k);
      const story = await journalOf(name);
      const said = { who: k, lines: story.map((l) => `${l.status} ${l.action} ${l.address} leaver=${l.leaverReason ?? '-'} ids=${l.requestIds.length}`) };
      // Every change that concerns them was applied and carries AWS's request ids.
      expect(story.length, JSON.stringify(said, null, 1)).toBeGreaterThan(0);
      for (const l of story) expect({ ...said, line: l.address, status: l.status, ids: l.requestIds.length > 0 }).toEqual({ ...said, line: l.address, status: 'applied', ids: true });
      // Each of their sessions was cut by a revocation that the journal files under their name.
      expect({ ...said, revoked: revocationsOf(story) }).toEqual({ ...said, revoked: allRevocations });
      // And the leaver's reason is on their changes.
      expect({ ...said, reasons: [...new Set(story.map((l) => l.leaverReason).filter((r) => r !== null))] }).toEqual({ ...said, reasons: [expectedReason[k]] });
    }
    // ls.readded was revoked twice, in two runs (each removal its own instant).
    const readded = await journalOf(sam('readded'));
    expect(new Set(readded.filter((l) => l.action === 'revoke' && l.address === 'iam_role_revocations.prod.StoryAdmin').map((l) => l.runId)).size).toBe(2);
    // The renamed leaver is found under the old name too.
    expect(revocationsOf(await journalOf(sam('renamed')))).toEqual(allRevocations);
    // The mover: the one role lost, no leaver reason.
    const mover = await journalOf(sam('mover'));
    expect(revocationsOf(mover)).toEqual(['iam_role_revocations.prod.StoryAdmin']);
    expect(mover.every((l) => l.leaverReason === null)).toBe(true);
    // The bystander: no revocation names them.
    expect(revocationsOf(await journalOf(sam('stays')))).toEqual([]);
  });
});
