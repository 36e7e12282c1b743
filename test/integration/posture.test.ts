/**
 * `rolemap posture` and `rolemap journal posture --as-of` through the real CLI, the demo config, the
 * emulator and a real SQLite journal: findings appear, are journaled, resolve when fixed, and the as-of
 * query tells the story; `journal verify` covers the posture rows and catches an edited one.
 */
import Database from 'better-sqlite3';
import { CreateAccessKeyCommand, CreateLoginProfileCommand, CreateUserCommand, UpdateAccountPasswordPolicyCommand } from '@aws-sdk/client-iam';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { setRoot, setUser } from '../aws-emulator/services/iam-posture.js';
import type { IamState } from '../aws-emulator/services/iam.js';
import { awsEnv, isReadOnly, rolemap, startWorld, useProcessEnv, type World } from './world.js';

let world: World;
let restoreEnv: () => void;

beforeEach(async () => {
  world = await startWorld();
  restoreEnv = useProcessEnv(awsEnv(world));
});
afterEach(async () => {
  restoreEnv();
  await world.stop();
});

interface JsonReport {
  runId: string;
  at: string;
  accounts: { account: string; alias: string; calls: number; error: string | null }[];
  findings: { id: string; severity: string; principal: string; fix: string }[];
  events: { event: string; finding: { id: string } }[];
}

describe('rolemap posture', () => {
  it('reports, journals, resolves, and answers as of a moment', async () => {
    const prod = await world.iam('222222222222');
    await prod.send(new UpdateAccountPasswordPolicyCommand({ MinimumPasswordLength: 16, PasswordReusePrevention: 24 }));
    await prod.send(new CreateUserCommand({ UserName: 'ci-bot' }));
    await prod.send(new CreateAccessKeyCommand({ UserName: 'ci-bot' }));
    await prod.send(new CreateAccessKeyCommand({ UserName: 'ci-bot' }));
    await prod.send(new CreateUserCommand({ UserName: 'alice' }));
    await prod.send(new CreateLoginProfileCommand({ UserName: 'alice', Password: 'Correct-Horse-9' }));
    const iam = world.emulator.state<IamState>('iam');
    setRoot(iam, { account: '222222222222', mfaEnabled: true });

    const first = await rolemap(['posture', '-c', world.config, '--account', 'prod', '--format', 'json']);
    expect(first.stderr).toBe('');
    expect(first.code).toBe(0);
    const r1 = JSON.parse(first.stdout) as JsonReport;
    expect(r1.accounts).toEqual([{ account: '222222222222', alias: 'prod', calls: expect.any(Number) as number, error: null }]);
    expect(r1.findings.map((f) => `${f.id} ${f.severity}`)).toEqual([
      'console-without-mfa:222222222222:user/alice high',
      'too-few-admins:222222222222:account medium',
      'two-active-keys:222222222222:user/ci-bot low',
    ]);
    expect(r1.events.map((e) => `${e.event} ${e.finding.id}`)).toHaveLength(3);
    // Read-only: the report changes nothing in AWS but asking for its credential report.
    expect(world.exchanges.map((x) => x.operation).filter((op) => !isReadOnly(op) && op !== 'GenerateCredentialReport' && op !== 'AssumeRole')).toEqual([]);

    // alice gets an MFA device; the credential report is regenerated only after four hours, so age it.
    setUser(iam, { account: '222222222222', userName: 'alice', mfaDevices: 1 });
    (iam.accounts['222222222222'] as { credentialReport?: unknown }).credentialReport = undefined;
    const second = await rolemap(['posture', '-c', world.config, '--account', 'prod']);
    expect(second.code).toBe(0);
    expect(second.stdout).toContain('2 findings (0 critical, 0 high, 1 medium, 1 low) in 1 accounts');
    expect(second.stdout).toContain('0 opened, 1 resolved since the last report');
    const journal = ['--journal', world.journal];

    const then = await rolemap(['journal', 'posture', ...journal, '--as-of', r1.at, '--format', 'json']);
    const h1 = JSON.parse(then.stdout) as { findings: { finding: { id: string }; openedAt: string; resolvedAt: string | null }[] };
    expect(h1.findings.map((h) => [h.finding.id, h.openedAt === r1.at, h.resolvedAt === null])).toEqual([
      ['console-without-mfa:222222222222:user/alice', true, false],
      ['too-few-admins:222222222222:account', true, true],
      ['two-active-keys:222222222222:user/ci-bot', true, true],
    ]);
    const now = await rolemap(['journal', 'posture', ...journal, '--as-of', new Date(Date.now() + 1000).toISOString()]);
    expect(now.stdout).toMatch(/^As of .*: 2 posture findings open\./);
    expect(now.stdout).not.toContain('console-without-mfa');
    const before = await rolemap(['journal', 'posture', ...journal, '--as-of', '2020-01-01']);
    expect(before.stdout).toBe('As of 2020-01-01T23:59:59.999Z: 0 posture findings open.\n');

    const verified = await rolemap(['journal', 'verify', ...journal]);
    expect(verified.code).toBe(0);
    expect(verified.stdout).toContain('2 posture runs with 4 finding events.');
    const db = new Database(world.journal);
    db.prepare("UPDATE posture_events SET severity = 'low' WHERE id = 1").run();
    db.close();
    const tampered = await rolemap(['journal', 'verify', ...journal]);
    expect(tampered.code).toBe(1);
    expect(tampered.stdout).toContain('TAMPERED: posture event 1 (opened console-without-mfa:222222222222:user/alice');
  });

  it('names an unknown account, and prints csv with ids', async () => {
    const bad = await rolemap(['posture', '-c', world.config, '--account', 'nope', '--no-journal']);
    expect(bad.code).toBe(1);
    expect(bad.stderr).toContain('--account "nope" is not an account of');
    const csv = await rolemap(['posture', '-c', world.config, '--account', 'management', '--format', 'csv', '--no-journal']);
    expect(csv.code).toBe(0);
    expect(csv.stdout.split('\r\n')[0]).toBe('id,account_id,severity,account,kind,principal,detail,fix');
    expect(csv.stdout).toContain('root-mfa-off:111111111111:root,111111111111,critical,management,root-mfa-off,root,');
  });
});
