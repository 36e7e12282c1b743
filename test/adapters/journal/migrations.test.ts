import { createHash } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import {
  GENESIS,
  JournalNewerThanCodeError,
  JournalNotMigratedError,
  JournalOpenError,
  MIGRATIONS_DIR,
  MigrationChangedError,
  MigrationFailedError,
  MigrationGapError,
  SqliteJournal,
  changeEventHash,
  listChanges,
  loadMigrations,
  migrate,
  migrationFromSql,
  openForWrite,
  openJournalForQuery,
  verifyJournal,
  type ChangeEventContent,
  type Migration,
} from '../../../src/adapters/journal/index.js';
import { BOB, PROD, changeOf, planOf, role, runStart, tempDir } from './fixtures.js';

const shipped = loadMigrations();
const [m001, m002] = shipped;
if (m001 === undefined || m002 === undefined) throw new Error('migrations/001 and 002 must ship');
/** Every shipped name, and the number the next migration would take (tests stay right as migrations are added). */
const shippedNames = shipped.map((m) => m.name);
const latest = shippedNames.at(-1) ?? '';
const next = String(shipped.length + 1).padStart(3, '0');

function applied(file: string): { name: string; checksum: string }[] {
  const db = openForWrite(file);
  try {
    return db.prepare('SELECT name, checksum FROM schema_migrations ORDER BY name').all() as { name: string; checksum: string }[];
  } finally {
    db.close();
  }
}

/** Brings a file to exactly `migrations` with the runner, as an older rolemap would have. */
function migrateTo(file: string, migrations: readonly Migration[]): void {
  const db = openForWrite(file);
  try {
    migrate(db, file, migrations);
  } finally {
    db.close();
  }
}

