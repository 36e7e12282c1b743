/**
 * Accounts are who they say, and one account that cannot be read does not stop the others: the
 * real command line and the real daemon (a child process) against the AWS emulator and the demo
 * directory (management 111111111111 read with the base credentials, prod 222222222222 through an
 * assumed role).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { awsEnv, BIN, readJournal, rolemap, startWorld, useProcessEnv, type World } from './world.js';

let world: World;
let restoreEnv: () => void;
const children: ChildProcess[] = [];

beforeEach(async () => {
  world = await startWorld();
  restoreEnv = useProcessEnv(awsEnv(world));
});

afterEach(async () => {
  for (const c of children.splice(0)) if (c.exitCode === null) c.kill('SIGKILL');
  restoreEnv();
  await world.stop();
});

function disableLeaver(): void {
  const ldif = readFileSync(world.ldif, 'utf8');
  const disabled = ldif.replace(/(sAMAccountName: juergen\.mueller\n(?:[^\n]+\n)*?)userAccountControl: 512/, '$1userAccountControl: 514');
  expect(disabled).not.toBe(ldif);
  writeFileSync(world.ldif, disabled);
}

async function applyAll(): Promise<void> {
  const r = await rolemap(['reconcile', '--auto-approve', '--config', world.config]);
  expect(r.code, r.stderr).toBe(2);
}

/** prod's AssumeRole is refused the way STS refuses it (403 AccessDenied), every time. */
function denyProdAssumeRole(): void {
  world.emulator.injectFault({
    kind: 'error',
    service: 'sts',
    operation: 'AssumeRole',
    code: 'AccessDenied',
    status: 403,
    message: 'User: arn:aws:iam::111111111111:user/emulator is not authorized to perform: sts:AssumeRole on resource: arn:aws:iam::222222222222:role/rolemap-reconciler',
  });
}

