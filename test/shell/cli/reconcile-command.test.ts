import { existsSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { describe, expect, it } from 'vitest';
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

  it('names the LDIF snapshot it cannot read (a typed error, exit 1, no stack trace)', async () => {
    const { file } = setup();
    const r = await runCli(['reconcile', '--dry-run', '--config', file]);
    expect(r.code).toBe(EXIT.ERROR);
    expect(r.stderr).toBe(`Error: cannot read the LDIF directory snapshot ${join(dirname(file), 'directory.ldif')} (ENOENT); no snapshot was produced\n`);
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
    expect(apply.stdout).toContain('Apply complete! Resources: 2 added, 0 changed, 0 destroyed.');
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
