/**
 * The posture report in the journal (migration `*_posture.sql`): each report run appends one
 * `posture_runs` row and one `posture_events` row per finding that opened or was resolved, both
 * hash-chained like `change_events`, in one synchronous transaction. Reading: the findings open now
 * (the last event of each is `opened`), and the events in order for `journal posture --as-of`.
 */
import type { Finding, FindingEvent, FindingKind, Severity } from '../../core/posture/index.js';
import { diffFindings } from '../../core/posture/index.js';
import { GENESIS, chainHash } from './chain.js';
import { inTransaction } from './sqlite.js';
import type { SqliteDatabase } from './sqlite.js';

export const POSTURE_RUN_COLUMNS = ['id', 'run_id', 'at', 'accounts_json', 'failed_json', 'open_findings', 'events_head_id', 'events_head_hash'] as const;
export const POSTURE_EVENT_COLUMNS = ['id', 'run_id', 'at', 'event', 'finding_id', 'kind', 'severity', 'account', 'account_alias', 'principal', 'detail', 'fix'] as const;

type PostureRunContent = { readonly [C in (typeof POSTURE_RUN_COLUMNS)[number]]: C extends 'id' | 'open_findings' | 'events_head_id' ? number : string };
type PostureEventContent = { readonly [C in (typeof POSTURE_EVENT_COLUMNS)[number]]: C extends 'id' ? number : string };
type Chained<T> = T & { readonly prev_hash: string; readonly hash: string };

export function postureRunHash(prev: string, row: PostureRunContent): string {
  return chainHash(prev, POSTURE_RUN_COLUMNS.map((c) => row[c]));
}

export function postureEventHash(prev: string, row: PostureEventContent): string {
  return chainHash(prev, POSTURE_EVENT_COLUMNS.map((c) => row[c]));
}

function findingOf(r: PostureEventContent): Finding {
  return { id: r.finding_id, kind: r.kind as FindingKind, severity: r.severity as Severity, account: r.account, accountAlias: r.account_alias, principal: r.principal, detail: r.detail, fix: r.fix };
}

/** The findings open now: those whose last event is `opened`. */
export function openFindings(db: SqliteDatabase): Map<string, Finding> {
  const rows = db
    .prepare(
      `SELECT e.* FROM posture_events AS e
       WHERE e.event = 'opened' AND e.id = (SELECT max(x.id) FROM posture_events AS x WHERE x.finding_id = e.finding_id)
       ORDER BY e.finding_id`,
    )
    .all() as PostureEventContent[];
  return new Map(rows.map((r) => [r.finding_id, findingOf(r)]));
}

/** Every event in journal order (for the as-of query), optionally of one account. */
export function postureEvents(db: SqliteDatabase, account?: string): { at: string; event: 'opened' | 'resolved'; finding: Finding }[] {
  const sql = `SELECT * FROM posture_events${account === undefined ? '' : ' WHERE account = ?'} ORDER BY id`;
  const rows = (account === undefined ? db.prepare(sql).all() : db.prepare(sql).all(account)) as PostureEventContent[];
  return rows.map((r) => ({ at: r.at, event: r.event as 'opened' | 'resolved', finding: findingOf(r) }));
}

export interface PostureRunRecord {
  readonly runId: string;
  readonly at: string;
  /** Accounts read in full: only their absent findings are resolved. */
  readonly accountsRead: readonly string[];
  readonly failed: readonly { readonly account: string; readonly error: string }[];
  readonly findings: readonly Finding[];
}

/** Journals one report run; returns the events it recorded. One synchronous transaction. */
export function recordPostureRun(db: SqliteDatabase, run: PostureRunRecord, redact: (s: string) => string = (s) => s): FindingEvent[] {
  return inTransaction(db, () => {
    const open = openFindings(db);
    const events = diffFindings(open, run.findings, new Set(run.accountsRead));
    const head = (db.prepare('SELECT id, hash FROM posture_events ORDER BY id DESC LIMIT 1').get() as { id: number; hash: string } | undefined) ?? { id: 0, hash: GENESIS };
    const runHead = (db.prepare('SELECT id, hash FROM posture_runs ORDER BY id DESC LIMIT 1').get() as { id: number; hash: string } | undefined) ?? { id: 0, hash: GENESIS };
    const stillOpen = new Set(open.keys());
    for (const e of events) {
      if (e.event === 'opened') stillOpen.add(e.finding.id);
      else stillOpen.delete(e.finding.id);
    }
    // The run row goes first (events reference it); its events head is where the chain will end.
    const eventsHeadId = head.id + events.length;
    const rows: Chained<PostureEventContent>[] = [];
    let prev = head.hash;
    events.forEach((e, i) => {
      const f = e.finding;
      const content: PostureEventContent = {
        id: head.id + i + 1,
        run_id: run.runId,
        at: run.at,
        event: e.event,
        finding_id: f.id,
        kind: f.kind,
        severity: f.severity,
        account: f.account,
        account_alias: f.accountAlias,
        principal: f.principal,
        detail: redact(f.detail),
        fix: redact(f.fix),
      };
      const hash = postureEventHash(prev, content);
      rows.push({ ...content, prev_hash: prev, hash });
      prev = hash;
    });
    const runRow: PostureRunContent = {
      id: runHead.id + 1,
      run_id: run.runId,
      at: run.at,
      accounts_json: JSON.stringify([...run.accountsRead].sort()),
      failed_json: redact(JSON.stringify(run.failed)),
      open_findings: stillOpen.size,
      events_head_id: eventsHeadId,
      events_head_hash: prev,
    };
    db.prepare(`INSERT INTO posture_runs (${POSTURE_RUN_COLUMNS.join(', ')}, prev_hash, hash) VALUES (${POSTURE_RUN_COLUMNS.map(() => '?').join(', ')}, ?, ?)`).run(
      ...POSTURE_RUN_COLUMNS.map((c) => runRow[c]),
      runHead.hash,
      postureRunHash(runHead.hash, runRow),
    );
    const insert = db.prepare(`INSERT INTO posture_events (${POSTURE_EVENT_COLUMNS.join(', ')}, prev_hash, hash) VALUES (${POSTURE_EVENT_COLUMNS.map(() => '?').join(', ')}, ?, ?)`);
    for (const r of rows) insert.run(...POSTURE_EVENT_COLUMNS.map((c) => r[c]), r.prev_hash, r.hash);
    return events;
  });
}

