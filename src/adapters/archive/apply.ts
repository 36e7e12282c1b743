/**
 * Segments into a journal: `applySegment` (one segment, one transaction, after checking that it
 * continues exactly where the journal ends), `pullSegments` (a replica catches up with the archive:
 * the standby daemon), `restoreJournal` (a new journal from the whole archive, on a new host).
 */
import { existsSync, linkSync, rmSync } from 'node:fs';
import {
  GENESIS,
  SqliteJournal,
  changeEventHash,
  entitlementsDigest,
  inTransaction,
  openReadOnly,
  runSealHash,
  snapshotHash,
  verifyJournal,
  type ChangeEventContent,
  type EntitlementRow,
  type RunRowContent,
  type SnapshotContent,
  type SqliteDatabase,
  type VerifyResult,
} from '../journal/index.js';
import { RolemapError } from '../../core/errors.js';
import type { JournalArchive, StoredSegment } from './s3-archive.js';
import { CHAINED_TABLES, SEGMENT_TABLES, changeRange, decodeSegment, emptyHeads, journalHeads, parseSegmentKey, sha256Base64, sha256Hex, type Heads, type PreviousSegment, type Row, type Segment } from './segment.js';

/** A segment that cannot be applied or trusted: names the segment and, when it can, the table, row and field. */
export class ArchiveIntegrityError extends RolemapError {
  readonly retryable = false;
  constructor(
    readonly key: string,
    readonly detail: { readonly table?: string | undefined; readonly row?: number | string | undefined; readonly field?: string | undefined },
    message: string,
  ) {
    super(`segment ${key}: ${message}`);
  }
}

export interface SegmentRecord {
  readonly seq: number;
  readonly key: string;
  readonly sha256: string;
  readonly bytes: number;
  readonly versionId: string | undefined;
  readonly source: 'shipped' | 'pulled' | 'restored';
}

interface StoredRecord {
  seq: number;
  key: string;
  sha256: string;
  watermarks: string;
}

/** What the journal last recorded as shipped or pulled: where the next segment starts. */
export function lastSegment(db: SqliteDatabase): PreviousSegment & { readonly key: string | null } {
  const r = db.prepare('SELECT seq, key, sha256, watermarks FROM archive_segments ORDER BY seq DESC LIMIT 1').get() as StoredRecord | undefined;
  if (r === undefined) return { seq: 0, key: null, sha256: null, at: null, heads: emptyHeads(), ownedObjectsId: 0 };
  const w = JSON.parse(r.watermarks) as { at: string; heads: Heads; ownedObjectsId: number };
  return { seq: r.seq, key: r.key, sha256: r.sha256, at: w.at, heads: w.heads, ownedObjectsId: w.ownedObjectsId };
}

/** Records a segment as shipped / pulled / restored (inside the caller's transaction, or its own). */
export function recordSegment(db: SqliteDatabase, segment: Segment, record: SegmentRecord, now: Date): void {
  const { first, last } = changeRange(segment);
  db.prepare('INSERT INTO archive_segments (seq, key, first_change_id, last_change_id, head_hash, watermarks, sha256, bytes, version_id, source, recorded_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)').run(
    record.seq,
    record.key,
    first,
    last,
    segment.heads.change_events.hash,
    JSON.stringify({ at: segment.at, heads: segment.heads, ownedObjectsId: segment.ownedObjectsId }),
    record.sha256,
    record.bytes,
    record.versionId ?? null,
    record.source,
    now.toISOString(),
  );
}

function fail(key: string, message: string, detail: ArchiveIntegrityError['detail'] = {}): never {
  throw new ArchiveIntegrityError(key, detail, message);
}

/**
 * The segment's own chains: ids contiguous from the heads before it, each row linking to the one
 * before, and (change rows, run seals, snapshots with their entitlements) each hash recomputed.
 * Plan records and posture rows are checked for their links here and in full by `journal verify`.
 */
