/**
 * A journal segment: the rows the journal gained since the previous segment, as one canonical JSON
 * document (keys sorted, no white space), gzip-compressed. It names the chain heads before and after
 * it and the SHA-256 of the segment before it, so the segments form a chain of their own on top of the
 * journal's row chains, and a missing, reordered or replaced segment shows.
 *
 * What a segment holds (docs/journal.md#archive):
 * - every hash-chained table by id: change_events, run_seals, entitlement_snapshots, plan_records,
 *   posture_runs, posture_events;
 * - the rows they depend on: the runs sealed in the segment (a sealed run never changes again; in the
 *   first segment also the finished runs from before run seals existed), the entitlements of its
 *   snapshots, the change_concerns of its change rows;
 * - owned_objects (the ownership registry) rows created, or removed, since the previous segment.
 * A segment is only cut while no run is open, so every run it names is final.
 */
import { createHash } from 'node:crypto';
import { gunzipSync, gzipSync } from 'node:zlib';
import { GENESIS } from '../journal/index.js';
import type { SqliteDatabase } from '../journal/index.js';

export const SEGMENT_FORMAT = 'rolemap-journal-segment/1';

/** Hash-chained tables (id, prev_hash, hash), in the order a segment is applied. */
export const CHAINED_TABLES = ['run_seals', 'change_events', 'entitlement_snapshots', 'plan_records', 'posture_runs', 'posture_events'] as const;
export type ChainedTable = (typeof CHAINED_TABLES)[number];
/** Every table a segment carries, in the order it is applied (a row's references come before it). */
export const SEGMENT_TABLES = ['runs', 'run_seals', 'change_events', 'change_concerns', 'entitlement_snapshots', 'entitlements', 'plan_records', 'posture_runs', 'posture_events', 'owned_objects'] as const;
export type SegmentTable = (typeof SEGMENT_TABLES)[number];

export type Row = Readonly<Record<string, string | number | null>>;
export interface ChainHead {
  readonly id: number;
  readonly hash: string;
}
export type Heads = Readonly<Record<ChainedTable, ChainHead>>;

export interface Segment {
  readonly format: typeof SEGMENT_FORMAT;
  readonly seq: number;
  /** When the segment was cut (the journal's clock). */
  readonly at: string;
  readonly previous: {
    readonly seq: number;
    /** SHA-256 (hex) of the previous segment object's bytes; null for the first. */
    readonly sha256: string | null;
    readonly at: string | null;
    /** The chain heads before this segment (id 0 and GENESIS for an empty table). */
    readonly heads: Heads;
    /** The highest owned_objects id before this segment. */
    readonly ownedObjectsId: number;
  };
  readonly heads: Heads;
  readonly ownedObjectsId: number;
  readonly tables: Readonly<Record<SegmentTable, readonly Row[]>>;
}

/** Canonical JSON: object keys sorted, no white space; the bytes a checksum and a comparison see. */
export function canonicalJson(value: unknown): string {
  if (value === null || typeof value !== 'object') return JSON.stringify(value);
  if (Array.isArray(value)) return `[${value.map((v) => canonicalJson(v === undefined ? null : v)).join(',')}]`;
  const obj = value as Record<string, unknown>;
  return `{${Object.keys(obj)
    .filter((k) => obj[k] !== undefined)
    .sort()
    .map((k) => `${JSON.stringify(k)}:${canonicalJson(obj[k])}`)
    .join(',')}}`;
}

export function encodeSegment(segment: Segment): Buffer {
  return gzipSync(Buffer.from(canonicalJson(segment), 'utf8'), { level: 9 });
}

export function sha256Hex(bytes: Buffer): string {
  return createHash('sha256').update(bytes).digest('hex');
}

export function sha256Base64(bytes: Buffer): string {
  return createHash('sha256').update(bytes).digest('base64');
}

/** A segment object that is not a well-formed segment (bad gzip, JSON or shape). */
export class SegmentFormatError extends Error {
  constructor(
    readonly key: string,
    message: string,
  ) {
    super(`segment ${key}: ${message}`);
  }
}

export function decodeSegment(key: string, bytes: Buffer): Segment {
  let text: string;
  try {
    text = gunzipSync(bytes).toString('utf8');
  } catch (e) {
    throw new SegmentFormatError(key, `not gzip (${(e as Error).message})`);
  }
  let doc: unknown;
  try {
    doc = JSON.parse(text);
  } catch (e) {
    throw new SegmentFormatError(key, `not JSON (${(e as Error).message})`);
  }
  const s = doc as Partial<Segment>;
  if (typeof doc !== 'object' || doc === null || s.format !== SEGMENT_FORMAT) throw new SegmentFormatError(key, `not a ${SEGMENT_FORMAT} document`);
  if (!Number.isInteger(s.seq) || typeof s.at !== 'string' || typeof s.previous !== 'object' || typeof s.heads !== 'object' || typeof s.tables !== 'object' || s.tables === null) {
    throw new SegmentFormatError(key, 'missing seq, at, previous, heads or tables');
  }
  for (const t of SEGMENT_TABLES) {
    if (!Array.isArray(s.tables[t])) throw new SegmentFormatError(key, `tables.${t} is not a list`);
  }
  for (const t of CHAINED_TABLES) {
    const h = s.heads[t];
    const p = s.previous.heads?.[t];
    if (h === undefined || p === undefined || !Number.isInteger(h.id) || typeof h.hash !== 'string' || !Number.isInteger(p.id) || typeof p.hash !== 'string') {
      throw new SegmentFormatError(key, `heads.${t} or previous.heads.${t} is missing`);
    }
  }
  return s as Segment;
}

