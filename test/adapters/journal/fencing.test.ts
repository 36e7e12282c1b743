/**
 * Migration 009 (fencing): rows written before it verify unchanged after it; rows written under a lease
 * carry its epoch and node id, and the chains cover them: an edited epoch is named.
 */
import Database from 'better-sqlite3';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { SqliteJournal, lastFencedEpoch, loadMigrations, openJournalForVerify, verifyJournal } from '../../../src/adapters/journal/index.js';
import { PROD, changeOf, manualClock, planOf, role, runStart, tempDir } from './fixtures.js';

function applyRun(j: SqliteJournal, runId: string, at: string): void {
  j.startRun(runStart(runId, at));
  const plan = planOf([changeOf(1, 'create', role(PROD, `Admin-${runId}`))]);
  j.recordPlan(runId, plan);
  const hooks = j.hooks(runId);
  for (const c of plan.changes) {
    hooks.preApply?.(c);
    hooks.postApply?.(c, { requestIds: [`${runId}-${c.seq}`] });
  }
  j.finishRun(runId, { outcome: 'applied', finishedAt: at });
}

function verify(file: string): ReturnType<typeof verifyJournal> {
  const db = openJournalForVerify(file);
  try {
    return verifyJournal(db);
  } finally {
    db.close();
  }
}

describe('journal fencing columns (009)', () => {
  let tmp: ReturnType<typeof tempDir>;
  let file: string;
  beforeEach(() => {
    tmp = tempDir();
    file = tmp.file('journal.db');
  });
  afterEach(() => tmp.cleanup());

  it('keeps rows from before 009 verifying, stamps later rows with the lease, and names an edited epoch', () => {
    const before = loadMigrations().filter((m) => m.name < '009');
    const clock = manualClock('2026-03-01T09:00:00.000Z');
    const old = SqliteJournal.open(file, { clock, migrations: before });
    applyRun(old, 'run-old', '2026-03-01T09:00:00.000Z');
    old.close();

    let lease: { epoch: number; nodeId: string } | null = { epoch: 7, nodeId: 'bastion-b' };
    const j = SqliteJournal.open(file, { clock, fencing: () => lease });
    expect(j.migrated).toContain('009_fencing');
    clock.set('2026-03-02T09:00:00.000Z');
    applyRun(j, 'run-new', '2026-03-02T09:00:00.000Z');
    lease = null;
    j.close();

    expect(lastFencedEpoch(file)).toBe(7);
    expect(lastFencedEpoch(tmp.file('none.db'))).toBe(0);
    const result = verify(file);
    expect(result.problems).toEqual([]);
    expect(result.ok).toBe(true);
    const db = new Database(file);
    expect(db.prepare('SELECT run_id, epoch, node_id FROM change_events ORDER BY id').all()).toEqual([
      { run_id: 'run-old', epoch: null, node_id: null },
      { run_id: 'run-old', epoch: null, node_id: null },
      { run_id: 'run-old', epoch: null, node_id: null },
      { run_id: 'run-new', epoch: 7, node_id: 'bastion-b' },
      { run_id: 'run-new', epoch: 7, node_id: 'bastion-b' },
      { run_id: 'run-new', epoch: 7, node_id: 'bastion-b' },
    ]);
    expect(db.prepare('SELECT id, epoch, node_id FROM runs ORDER BY started_at').all()).toEqual([
      { id: 'run-old', epoch: null, node_id: null },
      { id: 'run-new', epoch: 7, node_id: 'bastion-b' },
    ]);
    // Someone makes the new rows look like another bastion's, or an old one fenced.
    db.prepare("UPDATE change_events SET epoch = 8 WHERE run_id = 'run-new' AND status = 'applied'").run();
    db.prepare("UPDATE change_events SET epoch = 1, node_id = 'x' WHERE id = 1").run();
    db.prepare("UPDATE runs SET node_id = 'bastion-a' WHERE id = 'run-new'").run();
    db.close();
    const tampered = verify(file);
    expect(tampered.ok).toBe(false);
    expect(tampered.problems.map((p) => [p.kind, p.table, p.row])).toEqual([
      ['altered', 'change_events', 1],
      ['altered', 'change_events', 6],
      ['altered', 'runs', 2],
    ]);
  });
});
