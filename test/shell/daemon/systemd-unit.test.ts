/**
 * config/rolemap.service: the hardening the issue asks for is there, and (where systemd-analyze
 * exists, as on Debian) systemd itself accepts the unit and rates its exposure as low.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';

const UNIT = join(import.meta.dirname, '..', '..', '..', 'config', 'rolemap.service');
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
    // systemd waits longer than the daemon's default grace (30 s) before SIGKILL.
    expect(Number(d.get('TimeoutStopSec')?.[0])).toBeGreaterThan(30);
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
