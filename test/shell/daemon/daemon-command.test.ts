import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Command } from 'commander';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { registerDaemon } from '../../../src/shell/cli/daemon-command.js';
import { ApprovalStore } from '../../../src/shell/daemon/approvals.js';
import { acquireJournalLock } from '../../../src/shell/daemon/lock.js';
import { EXIT, ExitError } from '../../../src/shell/exit-codes.js';
import type { DaemonWiring } from '../../../src/shell/daemon/wiring.js';
import { plan, settings } from './fake-run.js';

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
  it('records the approval of the pending refusal, reading journal.path from the config', async () => {
    const refused = plan(12, { code: 'deletion-threshold', message: 'too many' }, 'D');
    new ApprovalStore(journal).recordRefusal('20260301T100000Z-abcdef', refused, new Date());
    const out = vi.spyOn(process.stdout, 'write').mockImplementation(() => true);
    await program().parseAsync(['approve', '20260301T100000Z-abcdef', '--config', 'x.yaml'], { from: 'user' });
    expect(String(out.mock.calls[0]?.[0])).toContain('Approved run 20260301T100000Z-abcdef: deletion-threshold, 12 changes (12 to add, 0 to change, 0 to destroy, 0 leavers)');
    expect(new ApprovalStore(journal).approvals()).toMatchObject([{ runId: '20260301T100000Z-abcdef', actualDigest: 'D', changes: 12 }]);
  });

  it('says what is pending when the run is not the refused one', async () => {
    await expect(program().parseAsync(['approve', 'nope', '--journal', journal], { from: 'user' })).rejects.toThrow(/no refused plan is awaiting approval/);
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