export function checkSegmentChains(key: string, s: Segment): void {
  const runs = new Map(s.tables.runs.map((r) => [String(r['id']), r]));
  const entitlements = new Map<number, Row[]>();
  for (const e of s.tables.entitlements) {
    const id = Number(e['snapshot_id']);
    entitlements.set(id, [...(entitlements.get(id) ?? []), e]);
  }
  for (const t of CHAINED_TABLES) {
    let prev = s.previous.heads[t];
    for (const row of s.tables[t]) {
      const id = Number(row['id']);
      if (id !== prev.id + 1) fail(key, `${t} row ${id} follows row ${prev.id}: rows ${prev.id + 1}-${id - 1} are missing`, { table: t, row: id, field: 'id' });
      if (row['prev_hash'] !== prev.hash) fail(key, `${t} row ${id} does not link to row ${prev.id}`, { table: t, row: id, field: 'prev_hash' });
      let expected: string | undefined;
      if (t === 'change_events') expected = changeEventHash(prev.hash, row as unknown as ChangeEventContent);
      if (t === 'run_seals') {
        const run = runs.get(String(row['run_id']));
        if (run === undefined) fail(key, `run seal ${id} names run ${String(row['run_id'])}, which the segment does not carry`, { table: t, row: id, field: 'run_id' });
        expected = runSealHash(prev.hash, id, run as unknown as RunRowContent);
      }
      if (t === 'entitlement_snapshots') {
        const digest = entitlementsDigest((entitlements.get(id) ?? []) as unknown as EntitlementRow[]);
        if (digest !== row['digest']) fail(key, `the entitlements of snapshot ${id} do not match its digest`, { table: 'entitlements', row: id, field: 'digest' });
        expected = snapshotHash(prev.hash, row as unknown as SnapshotContent);
      }
      if (expected !== undefined && expected !== row['hash']) fail(key, `${t} row ${id}: its hash does not match its content`, { table: t, row: id, field: 'hash' });
      prev = { id, hash: String(row['hash']) };
    }
    if (prev.id !== s.heads[t].id || prev.hash !== s.heads[t].hash) fail(key, `${t}: the rows end at ${prev.id}, the segment says its head is ${s.heads[t].id}`, { table: t, row: s.heads[t].id, field: 'heads' });
  }
}

function columnsOf(db: SqliteDatabase, table: string): Set<string> {
  return new Set((db.prepare(`PRAGMA table_info(${table})`).all() as { name: string }[]).map((c) => c.name));
}

/**
 * Applies one segment in one transaction: its heads before must be the journal's heads now, and its
 * sequence number the next after the last one recorded; otherwise nothing is written.
 */
