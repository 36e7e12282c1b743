/**
 * The posture report over 3 accounts with 2,000 IAM users each (keys of every age, console users with
 * and without MFA, users linked to AD), against the emulator with the real SDK and credentials assumed
 * through STS: AWS calls per account and operation, and seconds, with the load average beside them.
 *
 * Target (issue 15): a handful of calls per account, not per user: one account summary, one credential
 * report (generate + get), one password policy, and the pages of GetAccountAuthorizationDetails.
 *
 * `npm run bench posture`
 */
import { loadavg } from 'node:os';
import { performance } from 'node:perf_hooks';
import { PostureReader } from '../src/adapters/aws/posture/posture-reader.js';
import { DEFAULT_POSTURE_SETTINGS } from '../src/core/posture/index.js';
import { runPosture } from '../src/shell/posture/run-posture.js';
import { iamAccount } from '../test/aws-emulator/services/iam.js';
import type { IamState, UserRec } from '../test/aws-emulator/services/iam.js';
import { clientsFor, roleMap, startWorld, WORKLOADS } from '../test/adapters/aws/iam-roles/fixtures.js';

const USERS_PER_ACCOUNT = 2000;
const DAY = 86_400_000;

export default async function bench(): Promise<void> {
  const world = await startWorld();
  const iam = world.emulator.state<IamState>('iam');
  const now = Date.now();
  for (const account of WORKLOADS) {
    const acct = iamAccount(iam, account);
    for (let i = 0; i < USERS_PER_ACCOUNT; i++) {
      const name = i % 10 === 0 ? `u${i}-legacy` : `user${String(i).padStart(4, '0')}`;
      const u: UserRec = {
        userName: name,
        userId: `AIDA${account}${String(i).padStart(6, '0')}`,
        path: '/',
        createDate: new Date(now - 400 * DAY).toISOString(),
        tags: i % 7 === 0 ? [{ Key: 'ad-account', Value: `sam${i}` }] : [],
        accessKeys: Array.from({ length: i % 3 }, (_, k) => ({
          accessKeyId: `AKIA${account.slice(0, 4)}${String(i).padStart(6, '0')}${k}`.slice(0, 20),
          status: 'Active' as const,
          createDate: new Date(now - ((i * 7 + k * 50) % 300) * DAY).toISOString(),
          ...(i % 4 === 0 ? {} : { lastUsed: { date: new Date(now - (i % 150) * DAY).toISOString(), serviceName: 's3', region: 'eu-west-1' } }),
        })),
        ...(i % 5 === 0 ? { loginProfile: { createDate: new Date(now - 100 * DAY).toISOString(), passwordResetRequired: false } } : {}),
        mfaDevices: i % 10 === 5 ? [{ serialNumber: `arn:aws:iam::${account}:mfa/${name}`, enableDate: new Date(now - 10 * DAY).toISOString() }] : [],
      };
      acct.users[name.toLowerCase()] = u;
    }
  }
  const accounts = roleMap().accounts;
  const clients = clientsFor(world.emulator);
  const reader = new PostureReader(clients, { link: { linkTag: 'ad-account', namePattern: '^(?<sam>[a-z0-9.]+)-legacy$' }, identityCenterInstanceArn: null, pollMs: 200 });
  const directory = { describe: 'bench', read: () => Promise.resolve({ source: 'bench', readAt: new Date(now).toISOString(), users: [], groups: [] }) };

  console.log(`posture report: ${USERS_PER_ACCOUNT} IAM users in each of ${WORKLOADS.length} accounts`);
  for (const label of ['cold (assumes a role per account, report generated)', 'warm (report younger than four hours reused)']) {
    world.emulator.resetCalls();
    const t0 = performance.now();
    const report = await runPosture(accounts, DEFAULT_POSTURE_SETTINGS, { reader, directory, journal: null, clock: () => new Date() });
    const s = (performance.now() - t0) / 1000;
    const calls = world.emulator.calls();
    const total = Object.values(calls).reduce((a, b) => a + b, 0);
    const perAccount = report.accounts.map((a) => `${a.alias} ${a.calls}`).join(', ');
    console.log(`\n${label}: ${report.findings.length} findings in ${s.toFixed(2)} s, loadavg ${loadavg().map((x) => x.toFixed(2)).join(' ')}`);
    console.log(`  calls per account (reader's count, IAM): ${perAccount}; emulator total ${total} (STS included)`);
    for (const [op, n] of Object.entries(calls).sort()) console.log(`  ${op.padEnd(40)} ${n}`);
    if (report.accounts.some((a) => a.error !== null)) throw new Error(`an account failed: ${JSON.stringify(report.accounts)}`);
    if (report.accounts.some((a) => a.calls > 10)) throw new Error('more than a handful of calls per account');
  }
  console.log(`\n  for comparison, ListUsers pages + ListAccessKeys + GetAccessKeyLastUsed + GetLoginProfile + ListMFADevices per user: about ${WORKLOADS.length * USERS_PER_ACCOUNT * 4} calls`);
  clients.destroy();
  await world.stop();
}
