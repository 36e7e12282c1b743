/**
 * Time to revoke: how long after a user is disabled in AD their sessions are denied in AWS.
 *
 *   npm run bench time-to-revoke
 *   ROLEMAP_BENCH_TRIALS=3 ROLEMAP_BENCH_LAYOFF=20 npm run bench time-to-revoke   (shorter)
 *
 * Samba AD with the bench directory (10,000 users, 1,000 nested groups; bench/directory's fixture),
 * the AWS emulator with 3 accounts (60 federated roles from the AWS-<account>-Role<n> groups) and
 * Identity Center (one permission set assigned in the 3 accounts to a nested group of ~165 people),
 * and `rolemap daemon` as a child process at default settings (schedule every 15 minutes, fast lane
 * every 30 s). Before the trials everyone who will be disabled signs in (SAML, RoleSessionName = UPN,
 * a signed response from the test IdP the roles' SAML provider trusts). A trial disables one user as
 * the domain admin (ldapts) and measures two moments: the seconds until the deny statement for their
 * session name is in the role's revocation policy (read with the SDK), and the seconds until their
 * live session is actually denied by the emulator's policy evaluation (`probe`: s3:GetObject). The
 * second is the one that counts (a revocation is done when the session is denied). Between trials
 * it waits a random part of the poll interval, so disables land anywhere in the lane's cycle. Then
 * a layoff: 100 users disabled at once, the seconds until all denies are in place and until every
 * session is denied. Users are re-enabled at the
 * end, so the cached directory stays as the directory bench expects it.
 *
 * Self-stopping: every wait has a deadline, the daemon is stopped (SIGTERM) and Samba too if this
 * bench started it. Samba's ports are fixed: run it under `flock /tmp/rolemap-samba.lock`.
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import type { IAMClient } from '@aws-sdk/client-iam';
import { CreateSAMLProviderCommand, GetRolePolicyCommand } from '@aws-sdk/client-iam';
import { Attribute, Change, Client } from 'ldapts';
import { startEmulator } from '../test/aws-emulator/index.js';
import { probe } from '../test/aws-emulator/probe.js';
import { DEFAULT_IDENTITY_STORE_ID } from '../test/aws-emulator/services/identitystore.js';
import { DEFAULT_INSTANCE_ARN } from '../test/aws-emulator/services/sso-admin.js';
import { benchDirectory, benchGroupName } from '../test/samba/fixture-data.js';
import { ensureSambaInstalled, prepare, startSamba, stopSamba } from '../test/samba/samba-dc.js';
import { CREDENTIALS, emulatorEnv, startDaemon } from '../test/support/daemon-process.js';
import { adminIam } from '../test/support/rolemap-principal.js';
import { createSamlIdp } from '../test/support/saml-idp.js';
import { samlLogin, type SessionCredentials } from '../test/support/saml-login.js';

const num = (name: string, dflt: number): number => Number(process.env[name] ?? dflt);
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));
const ACCOUNTS = ['100000000000', '100000000001', '100000000002'];
interface Person {
  readonly dn: string;
  readonly upn: string;
  readonly account: string;
  readonly role: string;
}

function percentile(xs: readonly number[], p: number): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.ceil((p / 100) * s.length) - 1)] ?? NaN;
}

export default async function timeToRevokeBench(): Promise<void> {
  if (process.env['ROLEMAP_SKIP_SAMBA'] === '1') {
    console.log('!! ROLEMAP_SKIP_SAMBA=1: the time-to-revoke bench did NOT run');
    return;
  }
  const trials = num('ROLEMAP_BENCH_TRIALS', 5);
  const layoffSize = num('ROLEMAP_BENCH_LAYOFF', 100);
  const deadline = Date.now() + num('ROLEMAP_BENCH_MAX_SECONDS', 1500) * 1000;
  const left = (): number => Math.max(1, deadline - Date.now());
  const def = benchDirectory(10_000, 1_000);
  ensureSambaInstalled();
  const facts = prepare(def);
  const startedSamba = await startSamba(facts);

  // Who to disable: direct members of leaf groups (200+) of the 3 accounts; each one's role is that group's.
  const groupsByName = new Map(def.groups.map((g) => [g.sAMAccountName, g] as const));
  const people: Person[] = [];
  const seen = new Set<string>();
  for (let i = 200; i < 1000 && people.length < trials + layoffSize; i++) {
    const account = ACCOUNTS[i % 50];
    if (account === undefined) continue;
    const name = benchGroupName(i);
    for (const dn of groupsByName.get(name)?.members ?? []) {
      const user = def.users.find((u) => u.dn === dn);
      if (!user?.userPrincipalName || seen.has(dn)) continue;
      seen.add(dn);
      people.push({ dn, upn: user.userPrincipalName, account, role: `Role${String(i).padStart(4, '0')}` });
    }
  }
  const singles = people.slice(0, trials);
  const layoff = people.slice(trials, trials + layoffSize);

  // The home account is Identity Center's and the base credentials'; the other two are member accounts
  // that rolemap (and the bench's probes) reach through OrganizationAccountAccessRole.
  const [home, ...members] = ACCOUNTS as [string, ...string[]];
  const emulator = await startEmulator({ homeAccount: home, baseCredentials: [CREDENTIALS], memberAccounts: members });
  const setup = { endpoint: emulator.url, region: 'us-east-1', admin: CREDENTIALS };
  const iam = new Map<string, IAMClient>();
  for (const a of ACCOUNTS) iam.set(a, await adminIam(setup, home, a));
  const idp = await createSamlIdp();
  for (const c of iam.values()) await c.send(new CreateSAMLProviderCommand({ Name: 'ADFS', SAMLMetadataDocument: idp.metadataXml() }));
  /** Everyone to be disabled signs in to their role, as ADFS would send them (RoleSessionName = UPN). */
  const sessions = new Map<Person, SessionCredentials>();
  const signIn = async (p: Person): Promise<void> => {
    const s = await samlLogin(emulator, { idp, user: p.upn, roleArn: `arn:aws:iam::${p.account}:role/${p.role}`, providerArn: `arn:aws:iam::${p.account}:saml-provider/ADFS` });
    if ((await probe(emulator.url, s.credentials)) !== 'allowed') throw new Error(`${p.upn}'s fresh session on ${p.role} (${p.account}) is not allowed the probe: the bench cannot measure its denial`);
    sessions.set(p, s.credentials);
  };
  const denied = async (p: Person): Promise<boolean> => {
    probeCalls++;
    return (await probe(emulator.url, sessions.get(p)!)) === 'denied';
  };
  let probeCalls = 0;
  const policy = async (account: string, role: string): Promise<string> => {
    probeCalls++;
    const out = await iam.get(account)!.send(new GetRolePolicyCommand({ RoleName: role, PolicyName: 'rolemap-revoked-sessions' })).catch(() => undefined);
    return decodeURIComponent(out?.PolicyDocument ?? '');
  };

  const dir = mkdtempSync(join(tmpdir(), 'rolemap-ttr-'));
  const configPath = join(dir, 'rolemap.yaml');
  writeFileSync(
    configPath,
    `directory:
  type: ldap
  url: ${facts.ldapsUrl}
  caFile: ${facts.caFile}
  bindDn: ${facts.adminUpn}
  bindPassword: {env: BENCH_BIND_PASSWORD}
  userBase: "${facts.userBase}"
  groupBase: "${facts.groupBase}"
  timeoutMs: 300000
accounts:
${ACCOUNTS.map((a, i) => (a === home ? `  acct${i}: "${a}"` : `  acct${i}: {id: "${a}", assumeRoleArn: "arn:aws:iam::${a}:role/OrganizationAccountAccessRole"}`)).join('\n')}
federatedRolePatterns:
  - regex: '^AWS-(?<account>10000000000[012])-(?<role>Role\\d+)$'
    samlProvider: ADFS
    managedPolicyArns: ["arn:aws:iam::aws:policy/ReadOnlyAccess"]
identityCenter:
  instanceArn: ${DEFAULT_INSTANCE_ARN}
  identityStoreId: ${DEFAULT_IDENTITY_STORE_ID}
  account: acct0
  permissionSets:
    Bench:
      sessionDuration: PT4H
      managedPolicyArns: ["arn:aws:iam::aws:policy/ReadOnlyAccess"]
  assignments:
    - group: {sAMAccountName: ${benchGroupName(50)}}
      permissionSet: Bench
      accounts: [acct0, acct1, acct2]
safety:
  ownerId: bench-ttr
journal:
  path: ${join(dir, 'journal.db')}
daemon:
  healthPort: 0
aws:
  region: us-east-1
`,
  );

  const admin = new Client({ url: facts.ldapsUrl, tlsOptions: { ca: readFileSync(facts.caFile) }, strictDN: false, timeout: 60_000 });
  await admin.bind(facts.adminUpn, facts.adminPassword);
  const uac = (dn: string, value: string) => admin.modify(dn, new Change({ operation: 'replace', modification: new Attribute({ type: 'userAccountControl', values: [value] }) }));
  const disabled: string[] = [];

  const daemon = startDaemon(configPath, emulatorEnv(emulator.url, dir, { BENCH_BIND_PASSWORD: facts.adminPassword }), ['--grace', '10']);
  const laneRunsDone = (): number => daemon.lines.filter((l) => l['msg'] === 'leaver fast lane run finished').length;
  /** After a deny is seen: the lane's run goes on (Identity Center, the user's removal); wait for its end to count its calls. */
  const runEnded = (before: number): Promise<void> => daemon.until(() => laneRunsDone() > before, Math.min(180_000, left()), 'the end of the lane\'s run');
  const laneMetric = async (name: string): Promise<number> => {
    const text = await (await fetch(`${daemon.url()}/metrics`)).text();
    return Number(new RegExp(`^${name} (\\S+)$`, 'm').exec(text)?.[1] ?? 0);
  };
  try {
    const t0 = performance.now();
    const firstRun = (): Record<string, unknown> | undefined => daemon.lines.find((l) => l['msg'] === 'run finished' || l['msg'] === 'run failed' || String(l['msg']).startsWith('backing off'));
    await daemon.until(() => firstRun() !== undefined, left(), 'the first full run');
    if (firstRun()?.['outcome'] !== 'applied') throw new Error(`the first full run did not apply: ${JSON.stringify(daemon.lines.filter((l) => l['level'] === 'error').slice(-3))}`);
    console.log(`first full run (10,000 users, 60 roles in 3 accounts, Identity Center): ${((performance.now() - t0) / 1000).toFixed(1)} s`);
    await daemon.until(() => daemon.lines.some((l) => l['msg'] === 'leaver fast lane run finished' || (l['msg'] === 'leaver fast lane: full directory read')), left(), 'the lane\'s first poll');
    const t1 = performance.now();
    for (const p of [...singles, ...layoff]) await signIn(p);
    console.log(`${sessions.size} people signed in (SAML) to their roles, each allowed the probe: ${((performance.now() - t1) / 1000).toFixed(1)} s`);
    await sleep(2_000);

    const seconds: number[] = [];
    const deniedSeconds: number[] = [];
    const pollSeconds = 30;
    for (const [i, p] of singles.entries()) {
      await sleep(Math.floor(Math.random() * pollSeconds * 1000));
      const calls0 = await laneMetric('rolemap_fast_lane_aws_calls_total');
      const runs0 = laneRunsDone();
      const start = performance.now();
      await uac(p.dn, '514');
      disabled.push(p.dn);
      const end = Date.now() + Math.min(120_000, left());
      // Both moments: the deny statement in place, and the live session denied by the emulator.
      let inPolicy: number | undefined;
      let sessionDenied: number | undefined;
      while (inPolicy === undefined || sessionDenied === undefined) {
        if (Date.now() > end) throw new Error(`trial ${i + 1}: ${p.upn} not denied on ${p.role} in ${p.account} within 120 s (deny statement ${inPolicy === undefined ? 'absent' : 'present'}, session ${sessionDenied === undefined ? 'still allowed' : 'denied'})`);
        if (inPolicy === undefined && (await policy(p.account, p.role)).includes(`*:${p.upn}"`)) inPolicy = (performance.now() - start) / 1000;
        if (sessionDenied === undefined && (await denied(p))) sessionDenied = (performance.now() - start) / 1000;
        if (inPolicy === undefined || sessionDenied === undefined) await sleep(200);
      }
      seconds.push(inPolicy);
      deniedSeconds.push(sessionDenied);
      await runEnded(runs0);
      const calls = (await laneMetric('rolemap_fast_lane_aws_calls_total')) - calls0;
      console.log(`trial ${i + 1}: ${p.upn} (${p.role}, ${p.account}): deny statement after ${inPolicy.toFixed(1)} s, session denied by the emulator after ${sessionDenied.toFixed(1)} s; the lane made ${calls} AWS calls`);
    }
    const p50 = percentile(deniedSeconds, 50);
    const max = Math.max(...deniedSeconds);
    console.log(`one user, deny statement in place: p50 ${percentile(seconds, 50).toFixed(1)} s, max ${Math.max(...seconds).toFixed(1)} s over ${seconds.length} trials`);
    console.log(`one user, session denied: p50 ${p50.toFixed(1)} s, max ${max.toFixed(1)} s over ${deniedSeconds.length} trials (targets: p50 < 30 s, max < 60 s) -> ${p50 < 30 && max < 60 ? 'MET' : 'MISSED'}`);

    if (layoff.length > 0) {
      await sleep(Math.floor(Math.random() * pollSeconds * 1000));
      const calls0 = await laneMetric('rolemap_fast_lane_aws_calls_total');
      const emuBefore = Object.values(emulator.calls()).reduce((a, b) => a + b, 0);
      const probesBefore = probeCalls;
      const runs0 = laneRunsDone();
      const start = performance.now();
      for (const p of layoff) {
        await uac(p.dn, '514');
        disabled.push(p.dn);
      }
      const disableSeconds = (performance.now() - start) / 1000;
      const pending = new Set(layoff);
      const live = new Set(layoff);
      let inPolicy: number | undefined;
      const end = Date.now() + Math.min(240_000, left());
      while (pending.size > 0 || live.size > 0) {
        if (Date.now() > end) throw new Error(`layoff: ${pending.size} of ${layoff.length} deny statements absent, ${live.size} sessions still allowed, after 240 s`);
        const byRole = new Map<string, Person[]>();
        for (const p of pending) byRole.set(`${p.account}/${p.role}`, [...(byRole.get(`${p.account}/${p.role}`) ?? []), p]);
        for (const list of byRole.values()) {
          const doc = await policy(list[0]!.account, list[0]!.role);
          for (const p of list) if (doc.includes(`*:${p.upn}"`)) pending.delete(p);
        }
        if (pending.size === 0 && inPolicy === undefined) inPolicy = (performance.now() - start) / 1000;
        for (const p of [...live]) if (await denied(p)) live.delete(p);
        if (pending.size > 0 || live.size > 0) await sleep(250);
      }
      const s = (performance.now() - start) / 1000;
      await runEnded(runs0);
      await sleep(2_000);
      const calls = (await laneMetric('rolemap_fast_lane_aws_calls_total')) - calls0;
      const emuCalls = Object.values(emulator.calls()).reduce((a, b) => a + b, 0) - emuBefore - (probeCalls - probesBefore);
      console.log(
        `layoff: ${layoff.length} users disabled in ${disableSeconds.toFixed(1)} s, every deny statement in place after ${(inPolicy ?? s).toFixed(1)} s, every session denied by the emulator after ${s.toFixed(1)} s (target < 90 s) -> ${s < 90 ? 'MET' : 'MISSED'}; ` +
          `the lane made ${calls} mutating AWS calls (the emulator counted ${emuCalls} calls besides the bench's own probes)`,
      );
    }
    const laneRuns = daemon.lines.filter((l) => l['msg'] === 'leaver fast lane run finished').map((l) => l['outcome']);
    const fullRuns = daemon.lines.filter((l) => l['msg'] === 'run started' && l['source'] !== undefined).length;
    console.log(`fast-lane runs: ${laneRuns.length} (${[...new Set(laneRuns)].join(', ')}); full runs: ${fullRuns}; last leaver lag ${(await laneMetric('rolemap_fast_lane_last_leaver_lag_seconds')).toFixed(1)} s; load average ${loadavg().map((x) => x.toFixed(2)).join(' ')}`);
  } catch (e) {
    // Say why: the daemon's warnings, errors and fast-lane lines.
    const telling = daemon.lines.filter((l) => ['warn', 'error', 'fatal'].includes(String(l['level'])) || String(l['msg'] ?? '').includes('fast lane'));
    console.log(telling.slice(-30).map((l) => JSON.stringify(l).slice(0, 600)).join('\n'));
    throw e;
  } finally {
    await daemon.stop();
    for (const dn of disabled) await uac(dn, '512').catch(() => undefined);
    await admin.unbind().catch(() => undefined);
    for (const c of iam.values()) c.destroy();
    await emulator.stop();
    rmSync(dir, { recursive: true, force: true });
    if (startedSamba) await stopSamba(facts.dir);
  }
}
