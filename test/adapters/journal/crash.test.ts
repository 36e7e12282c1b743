import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { INTERRUPTED_MESSAGE, NEVER_STARTED_MESSAGE, SqliteJournal, listChanges, showRun, verifyJournal } from '../../../src/adapters/journal/index.js';
import { runStart, tempDir } from './fixtures.js';

const CHILD = fileURLToPath(new URL('./crash-child.ts', import.meta.url));

/** Starts the child and SIGKILLs it once its second AWS call is in flight (after the intent row). */
function runAndKill(file: string): Promise<{ signal: NodeJS.Signals | null; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--import', 'tsx', CHILD, file], { stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`child never reached the in-flight call; stderr: ${stderr}`));
    }, 20_000);
    child.stdout.on('data', (d: Buffer) => {
      stdout += d.toString();
      if (stdout.includes('IN-FLIGHT 2')) child.kill('SIGKILL');
    });
    child.stderr.on('data', (d: Buffer) => {
      stderr += d.toString();
    });
    child.on('error', reject);
    child.on('exit', (_code, signal) => {
      clearTimeout(timer);
      resolve({ signal, stdout, stderr });
    });
  });
}

describe('journal crash recovery', () => {
  let tmp: ReturnType<typeof tempDir>;
  beforeEach(() => {
    tmp = tempDir();
  });
  afterEach(() => tmp.cleanup());

  it('a process SIGKILLed between intent and outcome leaves an intent that the next run records as interrupted; verify passes', async () => {
    const file = tmp.file('journal.db');
    const { signal, stdout } = await runAndKill(file);
    expect(signal).toBe('SIGKILL');
    expect(stdout).toContain('IN-FLIGHT 2');

    const journal = SqliteJournal.open(file, { clock: () => new Date('2026-04-01T13:00:00.000Z') });
    try {
      // What the killed process left on disk: change 1 applied, change 2's intent and no outcome.
      expect(listChanges(journal.database, { run: 'doomed' }, new Date()).map((l) => [l.seq, l.status])).toEqual([
        [1, 'applied'],
        [2, 'intent'],
        [3, 'pending'],
      ]);
      expect(verifyJournal(journal.database).ok).toBe(true);

      journal.startRun(runStart('after', '2026-04-01T13:00:00.000Z'));

      expect(listChanges(journal.database, { run: 'doomed' }, new Date()).map((l) => [l.seq, l.status, l.error])).toEqual([
        [1, 'applied', null],
        [2, 'interrupted', INTERRUPTED_MESSAGE],
        [3, 'skipped', NEVER_STARTED_MESSAGE],
      ]);
      expect(showRun(journal.database, 'doomed')?.run).toMatchObject({ outcome: 'interrupted', finishedAt: null });
      expect(verifyJournal(journal.database)).toMatchObject({ ok: true, problems: [] });
    } finally {
      journal.close();
    }
  });
});
