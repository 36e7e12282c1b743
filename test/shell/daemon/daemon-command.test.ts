import { spawnSync } from 'node:child_process';
import { chmodSync, mkdtempSync, readdirSync, rmSync, statSync } from 'node:fs';
import { tmpdir, userInfo } from 'node:os';
import { join } from 'node:path';
import { Command } from 'commander';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { registerDaemon } from '../../../src/shell/cli/daemon-command.js';
import { ApprovalStore } from '../../../src/shell/daemon/approvals.js';
import { acquireJournalLock } from '../../../src/shell/daemon/lock.js';
import { EXIT, ExitError } from '../../../src/shell/exit-codes.js';
import type { DaemonWiring } from '../../../src/shell/daemon/wiring.js';
import { plan, settings } from './fake-run.js';
import { planHash } from '../../../src/core/plan/plan-hash.js';

let dir: string;
let journal: string;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'rolemap-cmd-'));
  journal = join(dir, 'journal.db');
});
afterEach(() => {
  vi.restoreAllMocks();
  rmSync(dir, { recursive: true, force: true });
});

const wiring = (): DaemonWiring<unknown> => ({
  loadConfig: () => Promise.resolve({ journal }),
  settingsOf: () => settings(journal, { healthPort: null }),
  createRuntime: () => Promise.reject(new Error('no runtime in this test')),
});

function program(): Command {
  const p = new Command('rolemap').exitOverride();
  registerDaemon(p, wiring());
  return p;
}

describe('rolemap approve RUN', () => {
  it('records the approval of the pending refusal in the journal, by plan hash and from the OS, reading journal.path from the config', async () => {
    const refused = plan(12, { code: 'deletion-threshold', message: 'too many' }, 'D');
    const daemonSide = ApprovalStore.open(journal, { create: true });
    daemonSide.recordRefusal('20260301T100000Z-abcdef', refused);
    daemonSide.close();
    const out = vi.spyOn(process.stdout, 'write').mockImplementation(() => true);
    await program().parseAsync(['approve', '20260301T100000Z-abcdef', '--config', 'x.yaml'], { from: 'user' });
    const me = userInfo();
    expect(String(out.mock.calls[0]?.[0])).toContain(
      `Approved the plan of run 20260301T100000Z-abcdef (${planHash(refused)}): deletion-threshold, 12 changes (12 to add, 0 to change, 0 to destroy, 0 leavers), approved by ${me.username} (uid ${me.uid})`,
    );
    const store = ApprovalStore.open(journal);
    try {
      expect(store.unusedApproval()?.approval).toMatchObject({ runId: '20260301T100000Z-abcdef', planHash: planHash(refused), approver: { uid: me.uid, user: me.username } });
    } finally {
      store.close();
    }
  });

  it('records $SUDO_USER as claimed, beside the uid the OS gives', async () => {
    const daemonSide = ApprovalStore.open(journal, { create: true });
    daemonSide.recordRefusal('r1', plan(3, { code: 'deletion-threshold', message: 'too many' }));
    daemonSide.close();
    vi.stubEnv('SUDO_USER', 'alice');
    const out = vi.spyOn(process.stdout, 'write').mockImplementation(() => true);
    await program().parseAsync(['approve', 'r1', '--journal', journal], { from: 'user' });
    expect(String(out.mock.calls[0]?.[0])).toContain(`approved by ${userInfo().username} (uid ${userInfo().uid}), via sudo by alice ($SUDO_USER, as claimed)`);
    vi.unstubAllEnvs();
  });

  // As root only: the daemon runs as its own user (here nobody, 65534), the operator approves with sudo.
  it.runIf(process.getuid?.() === 0)('an approval written by root is read by the daemon running as another user', () => {
    const nobody = { uid: 65534, gid: 65534 };
    chmodSync(dir, 0o777);
    const side = (...args: string[]): string => {
      const r = spawnSync(process.execPath, ['--import', 'tsx', join(import.meta.dirname, 'approvals-side.ts'), journal, ...args], { ...nobody, encoding: 'utf8', env: { PATH: process.env['PATH'] ?? '', HOME: dir } });
      if (r.status !== 0) throw new Error(`approvals-side.ts ${args.join(' ')} as uid ${nobody.uid} failed: ${r.error?.message ?? r.stderr}`);
      return r.stdout;
    };
    side('refuse', '20260301T100000Z-abcdef');
    expect(statSync(journal).uid).toBe(nobody.uid);
    const approve = spawnSync(process.execPath, [join(import.meta.dirname, '..', '..', '..', 'bin', 'rolemap.js'), 'approve', '20260301T100000Z-abcdef', '--journal', journal], {
      encoding: 'utf8',
      env: { PATH: process.env['PATH'] ?? '', SUDO_USER: 'alice' },
    });
    expect(approve.status, approve.stderr).toBe(0);
    expect(approve.stdout).toContain('approved by root (uid 0), via sudo by alice ($SUDO_USER, as claimed)');
    // Whatever SQLite left beside the journal belongs to the journal's owner, and the daemon's user reads the approval.
    for (const f of readdirSync(dir).filter((n) => n.startsWith('journal.db'))) expect(statSync(join(dir, f)).uid, f).toBe(nobody.uid);
    expect(JSON.parse(side('read'))).toMatchObject({ runId: '20260301T100000Z-abcdef', approver: { uid: 0, user: 'root', sudoUser: 'alice' } });
  });

  it('says there is nothing to approve, and refuses a journal that does not exist', async () => {
    ApprovalStore.open(journal, { create: true }).close();
    await expect(program().parseAsync(['approve', 'nope', '--journal', journal], { from: 'user' })).rejects.toThrow(/has no run nope/);
    await expect(program().parseAsync(['approve', 'nope', '--journal', join(dir, 'absent.db')], { from: 'user' })).rejects.toThrow(/no journal at/);
  });
});

describe('rolemap daemon', () => {
  it('exits LOCKED (5) naming the holder when another rolemap holds the journal', async () => {
    const lock = acquireJournalLock(journal, { command: 'rolemap reconcile --auto-approve' });
    try {
      const err = await program().parseAsync(['daemon', '--config', 'x.yaml'], { from: 'user' }).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(ExitError);
      expect((err as ExitError).code).toBe(EXIT.LOCKED);
      expect((err as ExitError).message).toContain('rolemap reconcile --auto-approve');
    } finally {
      lock.release();
    }
  });
});
