/**
 * An AD group the role map references by name is renamed: through the real command line and the
 * real daemon against the emulator, its mapping's current state is held everywhere (federated role
 * and Identity Center alike), the warning names the reference and the likely match (same objectGUID,
 * new name), nothing is deleted or revoked for it, and /healthz says degraded.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { awsEnv, BIN, mutatingCalls, readJournal, rolemap, startWorld, useProcessEnv, type World } from './world.js';

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

/** Platform-Admins becomes Platform-Engineers in AD (same objectGUID): the role map still says Platform-Admins. */
function renamePlatformAdmins(): void {
  const ldif = readFileSync(world.ldif, 'utf8');
  const renamed = ldif
    .replace('dn: CN=Platform-Admins,OU=Groups,DC=example,DC=com', 'dn: CN=Platform-Engineers,OU=Groups,DC=example,DC=com')
    .replace('cn: Platform-Admins', 'cn: Platform-Engineers')
    .replace('sAMAccountName: Platform-Admins', 'sAMAccountName: Platform-Engineers')
    .replace(/member: CN=Platform-Admins,OU=Groups/g, 'member: CN=Platform-Engineers,OU=Groups');
  expect(renamed).not.toBe(ldif);
  writeFileSync(world.ldif, renamed);
}

describe('a renamed AD group referenced by name', () => {
  it('holds the mapping everywhere: no deletion, no revocation, a warning naming the likely match', async () => {
    const first = await rolemap(['reconcile', '--auto-approve', '--config', world.config]);
    expect(first.code, first.stderr).toBe(2);
    renamePlatformAdmins();

    world.emulator.resetCalls();
    const dry = await rolemap(['reconcile', '--dry-run', '--config', world.config]);
    expect(dry.stdout).toMatch(/AD group sAMAccountName=Platform-Admins \(permission set PlatformAdmin\) is not in the directory: its current state is held .* it looks like AD group Platform-Engineers \(sAMAccountName Platform-Engineers, same objectGUID [0-9a-f-]{36}\)/);
    expect(dry.stdout).toMatch(/AD group sAMAccountName=Platform-Admins \(role PlatformAdmin in 222222222222\) is not in the directory: its current state is held/);
    expect(dry.stdout).not.toMatch(/ will be destroyed| will be revoked| will be disabled/);
    expect(dry.stdout).toMatch(/No changes\.|0 to destroy, 0 leavers/);

    const apply = await rolemap(['reconcile', '--auto-approve', '--config', world.config]);
    expect([0, 2]).toContain(apply.code);
    const deletes = Object.keys(mutatingCalls(world.emulator.calls())).filter((k) => /Delete|Detach|PutRolePolicy|UpdateAccessKey/.test(k));
    expect(deletes).toEqual([]);
    const { events } = readJournal(world.journal);
    expect(events.filter((e) => e.action === 'delete' || e.action === 'revoke')).toEqual([]);
  });

  it('the daemon: /healthz says degraded and names the reference', { timeout: 60_000 }, async () => {
    const first = await rolemap(['reconcile', '--auto-approve', '--config', world.config]);
    expect(first.code, first.stderr).toBe(2);
    renamePlatformAdmins();
    writeFileSync(world.config, `${readFileSync(world.config, 'utf8')}daemon:\n  runAtStart: true\n  healthPort: 0\n`);
    const child = spawn(process.execPath, [BIN, 'daemon', '--config', world.config], { env: { PATH: process.env['PATH'] ?? '', ...awsEnv(world) }, stdio: ['ignore', 'pipe', 'pipe'] });
    children.push(child);
    let out = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    const lines = (): Record<string, unknown>[] => out.split('\n').flatMap((l) => { try { return [JSON.parse(l) as Record<string, unknown>]; } catch { return []; } });
    for (const end = Date.now() + 45_000; !lines().some((l) => String(l['msg']).startsWith('run summary')); await new Promise((r) => setTimeout(r, 50))) {
      if (child.exitCode !== null || Date.now() > end) throw new Error(`no finished run:\n${out}`);
    }
    const url = String(lines().find((l) => l['msg'] === 'rolemap daemon started')?.['health'] ?? '');
    const res = await fetch(`${url}/healthz`);
    const body = (await res.json()) as { status: string; degraded: { name: string }[] };
    expect(res.status).toBe(503);
    expect(body.status).toBe('degraded');
    expect(body.degraded.map((d) => d.name)).toContain('AD group sAMAccountName=Platform-Admins');
    child.kill('SIGTERM');
    await new Promise((r) => child.once('exit', r));
  });
});
