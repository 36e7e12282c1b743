/**
 * A small world for leaver tests end to end: a scratch OU of the real Samba DC with people in three
 * groups, the AWS emulator judging every request (home account `management` with Identity Center, member
 * account `prod`; rolemap acts as its least-privilege principal holding exactly config/iam-policy.json),
 * ADFS federation with a test IdP in both accounts, and the real CLI in-process (`main()`).
 *
 * The groups map to the SAML roles StoryAdmin (prod) and StoryDev (management), and to the permission
 * set StoryAnalyst (assigned on prod); all three allow the emulator's probe (s3:GetObject).
 */
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CreateSAMLProviderCommand } from '@aws-sdk/client-iam';
import { IdentitystoreClient, paginateListUsers } from '@aws-sdk/client-identitystore';
import { Attribute, Change } from 'ldapts';
import { startEmulator, type Emulator } from '../aws-emulator/index.js';
import { probe, type ProbeOutcome } from '../aws-emulator/probe.js';
import { DEFAULT_IDENTITY_STORE_ID } from '../aws-emulator/services/identitystore.js';
import { DEFAULT_INSTANCE_ARN } from '../aws-emulator/services/sso-admin.js';
import { rolemap, useProcessEnv, type CliRun } from '../integration/world.js';
import { portalCredentials } from '../support/portal.js';
import { adminIam, provisionRolemapPrincipal } from '../support/rolemap-principal.js';
import { createSamlIdp } from '../support/saml-idp.js';
import { samlLogin, type SessionCredentials } from '../support/saml-login.js';
import { facts } from './helpers.js';
import { ScratchOu } from './scratch-ou.js';

export const MANAGEMENT = '111111111111';
export const PROD = '222222222222';
const REGION = 'us-east-1';
const ADMIN = { accessKeyId: 'AKIALEAVERSTORY00001', secretAccessKey: 'leaver-story-admin-secret-not-real' };
const RECONCILER = `arn:aws:iam::${PROD}:role/rolemap-reconciler`;
const S3_READ = 'arn:aws:iam::aws:policy/AmazonS3ReadOnlyAccess';
const ADMIN_ROLE = `arn:aws:iam::${PROD}:role/federated/StoryAdmin`;
const DEV_ROLE = `arn:aws:iam::${MANAGEMENT}:role/federated/StoryDev`;
const provider = (account: string): string => `arn:aws:iam::${account}:saml-provider/ADFS`;

/** One person's live sessions, by where they lead. */
export interface Sessions {
  readonly admin: SessionCredentials;
  readonly dev: SessionCredentials;
  readonly analyst: SessionCredentials;
}
export type Judged = Record<keyof Sessions, ProbeOutcome>;
export const ALLOWED: Judged = { admin: 'allowed', dev: 'allowed', analyst: 'allowed' };
export const DENIED: Judged = { admin: 'denied', dev: 'denied', analyst: 'denied' };

/** One line of `journal list --format json`. */
export interface JournalLine {
  readonly runId: string;
  readonly status: string;
  readonly action: string;
  readonly kind: string;
  readonly address: string;
  readonly principalName: string | null;
  readonly leaverReason: string | null;
  readonly reason: string | null;
  readonly error: string | null;
  readonly requestIds: readonly string[];
}

export const upn = (name: string): string => `${name}@rolemap.test`;

export interface LeaverWorld<K extends string> {
  readonly emulator: Emulator;
  readonly ou: ScratchOu;
  readonly configFile: string;
  /** Each person's sAMAccountName (a random suffix: they are unique in the whole domain) and DN. */
  readonly sam: (k: K) => string;
  readonly dn: Record<K, string>;
  readonly groups: { readonly admins: string; readonly devs: string; readonly analysts: string };
  readonly suffix: string;
  /** `rolemap reconcile --auto-approve`, after a pause so every session opened so far predates its revocations. */
  reconcile(): Promise<CliRun>;
  /** SAML to StoryAdmin and StoryDev (ADFS lists both), the portal for StoryAnalyst on prod. */
  login(name: string): Promise<Sessions>;
  judged(s: Sessions): Promise<Judged>;
  journalOf(name: string): Promise<JournalLine[]>;
  removeFromAll(k: K): Promise<void>;
  addToAll(k: K): Promise<void>;
  stop(): Promise<void>;
}

