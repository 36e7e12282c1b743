import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { hostname, tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { acquireJournalLock } from '../../../src/shell/daemon/lock.js';
import { EXIT } from '../../../src/shell/exit-codes.js';
import { configYaml, world, type World } from '../reconcile/fixtures.js';
import { fixedRuntime, runCli, writeConfig } from './run-cli.js';

function setup(opts: { minDirectoryUsers?: number } = {}): { w: World; file: string; factory: ReturnType<typeof fixedRuntime> } {
  const w = world(opts);
  return { w, file: writeConfig(configYaml(opts)), factory: fixedRuntime(w.runtime) };
}

const ANSI = /\x1b\[/; // eslint-disable-line no-control-regex

describe('rolemap reconcile without the core', () => {
  it('refuses to apply without a terminal or --auto-approve, before touching anything', async () => {
    const { file, factory } = setup();
    const r = await runCli(['reconcile', '--config', file], { runtimeFactory: factory });
    expect(r.code).toBe(EXIT.ERROR);
    expect(r.stderr).toContain('refusing to apply without confirmation: standard input is not a terminal');
    expect(r.stderr).toContain('--auto-approve');
    expect(factory.calls).toBe(0);
  });

  it('names a directory snapshot that cannot be read (typed error, exit 1, no stack trace)', async () => {
    const { file } = setup();
    const r = await runCli(['reconcile', '--dry-run', '--config', file]);
    expect(r.code).toBe(EXIT.ERROR);
    expect(r.stderr).toBe(`Error: directory read failed (no-such-object) while reading the LDIF snapshot at ${join(dirname(file), 'directory.ldif')}: ENOENT; no snapshot was produced\n`);
  });

  it('rejects a non-numeric --allow-deletes', async () => {
    const { file } = setup();
    const r = await runCli(['reconcile', '--dry-run', '--allow-deletes', 'many', '--config', file]);
    expect(r.code).toBe(EXIT.ERROR);
    expect(r.stderr).toContain("option '--allow-deletes <n>' argument 'many' is invalid. expected a whole number of deletions, e.g. 25");
  });

  it('names a saved plan that cannot be read', async () => {
    const { file, factory } = setup();
    const r = await runCli(['reconcile', '--plan', '/nonexistent/plan.json', '--auto-approve', '--config', file], { runtimeFactory: factory });
    expect(r.code).toBe(EXIT.ERROR);
    expect(r.stderr).toBe('Error: cannot read the saved plan /nonexistent/plan.json (ENOENT)\n');
    expect(factory.calls).toBe(0);
  });

  it('reports config errors with their position and exit 1', async () => {
    const file = writeConfig(configYaml().replace('account: prod', 'account: prd'));
    const r = await runCli(['reconcile', '--dry-run', '--config', file]);
    expect(r.code).toBe(EXIT.ERROR);
    expect(r.stderr).toContain(`${file}:6:14: federatedRoles[0].account: unknown account alias 'prd' (known: prod)`);
  });
});

describe('rolemap reconcile with the core', () => {
  it('--dry-run prints the plan, changes nothing and exits 2; no colour off a terminal', async () => {
    const { w, file, factory } = setup();
    const r = await runCli(['reconcile', '--dry-run', '--config', file], { runtimeFactory: factory });
    expect(r.code).toBe(EXIT.CHANGES);
    expect(r.stdout).toMatch(/Plan: 2 to add, 0 to change, 0 to destroy/);
    expect(r.stdout).not.toMatch(ANSI);
    expect(w.iam.applied).toEqual([]);
  });

  it('colours the plan on a terminal unless NO_COLOR is set or --no-color is given', async () => {
    const { file, factory } = setup();
    expect((await runCli(['reconcile', '--dry-run', '--config', file], { runtimeFactory: factory, stdoutTTY: true })).stdout).toMatch(ANSI);
    expect((await runCli(['reconcile', '--dry-run', '--config', file], { runtimeFactory: factory, stdoutTTY: true, env: { NO_COLOR: '1' } })).stdout).not.toMatch(ANSI);
    expect((await runCli(['reconcile', '--dry-run', '--no-color', '--config', file], { runtimeFactory: factory, stdoutTTY: true })).stdout).not.toMatch(ANSI);
  });

  it('--json prints only the versioned plan on stdout', async () => {
    const { file, factory } = setup();
    const r = await runCli(['reconcile', '--dry-run', '--json', '--config', file], { runtimeFactory: factory });
    expect(r.code).toBe(EXIT.CHANGES);
    const plan = JSON.parse(r.stdout) as { formatVersion: number; changes: unknown[] };
    expect(plan.formatVersion).toBe(1);
    expect(plan.changes).toHaveLength(2);
  });

  it('--plan-out saves the plan; --plan applies exactly it (exit 2); then nothing is left to do (exit 0)', async () => {
    const { w, file, factory } = setup();
    const planFile = join(mkdtempSync(join(tmpdir(), 'rolemap-plan-')), 'plan.json');
    const dry = await runCli(['reconcile', '--dry-run', '--plan-out', planFile, '--config', file], { runtimeFactory: factory });
    expect(dry.code).toBe(EXIT.CHANGES);
    expect(dry.stdout).toContain(`Saved the plan to ${planFile}.`);
    expect(existsSync(planFile)).toBe(true);
    const saved = JSON.parse(readFileSync(planFile, 'utf8')) as { changes: Array<{ key: string }> };

    const apply = await runCli(['reconcile', '--plan', planFile, '--auto-approve', '--config', file], { runtimeFactory: factory });
    expect(apply.code).toBe(EXIT.CHANGES);
    expect(apply.stdout).toContain('Apply complete! Resources: 2 added, 0 changed, 0 destroyed, 0 leaver changes.');
    expect(w.iam.applied.map((c) => c.key)).toEqual(saved.changes.map((c) => c.key));

    const again = await runCli(['reconcile', '--dry-run', '--config', file], { runtimeFactory: factory });
    expect(again.code).toBe(EXIT.OK);
  });

  it('--plan FILE --dry-run checks a saved plan is current and shows it without applying', async () => {
    const { w, file, factory } = setup();
    const planFile = join(mkdtempSync(join(tmpdir(), 'rolemap-plan-')), 'plan.json');
    await runCli(['reconcile', '--dry-run', '--plan-out', planFile, '--config', file], { runtimeFactory: factory });
    const r = await runCli(['reconcile', '--plan', planFile, '--dry-run', '--config', file], { runtimeFactory: factory });
    expect(r.code).toBe(EXIT.CHANGES);
    expect(r.stdout).toMatch(/Plan: 2 to add/);
    expect(w.iam.applied).toEqual([]);
  });

  it('refuses a stale saved plan with exit 4', async () => {
    const { w, file, factory } = setup();
    const planFile = join(mkdtempSync(join(tmpdir(), 'rolemap-plan-')), 'plan.json');
    await runCli(['reconcile', '--dry-run', '--plan-out', planFile, '--config', file], { runtimeFactory: factory });
    w.iam.resources.set('iam_role:123456789012/Manual', {
      kind: 'iam_role',
      id: '123456789012/Manual',
      account: '123456789012',
      name: 'Manual',
      owned: false,
      attrs: { path: '/', description: '', maxSessionDuration: 3600, permissionsBoundary: null, trustPolicy: { Version: '2012-10-17', Statement: [] }, managedPolicyArns: [], inlinePolicies: {}, tags: {} },
    });
    const r = await runCli(['reconcile', '--plan', planFile, '--auto-approve', '--config', file], { runtimeFactory: factory });
    expect(r.code).toBe(EXIT.STALE_PLAN);
    expect(r.stderr).toContain('the saved plan is stale');
    expect(w.iam.applied).toEqual([]);
  });

  it("on a terminal asks like terraform apply: anything but 'yes' cancels (exit 1)", async () => {
    const { w, file, factory } = setup();
    const r = await runCli(['reconcile', '--config', file], { runtimeFactory: factory, stdinTTY: true, input: 'y\n' });
    expect(r.stdout).toContain("Only 'yes' will be accepted to approve.");
    expect(r.code).toBe(EXIT.ERROR);
    expect(r.stderr).toContain('Apply cancelled.');
    expect(w.iam.applied).toEqual([]);
  });

  it("on a terminal applies after 'yes' (exit 2)", async () => {
    const { w, file, factory } = setup();
    const r = await runCli(['reconcile', '--config', file], { runtimeFactory: factory, stdinTTY: true, input: 'yes\n' });
    expect(r.code).toBe(EXIT.CHANGES);
    expect(w.iam.applied).toHaveLength(2);
  });

  it('a refused plan exits 3 and says why', async () => {
    const { w, file, factory } = setup({ minDirectoryUsers: 50 });
    const r = await runCli(['reconcile', '--auto-approve', '--config', file], { runtimeFactory: factory });
    expect(r.code).toBe(EXIT.REFUSED);
    expect(r.stderr).toContain('Plan refused:');
    expect(w.iam.applied).toEqual([]);
  });
});

describe('rolemap reconcile and the journal lock', () => {
  /** The journal of the test config: `journal.path` defaults to rolemap.sqlite next to the config file. */
  const journalOf = (file: string): string => join(dirname(file), 'rolemap.sqlite');

  it('an apply holds the journal lock while it runs and releases it after', async () => {
    const { w, file, factory } = setup();
    const lockFile = `${journalOf(file)}.lock`;
    let heldDuringRun: { pid: number; command: string } | undefined;
    const spy = Object.assign(
      async (...args: Parameters<typeof factory>) => {
        heldDuringRun = JSON.parse(readFileSync(lockFile, 'utf8')) as { pid: number; command: string };
        return factory(...args);
      },
      { calls: 0 },
    );
    const r = await runCli(['reconcile', '--auto-approve', '--config', file], { runtimeFactory: spy });
    expect(r.code).toBe(EXIT.CHANGES);
    expect(w.iam.applied).toHaveLength(2);
    expect(heldDuringRun).toEqual(expect.objectContaining({ pid: process.pid, command: `rolemap reconcile --config ${file}` }));
    expect(existsSync(lockFile)).toBe(false);
  });

  it('refuses to apply (exit 5, naming the holder) while another rolemap holds the lock, before touching anything', async () => {
    const { w, file, factory } = setup();
    const daemon = acquireJournalLock(journalOf(file), { command: 'rolemap daemon --config /etc/rolemap/rolemap.yaml' });
    try {
      const r = await runCli(['reconcile', '--auto-approve', '--config', file], { runtimeFactory: factory });
      expect(r.code).toBe(EXIT.LOCKED);
      expect(r.stderr).toContain(`Error: the journal is locked by pid ${process.pid} on ${hostname()}`);
      expect(r.stderr).toContain('(rolemap daemon --config /etc/rolemap/rolemap.yaml)');
      expect(factory.calls).toBe(0);
      expect(w.iam.applied).toEqual([]);

      // A saved plan is an apply too.
      const planFile = join(mkdtempSync(join(tmpdir(), 'rolemap-plan-')), 'plan.json');
      expect((await runCli(['reconcile', '--dry-run', '--plan-out', planFile, '--config', file], { runtimeFactory: factory })).code).toBe(EXIT.CHANGES);
      expect((await runCli(['reconcile', '--plan', planFile, '--auto-approve', '--config', file], { runtimeFactory: factory })).code).toBe(EXIT.LOCKED);
      expect(w.iam.applied).toEqual([]);
      // The holder's lock is untouched.
      expect(JSON.parse(readFileSync(`${journalOf(file)}.lock`, 'utf8'))).toEqual(expect.objectContaining({ command: 'rolemap daemon --config /etc/rolemap/rolemap.yaml' }));
    } finally {
      daemon.release();
    }
  });

  it('a dry run takes no lock: it plans while the daemon runs', async () => {
    const { w, file, factory } = setup();
    const daemon = acquireJournalLock(journalOf(file), { command: 'rolemap daemon' });
    try {
      const r = await runCli(['reconcile', '--dry-run', '--config', file], { runtimeFactory: factory });
      expect(r.code).toBe(EXIT.CHANGES);
      expect(w.iam.applied).toEqual([]);
    } finally {
      daemon.release();
    }
  });

  it('recovers a lock left by a dead process and says so', async () => {
    const { w, file, factory } = setup();
    const lockFile = `${journalOf(file)}.lock`;
    writeFileSync(lockFile, JSON.stringify({ pid: 2 ** 22 - 1, host: hostname(), startedAt: '2026-01-01T00:00:00.000Z', command: 'rolemap daemon' }));
    const r = await runCli(['reconcile', '--auto-approve', '--config', file], { runtimeFactory: factory });
    expect(r.code).toBe(EXIT.CHANGES);
    expect(r.stderr).toContain(`Recovered a stale journal lock: pid ${2 ** 22 - 1} is not running on ${hostname()} (taken by rolemap daemon at 2026-01-01T00:00:00.000Z).`);
    expect(w.iam.applied).toHaveLength(2);
    expect(existsSync(lockFile)).toBe(false);
  });
});