export function applySegment(db: SqliteDatabase, key: string, segment: Segment, record: Omit<SegmentRecord, 'seq' | 'key'>, now: Date): void {
  checkSegmentChains(key, segment);
  inTransaction(db, () => {
    const last = lastSegment(db);
    if (segment.seq !== last.seq + 1) fail(key, `is segment ${segment.seq}, the journal's last recorded segment is ${last.seq}`, { field: 'seq' });
    if (last.sha256 !== segment.previous.sha256) fail(key, `names ${segment.previous.sha256 ?? 'no segment'} as the segment before it, the journal recorded ${last.sha256 ?? 'none'}`, { field: 'previous.sha256' });
    const heads = journalHeads(db);
    for (const t of CHAINED_TABLES) {
      const want = segment.previous.heads[t];
      if (heads[t].id !== want.id || heads[t].hash !== want.hash) {
        fail(key, `continues ${t} after row ${want.id}, but the journal's ${t} ends at row ${heads[t].id}${heads[t].id === want.id ? ' with another hash' : ''}: this journal has diverged from the archive`, { table: t, row: heads[t].id, field: 'hash' });
      }
    }
    for (const table of SEGMENT_TABLES) {
      const rows = segment.tables[table];
      if (rows.length === 0) continue;
      const have = columnsOf(db, table);
      const stmts = new Map<string, ReturnType<SqliteDatabase['prepare']>>();
      for (const row of rows) {
        const cols = Object.keys(row);
        const unknown = cols.filter((c) => !have.has(c));
        if (unknown.length > 0) fail(key, `${table} has columns ${unknown.join(', ')} this journal's schema lacks (a newer rolemap wrote it)`, { table, field: unknown[0] });
        const sig = cols.join(',');
        let stmt = stmts.get(sig);
        if (stmt === undefined) {
          const verb = table === 'change_concerns' ? 'INSERT OR IGNORE' : 'INSERT';
          const upsert = table === 'owned_objects' ? ` ON CONFLICT (id) DO UPDATE SET ${cols.filter((c) => c !== 'id').map((c) => `${c} = excluded.${c}`).join(', ')}` : '';
          stmt = db.prepare(`${verb} INTO ${table} (${cols.join(', ')}) VALUES (${cols.map(() => '?').join(', ')})${upsert}`);
          stmts.set(sig, stmt);
        }
        stmt.run(...cols.map((c) => row[c]));
      }
    }
    // Name lookups (not evidence, not archived): rebuilt from the rows, as migration 002 builds them.
    const alias = db.prepare('INSERT OR IGNORE INTO principal_aliases (alias, guid, type) VALUES (?, ?, ?)');
    for (const c of segment.tables.change_events) {
      if (typeof c['group_name'] === 'string' && typeof c['group_guid'] === 'string') alias.run(c['group_name'], c['group_guid'], 'group');
      if (typeof c['principal_name'] === 'string' && typeof c['principal_guid'] === 'string') alias.run(c['principal_name'], c['principal_guid'], c['principal_guid'] === c['group_guid'] || c['kind'] === 'identitystore_group' ? 'group' : 'user');
    }
    for (const e of segment.tables.entitlements) {
      for (const name of [e['user_name'], e['user_principal_name'], e['mail']]) if (typeof name === 'string' && name !== '') alias.run(name, e['user_guid'], 'user');
      if (typeof e['via_group_name'] === 'string') alias.run(e['via_group_name'], e['via_group_guid'], 'group');
    }
    recordSegment(db, segment, { ...record, seq: segment.seq, key }, now);
  });
}

/** Reads one segment object and checks what the object itself can show: its checksum and its key. */
export async function readSegment(archive: JournalArchive, key: string, signal?: AbortSignal): Promise<{ stored: StoredSegment; segment: Segment; sha256: string }> {
  const stored = await archive.get(key, { signal });
  if (stored.checksumSha256 === undefined) fail(key, 'has no SHA-256 checksum: it was not written by rolemap', { field: 'x-amz-checksum-sha256' });
  if (sha256Base64(stored.bytes) !== stored.checksumSha256) fail(key, 'its bytes do not match the SHA-256 checksum stored with it: the object was altered in storage', { field: 'x-amz-checksum-sha256' });
  const segment = decodeSegment(key, stored.bytes);
  const parsed = parseSegmentKey(archive.prefix, key);
  const { first, last } = changeRange(segment);
  if (!parsed || parsed.seq !== segment.seq || parsed.first !== first || parsed.last !== last) {
    fail(key, `its key does not match its content (segment ${segment.seq}, change rows ${first}-${last})`, { field: 'key' });
  }
  return { stored, segment, sha256: sha256Hex(stored.bytes) };
}

/** Segment keys under the prefix by sequence number, after `afterSeq`; gaps and duplicates are errors. */
export async function segmentKeys(archive: JournalArchive, afterSeq: number, signal?: AbortSignal): Promise<{ keys: string[]; foreign: string[] }> {
  const startAfter = afterSeq > 0 ? `${archive.prefix}/${String(afterSeq).padStart(10, '0')}-~` : undefined;
  const all = await archive.list({ startAfter, signal });
  const keys: string[] = [];
  const foreign: string[] = [];
  let expect = afterSeq + 1;
  for (const key of all) {
    const p = parseSegmentKey(archive.prefix, key);
    if (!p) {
      foreign.push(key);
      continue;
    }
    if (p.seq < expect) throw new ArchiveIntegrityError(key, { field: 'seq' }, `is a second object for segment ${p.seq} (the first is ${keys.at(-1) ?? '?'}): a segment was written twice`);
    if (p.seq > expect) throw new ArchiveIntegrityError(key, { field: 'seq' }, `follows segment ${expect - 1}: segment${p.seq - expect > 1 ? `s ${expect}-${p.seq - 1} are` : ` ${expect} is`} missing from the archive`);
    keys.push(key);
    expect++;
  }
  return { keys, foreign };
}

