/**
 * `rolemap journal verify --archive`: reads every segment and checks, in order, its SHA-256 checksum,
 * its Object Lock retention, its key, that it continues the segment before it (sequence number, that
 * segment's SHA-256 and chain heads), its rows' chain links and hashes, that the whole archive rebuilt
 * into a scratch journal passes `journal verify`, and that the local journal holds exactly the archived
 * rows. It names the first difference: the segment key, and the table, row and field when there is one.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { SqliteJournal, openReadOnly, verifyJournal, type SqliteDatabase } from '../journal/index.js';
import { ArchiveIntegrityError, applySegment, checkSegmentChains, readSegment } from './apply.js';
import { ArchiveCallError, type JournalArchive } from './s3-archive.js';
import { CHAINED_TABLES, SEGMENT_TABLES, SegmentFormatError, canonicalJson, emptyHeads, journalHeads, parseSegmentKey, type Heads, type Row, type Segment, type SegmentTable } from './segment.js';

export interface ArchiveProblem {
  /** The segment object concerned (null: the archive as a whole). */
  readonly key: string | null;
  readonly table?: string | undefined;
  readonly row?: number | string | undefined;
  readonly field?: string | undefined;
  readonly message: string;
}

export interface ArchiveVerifyResult {
  readonly ok: boolean;
  readonly bucket: string;
  readonly prefix: string;
  readonly segments: number;
  readonly bytes: number;
  /** Rows archived, per table. */
  readonly rows: Readonly<Partial<Record<SegmentTable, number>>>;
  /** The change chain head of the last segment read. */
  readonly head: { readonly id: number; readonly hash: string } | null;
  /** Local rows (all chained tables) after the archived heads: written since the last shipment. */
  readonly notYetShipped: number | null;
  /** The first is the earliest difference found. */
  readonly problems: readonly ArchiveProblem[];
}

export interface LocalDifference {
  readonly table: string;
  readonly row: number | string;
  readonly field?: string | undefined;
  readonly message: string;
}

function show(v: unknown): string {
  if (v === undefined) return 'absent';
  const s = JSON.stringify(v);
  return s.length > 60 ? `${s.slice(0, 57)}...` : s;
}

function compareRow(table: string, id: number | string, archived: Row, local: Row | undefined, skip: readonly string[] = []): LocalDifference | undefined {
  if (local === undefined) return { table, row: id, message: `${table} row ${id} is in the archive but not in the local journal` };
  const cols = new Set([...Object.keys(archived), ...Object.keys(local)]);
  for (const c of cols) {
    if (skip.includes(c)) continue;
    const a = archived[c] ?? null;
    const l = local[c] ?? null;
    if (a !== l) return { table, row: id, field: c, message: `${table} row ${id} field ${c}: the archive has ${show(a)}, the local journal ${show(l)}` };
  }
  return undefined;
}

