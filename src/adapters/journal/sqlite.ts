/**
 * The narrow slice of better-sqlite3 the journal uses (kysely's `SqliteDatabase` habit), and the one
 * place that opens a file: created with mode 0600 before SQLite touches it, WAL, a busy timeout and
 * `synchronous=FULL` for the writer; `readonly` for queries, so auditors can read while the daemon writes.
 */
import { closeSync, constants, openSync } from 'node:fs';
import Database from 'better-sqlite3';
import { JournalOpenError } from './errors.js';

export interface SqliteRunResult {
  readonly changes: number;
  readonly lastInsertRowid: number | bigint;
}

export interface SqliteStatement {
  run(...params: unknown[]): SqliteRunResult;
  get(...params: unknown[]): unknown;
  all(...params: unknown[]): unknown[];
  iterate(...params: unknown[]): IterableIterator<unknown>;
}

/** What the journal needs from a connection. */
export interface SqliteDatabase {
  readonly name: string;
  readonly readonly: boolean;
  readonly inTransaction: boolean;
  prepare(sql: string): SqliteStatement;
  exec(sql: string): unknown;
  pragma(sql: string, options?: { simple?: boolean }): unknown;
  close(): unknown;
}

/** Milliseconds a connection waits for another writer's lock before SQLITE_BUSY. */
export const BUSY_TIMEOUT_MS = 5_000;

/** Page cache per connection (KiB): index pages of a million-row log stay in memory while batches are written. */
const CACHE_KIB = 64 * 1024;

/**
 * Page cache (KiB) of a connection that scans once and then seeks (the journal's reader of the last
 * snapshot): a scan reads each page once, so a big cache only holds what is never read again (at
 * 100,000 people the 64 MiB above filled and stayed, ~63 MB of the planning process's RSS); a seek's
 * interior B-tree pages fit in this one.
 */
export const SCAN_CACHE_KIB = 2 * 1024;

/**
 * Opens the journal for writing: creates the file with mode 0600 first (SQLite gives its -wal and -shm
 * files the same mode), then WAL, busy timeout, synchronous=FULL (every intent and outcome is on disk
 * before the next AWS call) and foreign keys.
 */
export function openForWrite(file: string, options: { readonly busyTimeoutMs?: number | undefined } = {}): SqliteDatabase {
  const busy = options.busyTimeoutMs ?? BUSY_TIMEOUT_MS;
  try {
    // O_EXCL: create only when absent, never truncate an existing journal.
    closeSync(openSync(file, constants.O_CREAT | constants.O_EXCL | constants.O_WRONLY, 0o600));
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw new JournalOpenError(file, 'cannot create the file', { cause: e });
  }
  let db: Database.Database;
  try {
    db = new Database(file, { fileMustExist: true, timeout: busy });
    db.pragma('journal_mode = WAL');
    db.pragma(`busy_timeout = ${busy}`);
    db.pragma('synchronous = FULL');
    db.pragma(`cache_size = -${CACHE_KIB}`);
    db.pragma('foreign_keys = ON');
  } catch (e) {
    throw new JournalOpenError(file, `cannot open for writing: ${(e as Error).message}`, { cause: e });
  }
  return db;
}

/**
 * Opens an existing journal read-only (queries, verify): never creates, never migrates, never writes.
 * `cacheKib`: its page cache (default 64 MiB, for queries that seek over and over).
 */
export function openReadOnly(file: string, options: { readonly cacheKib?: number } = {}): SqliteDatabase {
  let db: Database.Database;
  try {
    db = new Database(file, { readonly: true, fileMustExist: true, timeout: BUSY_TIMEOUT_MS });
    db.pragma(`busy_timeout = ${BUSY_TIMEOUT_MS}`);
    db.pragma(`cache_size = -${options.cacheKib ?? CACHE_KIB}`);
    // Touch the schema so that "file is not a database" shows here, not in the first query.
    db.prepare('SELECT count(*) FROM sqlite_master').get();
  } catch (e) {
    const code = (e as { code?: string }).code;
    const why = code === 'SQLITE_CANTOPEN' ? 'no such journal file (or not readable)' : (e as Error).message;
    throw new JournalOpenError(file, `cannot open read-only: ${why}`, { cause: e });
  }
  return db;
}

/**
 * Runs `fn` in one IMMEDIATE transaction (the write lock is taken up front, so reading the chain head
 * and appending after it cannot race another writer). `fn` is synchronous: no transaction ever stays
 * open across an await.
 */
export function inTransaction<T>(db: SqliteDatabase, fn: () => T): T {
  db.exec('BEGIN IMMEDIATE');
  try {
    const result = fn();
    db.exec('COMMIT');
    return result;
  } catch (e) {
    if (db.inTransaction) db.exec('ROLLBACK');
    throw e;
  }
}