export async function startLeaverWorld<K extends string>(label: string, kinds: readonly K[]): Promise<LeaverWorld<K>> {
  const suffix = randomBytes(2).toString('hex');
  const sam = (k: K): string => `${label}.${k}-${suffix}`;
  const emulator = await startEmulator({ homeAccount: MANAGEMENT, baseCredentials: [ADMIN], memberAccounts: [PROD] });
  const idp = await createSamlIdp();
  const setup = { endpoint: emulator.url, region: REGION, admin: ADMIN };
  // What an administrator set up before rolemap: ADFS in both accounts, rolemap's own user and role.
  for (const account of [MANAGEMENT, PROD]) {
    const iam = await adminIam(setup, MANAGEMENT, account);
    await iam.send(new CreateSAMLProviderCommand({ Name: 'ADFS', SAMLMetadataDocument: idp.metadataXml() }));
    iam.destroy();
  }
  const rolemapKey = await provisionRolemapPrincipal({ ...setup, assumeRoleArns: [RECONCILER] }, MANAGEMENT);

  const ou = await ScratchOu.create(facts(), `Leavers-${label}`);
  const dn = {} as Record<K, string>;
  for (const k of kinds) dn[k] = await ou.addUser(sam(k));
  const everyone = kinds.map((k) => dn[k]);
  const groups = {
    admins: await ou.addGroup(`${label}-Admins-${suffix}`, everyone),
    devs: await ou.addGroup(`${label}-Devs-${suffix}`, everyone),
    analysts: await ou.addGroup(`${label}-Analysts-${suffix}`, everyone),
  };

  const dir = mkdtempSync(join(tmpdir(), 'rolemap-leaver-world-'));
  const configFile = join(dir, 'rolemap.yaml');
  writeFileSync(configFile, config(ou, groups, join(dir, 'journal.db')));
  const restoreEnv = useProcessEnv({
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

  const tick = (): Promise<void> => new Promise((r) => setTimeout(r, 10));
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
  const both = [
    { roleArn: ADMIN_ROLE, providerArn: provider(PROD) },
    { roleArn: DEV_ROLE, providerArn: provider(MANAGEMENT) },
  ] as const;

  return {
    emulator,
    ou,
    configFile,
    sam,
    dn,
    groups,
    suffix,
    async reconcile() {
      await tick();
      const r = await rolemap(['reconcile', '--auto-approve', '--config', configFile]);
      await tick();
      return r;
    },
    async login(name) {
      const admin = await samlLogin(emulator, { idp, user: upn(name), ...both[0], otherRoles: [both[1]] });
      const dev = await samlLogin(emulator, { idp, user: upn(name), ...both[1], otherRoles: [both[0]] });
      const analyst = await portalCredentials(emulator, { userId: await userId(name), accountId: PROD, permissionSetName: 'StoryAnalyst' });
      return { admin: admin.credentials, dev: dev.credentials, analyst: analyst.credentials };
    },
    async judged(s) {
      return { admin: await probe(emulator.url, s.admin), dev: await probe(emulator.url, s.dev), analyst: await probe(emulator.url, s.analyst) };
    },
    async journalOf(name) {
      const r = await rolemap(['journal', 'list', '--user', name, '--format', 'json', '--config', configFile]);
      if (r.code !== 0) throw new Error(`rolemap journal list --user ${name} exited ${r.code}\n${r.stderr}`);
      const text = r.stdout.trim();
      if (text === '') return [];
      return text.startsWith('[') ? (JSON.parse(text) as JournalLine[]) : text.split('\n').map((l) => JSON.parse(l) as JournalLine);
    },
    async removeFromAll(k) {
      for (const g of Object.values(groups)) await ou.removeMember(g, dn[k]);
    },
    async addToAll(k) {
      for (const g of Object.values(groups)) await ou.client.modify(g, new Change({ operation: 'add', modification: new Attribute({ type: 'member', values: [dn[k]] }) }));
    },
    async stop() {
      restoreEnv();
      await ou.remove();
      await emulator.stop();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

function config(ou: ScratchOu, groups: { admins: string; devs: string; analysts: string }, journal: string): string {
  return `directory:
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
  maxDeletePercent: 100   # a handful of people: a layoff is most of what rolemap owns in Identity Center
journal:
  path: ${journal}
`;
}
