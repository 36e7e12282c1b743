/**
 * The journal's typed errors. Only a write that lost the lock to another writer (SQLITE_BUSY,
 * SQLITE_LOCKED) is worth a retry; the others need a person (a changed or missing migration, a newer
 * database, a journal that was never migrated, a run that does not exist).
 */
import { RolemapError } from '../../core/errors.js';

export abstract class JournalError extends RolemapError {
  readonly retryable: boolean = false;
  /** The journal file concerned. */
  abstract readonly file: string;
}

/** The file cannot be opened or created (missing for a query, permissions, not a database). */
export class JournalOpenError extends JournalError {
  constructor(readonly file: string, message: string, options?: { cause?: unknown }) {
    super(`journal ${file}: ${message}`, options);
  }
}

/** A migration already applied to the database differs from the file shipped with this code. */
export class MigrationChangedError extends JournalError {
  constructor(readonly file: string, readonly migration: string, readonly appliedChecksum: string, readonly codeChecksum: string) {
    super(
      `journal ${file}: migration ${migration} was applied with checksum ${appliedChecksum.slice(0, 12)}… but migrations/${migration}.sql now has ${codeChecksum.slice(0, 12)}…; ` +
        'an applied migration must never change: restore the original file and add a new migration instead',
    );
  }
}

/** The sequence of migrations has a hole: in the code (001, 003) or in the database (001 and 003 applied, 002 not). */
export class MigrationGapError extends JournalError {
  constructor(readonly file: string, readonly migration: string, message: string) {
    super(`journal ${file}: migration ${migration} ${message}`);
  }
}

/** The database has migrations this code does not know: it was written by a newer rolemap. */
export class JournalNewerThanCodeError extends JournalError {
  constructor(readonly file: string, readonly unknown: readonly string[], readonly codeLatest: string | null) {
    super(
      `journal ${file} is newer than this rolemap: it has migration(s) ${unknown.join(', ')} that this code does not ship ` +
        `(latest here: ${codeLatest ?? 'none'}); upgrade rolemap to read or write it`,
    );
  }
}

/** A query opened a journal whose schema is behind the code; queries never migrate. */
export class JournalNotMigratedError extends JournalError {
  constructor(readonly file: string, readonly pending: readonly string[]) {
    super(
      `journal ${file} is not migrated: pending migration(s) ${pending.join(', ')}; ` +
        `run \`rolemap journal migrate --journal ${file}\` (queries open the journal read-only and never migrate)`,
    );
  }
}

/** A migration's SQL failed; its transaction was rolled back. */
export class MigrationFailedError extends JournalError {
  constructor(readonly file: string, readonly migration: string, options: { cause: unknown }) {
    super(`journal ${file}: migration ${migration} failed and was rolled back: ${options.cause instanceof Error ? options.cause.message : String(options.cause)}`, options);
  }
}

/** A run id that the journal does not hold (or a second start of the same run). */
export class JournalRunError extends JournalError {
  constructor(readonly file: string, readonly runId: string, message: string) {
    super(`journal ${file}: run ${runId} ${message}`);
  }
}

/**
 * A write failed (disk full, I/O error, the file locked by another writer past the busy timeout).
 * When an intent cannot be written the AWS call must not be made: the apply stops.
 */
export class JournalWriteError extends JournalError {
  override readonly retryable: boolean;
  constructor(readonly file: string, readonly what: string, options: { cause: unknown }) {
    const code = (options.cause as { code?: unknown } | null)?.code;
    super(`journal ${file}: cannot write ${what}: ${options.cause instanceof Error ? options.cause.message : String(options.cause)}`, options);
    this.retryable = code === 'SQLITE_BUSY' || code === 'SQLITE_LOCKED';
  }
}