describe('accounts', () => {
  it('two short-form aliases read with base credentials that act in one account: the other is refused, naming alias, expected and actual account', async () => {
    // Both accounts in short form: the base credentials act in 111111111111 only.
    const config = readFileSync(world.config, 'utf8').replace(/ {2}prod:\n {4}id: "222222222222"\n {4}assumeRoleArn: [^\n]+\n/, '  prod: "222222222222"\n');
    expect(config).toContain('prod: "222222222222"');
    writeFileSync(world.config, config);

    const r = await rolemap(['reconcile', '--auto-approve', '--config', world.config]);
    expect(r.code, r.stderr).toBe(1);
    expect(r.stderr).toContain('account prod: the role map says 222222222222, but the credentials act in 111111111111');
    // Nothing was planned for prod from 111111111111's roles: no role was created or deleted there.
    const { events, runs } = readJournal(world.journal);
    expect(runs.at(-1)).toMatchObject({ outcome: 'partial' });
    expect(runs.at(-1)?.error).toContain('account prod (222222222222) could not be read');
    expect(events.filter((e) => e.address.startsWith('iam_role.prod.'))).toEqual([]);
    // management itself was reconciled.
    expect(events.some((e) => e.address === 'iam_role.management.Admin' && e.status === 'applied')).toBe(true);
    // The call that decided it, once per credential fetch (one per account), not once per request.
    expect(world.emulator.calls()['sts:GetCallerIdentity']).toBe(2);
  });

  it("one account's AssumeRole is denied: the other account's leaver revocations are applied, the run is partial, and they follow once it is back", async () => {
    await applyAll();
    disableLeaver();
    denyProdAssumeRole();

    const r = await rolemap(['reconcile', '--auto-approve', '--config', world.config]);
    expect(r.code, r.stderr).toBe(1);
    expect(r.stderr).toMatch(/Not read: account prod \(222222222222\): sts:AssumeRole for arn:aws:iam::222222222222:role\/rolemap-reconciler in account 222222222222 answered HTTP 403 AccessDenied: /);
    expect(r.stdout).toContain('account prod (222222222222) could not be read');

    const { runs, events } = readJournal(world.journal);
    const run = runs.at(-1);
    expect(run).toMatchObject({ mode: 'apply', outcome: 'partial' });
    expect(run?.error).toContain('account prod (222222222222) could not be read');
    const rows = events.filter((e) => e.run_id === run?.id);
    // management's revocation of the leaver's sessions, and Identity Center's, are applied...
    const applied = rows.filter((e) => e.status === 'applied').map((e) => e.address);
    expect(applied).toContain('iam_role_revocations.management.Admin');
    expect(applied.some((a) => a.startsWith('sso_permission_set_revocations.'))).toBe(true);
    // ...and nothing at all was planned in prod, whose state is unknown.
    expect(rows.filter((e) => e.address.includes('.prod.') && e.kind.startsWith('iam_'))).toEqual([]);

    // prod is back: the leaver is still known as one there, and is revoked.
    world.emulator.clearFaults();
    const again = await rolemap(['reconcile', '--auto-approve', '--config', world.config]);
    expect(again.code, again.stderr).toBe(2);
    const last = readJournal(world.journal);
    const lastRun = last.runs.at(-1);
    expect(lastRun?.outcome).toBe('applied');
    expect(last.events.filter((e) => e.run_id === lastRun?.id && e.status === 'applied').map((e) => e.address)).toContain('iam_role_revocations.prod.PlatformAdmin');
  });

  it('the daemon: /healthz says degraded and names the account it could not read', { timeout: 60_000 }, async () => {
    await applyAll();
    disableLeaver();
    denyProdAssumeRole();
    writeFileSync(world.config, `${readFileSync(world.config, 'utf8')}daemon:\n  runAtStart: true\n  healthPort: 0\n`);

    const child = spawn(process.execPath, [BIN, 'daemon', '--config', world.config], { env: { PATH: process.env['PATH'] ?? '', ...awsEnv(world) }, stdio: ['ignore', 'pipe', 'pipe'] });
    children.push(child);
    const lines: Record<string, unknown>[] = [];
    let buf = '';
    child.stdout.on('data', (d: Buffer) => {
      buf += d.toString();
      for (let i = buf.indexOf('\n'); i >= 0; i = buf.indexOf('\n')) {
        try {
          lines.push(JSON.parse(buf.slice(0, i)) as Record<string, unknown>);
        } catch {
          // not a log line
        }
        buf = buf.slice(i + 1);
      }
    });
    let stderr = '';
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    const until = async (check: () => boolean, what: string): Promise<void> => {
      for (const end = Date.now() + 45_000; !check(); await new Promise((r) => setTimeout(r, 50))) {
        if (child.exitCode !== null || Date.now() > end) throw new Error(`no ${what}; stderr: ${stderr}\n${lines.map((l) => JSON.stringify(l)).join('\n')}`);
      }
    };
    await until(() => lines.some((l) => String(l['msg']).startsWith('run summary')), 'finished run');
    const url = String(lines.find((l) => l['msg'] === 'rolemap daemon started')?.['health'] ?? '');
    const res = await fetch(`${url}/healthz`);
    const body = (await res.json()) as Record<string, unknown>;
    expect(res.status).toBe(503);
    expect(body).toMatchObject({ status: 'degraded', reason: 'degraded', degraded: [{ name: 'account prod (222222222222)', account: '222222222222' }] });
    expect(String(body['message'])).toContain('account prod (222222222222)');
    expect(lines.find((l) => String(l['msg']).startsWith('run summary'))).toMatchObject({ outcome: 'partial' });
    // The leaver's management revocation went ahead in the daemon's run too.
    const { runs, events } = readJournal(world.journal);
    const run = runs.at(-1);
    expect(run?.outcome).toBe('partial');
    expect(events.filter((e) => e.run_id === run?.id && e.status === 'applied').map((e) => e.address)).toContain('iam_role_revocations.management.Admin');
    child.kill('SIGTERM');
    await new Promise((r) => child.once('exit', r));
  });
});
