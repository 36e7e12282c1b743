/**
 * Shipping: after a run, the rows the journal gained since the last shipped segment become the next
 * segment object, written once (`If-None-Match: *`) with Object Lock retention (mode, now + days) and a
 * SHA-256 checksum, then recorded in `archive_segments`. A failed upload leaves nothing recorded, so
 * the next pass ships the same rows (and any newer ones) again; an upload that landed but whose answer
 * was lost is found by its sequence number and recorded instead of written twice.
 */
import type { SqliteJournal } from '../journal/index.js';
import { ArchiveIntegrityError, lastSegment, readSegment, recordSegment, segmentKeys } from './apply.js';
import { firstLocalDifference } from './verify-archive.js';
import { SegmentExistsError, type JournalArchive, type RetentionMode } from './s3-archive.js';
import { changeRange, cutSegment, encodeSegment, segmentKey, sha256Base64, sha256Hex } from './segment.js';

export interface ShipOptions {
  readonly retention: { readonly mode: RetentionMode; readonly days: number };
  readonly now?: (() => Date) | undefined;
  readonly signal?: AbortSignal | undefined;
}

export type ShipResult =
  | { readonly status: 'shipped'; readonly key: string; readonly seq: number; readonly bytes: number; readonly changeRows: number; readonly rows: number; readonly versionId: string | undefined; readonly requestId: string | undefined; readonly adopted: boolean }
  | { readonly status: 'nothing-new' }
  | { readonly status: 'run-open'; readonly runId: string };

const DAY_MS = 86_400_000;

/**
 * An object for `seq` exists already (an earlier attempt landed and its answer was lost, or it was cut
 * before more rows came): record it when it continues this journal's last segment and its rows are this
 * journal's rows; anything else means another writer ships under this prefix, or the journal diverged.
 */
async function adopt(journal: SqliteJournal, archive: JournalArchive, key: string, previousSha: string | null, now: Date, signal: AbortSignal | undefined): Promise<ShipResult> {
  const db = journal.database;
  const existing = await readSegment(archive, key, signal);
  if (existing.segment.previous.sha256 !== previousSha) {
    throw new ArchiveIntegrityError(key, { field: 'previous.sha256' }, 'already exists in the archive and does not continue this journal\'s last segment: another journal ships under this prefix, or this journal diverged from it');
  }
  const difference = firstLocalDifference(db, key, existing.segment);
  if (difference !== undefined) throw new ArchiveIntegrityError(key, difference, `already exists in the archive with other rows than this journal's: ${difference.message}`);
  recordSegment(db, existing.segment, { seq: existing.segment.seq, key, sha256: existing.sha256, bytes: existing.stored.bytes.length, versionId: existing.stored.versionId, source: 'shipped' }, now);
  const rows = Object.values(existing.segment.tables).reduce((n, t) => n + t.length, 0);
  return { status: 'shipped', key, seq: existing.segment.seq, bytes: existing.stored.bytes.length, changeRows: existing.segment.tables.change_events.length, rows, versionId: existing.stored.versionId, requestId: undefined, adopted: true };
}

/** Ships at most one segment: everything new since the last recorded one. */
export async function shipSegment(journal: SqliteJournal, archive: JournalArchive, options: ShipOptions): Promise<ShipResult> {
  const db = journal.database;
  const now = options.now ?? (() => new Date());
  const previous = lastSegment(db);
  const at = now();
  const cut = cutSegment(db, previous, at.toISOString());
  if (cut.kind !== 'segment') return cut.kind === 'run-open' ? { status: 'run-open', runId: cut.runId } : { status: 'nothing-new' };
  const segment = cut.segment;
  const { keys } = await segmentKeys(archive, previous.seq, options.signal);
  if (keys[0] !== undefined) return await adopt(journal, archive, keys[0], previous.sha256, now(), options.signal);
  const bytes = encodeSegment(segment);
  const { first, last } = changeRange(segment);
  const key = segmentKey(archive.prefix, segment.seq, first, last);
  const rows = Object.values(segment.tables).reduce((n, t) => n + t.length, 0);
  try {
    const put = await archive.put(key, bytes, { sha256Base64: sha256Base64(bytes), mode: options.retention.mode, retainUntil: new Date(at.getTime() + options.retention.days * DAY_MS), signal: options.signal });
    recordSegment(db, segment, { seq: segment.seq, key, sha256: sha256Hex(bytes), bytes: bytes.length, versionId: put.versionId, source: 'shipped' }, now());
    return { status: 'shipped', key, seq: segment.seq, bytes: bytes.length, changeRows: segment.tables.change_events.length, rows, versionId: put.versionId, requestId: put.requestId, adopted: false };
  } catch (e) {
    if (!(e instanceof SegmentExistsError)) throw e;
    return await adopt(journal, archive, key, previous.sha256, now(), options.signal);
  }
}