export interface PostureChainProblem {
  readonly table: 'posture_runs' | 'posture_events';
  readonly row: number | null;
  readonly runId: string | null;
  readonly kind: 'deleted' | 'altered' | 'broken-link' | 'inserted' | 'anchor';
  readonly message: string;
}

/** Walks both posture chains and the runs' event heads. Tables absent (an older schema): nothing to check. */
export function verifyPostureChains(db: SqliteDatabase): { runs: number; events: number; problems: PostureChainProblem[] } {
  const problems: PostureChainProblem[] = [];
  const exists = db.prepare("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'posture_runs'").get();
  if (exists === undefined) return { runs: 0, events: 0, problems };
  const hashById = new Map<number, string>();
  let prevId = 0;
  let prev = GENESIS;
  let events = 0;
  for (const raw of db.prepare('SELECT * FROM posture_events ORDER BY id').iterate()) {
    const r = raw as Chained<PostureEventContent>;
    events++;
    const what = `posture event ${r.id} (${r.event} ${r.finding_id}, run ${r.run_id})`;
    const base = { table: 'posture_events' as const, row: r.id, runId: r.run_id };
    if (r.id !== prevId + 1) problems.push({ ...base, kind: 'deleted', row: prevId + 1, message: `posture event(s) ${prevId + 1}${r.id - 1 > prevId + 1 ? `-${r.id - 1}` : ''} were deleted: ${what} is the next` });
    else if (postureEventHash(r.prev_hash, r) !== r.hash) problems.push({ ...base, kind: 'altered', message: `${what} was altered: its hash does not match its content` });
    else if (r.prev_hash !== prev) problems.push({ ...base, kind: 'broken-link', message: `${what} does not link to posture event ${prevId}: it was rewritten or inserted` });
    hashById.set(r.id, r.hash);
    prevId = r.id;
    prev = r.hash;
  }
  let runs = 0;
  let rPrevId = 0;
  let rPrev = GENESIS;
  for (const raw of db.prepare('SELECT * FROM posture_runs ORDER BY id').iterate()) {
    const r = raw as Chained<PostureRunContent>;
    runs++;
    const base = { table: 'posture_runs' as const, row: r.id, runId: r.run_id };
    if (r.id !== rPrevId + 1) problems.push({ ...base, kind: 'deleted', row: rPrevId + 1, message: `posture run(s) ${rPrevId + 1}${r.id - 1 > rPrevId + 1 ? `-${r.id - 1}` : ''} were deleted: posture run ${r.run_id} is the next` });
    else if (postureRunHash(r.prev_hash, r) !== r.hash) problems.push({ ...base, kind: 'altered', message: `posture run ${r.run_id} was altered: its hash does not match its content` });
    else if (r.prev_hash !== rPrev) problems.push({ ...base, kind: 'broken-link', message: `posture run ${r.run_id} does not link to posture run ${rPrevId}: it was rewritten or inserted` });
    else if (r.events_head_id > 0 && hashById.get(r.events_head_id) !== r.events_head_hash) {
      problems.push({ ...base, kind: 'anchor', message: hashById.has(r.events_head_id) ? `posture event ${r.events_head_id} no longer has the hash recorded by posture run ${r.run_id}: the events were rewritten from there` : `posture event ${r.events_head_id}, the head recorded by posture run ${r.run_id}, is missing: the events were cut off` });
    }
    rPrevId = r.id;
    rPrev = r.hash;
  }
  const orphans = db.prepare('SELECT count(*) AS n FROM posture_events WHERE id > coalesce((SELECT max(events_head_id) FROM posture_runs), 0)').get() as { n: number };
  if (orphans.n > 0) problems.push({ table: 'posture_events', row: null, runId: null, kind: 'inserted', message: `${orphans.n} posture event(s) come after the head the last posture run recorded: inserted` });
  return { runs, events, problems };
}
