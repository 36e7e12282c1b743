/**
 * The leaver fast lane end to end: `rolemap daemon` (a child process) reading the real Samba AD DC
 * over LDAPS and applying to the AWS emulator (IAM and Identity Center, real SDK clients), with a
 * cron schedule far in the future. After the run at start, each leaver made in AD (disabled, moved
 * out of the user base, deleted, removed from the mapped groups) is revoked by the lane before any
 * cron tick; the journal shows the lane's runs (mode fast-lane) with intents and outcomes carrying
 * request ids, and no run overlaps another.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CreateSAMLProviderCommand, GetRolePolicyCommand, IAMClient } from '@aws-sdk/client-iam';
import { IdentitystoreClient, ListGroupMembershipsCommand, ListGroupsCommand } from '@aws-sdk/client-identitystore';
import Database from 'better-sqlite3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startEmulator } from '../aws-emulator/index.js';
import type { Emulator } from '../aws-emulator/index.js';
import { DEFAULT_IDENTITY_STORE_ID } from '../aws-emulator/services/identitystore.js';
import { DEFAULT_INSTANCE_ARN } from '../aws-emulator/services/sso-admin.js';
import { CREDENTIALS, emulatorEnv, startDaemon } from '../support/daemon-process.js';
import type { DaemonProcess } from '../support/daemon-process.js';
import { facts, samba } from './helpers.js';
import { ScratchOu } from './scratch-ou.js';

const ACCOUNT = '111111111111';
const SAML_METADATA =
  '<EntityDescriptor xmlns="urn:oasis:names:tc:SAML:2.0:metadata" entityID="http://adfs.rolemap.test/adfs/services/trust">' +
  '<IDPSSODescriptor protocolSupportEnumeration="urn:oasis:names:tc:SAML:2.0:protocol"><KeyDescriptor use="signing">' +
  `<KeyInfo xmlns="http://www.w3.org/2000/09/xmldsig#"><X509Data><X509Certificate>${Buffer.from('rolemap fast-lane ADFS token-signing certificate (placeholder) '.repeat(20)).toString('base64')}</X509Certificate></X509Data></KeyInfo>` +
  '</KeyDescriptor><SingleSignOnService Binding="urn:oasis:names:tc:SAML:2.0:bindings:HTTP-Redirect" Location="https://adfs.rolemap.test/adfs/ls/"/>' +
  '</IDPSSODescriptor></EntityDescriptor>';

function journalRows(journal: string, sql: string): Record<string, unknown>[] {
  const db = new Database(journal, { readonly: true, fileMustExist: true });
  try {
    return db.prepare(sql).all() as Record<string, unknown>[];
  } finally {
    db.close();
  }
}

describe.skipIf(!samba)('leaver fast lane end to end (Samba AD + emulator + rolemap daemon)', () => {
  let emulator: Emulator;
  let ou: ScratchOu;
  let dir: string;
  let daemon: DaemonProcess | undefined;
  const users: Record<string, string> = {};
  let admins = '';
  let analysts = '';

  beforeAll(async () => {
    emulator = await startEmulator({ homeAccount: ACCOUNT, baseCredentials: [CREDENTIALS] });
    const iam = new IAMClient({ region: 'us-east-1', endpoint: emulator.url, credentials: CREDENTIALS });
    await iam.send(new CreateSAMLProviderCommand({ Name: 'ADFS', SAMLMetadataDocument: SAML_METADATA }));
    iam.destroy();
    ou = await ScratchOu.create(facts(), 'FastLane');
    for (const sam of ['fl.disabled', 'fl.moved', 'fl.deleted', 'fl.removed', 'fl.stays']) users[sam] = await ou.addUser(sam);
    const suffix = ou.root.slice(12, 18);
    admins = await ou.addGroup(`FL-Admins-${suffix}`, Object.values(users));
    analysts = await ou.addGroup(`FL-Analysts-${suffix}`, Object.values(users));
    dir = mkdtempSync(join(tmpdir(), 'rolemap-fast-lane-'));
  });
  afterAll(async () => {
    await daemon?.stop();
    await ou?.remove();
    await emulator?.stop();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  const config = (): string => {
    const path = join(dir, 'rolemap.yaml');
    writeFileSync(
      path,
      `directory:
  type: ldap
  url: ${facts().ldapsUrl}
  caFile: ${facts().caFile}
  bindDn: ${facts().adminUpn}
  bindPassword: {env: FL_BIND_PASSWORD}
  userBase: "${ou.staff}"
  groupBase: "${ou.groups}"
accounts:
  prod: "${ACCOUNT}"
federatedRoles:
  - group: {dn: "${admins}"}
    account: prod
    roleName: FLAdmin
    samlProvider: ADFS
    managedPolicyArns: ["arn:aws:iam::aws:policy/ReadOnlyAccess"]
identityCenter:
  instanceArn: ${DEFAULT_INSTANCE_ARN}
  identityStoreId: ${DEFAULT_IDENTITY_STORE_ID}
  account: prod
  permissionSets:
    Analyst:
      sessionDuration: PT4H
      managedPolicyArns: ["arn:aws:iam::aws:policy/ReadOnlyAccess"]
  assignments:
    - group: {dn: "${analysts}"}
      permissionSet: Analyst
      accounts: [prod]
leavers:
  pollSeconds: 1
safety:
  ownerId: fl-e2e
  minDirectoryUsers: 1
  maxDeletePercent: 100   # five people: one leaver's membership and user are 20% of what rolemap owns in Identity Center
schedule: "0 0 1 1 *"
journal:
  path: ${join(dir, 'journal.db')}
daemon:
  runAtStart: true
  healthPort: 0
aws:
  region: us-east-1
`,
    );
    return path;
  };

  const laneRuns = (d: DaemonProcess) => d.lines.filter((l) => l['msg'] === 'leaver fast lane run finished');
  const revoked = async (): Promise<string> => {
    const iam = new IAMClient({ region: 'us-east-1', endpoint: emulator.url, credentials: CREDENTIALS });
    try {
      const out = await iam.send(new GetRolePolicyCommand({ RoleName: 'FLAdmin', PolicyName: 'rolemap-revoked-sessions' })).catch(() => undefined);
      return decodeURIComponent(out?.PolicyDocument ?? '');
    } finally {
      iam.destroy();
    }
  };
  const icMembers = async (): Promise<number> => {
    const store = new IdentitystoreClient({ region: 'us-east-1', endpoint: emulator.url, credentials: CREDENTIALS });
    try {
      const groups = (await store.send(new ListGroupsCommand({ IdentityStoreId: DEFAULT_IDENTITY_STORE_ID }))).Groups ?? [];
      let n = 0;
      for (const g of groups) n += ((await store.send(new ListGroupMembershipsCommand({ IdentityStoreId: DEFAULT_IDENTITY_STORE_ID, GroupId: g.GroupId }))).GroupMemberships ?? []).length;
      return n;
    } finally {
      store.destroy();
    }
  };

  it('revokes each kind of leaver before any cron tick, journaled as fast-lane runs that never overlap a full run', async () => {
    const d = startDaemon(config(), emulatorEnv(emulator.url, dir, { FL_BIND_PASSWORD: facts().adminPassword }));
    daemon = d;
    await d.until(() => d.lines.some((l) => l['msg'] === 'run finished' && l['outcome'] === 'applied'), 60_000, 'the run at start');
    expect(await icMembers()).toBe(5);
    await d.until(() => d.lines.some((l) => l['msg'] === 'leaver fast lane: full directory read'), 30_000, 'the lane\'s first poll');

    // One leaver at a time, each seen by the lane in its next poll.
    const cases: [string, () => Promise<unknown>, string][] = [
      ['fl.disabled', () => ou.disable(users['fl.disabled']!), 'disabled'],
      ['fl.moved', () => ou.moveToLeavers(users['fl.moved']!), 'deleted-from-ad'],
      ['fl.deleted', () => ou.delete(users['fl.deleted']!), 'deleted-from-ad'],
      ['fl.removed', async () => {
        await ou.removeMember(admins, users['fl.removed']!);
        await ou.removeMember(analysts, users['fl.removed']!);
      }, 'removed-from-groups'],
    ];
    for (const [sam, act, reason] of cases) {
      const before = laneRuns(d).length;
      await act();
      await d.until(() => laneRuns(d).length > before, 30_000, `the lane's run for ${sam}`);
      const found = d.lines.filter((l) => l['msg'] === 'leaver fast lane: leavers found').at(-1) as { leavers: { name: string; reason: string }[] };
      expect(found.leavers).toEqual([expect.objectContaining({ name: sam, reason })]);
      expect(laneRuns(d).at(-1)?.['outcome']).toBe('applied');
      expect(await revoked()).toContain(`*:${sam}@rolemap.test`);
    }
    expect(await revoked()).not.toContain('fl.stays');
    expect(await icMembers()).toBe(1);

    // The journal: one full run (at start) and four fast-lane runs, none overlapping another.
    const journal = join(dir, 'journal.db');
    const runs = journalRows(journal, 'SELECT id, mode, outcome, started_at, finished_at FROM runs ORDER BY started_at');
    expect(runs.map((r) => r['mode'])).toEqual(['apply', 'fast-lane', 'fast-lane', 'fast-lane', 'fast-lane']);
    expect(runs.every((r) => r['outcome'] === 'applied')).toBe(true);
    for (let i = 1; i < runs.length; i++) expect(String(runs[i]!['started_at']) >= String(runs[i - 1]!['finished_at'])).toBe(true);
    const lane = runs[1]!['id'];
    const changes = journalRows(journal, `SELECT status, action, kind, request_ids, leaver_reason, principal_name FROM changes WHERE run_id = '${String(lane)}'`);
    expect(changes.length).toBeGreaterThan(0);
    for (const c of changes) {
      expect(c['status']).toBe('applied');
      expect(JSON.parse(String(c['request_ids'])).length).toBeGreaterThan(0);
    }
    expect(changes.map((c) => `${String(c['action'])} ${String(c['kind'])}`)).toEqual(expect.arrayContaining(['revoke iam_role_revocations', 'delete identitystore_membership']));
    const intents = journalRows(journal, `SELECT status FROM change_events WHERE run_id = '${String(lane)}' AND status = 'intent'`);
    expect(intents.length).toBe(changes.length);

    // /metrics
    const metrics = await (await fetch(`${d.url()}/metrics`)).text();
    expect(metrics).toMatch(/rolemap_fast_lane_watermark_usn [1-9]\d*/);
    expect(metrics).toMatch(/rolemap_fast_lane_leavers_total\{reason="disabled"\} 1/);
    expect(metrics).toMatch(/rolemap_fast_lane_leaver_lag_seconds_count 4/);
    expect(metrics).toMatch(/rolemap_fast_lane_aws_calls_total [1-9]/);
    expect(metrics).toMatch(/rolemap_fast_lane_last_poll_timestamp_seconds \d{10}/);

    // SIGTERM stops the lane and the daemon cleanly.
    expect(await d.stop()).toBe(0);
    expect(d.lines.some((l) => l['msg'] === 'leaver fast lane stopped')).toBe(true);
    daemon = undefined;
  }, 240_000);
});