/** The first row of `segment` the local journal does not hold exactly as archived (owned_objects' removed_at aside: it may change later). */
export function firstLocalDifference(db: SqliteDatabase, key: string, segment: Segment): LocalDifference | undefined {
  void key;
  const byId = (table: string): ((id: unknown) => Row | undefined) => {
    const stmt = db.prepare(`SELECT * FROM ${table} WHERE id = ?`);
    return (id) => stmt.get(id) as Row | undefined;
  };
  for (const table of ['runs', ...CHAINED_TABLES, 'owned_objects'] as const) {
    const rows = segment.tables[table];
    if (rows.length === 0) continue;
    const get = byId(table);
    for (const r of rows) {
      const d = compareRow(table, r['id'] as number | string, r, get(r['id']), table === 'owned_objects' ? ['removed_at'] : []);
      if (d) return d;
    }
  }
  const bySnapshot = new Map<number, string[]>();
  for (const e of segment.tables.entitlements) {
    const id = Number(e['snapshot_id']);
    bySnapshot.set(id, [...(bySnapshot.get(id) ?? []), canonicalJson(e)]);
  }
  const ents = db.prepare('SELECT * FROM entitlements WHERE snapshot_id = ?');
  for (const [id, archived] of bySnapshot) {
    const local = (ents.all(id) as Row[]).map((r) => canonicalJson(r)).sort();
    archived.sort();
    const missing = archived.find((a) => !local.includes(a));
    const extra = local.find((l) => !archived.includes(l));
    if (missing !== undefined || extra !== undefined) {
      return { table: 'entitlements', row: id, message: `the entitlements of snapshot ${id} differ: ${missing !== undefined ? `the archive has ${show(JSON.parse(missing))}` : ''}${missing !== undefined && extra !== undefined ? ', ' : ''}${extra !== undefined ? `the local journal has ${show(JSON.parse(extra))}` : ''}` };
    }
  }
  const concern = db.prepare('SELECT 1 FROM change_concerns WHERE guid = ? AND run_id = ? AND seq = ?');
  for (const c of segment.tables.change_concerns) {
    if (concern.get(c['guid'], c['run_id'], c['seq']) === undefined) return { table: 'change_concerns', row: `${String(c['run_id'])}/${String(c['seq'])}`, message: `change_concerns ${String(c['guid'])} of run ${String(c['run_id'])} seq ${String(c['seq'])} is in the archive but not in the local journal` };
  }
  return undefined;
}

function headsEqual(a: Heads, b: Heads): (typeof CHAINED_TABLES)[number] | undefined {
  for (const t of CHAINED_TABLES) if (a[t].id !== b[t].id || a[t].hash !== b[t].hash) return t;
  return undefined;
}

function problemOf(key: string, e: unknown): ArchiveProblem {
  if (e instanceof ArchiveIntegrityError) return { key, ...e.detail, message: e.message };
  if (e instanceof SegmentFormatError) return { key, message: e.message };
  if (e instanceof ArchiveCallError && /checksum mismatch/i.test(e.message)) {
    return { key, field: 'x-amz-checksum-sha256', message: `segment ${key}: its bytes do not match the SHA-256 checksum stored with it: the object was altered in storage (${e.message})` };
  }
  throw e;
}

/** Which segment holds row `id` of `table` (by the segments' heads). */
function segmentOfRow(read: readonly { key: string; segment: Segment }[], table: string, id: number | null): string | null {
  if (id === null || !(CHAINED_TABLES as readonly string[]).includes(table)) return null;
  const t = table as (typeof CHAINED_TABLES)[number];
  return read.find((r) => r.segment.previous.heads[t].id < id && id <= r.segment.heads[t].id)?.key ?? null;
}