export interface PullResult {
  /** Segments applied, in order. */
  readonly pulled: readonly { readonly key: string; readonly seq: number; readonly changeRows: number }[];
  /** The change chain head afterwards. */
  readonly head: { readonly id: number; readonly hash: string };
}

/**
 * Appends to a replica journal every segment newer than the last one it recorded, in order, each in
 * its own transaction after its checks (checksum, key, chains, continuity with the replica's heads).
 * The replica's rows end byte-identical to the shipped ones (same ids, columns and hashes). Throws
 * ArchiveIntegrityError (naming the segment) when a segment is altered or the replica has diverged,
 * ArchiveCallError when the bucket cannot be read; segments applied before the error stay applied.
 */
export async function pullSegments(journal: SqliteJournal, archive: JournalArchive, options: { readonly signal?: AbortSignal | undefined; readonly now?: (() => Date) | undefined; readonly source?: 'pulled' | 'restored' } = {}): Promise<PullResult> {
  const db = journal.database;
  const now = options.now ?? (() => new Date());
  const { keys } = await segmentKeys(archive, lastSegment(db).seq, options.signal);
  const pulled: { key: string; seq: number; changeRows: number }[] = [];
  for (const key of keys) {
    const { stored, segment, sha256 } = await readSegment(archive, key, options.signal);
    applySegment(db, key, segment, { sha256, bytes: stored.bytes.length, versionId: stored.versionId, source: options.source ?? 'pulled' }, now());
    pulled.push({ key, seq: segment.seq, changeRows: segment.tables.change_events.length });
  }
  const h = journalHeads(db).change_events;
  return { pulled, head: { id: h.id, hash: h.hash } };
}

export interface RestoreResult extends PullResult {
  readonly file: string;
  readonly verify: VerifyResult;
}

/** The target of a restore exists: a restore never overwrites a journal. */
export class RestoreTargetExistsError extends RolemapError {
  readonly retryable = false;
  constructor(readonly file: string) {
    super(`${file} already exists: a restore writes a new journal and never overwrites one (give a new path)`);
  }
}

/** The restored journal does not verify, or the archive holds no segment: nothing is left at the path. */
export class RestoreFailedError extends RolemapError {
  readonly retryable = false;
}

/**
 * A new journal at `file` from every segment in the archive, built beside it under a temporary name
 * and linked into place only when `journal verify` passes on it; refuses an existing file.
 */
export async function restoreJournal(file: string, archive: JournalArchive, options: { readonly signal?: AbortSignal | undefined; readonly now?: (() => Date) | undefined } = {}): Promise<RestoreResult> {
  if (existsSync(file)) throw new RestoreTargetExistsError(file);
  const temp = `${file}.restoring-${process.pid}`;
  const cleanup = (): void => {
    for (const f of [temp, `${temp}-wal`, `${temp}-shm`]) rmSync(f, { force: true });
  };
  cleanup();
  try {
    const journal = SqliteJournal.open(temp, { clock: options.now });
    let pulled: PullResult;
    try {
      pulled = await pullSegments(journal, archive, { ...options, source: 'restored' });
    } finally {
      journal.close();
    }
    if (pulled.pulled.length === 0) throw new RestoreFailedError(`s3://${archive.bucket}/${archive.prefix}/ holds no journal segment: nothing to restore`);
    const db = openReadOnly(temp);
    let verify: VerifyResult;
    try {
      verify = verifyJournal(db);
    } finally {
      db.close();
    }
    if (!verify.ok) throw new RestoreFailedError(`the journal rebuilt from s3://${archive.bucket}/${archive.prefix}/ does not verify: ${verify.problems[0]?.message ?? ''}`);
    // link(2) fails when the target exists: a journal that appeared meanwhile is never replaced.
    try {
      linkSync(temp, file);
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'EEXIST') throw new RestoreTargetExistsError(file);
      throw e;
    }
    return { ...pulled, file, verify };
  } finally {
    cleanup();
  }
}

export { GENESIS };
