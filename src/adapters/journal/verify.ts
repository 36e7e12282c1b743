/**
 * `rolemap journal verify`: walks both hash chains, checks the run anchors and SQLite's own
 * integrity check, and names the first row that was altered, inserted or deleted.
 */
import {
  FENCING_COLUMNS,
  GENESIS,
  RUN_COLUMNS,
  changeEventHash,
  entitlementsDigest,
  runSealHash,
  snapshotHash,
  type ChangeEventRow,
  type RunRowContent,
  type RunSealRow,
  type EntitlementRow,
  type SnapshotRow,
} from './chain.js';
import { verifyPostureChains } from './posture-journal.js';
import { verifyReviewChain } from './review-journal.js';
import { planRecordHash, type PlanRecordRow } from './plan-records.js';
import type { SqliteDatabase } from './sqlite.js';

export type ProblemKind = 'altered' | 'deleted' | 'inserted' | 'broken-link' | 'anchor' | 'integrity';

export interface VerifyProblem {
  readonly kind: ProblemKind;
  readonly table: 'change_events' | 'entitlement_snapshots' | 'entitlements' | 'plan_records' | 'runs' | 'posture_runs' | 'posture_events' | 'review_events' | 'database';
  /** The row named (change_events.id / entitlement_snapshots.id), when one is. */
  readonly row: number | null;
  readonly runId: string | null;
  readonly seq: number | null;
  readonly message: string;
}

export interface VerifyResult {
  readonly ok: boolean;
  readonly changeRows: number;
  readonly snapshotRows: number;
  /** Rows of plan_records (saved and refused plans, approvals), when the journal has that table. */
  readonly planRecordRows: number;
  /** Finished runs whose row is sealed (hash-chained), and finished runs from before seals existed. */
  readonly sealedRuns: number;
  readonly unsealedRuns: number;
  /** Posture report runs and finding events (both hash-chained). */
  readonly postureRuns: number;
  readonly postureEvents: number;
  /** Access review rows (campaigns, population, reviewers, decisions; hash-chained). */
  readonly reviewEvents: number;
  /** The last change row: keep its hash outside the host as an external anchor. */
  readonly head: { readonly id: number; readonly hash: string } | null;
  /** In chain order; the first is the earliest tampering found. At most `maxProblems`. */
  readonly problems: readonly VerifyProblem[];
  /** `PRAGMA integrity_check` lines (`["ok"]` when sound). */
  readonly integrity: readonly string[];
}

interface RunAnchor {
  readonly id: string;
  readonly finished_at: string | null;
  readonly chain_head_id: number | null;
  readonly chain_head_hash: string | null;
}

function describe(row: { readonly id: number; readonly run_id: string; readonly seq?: number }): string {
  return row.seq === undefined ? `row ${row.id} (run ${row.run_id})` : `row ${row.id} (run ${row.run_id} seq ${row.seq})`;
}

function range(from: number, to: number): string {
  return from === to ? `row ${from}` : `rows ${from}-${to}`;
}

