/**
 * The migrations runner, in the manner of kysely's migrator: `migrations/NNN_name.sql` applied in name
 * order, each in its own transaction, recorded in `schema_migrations` with the sha256 of its bytes.
 * It refuses (typed errors) a changed migration, a gap in the sequence and a database newer than the code.
 * Writers migrate when they open; queries only check (`assertMigrated`) and never migrate.
 */
import { createHash } from 'node:crypto';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { JournalNewerThanCodeError, JournalNotMigratedError, MigrationChangedError, MigrationFailedError, MigrationGapError } from './errors.js';
import { inTransaction, type SqliteDatabase } from './sqlite.js';

export interface Migration {
  /** File name without `.sql`, e.g. `001_init`. */
  readonly name: string;
  readonly sql: string;
  /** sha256 (hex) of the file's bytes. */
  readonly checksum: string;
}

export interface MigrationStatus {
  readonly applied: readonly string[];
  readonly pending: readonly string[];
}

/** `migrations/` at the repository root (the same relative path from src/ and from dist/). */
export const MIGRATIONS_DIR = fileURLToPath(new URL('../../../migrations/', import.meta.url));

const NAME = /^(\d{3})_[a-z0-9_]+$/;

export function migrationFromSql(name: string, sql: string): Migration {
  return { name, sql, checksum: createHash('sha256').update(sql, 'utf8').digest('hex') };
}

/** Reads every `NNN_name.sql` in `dir`, in name order. */
export function loadMigrations(dir: string = MIGRATIONS_DIR): Migration[] {
  return readdirSync(dir)
    .filter((f) => f.endsWith('.sql'))
    .sort()
    .map((f) => {
      const bytes = readFileSync(join(dir, f));
      return { name: f.slice(0, -4), sql: bytes.toString('utf8'), checksum: createHash('sha256').update(bytes).digest('hex') };
    });
}

const CREATE_TABLE = `CREATE TABLE IF NOT EXISTS schema_migrations (
  name TEXT PRIMARY KEY,
  checksum TEXT NOT NULL,
  applied_at TEXT NOT NULL
) STRICT`;

interface AppliedRow {
  readonly name: string;
  readonly checksum: string;
}

function appliedRows(db: SqliteDatabase): AppliedRow[] {
  const exists = db.prepare("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'schema_migrations'").get();
  if (exists === undefined) return [];
  return db.prepare('SELECT name, checksum FROM schema_migrations ORDER BY name').all() as AppliedRow[];
}

/**
 * Compares the database with the code. Throws when the history is corrupted (changed, gap, newer);
 * otherwise says what is applied and what is pending.
 */
export function migrationStatus(db: SqliteDatabase, file: string, migrations: readonly Migration[]): MigrationStatus {
  const sorted = [...migrations].sort((a, b) => a.name.localeCompare(b.name));
  sorted.forEach((m, i) => {
    const match = NAME.exec(m.name);
    if (match === null) throw new MigrationGapError(file, m.name, 'is not named NNN_name.sql');
    const expected = i + 1;
    if (Number(match[1]) !== expected) {
      throw new MigrationGapError(
        file,
        String(expected).padStart(3, '0'),
        `is missing from migrations/ (the code ships ${sorted.map((x) => x.name).join(', ')}); migrations must be numbered 001, 002, ... without gaps`,
      );
    }
  });
  const applied = appliedRows(db);
  const byName = new Map(sorted.map((m) => [m.name, m]));
  const codeLatest = sorted.at(-1)?.name ?? null;
  const unknown = applied.filter((a) => !byName.has(a.name));
  const newer = unknown.filter((a) => codeLatest === null || a.name > codeLatest);
  if (newer.length > 0) throw new JournalNewerThanCodeError(file, newer.map((a) => a.name), codeLatest);
  const missing = unknown[0];
  if (missing !== undefined) throw new MigrationGapError(file, missing.name, 'was applied to the database but is missing from this code');
  for (const a of applied) {
    const m = byName.get(a.name);
    if (m !== undefined && m.checksum !== a.checksum) throw new MigrationChangedError(file, a.name, a.checksum, m.checksum);
  }
  const appliedNames = new Set(applied.map((a) => a.name));
  const pending = sorted.filter((m) => !appliedNames.has(m.name)).map((m) => m.name);
  const lastApplied = applied.at(-1)?.name;
  const hole = pending.find((p) => lastApplied !== undefined && p < lastApplied);
  if (hole !== undefined) throw new MigrationGapError(file, hole, `was never applied, yet the later ${lastApplied} was`);
  return { applied: applied.map((a) => a.name), pending };
}

/** Applies every pending migration in name order, each in its own transaction. Returns the names applied. */
export function migrate(db: SqliteDatabase, file: string, migrations: readonly Migration[], now: () => Date = () => new Date()): string[] {
  db.exec(CREATE_TABLE);
  const { pending } = migrationStatus(db, file, migrations);
  const byName = new Map(migrations.map((m) => [m.name, m]));
  const done: string[] = [];
  for (const name of pending) {
    const m = byName.get(name);
    if (m === undefined) continue;
    try {
      inTransaction(db, () => {
        db.exec(m.sql);
        db.prepare('INSERT INTO schema_migrations (name, checksum, applied_at) VALUES (?, ?, ?)').run(m.name, m.checksum, now().toISOString());
      });
    } catch (e) {
      throw new MigrationFailedError(file, m.name, { cause: e });
    }
    done.push(m.name);
  }
  return done;
}

/** For queries: the schema must be exactly the code's; says what to do otherwise. Never migrates. */
export function assertMigrated(db: SqliteDatabase, file: string, migrations: readonly Migration[]): void {
  const { pending } = migrationStatus(db, file, migrations);
  if (pending.length > 0) throw new JournalNotMigratedError(file, pending);
}
