import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { hostname, tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { JournalLockedError, acquireJournalLock, isAliveHere } from '../../../src/shell/daemon/lock.js';
import type { LockInfo } from '../../../src/shell/daemon/lock.js';
import { Daemon } from '../../../src/shell/daemon/daemon.js';
import { FakeRun, captureLogger, settings } from './fake-run.js';
import type { TestConfig } from './fake-run.js';

let dir: string;
let journal: string;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'rolemap-lock-'));
  journal = join(dir, 'journal.db');
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

/** The pid of a process that has exited. */
function deadPid(): number {
  const child = spawnSync(process.execPath, ['-e', 'process.stdout.write(String(process.pid))'], { encoding: 'utf8' });
  const pid = Number(child.stdout);
  expect(() => process.kill(pid, 0)).toThrow();
  return pid;
}

function daemon(log = captureLogger()) {
  const fake = new FakeRun();
  return { log, d: new Daemon<TestConfig>({ loadConfig: () => ({ name: 'x', settings: settings(journal, { healthPort: null }) }), settingsOf: (c) => c.settings, run: fake.run, log: log.log, command: 'rolemap daemon --config test.yaml' }) };
}

describe('journal lock', () => {
  it('writes who holds it and refuses a second holder, naming the first', () => {
    const lock = acquireJournalLock(journal, { command: 'rolemap daemon --config /etc/rolemap/rolemap.yaml' });
    const onDisk = JSON.parse(readFileSync(`${journal}.lock`, 'utf8')) as LockInfo;
    expect(onDisk).toEqual({ pid: process.pid, host: hostname(), startedAt: lock.info.startedAt, command: 'rolemap daemon --config /etc/rolemap/rolemap.yaml' });
    let err: unknown;
    try {
      acquireJournalLock(journal, { command: 'rolemap reconcile' });
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(JournalLockedError);
    expect((err as JournalLockedError).message).toContain(`locked by pid ${process.pid} on ${hostname()}`);
    expect((err as JournalLockedError).message).toContain('rolemap daemon --config /etc/rolemap/rolemap.yaml');
    expect((err as JournalLockedError).holder?.pid).toBe(process.pid);
    lock.release();
    expect(existsSync(`${journal}.lock`)).toBe(false);
    acquireJournalLock(journal).release();
  });

  it('recovers a lock left by a dead process, with a warning', () => {
    const pid = deadPid();
    writeFileSync(`${journal}.lock`, JSON.stringify({ pid, host: hostname(), startedAt: '2026-01-01T00:00:00.000Z', command: 'rolemap daemon' }));
    const recovered: string[] = [];
    const lock = acquireJournalLock(journal, { onStaleRecovered: (stale, why) => recovered.push(`${stale.pid}: ${why}`) });
    expect(recovered).toEqual([`${pid}: pid ${pid} is not running on ${hostname()}`]);
    expect((JSON.parse(readFileSync(`${journal}.lock`, 'utf8')) as LockInfo).pid).toBe(process.pid);
    lock.release();
  });

  it('never recovers a lock held on another host or one it cannot read', () => {
    writeFileSync(`${journal}.lock`, JSON.stringify({ pid: 1, host: 'bastion-2', startedAt: '2026-01-01T00:00:00.000Z', command: 'rolemap daemon' }));
    expect(() => acquireJournalLock(journal)).toThrow(/locked by pid 1 on bastion-2 .*held on another host/);
    writeFileSync(`${journal}.lock`, 'garbage');
    expect(() => acquireJournalLock(journal)).toThrow(/not a rolemap lock/);
  });

  it('treats a live pid as alive, and a pid that started after the lock was taken as reused', () => {
    const me: LockInfo = { pid: process.pid, host: hostname(), startedAt: new Date().toISOString(), command: '' };
    expect(isAliveHere(me)).toBe(true);
    expect(isAliveHere({ ...me, pid: deadPid() })).toBe(false);
    if (existsSync('/proc/self/stat')) expect(isAliveHere({ ...me, startedAt: '2000-01-01T00:00:00.000Z' })).toBe(false);
  });

  it('a second daemon on the same journal refuses to start; a stale lock lets one start with a warning', async () => {
    const first = daemon();
    await first.d.start();
    const second = daemon();
    await expect(second.d.start()).rejects.toBeInstanceOf(JournalLockedError);
    await first.d.stop('test');

    const pid = deadPid();
    writeFileSync(`${journal}.lock`, JSON.stringify({ pid, host: hostname(), startedAt: '2026-01-01T00:00:00.000Z', command: 'rolemap daemon' }));
    const third = daemon();
    await third.d.start();
    expect(third.log.lines.find((l) => String(l['msg']).startsWith('recovered a stale journal lock'))).toMatchObject({ level: 'warn', stale: { pid } });
    await third.d.stop('test');
  });
});