export function verifyJournal(db: SqliteDatabase, options: { readonly maxProblems?: number } = {}): VerifyResult {
  const max = options.maxProblems ?? 20;
  const problems: VerifyProblem[] = [];
  const add = (p: VerifyProblem): void => {
    if (problems.length < max) problems.push(p);
  };

  const integrity = (db.prepare('PRAGMA integrity_check').all() as { integrity_check: string }[]).map((r) => r.integrity_check);
  if (!(integrity.length === 1 && integrity[0] === 'ok')) {
    add({ kind: 'integrity', table: 'database', row: null, runId: null, seq: null, message: `SQLite integrity check failed: ${integrity.join('; ')}` });
  }

  const runs = new Map((db.prepare('SELECT id, finished_at, chain_head_id, chain_head_hash FROM runs').all() as RunAnchor[]).map((r) => [r.id, r]));

  // change_events chain
  let prevId = 0;
  let prevHash = GENESIS;
  let changeRows = 0;
  const hashById = new Map<number, string>();
  const anchorIds = new Set([...runs.values()].map((r) => r.chain_head_id).filter((x): x is number => x !== null));
  for (const raw of db.prepare('SELECT * FROM change_events ORDER BY id').iterate()) {
    const row = raw as ChangeEventRow;
    changeRows++;
    if (anchorIds.has(row.id)) hashById.set(row.id, row.hash);
    const run = runs.get(row.run_id);
    if (row.id !== prevId + 1) {
      add({
        kind: 'deleted',
        table: 'change_events',
        row: prevId + 1,
        runId: null,
        seq: null,
        message: `${range(prevId + 1, row.id - 1)} of the change log ${row.id - 1 === prevId + 1 ? 'was' : 'were'} deleted: ${describe(row)} is the next row and its link does not match`,
      });
    } else if (run === undefined) {
      add({ kind: 'inserted', table: 'change_events', row: row.id, runId: row.run_id, seq: row.seq, message: `${describe(row)} was inserted: run ${row.run_id} does not exist` });
    } else if (run.chain_head_id !== null && row.id > run.chain_head_id) {
      add({
        kind: 'inserted',
        table: 'change_events',
        row: row.id,
        runId: row.run_id,
        seq: row.seq,
        message: `${describe(row)} was inserted: it comes after row ${run.chain_head_id}, the last row when run ${row.run_id} finished`,
      });
    } else if (changeEventHash(row.prev_hash, row) !== row.hash) {
      add({ kind: 'altered', table: 'change_events', row: row.id, runId: row.run_id, seq: row.seq, message: `${describe(row)} was altered: its hash does not match its content` });
    } else if (row.prev_hash !== prevHash) {
      add({
        kind: 'broken-link',
        table: 'change_events',
        row: row.id,
        runId: row.run_id,
        seq: row.seq,
        message: `${describe(row)} does not link to row ${prevId}: row ${prevId} was rewritten with a new hash, or ${describe(row)} was inserted`,
      });
    }
    prevId = row.id;
    prevHash = row.hash;
  }
  for (const run of runs.values()) {
    if (run.chain_head_id === null || run.chain_head_id === 0) continue;
    const h = hashById.get(run.chain_head_id);
    if (h === undefined) {
      add({ kind: 'deleted', table: 'runs', row: run.chain_head_id, runId: run.id, seq: null, message: `row ${run.chain_head_id}, the chain head recorded when run ${run.id} finished, is missing: the end of the change log was cut off` });
    } else if (h !== run.chain_head_hash) {
      add({ kind: 'anchor', table: 'runs', row: run.chain_head_id, runId: run.id, seq: null, message: `row ${run.chain_head_id} no longer has the hash recorded when run ${run.id} finished: the change log was rewritten from there` });
    }
  }

  // entitlement_snapshots chain, with each snapshot's rows
  let sPrevId = 0;
  let sPrevHash = GENESIS;
  let snapshotRows = 0;
  const rowsOf = db.prepare('SELECT user_guid, user_name, account, kind, target, via_group_guid, via_group_name, user_principal_name, mail, seen_at FROM entitlements WHERE snapshot_id = ?');
  for (const raw of db.prepare('SELECT * FROM entitlement_snapshots ORDER BY id').iterate()) {
    const s = raw as SnapshotRow;
    snapshotRows++;
    const what = `entitlement snapshot ${s.id} (run ${s.run_id}, ${s.at})`;
    const base = { table: 'entitlement_snapshots' as const, row: s.id, runId: s.run_id, seq: null };
    if (s.id !== sPrevId + 1) {
      add({ ...base, kind: 'deleted', row: sPrevId + 1, message: `entitlement snapshot(s) ${sPrevId + 1}${s.id - 1 > sPrevId + 1 ? `-${s.id - 1}` : ''} were deleted: ${what} is the next and its link does not match` });
    } else if (!runs.has(s.run_id)) {
      add({ ...base, kind: 'inserted', message: `${what} was inserted: run ${s.run_id} does not exist` });
    } else if (snapshotHash(s.prev_hash, s) !== s.hash) {
      add({ ...base, kind: 'altered', message: `${what} was altered: its hash does not match its content` });
    } else if (s.prev_hash !== sPrevHash) {
      add({ ...base, kind: 'broken-link', message: `${what} does not link to snapshot ${sPrevId}: it was rewritten or inserted` });
    } else {
      const rows = rowsOf.all(s.id) as EntitlementRow[];
      if (rows.length !== s.entitlements || entitlementsDigest(rows) !== s.digest) {
        add({ ...base, table: 'entitlements', kind: 'altered', message: `the entitlements of ${what} were altered, inserted or deleted: ${rows.length} rows (recorded ${s.entitlements}) do not match the recorded digest` });
      }
    }
    sPrevId = s.id;
    sPrevHash = s.hash;
  }
  const orphans = db.prepare('SELECT count(*) AS n FROM entitlements WHERE snapshot_id NOT IN (SELECT id FROM entitlement_snapshots)').get() as { n: number };
  if (orphans.n > 0) {
    add({ kind: 'inserted', table: 'entitlements', row: null, runId: null, seq: null, message: `${orphans.n} entitlement row(s) belong to no snapshot: inserted, or their snapshot was deleted` });
  }

  // plan_records chain (saved and refused plans, approvals)
  let planRecordRows = 0;
  const hasPlanRecords = db.prepare("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'plan_records'").get() !== undefined;
  if (hasPlanRecords) {
    let pPrevId = 0;
    let pPrevHash = GENESIS;
    for (const raw of db.prepare('SELECT * FROM plan_records ORDER BY id').iterate()) {
      const p = raw as PlanRecordRow;
      planRecordRows++;
      const what = `plan record ${p.id} (${p.event}, run ${p.run_id})`;
      const base = { table: 'plan_records' as const, row: p.id, runId: p.run_id, seq: null };
      if (p.id !== pPrevId + 1) {
        add({ ...base, kind: 'deleted', row: pPrevId + 1, message: `plan record(s) ${pPrevId + 1}${p.id - 1 > pPrevId + 1 ? `-${p.id - 1}` : ''} were deleted: ${what} is the next and its link does not match` });
      } else if (!runs.has(p.run_id) || (p.by_run_id !== null && !runs.has(p.by_run_id))) {
        add({ ...base, kind: 'inserted', message: `${what} was inserted: run ${runs.has(p.run_id) ? p.by_run_id : p.run_id} does not exist` });
      } else if (planRecordHash(p.prev_hash, p) !== p.hash) {
        add({ ...base, kind: 'altered', message: `${what} was altered: its hash does not match its content` });
      } else if (p.prev_hash !== pPrevHash) {
        add({ ...base, kind: 'broken-link', message: `${what} does not link to plan record ${pPrevId}: it was rewritten or inserted` });
      }
      pPrevId = p.id;
      pPrevHash = p.hash;
    }
  }

  const { sealedRuns, unsealedRuns } = verifyRunSeals(db, add);
  const posture = verifyPostureChains(db);
  for (const p of posture.problems) add({ ...p, seq: null });
  const reviews = verifyReviewChain(db);
  for (const p of reviews.problems) add({ ...p, seq: null });

  const head = prevId === 0 ? null : { id: prevId, hash: prevHash };
  return { ok: problems.length === 0, changeRows, snapshotRows, planRecordRows, sealedRuns, unsealedRuns, postureRuns: posture.runs, postureEvents: posture.events, reviewEvents: reviews.events, head, problems, integrity };
}

