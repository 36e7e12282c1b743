/**
 * The daemon's posture report: scheduled on its own cron beside the reconcile schedule, open findings
 * per account and severity on /metrics (zeros included, an unread account keeps its figures), and a
 * failing report logged without stopping the daemon.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { Daemon } from '../../../src/shell/daemon/daemon.js';
import type { Finding } from '../../../src/core/posture/index.js';
import type { PostureReport } from '../../../src/shell/posture/run-posture.js';
import { FakeRun, captureLogger, settings } from './fake-run.js';
import type { TestConfig } from './fake-run.js';

let dir: string;
const daemons: Daemon<TestConfig>[] = [];
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'rolemap-posture-daemon-'));
});
afterEach(async () => {
  await Promise.all(daemons.splice(0).map((d) => d.stop('test end')));
  rmSync(dir, { recursive: true, force: true });
});

const finding = (account: string, kind: Finding['kind'], severity: Finding['severity']): Finding => ({ id: `${kind}:${account}:root`, kind, severity, account, accountAlias: account, principal: 'root', detail: '', fix: '' });

function report(findings: Finding[], accounts: { account: string; error: string | null }[]): PostureReport {
  return { runId: 'r', at: '2026-12-02T06:00:00.000Z', accounts: accounts.map((a) => ({ ...a, alias: a.account, calls: 7 })), findings, directoryError: null, events: [] };
}

async function metric(daemon: Daemon<TestConfig>, line: string): Promise<string | undefined> {
  const text = await (await fetch(`${daemon.url}/metrics`)).text();
  return text.split('\n').find((l) => l.startsWith(line));
}

describe('daemon posture schedule', () => {
  it('exposes open findings per account and severity after each report', async () => {
    const reports = [
      report([finding('222222222222', 'root-mfa-off', 'critical'), finding('222222222222', 'root-access-keys', 'critical'), finding('333333333333', 'two-active-keys', 'low')], [
        { account: '222222222222', error: null },
        { account: '333333333333', error: null },
      ]),
      report([], [
        { account: '222222222222', error: null },
        { account: '333333333333', error: 'AccessDenied' },
      ]),
    ];
    const scheduled: string[] = [];
    const { log, lines } = captureLogger();
    const daemon = new Daemon<TestConfig>({
      loadConfig: () => ({ name: 'v1', settings: { ...settings(join(dir, 'journal.db')), runAtStart: false, healthPort: 0 } }),
      settingsOf: (c) => c.settings,
      run: new FakeRun().run,
      log,
      posture: {
        scheduleOf: () => {
          scheduled.push('0 6 * * *');
          return '0 6 * * *';
        },
        run: () => Promise.resolve(reports.shift() as PostureReport),
      },
    });
    daemons.push(daemon);
    await daemon.start();
    expect(scheduled).toEqual(['0 6 * * *']);
    expect(lines.some((l) => l['msg'] === 'posture report scheduled')).toBe(true);

    await daemon.runPosture();
    expect(await metric(daemon, 'rolemap_posture_open_findings{account="222222222222",severity="critical"}')).toBe('rolemap_posture_open_findings{account="222222222222",severity="critical"} 2');
    expect(await metric(daemon, 'rolemap_posture_open_findings{account="222222222222",severity="low"}')).toBe('rolemap_posture_open_findings{account="222222222222",severity="low"} 0');
    expect(await metric(daemon, 'rolemap_posture_open_findings{account="333333333333",severity="low"}')).toBe('rolemap_posture_open_findings{account="333333333333",severity="low"} 1');

    // The second report resolves prod's findings; dev could not be read and keeps its figures.
    await daemon.runPosture();
    expect(await metric(daemon, 'rolemap_posture_open_findings{account="222222222222",severity="critical"}')).toBe('rolemap_posture_open_findings{account="222222222222",severity="critical"} 0');
    expect(await metric(daemon, 'rolemap_posture_open_findings{account="333333333333",severity="low"}')).toBe('rolemap_posture_open_findings{account="333333333333",severity="low"} 1');
    expect(await metric(daemon, 'rolemap_posture_last_run_timestamp_seconds')).toBe(`rolemap_posture_last_run_timestamp_seconds ${Date.parse('2026-12-02T06:00:00.000Z') / 1000}`);
  });

  it('logs a failed report and keeps running', async () => {
    const { log, lines } = captureLogger();
    const daemon = new Daemon<TestConfig>({
      loadConfig: () => ({ name: 'v1', settings: { ...settings(join(dir, 'journal.db')), runAtStart: false, healthPort: null } }),
      settingsOf: (c) => c.settings,
      run: new FakeRun().run,
      log,
      posture: { scheduleOf: () => '0 6 * * *', run: () => Promise.reject(new Error('no credentials')) },
    });
    daemons.push(daemon);
    await daemon.start();
    await daemon.runPosture();
    expect(lines.some((l) => l['msg'] === 'posture report failed: no credentials')).toBe(true);
  });
});
