import Database from 'better-sqlite3';
import { statSync, writeFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { main } from '../../../src/shell/cli/main.js';
import { openForWrite, migrate, loadMigrations } from '../../../src/adapters/journal/index.js';
import { configYaml } from '../../shell/reconcile/fixtures.js';
import { tempDir } from './fixtures.js';
import { BOB, STORY, writeStory } from './journal-story.js';

/** Runs `rolemap ...` through the CLI's main(), capturing what it prints. */
async function rolemap(...argv: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  let stdout = '';
  let stderr = '';
  const out = vi.spyOn(process.stdout, 'write').mockImplementation((chunk: string | Uint8Array) => {
    stdout += String(chunk);
    return true;
  });
  const err = vi.spyOn(process.stderr, 'write').mockImplementation((chunk: string | Uint8Array) => {
    stderr += String(chunk);
    return true;
  });
  try {
    const code = await main(argv);
    return { code, stdout, stderr };
  } finally {
    out.mockRestore();
    err.mockRestore();
  }
}

describe('rolemap journal (CLI)', () => {
  const tmp = tempDir();
  const file = tmp.file('journal.db');
  beforeAll(() => writeStory(file));
  afterAll(() => tmp.cleanup());

  it('list: filters and jsonl output', async () => {
    const r = await rolemap('journal', 'list', '--journal', file, '--user', BOB.upn, '--format', 'jsonl');
    expect(r.code).toBe(0);
    const lines = r.stdout.trim().split('\n').map((l) => JSON.parse(l) as { runId: string; seq: number; status: string; principalName: string });
    expect(lines.map((l) => `${l.runId}#${l.seq} ${l.status}`)).toEqual(['run-1#2 applied', 'run-1#4 applied', 'run-3#1 applied', 'run-3#2 applied', 'run-3#3 failed']);
  });

  it('list: table and csv', async () => {
    const table = await rolemap('journal', 'list', '--journal', file, '--status', 'failed');
    expect(table.stdout.split('\n')[0]).toMatch(/^AT\s+RUN\s+SEQ\s+STATUS\s+ACTION\s+ADDRESS\s+ACCOUNT\s+PRINCIPAL\s+REASON \/ ERROR$/);
    expect(table.stdout).toMatch(/run-3\s+3\s+failed\s+delete\s+identitystore_user\.bob\.jones@corp\.example\.com .*bob\s+ConflictException: User is still referenced/);
    const csv = await rolemap('journal', 'list', '--journal', file, '--run', 'run-2', '--format', 'csv');
    expect(csv.stdout.split('\r\n')[0]).toBe('at,recorded_at,run,seq,status,action,kind,address,account,principal_name,principal_guid,group_name,group_guid,leaver_reason,reason,error,request_ids');
    expect(csv.stdout.split('\r\n')).toHaveLength(3);
  });

  it('reads the journal path from --config (journal.path, relative to the config file)', async () => {
    const config = tmp.file('rolemap.yaml');
    // A complete configuration (the journal commands load and validate it like every command).
    writeFileSync(config, `${configYaml()}journal:\n  path: journal.db\n`);
    const r = await rolemap('journal', 'runs', '--config', config, '--format', 'json');
    expect(r.code).toBe(0);
    expect((JSON.parse(r.stdout) as { id: string }[]).map((x) => x.id)).toEqual(['run-3', 'run-2', 'run-1']);
  });

  it('runs and show', async () => {
    const runs = await rolemap('journal', 'runs', '--journal', file);
    expect(runs.stdout).toMatch(/run-3\s+2026-01-20T09:00:00.000Z\s+2026-01-20T09:01:00.000Z\s+test\s+apply\s+partial\s+3\s+applied 2, failed 1/);
    const show = await rolemap('journal', 'show', 'run-3', '--journal', file);
    expect(show.code).toBe(0);
    expect(show.stdout).toContain('Run run-3');
    expect(show.stdout).toContain('error: 1 change failed');
    expect(show.stdout).toMatch(/revoke\s+iam_role_revocations\.111111111111\.Reader/);
    const json = await rolemap('journal', 'show', 'run-3', '--journal', file, '--format', 'json');
    expect((JSON.parse(json.stdout) as { events: unknown[] }).events).toHaveLength(9);
    const missing = await rolemap('journal', 'show', 'run-404', '--journal', file);
    expect(missing).toMatchObject({ code: 1, stderr: 'No run run-404 in the journal.\n' });
  });

  it('access --as-of, before and after the leaver', async () => {
    const before = await rolemap('journal', 'access', '--journal', file, '--as-of', '2026-01-12', '--user', 'bob', '--format', 'csv');
    expect(before.stdout).toBe(
      'user,user_guid,account,kind,target,via_group,via_group_guid\r\n' +
        `bob,${BOB.guid},111111111111,iam_role,Reader,AWS-Prod-Readers,9f000000-0000-4000-8000-0000000ead00\r\n` +
        `bob,${BOB.guid},222222222222,permission_set,ReadOnly,AWS-Prod-Readers,9f000000-0000-4000-8000-0000000ead00\r\n`,
    );
    const after = await rolemap('journal', 'access', '--journal', file, '--as-of', STORY.run3.snapshotAt);
    expect(after.stdout).toContain(`As of ${STORY.run3.snapshotAt}: snapshot 2, taken ${STORY.run3.snapshotAt} by run run-3.`);
    expect(after.stdout).toContain('alice');
    expect(after.stdout).not.toContain('bob');
    const missingAsOf = await rolemap('journal', 'access', '--journal', file);
    expect(missingAsOf.code).toBe(1);
  });

  it('verify: exit 0 when intact, 1 naming the row when tampered', async () => {
    const copy = tmp.file('copy.db');
    writeStory(copy);
    const ok = await rolemap('journal', 'verify', '--journal', copy);
    expect(ok.code).toBe(0);
    expect(ok.stdout).toContain('OK: every row is intact and linked.');
    expect(ok.stdout).toContain('SQLite integrity check: ok.');
    const db = new Database(copy);
    db.prepare("UPDATE change_events SET error = NULL, status = 'applied' WHERE id = (SELECT max(id) FROM change_events WHERE status = 'failed')").run();
    db.close();
    const bad = await rolemap('journal', 'verify', '--journal', copy);
    expect(bad.code).toBe(1);
    expect(bad.stdout).toMatch(/TAMPERED: row \d+ \(run run-3 seq 3\) was altered: its hash does not match its content/);
    const json = await rolemap('journal', 'verify', '--journal', copy, '--format', 'json');
    expect(json.code).toBe(1);
    expect(JSON.parse(json.stdout)).toMatchObject({ ok: false, problems: [{ kind: 'altered', runId: 'run-3', seq: 3 }] });
  });

  it('migrate creates and migrates a journal (mode 0600); queries refuse an unmigrated one and never migrate it', async () => {
    const fresh = tmp.file('fresh.db');
    expect(await rolemap('journal', 'migrate', '--journal', fresh)).toMatchObject({ code: 0, stdout: `Journal ${fresh}: applied ${loadMigrations().map((m) => m.name).join(', ')}.\n` });
    expect(statSync(fresh).mode & 0o777).toBe(0o600);
    expect(await rolemap('journal', 'migrate', '--journal', fresh)).toMatchObject({ code: 0, stdout: `Journal ${fresh} is up to date.\n` });

    const old = tmp.file('old.db');
    const db = openForWrite(old);
    migrate(db, old, loadMigrations().slice(0, 1));
    db.close();
    const refused = await rolemap('journal', 'list', '--journal', old);
    expect(refused.code).toBe(1);
    const later = loadMigrations().slice(1).map((m) => m.name).join(', ');
    expect(refused.stderr).toContain(`is not migrated: pending migration(s) ${later}; run \`rolemap journal migrate`);
    expect(await rolemap('journal', 'migrate', '--journal', old)).toMatchObject({ code: 0, stdout: `Journal ${old}: applied ${later}.\n` });
    expect((await rolemap('journal', 'list', '--journal', old)).code).toBe(0);
  });

  it('asks for a journal when given neither --journal nor --config', async () => {
    const r = await rolemap('journal', 'runs');
    expect(r).toMatchObject({ code: 1, stderr: 'Error: which journal? give --journal FILE or --config FILE (journal.path)\n' });
  });
});
