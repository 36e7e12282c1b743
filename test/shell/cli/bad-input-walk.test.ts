/**
 * Every command of the real CLI, walked over the mistakes a new user makes: paths that do not exist,
 * folders where files belong, a file that is not a journal, arguments that do not parse. Each answer is
 * a clear message and a non-zero exit; never "Internal error", never a stack trace on the terminal.
 */
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { configYaml } from '../reconcile/fixtures.js';
import { runCli } from './run-cli.js';

const STACK_FRAME = /^\s+at .+(:\d+:\d+\)?|\(node:.+\))$/m;

function place(): { dir: string; config(journalPath: string): string } {
  const dir = mkdtempSync(join(tmpdir(), 'rolemap-walk-'));
  writeFileSync(join(dir, 'directory.ldif'), 'version: 1\n');
  return {
    dir,
    config(journalPath: string): string {
      const file = join(dir, `rolemap-${Math.random().toString(36).slice(2)}.yaml`);
      writeFileSync(file, `${configYaml()}journal: {path: ${JSON.stringify(journalPath)}}\n`);
      return file;
    },
  };
}

describe('the CLI over bad paths and arguments: a message, never a stack trace', () => {
  const p = place();
  const missingDirJournal = p.config('/nonexistent/rolemap/journal.db');
  const okConfig = p.config(join(p.dir, 'journal.db'));
  const folder = join(p.dir, 'a-folder');
  mkdirSync(folder);
  const notAJournal = join(p.dir, 'not-a-journal.db');
  writeFileSync(notAJournal, 'this is not SQLite\n'.repeat(100));

  const cases: readonly (readonly string[])[] = [
    // a journal folder that does not exist
    ['reconcile', '--dry-run', '--config', missingDirJournal],
    ['reconcile', '--auto-approve', '--config', missingDirJournal],
    ['daemon', '--config', missingDirJournal],
    ['approve', 'run-1', '--config', missingDirJournal],
    ['journal', 'list', '--config', missingDirJournal],
    ['journal', 'runs', '-c', missingDirJournal],
    ['journal', 'show', 'run-1', '--config', missingDirJournal],
    ['journal', 'access', '--as-of', '1d', '--config', missingDirJournal],
    ['journal', 'verify', '--config', missingDirJournal],
    ['journal', 'migrate', '--config', missingDirJournal],
    // --plan-out and --plan where they cannot be
    ['reconcile', '--dry-run', '--plan-out', '/nonexistent/plan.json', '--config', okConfig],
    ['reconcile', '--dry-run', '--plan-out', folder, '--config', okConfig],
    ['reconcile', '--plan', '/nonexistent/plan.json', '--auto-approve', '--config', okConfig],
    ['reconcile', '--plan', folder, '--auto-approve', '--config', okConfig],
    ['reconcile', '--plan', notAJournal, '--auto-approve', '--config', okConfig],
    // configs that are not there, or not files
    ['validate', '--config', '/nonexistent/rolemap.yaml'],
    ['validate', '--config', folder],
    ['reconcile', '--dry-run', '--config', '/nonexistent/rolemap.yaml'],
    ['daemon', '--config', '/nonexistent/rolemap.yaml'],
    ['daemon', '--config', folder],
    // journals that are not there, folders, and files that are not journals
    ['journal', 'list', '--journal', '/nonexistent/journal.db'],
    ['journal', 'list', '--journal', folder],
    ['journal', 'list', '--journal', notAJournal],
    ['journal', 'verify', '--journal', notAJournal],
    ['journal', 'migrate', '--journal', '/nonexistent/journal.db'],
    ['journal', 'migrate', '--journal', notAJournal],
    ['journal', 'show', 'run-1', '--journal', notAJournal],
    ['approve', 'run-1', '--journal', '/nonexistent/journal.db'],
    ['journal', 'list'],
    // arguments that do not parse
    ['journal', 'list', '--journal', notAJournal, '--limit', 'many'],
    ['journal', 'list', '--journal', notAJournal, '--since', 'yesterday'],
    ['journal', 'list', '--journal', notAJournal, '--format', 'xml'],
    ['reconcile', '--allow-deletes', '-3', '--dry-run', '--config', okConfig],
    ['daemon', '--grace', 'soon', '--config', okConfig],
    ['approve'],
    ['frobnicate'],
  ];

  it.each(cases.map((argv) => [argv.join(' '), argv] as const))('rolemap %s', async (_name, argv) => {
    const r = await runCli(argv, { env: {} });
    expect(r.code, `exit code of rolemap ${argv.join(' ')}\n${r.stderr}`).not.toBe(0);
    expect(r.stderr).not.toMatch(/Internal error/);
    expect(r.stderr).not.toMatch(STACK_FRAME);
    expect(r.stdout).not.toMatch(STACK_FRAME);
    expect(r.stderr.trim()).not.toBe('');
  });

  it('a journal folder that does not exist is named before anything is read: by validate (a warning), by reconcile and by daemon', async () => {
    const v = await runCli(['validate', '--config', missingDirJournal], { env: {} });
    expect(v.code).toBe(0);
    expect(v.stderr).toContain('warning: journal.path /nonexistent/rolemap/journal.db: the folder /nonexistent/rolemap does not exist');
    for (const argv of [
      ['reconcile', '--dry-run', '--config', missingDirJournal],
      ['reconcile', '--auto-approve', '--config', missingDirJournal],
    ]) {
      const r = await runCli(argv, { env: {} });
      expect(r.code).toBe(1);
      expect(r.stderr).toBe('Error: journal.path /nonexistent/rolemap/journal.db: the folder /nonexistent/rolemap does not exist (create it first, e.g. install -d -m 0750 /nonexistent/rolemap)\n');
      expect(r.stdout).toBe('');
    }
    const d = await runCli(['daemon', '--config', missingDirJournal], { env: {} });
    expect(d.code).toBe(1);
    expect(d.stderr).toMatch(/\/nonexistent\/rolemap does not exist/);
  });

  it('--plan-out in a folder that does not exist is refused before the directory or AWS is read', async () => {
    const r = await runCli(['reconcile', '--dry-run', '--plan-out', '/nonexistent/plan.json', '--config', okConfig], { env: {} });
    expect(r.code).toBe(1);
    expect(r.stdout).toBe('');
    expect(r.stderr).toBe('Error: --plan-out /nonexistent/plan.json: the folder /nonexistent does not exist (create it first, e.g. install -d -m 0750 /nonexistent)\n');
  });
});