const KEY = /^(\d{10})-(\d+)-(\d+)\.json\.gz$/;

/** `<prefix>/<seq, 10 digits>-<first change row>-<last change row>.json.gz`; first = last + 1 when the segment has no change rows. */
export function segmentKey(prefix: string, seq: number, firstChangeId: number, lastChangeId: number): string {
  return `${prefix}/${String(seq).padStart(10, '0')}-${firstChangeId}-${lastChangeId}.json.gz`;
}

export function parseSegmentKey(prefix: string, key: string): { seq: number; first: number; last: number } | undefined {
  if (!key.startsWith(`${prefix}/`)) return undefined;
  const m = KEY.exec(key.slice(prefix.length + 1));
  if (!m) return undefined;
  return { seq: Number(m[1]), first: Number(m[2]), last: Number(m[3]) };
}

function tableExists(db: SqliteDatabase, table: string): boolean {
  return db.prepare("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = ?").get(table) !== undefined;
}

/** The chain heads of a journal now. */
export function journalHeads(db: SqliteDatabase): Heads {
  const heads = {} as Record<ChainedTable, ChainHead>;
  for (const t of CHAINED_TABLES) {
    const row = tableExists(db, t) ? (db.prepare(`SELECT id, hash FROM ${t} ORDER BY id DESC LIMIT 1`).get() as ChainHead | undefined) : undefined;
    heads[t] = row ?? { id: 0, hash: GENESIS };
  }
  return heads;
}

export function emptyHeads(): Heads {
  return Object.fromEntries(CHAINED_TABLES.map((t) => [t, { id: 0, hash: GENESIS }])) as Record<ChainedTable, ChainHead>;
}

export interface PreviousSegment {
  readonly seq: number;
  readonly sha256: string | null;
  readonly at: string | null;
  readonly heads: Heads;
  readonly ownedObjectsId: number;
}

export type CutResult = { readonly kind: 'segment'; readonly segment: Segment } | { readonly kind: 'nothing-new' } | { readonly kind: 'run-open'; readonly runId: string };

/**
 * Reads, in one read transaction, the rows after `previous` and cuts the next segment; nothing when
 * the journal has nothing new, and no segment while a run is open (its rows are not final yet).
 */
export function cutSegment(db: SqliteDatabase, previous: PreviousSegment, at: string): CutResult {
  const own = !db.inTransaction;
  if (own) db.exec('BEGIN');
  try {
    const open = db.prepare('SELECT id FROM runs WHERE finished_at IS NULL ORDER BY started_at LIMIT 1').get() as { id: string } | undefined;
    if (open) return { kind: 'run-open', runId: open.id };
    const heads = journalHeads(db);
    const p = previous.heads;
    const all = (sql: string, ...params: unknown[]): Row[] => db.prepare(sql).all(...params) as Row[];
    const tables = {} as Record<SegmentTable, Row[]>;
    for (const t of CHAINED_TABLES) tables[t] = tableExists(db, t) ? all(`SELECT * FROM ${t} WHERE id > ? AND id <= ? ORDER BY id`, p[t].id, heads[t].id) : [];
    tables.runs = all('SELECT r.* FROM runs r JOIN run_seals s ON s.run_id = r.id WHERE s.id > ? AND s.id <= ? ORDER BY s.id', p.run_seals.id, heads.run_seals.id);
    if (previous.seq === 0) {
      // Runs that finished before run seals existed have none: the first segment carries them.
      tables.runs = [...all('SELECT * FROM runs WHERE finished_at IS NOT NULL AND id NOT IN (SELECT run_id FROM run_seals) ORDER BY started_at, id'), ...tables.runs];
    }
    tables.entitlements = all('SELECT * FROM entitlements WHERE snapshot_id > ? AND snapshot_id <= ? ORDER BY snapshot_id, rowid', p.entitlement_snapshots.id, heads.entitlement_snapshots.id);
    tables.change_concerns = tableExists(db, 'change_concerns')
      ? all(
          'SELECT cc.* FROM change_concerns cc WHERE EXISTS (SELECT 1 FROM change_events ce WHERE ce.run_id = cc.run_id AND ce.seq = cc.seq AND ce.id > ? AND ce.id <= ?) ORDER BY cc.run_id, cc.seq, cc.guid',
          p.change_events.id,
          heads.change_events.id,
        )
      : [];
    const ownedMax = (db.prepare('SELECT coalesce(max(id), 0) AS n FROM owned_objects').get() as { n: number }).n;
    tables.owned_objects = all(
      'SELECT * FROM owned_objects WHERE (id > ? AND id <= ?) OR (id <= ? AND removed_at IS NOT NULL AND removed_at >= ?) ORDER BY id',
      previous.ownedObjectsId,
      ownedMax,
      previous.ownedObjectsId,
      previous.at ?? '',
    );
    const chainedNew = CHAINED_TABLES.some((t) => heads[t].id !== p[t].id);
    if (!chainedNew && tables.owned_objects.length === 0 && tables.runs.length === 0) return { kind: 'nothing-new' };
    return {
      kind: 'segment',
      segment: {
        format: SEGMENT_FORMAT,
        seq: previous.seq + 1,
        at,
        previous: { seq: previous.seq, sha256: previous.sha256, at: previous.at, heads: p, ownedObjectsId: previous.ownedObjectsId },
        heads,
        ownedObjectsId: ownedMax,
        tables,
      },
    };
  } finally {
    if (own) db.exec('COMMIT');
  }
}

/** The change rows a segment covers, for its key: first..last (first = last + 1 when none). */
export function changeRange(segment: Segment): { first: number; last: number } {
  return { first: segment.previous.heads.change_events.id + 1, last: segment.heads.change_events.id };
}
