/**
 * config/rolemap.service: the hardening the issue asks for is there, and (where systemd-analyze
 * exists, as on Debian) systemd itself accepts the unit and rates its exposure as low.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';

const ROOT = join(import.meta.dirname, '..', '..', '..');
const UNIT = join(ROOT, 'config', 'rolemap.service');
const BIN = join(ROOT, 'bin', 'rolemap.js');
const text = readFileSync(UNIT, 'utf8');

/** Directive -> values, in order (a directive may repeat). */
function directives(unit: string): Map<string, string[]> {
  const map = new Map<string, string[]>();
  for (const raw of unit.split('\n')) {
    const line = raw.trim();
    if (line === '' || line.startsWith('#') || line.startsWith('[')) continue;
    const i = line.indexOf('=');
    const key = line.slice(0, i);
    map.set(key, [...(map.get(key) ?? []), line.slice(i + 1)]);
  }
  return map;
}

const hasSystemd = spawnSync('systemd-analyze', ['--version']).status === 0;

describe('config/rolemap.service', () => {
  const d = directives(text);
  it('runs as a dedicated user with the hardening the issue asks for', () => {
    expect(d.get('User')).toEqual(['rolemap']);
    expect(d.get('ExecStart')?.[0]).toContain(' daemon --config /etc/rolemap/rolemap.yaml');
    expect(d.get('ExecReload')).toEqual(['/bin/kill -HUP $MAINPID']);
    expect(d.get('Restart')).toEqual(['on-failure']);
    expect(d.get('RestartPreventExitStatus')).toEqual(['5']);
    for (const [k, v] of [
      ['NoNewPrivileges', 'yes'],
      ['ProtectSystem', 'strict'],
      ['ReadWritePaths', '/var/lib/rolemap'],
      ['PrivateTmp', 'yes'],
      ['ProtectHome', 'yes'],
      ['CapabilityBoundingSet', ''],
      ['RestrictAddressFamilies', 'AF_INET AF_INET6 AF_UNIX'],
      ['SystemCallFilter', '@system-service'],
    ] as const) {
      expect(d.get(k), k).toContain(v);
    }
    // The bind password comes as a systemd credential, and the config the unit documents for it is valid.
    expect(d.get('LoadCredential')).toEqual(['ldap-bind-password:/etc/rolemap/ldap-bind-password']);
    // systemd waits longer than the daemon's default grace (30 s) before SIGKILL.
    expect(Number(d.get('TimeoutStopSec')?.[0])).toBeGreaterThan(30);
  });

  it('the config it documents for the bind password is a valid rolemap config, and validate looks for the credential in $CREDENTIALS_DIRECTORY', () => {
    const documented = /^# {3}directory:\n# {5}(bindPassword: .+)$/m.exec(text)?.[1];
    expect(documented).toBe('bindPassword: {credential: ldap-bind-password}');
    const dir = mkdtempSync(join(tmpdir(), 'rolemap-credential-'));
    try {
      const config = join(dir, 'rolemap.yaml');
      writeFileSync(
        config,
        `directory:\n  type: ldap\n  url: ldaps://dc1.corp.example\n  bindDn: CN=svc-rolemap,DC=corp,DC=example\n  ${documented}\n  userBase: DC=corp,DC=example\naws: {region: eu-west-1}\naccounts: {prod: "222222222222"}\nsafety: {ownerId: unit}\n`,
      );
      const credentials = join(dir, 'credentials');
      mkdirSync(credentials);
      writeFileSync(join(credentials, 'ldap-bind-password'), 'from-systemd\n');
      const run = (env: Record<string, string>): { status: number | null; out: string } => {
        const r = spawnSync(process.execPath, [BIN, 'validate', '--config', config], { encoding: 'utf8', env: { PATH: process.env['PATH'] ?? '', ...env } });
        return { status: r.status, out: r.stdout + r.stderr };
      };
      const ok = run({ CREDENTIALS_DIRECTORY: credentials });
      expect(ok.status, ok.out).toBe(0);
      expect(ok.out).not.toContain('bindPassword');
      const outside = run({});
      expect(outside.status, outside.out).toBe(0);
      expect(outside.out).toContain('systemd credential ldap-bind-password: $CREDENTIALS_DIRECTORY is not set here');
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it.skipIf(!hasSystemd)('is accepted by systemd-analyze verify and rates a low exposure', () => {
    const dir = mkdtempSync(join(tmpdir(), 'rolemap-unit-'));
    try {
      const unit = join(dir, 'rolemap.service');
      writeFileSync(unit, text.replace('/usr/bin/node', process.execPath));
      const verify = spawnSync('systemd-analyze', ['verify', '--man=no', unit], { encoding: 'utf8' });
      expect(verify.stderr).toBe('');
      expect(verify.status).toBe(0);
      const security = execFileSync('systemd-analyze', ['security', '--offline=yes', unit], { encoding: 'utf8' });
      const score = Number(/Overall exposure level for rolemap\.service: ([\d.]+)/.exec(security)?.[1]);
      expect(score).toBeLessThanOrEqual(2);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