describe('journal migrations', () => {
  let tmp: ReturnType<typeof tempDir>;
  let file: string;
  beforeEach(() => {
    tmp = tempDir();
    file = tmp.file('journal.db');
  });
  afterEach(() => tmp.cleanup());

  it('ships 001, 002, ... in order, numbered without gaps', () => {
    expect(shippedNames.slice(0, 2)).toEqual(['001_init', '002_audit']);
    expect(shippedNames.map((n) => n.slice(0, 3))).toEqual(shippedNames.map((_, i) => String(i + 1).padStart(3, '0')));
  });

  it('migrates a fresh database and records each migration with the sha256 of its file', () => {
    const j = SqliteJournal.open(file);
    expect(j.migrated).toEqual(shippedNames);
    j.close();
    expect(applied(file)).toEqual(
      shipped.map((m) => ({ name: m.name, checksum: createHash('sha256').update(readFileSync(join(MIGRATIONS_DIR, `${m.name}.sql`))).digest('hex') })),
    );
    const again = SqliteJournal.open(file);
    expect(again.migrated).toEqual([]);
    again.close();
  });

  it('upgrades a schema-1 journal to schema 2 and keeps its data, chain included', () => {
    migrateTo(file, [m001]);
    // What a rolemap with only 001 wrote: a run and one planned change, chained.
    const db = openForWrite(file);
    db.prepare("INSERT INTO runs (id, trigger, mode, host, version, config_hash, started_at) VALUES ('old', 'cli', 'dry-run', 'h', '0.0.9', 'x', '2025-12-01T00:00:00.000Z')").run();
    const content: ChangeEventContent = {
      id: 1, run_id: 'old', seq: 1, at: '2025-12-01T00:00:01.000Z', status: 'planned', action: 'create', kind: 'iam_role',
      resource_key: `iam_role:${PROD}/Old`, address: `iam_role.${PROD}.Old`, account: PROD, principal_guid: BOB.guid, principal_name: BOB.name,
      group_guid: null, group_name: null, leaver_reason: null, before_json: null, after_json: '{"name":"Old"}', diffs_json: null,
      reason: 'role map wants it', error: null, request_ids: null, detail_json: null,
    };
    db.prepare(
      `INSERT INTO change_events VALUES (@id, @run_id, @seq, @at, @status, @action, @kind, @resource_key, @address, @account, @principal_guid, @principal_name,
        @group_guid, @group_name, @leaver_reason, @before_json, @after_json, @diffs_json, @reason, @error, @request_ids, @detail_json, @prev_hash, @hash)`,
    ).run({ ...content, prev_hash: GENESIS, hash: changeEventHash(GENESIS, content) });
    db.close();

    const j = SqliteJournal.open(file);
    expect(j.migrated).toEqual(shippedNames.slice(1));
    j.startRun(runStart('new', '2026-01-01T00:00:00.000Z', 'dry-run'));
    j.recordPlan('new', planOf([changeOf(1, 'create', role(PROD, 'New'))]));
    expect(listChanges(j.database, {}, new Date()).map((l) => [l.runId, l.address, l.status])).toEqual([
      ['old', `iam_role.${PROD}.Old`, 'planned'],
      ['new', `iam_role.${PROD}.New`, 'planned'],
    ]);
    expect(verifyJournal(j.database)).toMatchObject({ ok: true, changeRows: 2 });
    // 002 learnt the names already in the log, so --user finds old rows too.
    expect(listChanges(j.database, { user: 'BOB' }, new Date()).map((l) => l.runId)).toEqual(['old']);
    j.close();
  });

  it('refuses a migration that changed after it was applied', () => {
    migrateTo(file, shipped);
    const edited = [migrationFromSql('001_init', `${m001.sql}\n-- an innocent comment\n`), ...shipped.slice(1)];
    const err = (() => {
      try {
        SqliteJournal.open(file, { migrations: edited });
      } catch (e) {
        return e;
      }
      return null;
    })();
    expect(err).toBeInstanceOf(MigrationChangedError);
    expect((err as MigrationChangedError).migration).toBe('001_init');
    expect((err as Error).message).toMatch(/migration 001_init was applied with checksum .* now has .*must never change/);
    expect(() => openJournalForQuery(file, edited)).toThrow(MigrationChangedError);
  });

  it('refuses a gap in the code (001, 003) and a gap in the database (003 applied, 002 not)', () => {
    const m003 = migrationFromSql('003_later', 'CREATE TABLE later (x INTEGER) STRICT;');
    expect(() => SqliteJournal.open(file, { migrations: [m001, m003] })).toThrow(MigrationGapError);
    expect(() => SqliteJournal.open(file, { migrations: [m001, m003] })).toThrow(/migration 002 is missing from migrations\//);

    migrateTo(file, [m001]);
    const db = openForWrite(file);
    db.prepare("INSERT INTO schema_migrations VALUES ('003_later', ?, '2026-01-01T00:00:00Z')").run(m003.checksum);
    db.close();
    expect(() => SqliteJournal.open(file, { migrations: [m001, m002, m003] })).toThrow(/migration 002_audit was never applied, yet the later 003_later was/);
  });

  it('refuses a database newer than the code, for writing and for queries', () => {
    migrateTo(file, [...shipped, migrationFromSql(`${next}_future`, 'CREATE TABLE future (x INTEGER) STRICT;')]);
    expect(() => SqliteJournal.open(file)).toThrow(JournalNewerThanCodeError);
    expect(() => openJournalForQuery(file)).toThrow(new RegExp(`is newer than this rolemap: it has migration\\(s\\) ${next}_future .*latest here: ${latest}`));
  });

  it('a query on an unmigrated journal says so and does not migrate it; a missing file is not created', () => {
    migrateTo(file, [m001]);
    expect(() => openJournalForQuery(file)).toThrow(JournalNotMigratedError);
    expect(() => openJournalForQuery(file)).toThrow(new RegExp(`pending migration\\(s\\) ${shippedNames.slice(1).join(', ')}; run \`rolemap journal migrate --journal`));
    expect(applied(file).map((a) => a.name)).toEqual(['001_init']);

    const missing = tmp.file('absent.db');
    expect(() => openJournalForQuery(missing)).toThrow(JournalOpenError);
    expect(existsSync(missing)).toBe(false);
  });

  it('rolls back a migration that fails, leaving the earlier ones applied', () => {
    const bad = migrationFromSql(`${next}_bad`, 'CREATE TABLE half (x INTEGER) STRICT; INSERT INTO no_such_table VALUES (1);');
    expect(() => SqliteJournal.open(file, { migrations: [...shipped, bad] })).toThrow(MigrationFailedError);
    expect(applied(file).map((a) => a.name)).toEqual(shippedNames);
    const db = openForWrite(file);
    expect(db.prepare("SELECT count(*) AS n FROM sqlite_master WHERE name = 'half'").get()).toEqual({ n: 0 });
    db.close();
  });
});