export async function verifyArchive(archive: JournalArchive, local: SqliteDatabase | undefined, options: { readonly signal?: AbortSignal | undefined } = {}): Promise<ArchiveVerifyResult> {
  const problems: ArchiveProblem[] = [];
  const rows: Partial<Record<SegmentTable, number>> = {};
  const read: { key: string; segment: Segment; sha256: string; versionId: string | undefined; bytes: number }[] = [];
  let bytes = 0;
  const all = await archive.list({ signal: options.signal });
  const keys: string[] = [];
  for (const key of all) {
    const p = parseSegmentKey(archive.prefix, key);
    if (!p) {
      problems.push({ key, message: `${key} is not a journal segment (expected ${archive.prefix}/<10-digit seq>-<first row>-<last row>.json.gz)` });
      continue;
    }
    const expected = keys.length + 1;
    if (p.seq !== expected) {
      problems.push({
        key,
        field: 'seq',
        message: p.seq < expected ? `segment ${key} is a second object for segment ${p.seq}: a segment was written twice` : `segment ${key} follows segment ${expected - 1}: segment${p.seq - expected > 1 ? `s ${expected}-${p.seq - 1} are` : ` ${expected} is`} missing from the archive`,
      });
      break;
    }
    keys.push(key);
  }
  let prevSha: string | null = null;
  let prevHeads: Heads = emptyHeads();
  const owned = new Map<number, Row>();
  for (const key of keys) {
    if (problems.length > 0) break;
    try {
      const { stored, segment, sha256 } = await readSegment(archive, key, options.signal);
      bytes += stored.bytes.length;
      if (stored.lockMode === undefined || stored.retainUntil === undefined) problems.push({ key, field: 'x-amz-object-lock-mode', message: `segment ${key} is not under Object Lock retention: it can be deleted or overwritten` });
      if (segment.previous.sha256 !== prevSha) problems.push({ key, field: 'previous.sha256', message: `segment ${key} does not name the segment before it (${prevSha ?? 'none'}) as its predecessor: a segment was replaced` });
      const t = headsEqual(segment.previous.heads, prevHeads);
      if (t !== undefined) problems.push({ key, table: t, field: 'previous.heads', message: `segment ${key} continues ${t} after row ${segment.previous.heads[t].id}, the segment before it ended at row ${prevHeads[t].id}` });
      checkSegmentChains(key, segment);
      if (local !== undefined && problems.length === 0) {
        const d = firstLocalDifference(local, key, segment);
        if (d) problems.push({ key, ...d, message: `segment ${key}: ${d.message}` });
      }
      for (const table of SEGMENT_TABLES) rows[table] = (rows[table] ?? 0) + segment.tables[table].length;
      for (const o of segment.tables.owned_objects) owned.set(Number(o['id']), o);
      read.push({ key, segment, sha256, versionId: stored.versionId, bytes: stored.bytes.length });
      prevSha = sha256;
      prevHeads = segment.heads;
    } catch (e) {
      problems.push(problemOf(key, e));
    }
  }
  // The whole archive rebuilt in a scratch journal must pass `journal verify` (plan records and posture
  // chains in full, run anchors, foreign keys).
  if (problems.length === 0 && read.length > 0) {
    const dir = mkdtempSync(join(tmpdir(), 'rolemap-verify-archive-'));
    try {
      const file = join(dir, 'rebuilt.sqlite');
      const scratch = SqliteJournal.open(file);
      try {
        for (const r of read) {
          try {
            applySegment(scratch.database, r.key, r.segment, { sha256: r.sha256, bytes: r.bytes, versionId: r.versionId, source: 'restored' }, new Date());
          } catch (e) {
            if (e instanceof ArchiveIntegrityError) throw e;
            throw new ArchiveIntegrityError(r.key, {}, `cannot be applied to the rows before it: ${(e as Error).message}`);
          }
        }
      } catch (e) {
        problems.push(problemOf((e as ArchiveIntegrityError).key ?? null, e));
      } finally {
        scratch.close();
      }
      if (problems.length === 0) {
        const db = openReadOnly(file);
        try {
          const v = verifyJournal(db);
          for (const p of v.problems) problems.push({ key: segmentOfRow(read, p.table, p.row), table: p.table, row: p.row ?? undefined, message: `the archive rebuilt as a journal does not verify: ${p.message}` });
        } finally {
          db.close();
        }
      }
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }
  let notYetShipped: number | null = null;
  if (local !== undefined && problems.length === 0) {
    const heads = journalHeads(local);
    notYetShipped = 0;
    for (const t of CHAINED_TABLES) notYetShipped += Math.max(0, heads[t].id - prevHeads[t].id);
    const get = local.prepare('SELECT * FROM owned_objects WHERE id = ?');
    for (const [id, o] of owned) {
      if (o['removed_at'] === null) continue;
      const l = get.get(id) as Row | undefined;
      if (l?.['removed_at'] !== o['removed_at']) {
        problems.push({ key: read.findLast((r) => r.segment.tables.owned_objects.some((x) => x['id'] === id))?.key ?? null, table: 'owned_objects', row: id, field: 'removed_at', message: `owned_objects row ${id} field removed_at: the archive has ${show(o['removed_at'])}, the local journal ${show(l?.['removed_at'])}` });
        break;
      }
    }
  }
  const head = read.at(-1)?.segment.heads.change_events ?? null;
  return { ok: problems.length === 0, bucket: archive.bucket, prefix: archive.prefix, segments: read.length, bytes, rows, head: head ? { id: head.id, hash: head.hash } : null, notYetShipped, problems };
}