/**
 * The run seals' chain: each seal links to the one before and matches its run's row as it is now, so a
 * finished run whose outcome, error or counts were edited is named. A finished run with no seal is
 * one that finished before the seals' migration was applied (counted apart), or its seal was deleted.
 */
function verifyRunSeals(db: SqliteDatabase, add: (p: VerifyProblem) => void): { sealedRuns: number; unsealedRuns: number } {
  const since = db.prepare("SELECT applied_at FROM schema_migrations WHERE name LIKE '%\\_run\\_seals' ESCAPE '\\'").get() as { applied_at: string } | undefined;
  // The fencing columns (schema 9) are sealed when set; a journal from before has none to select.
  const fenced = (db.prepare("SELECT count(*) AS n FROM pragma_table_info('runs') WHERE name IN ('epoch', 'node_id')").get() as { n: number }).n === FENCING_COLUMNS.length;
  const runOf = db.prepare(`SELECT ${[...RUN_COLUMNS, ...(fenced ? FENCING_COLUMNS : [])].join(', ')} FROM runs WHERE id = ?`);
  let prevId = 0;
  let prevHash = GENESIS;
  let sealedRuns = 0;
  const sealed = new Set<string>();
  for (const raw of db.prepare('SELECT id, run_id, prev_hash, hash FROM run_seals ORDER BY id').iterate()) {
    const seal = raw as RunSealRow;
    sealedRuns++;
    sealed.add(seal.run_id);
    const base = { table: 'runs' as const, row: seal.id, runId: seal.run_id, seq: null };
    const run = runOf.get(seal.run_id) as RunRowContent | undefined;
    if (seal.id !== prevId + 1) {
      add({ ...base, kind: 'deleted', row: prevId + 1, message: `run seal(s) ${range(prevId + 1, seal.id - 1)} were deleted: the seal of run ${seal.run_id} is the next and its link does not match` });
    } else if (run === undefined) {
      add({ ...base, kind: 'deleted', message: `run ${seal.run_id} was deleted: its seal ${seal.id} remains` });
    } else if (runSealHash(seal.prev_hash, seal.id, run) !== seal.hash) {
      add({ ...base, kind: 'altered', message: `run ${seal.run_id} was edited after it finished: its row (outcome ${String(run.outcome)}, error, counts, plan summary) no longer matches its seal ${seal.id}` });
    } else if (seal.prev_hash !== prevHash) {
      add({ ...base, kind: 'broken-link', message: `the seal of run ${seal.run_id} does not link to seal ${prevId}: a seal was rewritten or inserted` });
    }
    prevId = seal.id;
    prevHash = seal.hash;
  }
  let unsealedRuns = 0;
  const finished = db.prepare('SELECT id, coalesce(finished_at, started_at) AS at, outcome FROM runs WHERE outcome IS NOT NULL ORDER BY started_at');
  for (const r of finished.iterate() as Iterable<{ id: string; at: string; outcome: string }>) {
    if (sealed.has(r.id)) continue;
    if (since === undefined || r.at < since.applied_at) unsealedRuns++;
    else add({ kind: 'deleted', table: 'runs', row: null, runId: r.id, seq: null, message: `run ${r.id} finished (${r.outcome}) but has no seal: its seal was deleted, or its outcome was written by hand` });
  }
  return { sealedRuns, unsealedRuns };
}
