/**
 * The fast lane's loop with a scripted change reader, the Acme directory, an in-memory AWS behind
 * the state cache and a real SQLite journal: it waits for the daemon's mutex (never applies during
 * a full run), survives a failing poll, stays quiet when nothing changed, and stops.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { Registry } from 'prom-client';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { ActualState, ResourceKind } from '../../../src/core/index.js';
import type { ChangeRead, Watermark } from '../../../src/adapters/directory/ldap/incremental.js';
import { SqliteJournal } from '../../../src/adapters/journal/sqlite-journal.js';
import { FastLane, type LaneRuntime } from '../../../src/shell/fast-lane/fast-lane.js';
import type { DirectoryChangeReader } from '../../../src/shell/fast-lane/fast-lane.js';
import { FastLaneMetrics } from '../../../src/shell/fast-lane/metrics.js';
import { Mutex } from '../../../src/shell/fast-lane/mutex.js';
import { StateCache } from '../../../src/shell/fast-lane/state-cache.js';
import { createLogger } from '../../../src/shell/logging.js';
import type { Runtime } from '../../../src/shell/reconcile/run-once.js';
import { acmeMap, acmeSnapshot, bob } from '../../support/acme.js';
import { actual, converged, NOW, planFor } from '../../support/builders.js';
import { FakeDirectorySource } from '../../support/fake-ports.js';
import { InMemoryTarget } from '../../support/in-memory-target.js';

const mark = (usn: number): Watermark => ({ dc: { url: 'ldaps://dc1', dsServiceName: 'CN=NTDS Settings,CN=DC1', invocationId: '11111111-1111-1111-1111-111111111111' }, usn: String(usn) });

class ScriptedReader implements DirectoryChangeReader {
  readonly answers: (ChangeRead | Error)[] = [];
  async changesSince(since: Watermark | null): Promise<ChangeRead> {
    const next = this.answers.shift();
    if (next instanceof Error) throw next;
    return next ?? { kind: 'incremental', watermark: since ?? mark(100), users: [], groups: [], searches: 2 };
  }
}

function runs(file: string): { mode: string; outcome: string | null }[] {
  const db = new Database(file, { readonly: true });
  try {
    return db.prepare('SELECT mode, outcome FROM runs ORDER BY started_at, rowid').all() as { mode: string; outcome: string | null }[];
  } finally {
    db.close();
  }
}

describe('FastLane', () => {
  let dir: string;
  let journal: SqliteJournal;
  let reader: ScriptedReader;
  let lane: FastLane;
  let mutex: Mutex;
  let metrics: FastLaneMetrics;
  let registry: Registry;
  let source: FakeDirectorySource;
  let laneRuntime: LaneRuntime;

  beforeEach(async () => {
    dir = mkdtempSync(join(tmpdir(), 'rolemap-lane-'));
    const file = join(dir, 'journal.db');
    journal = SqliteJournal.open(file, { clock: () => NOW });
    // What a full run leaves: AWS converged, the entitlements recorded.
    const { desired } = planFor(acmeSnapshot(), acmeMap(), actual([]));
    journal.startRun({ runId: 'full-1', trigger: 'daemon', mode: 'apply', host: 'h', version: 'v', configHash: 'c', startedAt: NOW.toISOString() });
    journal.recordEntitlements('full-1', NOW.toISOString(), desired.entitlements);
    journal.finishRun('full-1', { outcome: 'applied', finishedAt: NOW.toISOString() });
    const cache = new StateCache();
    const targets = cache.wrap([await converged(acmeSnapshot(), acmeMap()).then((t) => new InMemoryTarget([...t.resources.values()]))]);
    await targets[0]!.readActual(acmeMap());
    source = new FakeDirectorySource(acmeSnapshot());
    const log = createLogger({ level: 'silent' });
    const runtime: Runtime = { roleMap: acmeMap(), source, targets, journal, configHash: 'c', clock: () => NOW, log };
    reader = new ScriptedReader();
    mutex = new Mutex();
    registry = new Registry();
    metrics = new FastLaneMetrics(registry);
    laneRuntime = { runtime, cache, reader };
    lane = new FastLane({ current: () => laneRuntime, mutex, log, metrics, pollMs: () => 10, clock: () => NOW });
  });
  afterEach(async () => {
    await lane.stop();
    journal.close();
    rmSync(dir, { recursive: true, force: true });
  });

  const disabledBob = (usn: number): ChangeRead => ({
    kind: 'incremental',
    watermark: mark(usn),
    users: [{ guid: bob.guid, dn: bob.dn, deleted: false, inUserBase: true, user: { ...bob, disabled: true }, sAMAccountName: bob.sAMAccountName, whenChanged: NOW.toISOString() }],
    groups: [],
    searches: 3,
  });

  it('reads the directory in full on the first poll, then stays quiet while nothing changes', async () => {
    reader.answers.push({ kind: 'full-read-needed', reason: 'no watermark yet', watermark: mark(100) });
    expect((await lane.pollOnce()).result).toBe('full-read');
    expect(source.selections).toHaveLength(1);
    expect((await lane.pollOnce()).result).toBe('no-change');
    expect(lane.watermark?.usn).toBe('100');
    expect(runs(join(dir, 'journal.db')).map((r) => r.mode)).toEqual(['apply']);
    expect(await registry.getSingleMetricAsString('rolemap_fast_lane_watermark_usn')).toMatch(/ 100$/m);
  });

  it('waits for the mutex a full run holds, then applies the leaver as a fast-lane run', async () => {
    reader.answers.push({ kind: 'full-read-needed', reason: 'no watermark yet', watermark: mark(100) }, disabledBob(105));
    await lane.pollOnce();
    let release!: () => void;
    const fullRun = mutex.runExclusive(() => new Promise<void>((r) => (release = r)));
    const poll = lane.pollOnce();
    await new Promise((r) => setTimeout(r, 50));
    // Nothing journaled while the full run holds the lock.
    expect(runs(join(dir, 'journal.db')).map((r) => r.mode)).toEqual(['apply']);
    release();
    await fullRun;
    const r = await poll;
    expect(r.result).toBe('applied');
    expect(r.leavers).toBe(1);
    expect(runs(join(dir, 'journal.db'))).toEqual([{ mode: 'apply', outcome: 'applied' }, { mode: 'fast-lane', outcome: 'applied' }]);
    // bob left the history: the next poll does not find him again.
    expect([...(journal.entitlementHistory().last ?? [])].some((e) => e.userGuid === bob.guid)).toBe(false);
    reader.answers.push(disabledBob(106));
    expect((await lane.pollOnce()).result).toBe('changes');
    expect(runs(join(dir, 'journal.db'))).toHaveLength(2);
  });

  it('renamed twice between full runs, then disabled: the lane denies every name it saw him carry, and the journal\'s', async () => {
    const as = (usn: number, name: string, disabled = false): ChangeRead => ({
      kind: 'incremental',
      watermark: mark(usn),
      users: [{ guid: bob.guid, dn: bob.dn, deleted: false, inUserBase: true, user: { ...bob, sAMAccountName: name, userPrincipalName: `${name}@example.com`, mail: `${name}@example.com`, disabled }, sAMAccountName: name, whenChanged: NOW.toISOString() }],
      groups: [],
      searches: 3,
    });
    reader.answers.push({ kind: 'full-read-needed', reason: 'no watermark yet', watermark: mark(100) }, as(101, 'bob.b'), as(102, 'bob.c'), as(103, 'bob.c', true));
    expect((await lane.pollOnce()).result).toBe('full-read');
    expect((await lane.pollOnce()).leavers).toBe(0);
    expect((await lane.pollOnce()).leavers).toBe(0);
    const r = await lane.pollOnce();
    expect(r.result).toBe('applied');
    const dev = r.report?.results.find((x) => x.change.address === 'iam_role_revocations.dev.Developer');
    // bob@example.com: the journal's last snapshot; bob.b: only the lane saw it; bob.c: the name he left under.
    expect(Object.keys((dev?.change.after?.attrs as { entries: Record<string, string> }).entries).sort()).toEqual(['bob.b@example.com', 'bob.c@example.com', 'bob@example.com']);
    // The plan names the former ones (the test's clock stands still, so both were replaced "at once": by name).
    expect(dev?.change.reason).toContain('as bob.c@example.com and former names bob@example.com and bob.b@example.com denied');
  });

  it('is fenced like a full run: a guard that says the lease is lost stops its apply, journaled, nothing sent', async () => {
    const fenced = 'fenced: epoch 4 mine (a) vs 5 seen (b): the lease shows b at epoch 5';
    const guarded: LaneRuntime = { ...laneRuntime, runtime: { ...laneRuntime.runtime, guard: async () => fenced } };
    const sent: string[] = [];
    const targets = guarded.runtime.targets.map((t) => ({ ...t, name: t.name, kinds: t.kinds, readActual: t.readActual.bind(t), apply: async (c: Parameters<typeof t.apply>[0]) => (sent.push(c.address), t.apply(c)) }));
    const fencedRuntime: LaneRuntime = { ...guarded, runtime: { ...guarded.runtime, targets } };
    const fencedLane = new FastLane({ current: () => fencedRuntime, mutex, log: createLogger({ level: 'silent' }), metrics, pollMs: () => 10, clock: () => NOW });
    reader.answers.push({ kind: 'full-read-needed', reason: 'no watermark yet', watermark: mark(100) }, disabledBob(105));
    await fencedLane.pollOnce();
    const r = await fencedLane.pollOnce();
    expect(r.result).toBe('failed');
    expect(sent).toEqual([]);
    expect(runs(join(dir, 'journal.db'))).toEqual([{ mode: 'apply', outcome: 'applied' }, { mode: 'fast-lane', outcome: 'interrupted' }]);
    const db = new Database(join(dir, 'journal.db'), { readonly: true });
    try {
      const rows = db.prepare("SELECT status, error FROM change_events WHERE run_id = ? AND status <> 'pending'").all(r.runId) as { status: string; error: string }[];
      expect(rows.length).toBeGreaterThan(0);
      expect(rows.every((x) => x.status === 'skipped' && x.error.includes(fenced))).toBe(true);
      expect(db.prepare('SELECT error FROM runs WHERE id = ?').get(r.runId)).toEqual({ error: fenced });
    } finally {
      db.close();
    }
    await fencedLane.stop();
  });

  it('survives a failing poll and goes on with the next', async () => {
    reader.answers.push(new Error('LDAP connection refused'), { kind: 'full-read-needed', reason: 'no watermark yet', watermark: mark(100) });
    expect((await lane.pollOnce()).result).toBe('error');
    expect((await lane.pollOnce()).result).toBe('full-read');
    expect(await registry.getSingleMetricAsString('rolemap_fast_lane_polls_total')).toMatch(/result="error"\} 1/);
  });

  it('polls on its own once started, and stop() ends the loop', async () => {
    lane.start();
    await new Promise((r) => setTimeout(r, 100));
    await lane.stop();
    const text = await registry.getSingleMetricAsString('rolemap_fast_lane_polls_total');
    const polled = [...text.matchAll(/result="(?:full-read|no-change)"\} (\d+)/g)].reduce((n, m) => n + Number(m[1]), 0);
    expect(polled).toBeGreaterThan(1);
    const after = await registry.getSingleMetricAsString('rolemap_fast_lane_polls_total');
    await new Promise((r) => setTimeout(r, 50));
    expect(await registry.getSingleMetricAsString('rolemap_fast_lane_polls_total')).toBe(after);
  });
});

/** A target whose last read could not see Identity Center (throttled): its part of AWS is unknown. */
class NoIdentityCenter extends InMemoryTarget {
  override async readActual(): Promise<ActualState> {
    const state = await super.readActual();
    return { ...state, resources: state.resources.filter((r) => !IC_KINDS.includes(r.kind)), unreadable: [{ kinds: IC_KINDS, name: 'Identity Center', reason: 'ThrottlingException: Rate exceeded' }] };
  }
}
const IC_KINDS: ResourceKind[] = ['identitystore_group', 'identitystore_user', 'identitystore_membership', 'sso_permission_set', 'sso_permission_set_revocations', 'sso_account_assignment'];

describe('FastLane after a full read that could not see part of AWS', () => {
  it('plans nothing where the read was blind, still cuts the role sessions, and keeps the leaver for the next full run', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'rolemap-lane-'));
    const journal = SqliteJournal.open(join(dir, 'journal.db'), { clock: () => NOW });
    try {
      const { desired } = planFor(acmeSnapshot(), acmeMap(), actual([]));
      journal.startRun({ runId: 'full-1', trigger: 'daemon', mode: 'apply', host: 'h', version: 'v', configHash: 'c', startedAt: NOW.toISOString() });
      journal.recordEntitlements('full-1', NOW.toISOString(), desired.entitlements);
      journal.finishRun('full-1', { outcome: 'partial', finishedAt: NOW.toISOString() });
      const cache = new StateCache();
      const aws = new NoIdentityCenter([...(await converged(acmeSnapshot(), acmeMap())).resources.values()]);
      const targets = cache.wrap([aws]);
      await targets[0]!.readActual(acmeMap());
      const log = createLogger({ level: 'silent' });
      const runtime: Runtime = { roleMap: acmeMap(), source: new FakeDirectorySource(acmeSnapshot()), targets, journal, configHash: 'c', clock: () => NOW, log };
      const reader = new ScriptedReader();
      const laneRuntime = { runtime, cache, reader };
      const lane = new FastLane({ current: () => laneRuntime, mutex: new Mutex(), log, metrics: new FastLaneMetrics(new Registry()), pollMs: () => 10, clock: () => NOW });
      reader.answers.push(
        { kind: 'full-read-needed', reason: 'no watermark yet', watermark: mark(100) },
        { kind: 'incremental', watermark: mark(105), users: [{ guid: bob.guid, dn: bob.dn, deleted: false, inUserBase: true, user: { ...bob, disabled: true }, sAMAccountName: bob.sAMAccountName, whenChanged: NOW.toISOString() }], groups: [], searches: 3 },
      );
      await lane.pollOnce();
      const r = await lane.pollOnce();
      await lane.stop();
      const applied = (r.report?.results ?? []).filter((x) => x.status === 'applied').map((x) => x.change.kind);
      // bob's Developer sessions are cut; nothing is sent to the Identity Center nobody could read.
      expect(applied).toContain('iam_role_revocations');
      expect((r.report?.results ?? []).map((x) => x.change.kind).filter((k) => IC_KINDS.includes(k))).toEqual([]);
      // His permission set grant is not known to be handled: he stays in the history for the next full run.
      expect([...(journal.entitlementHistory().last ?? [])].some((e) => e.userGuid === bob.guid)).toBe(true);
    } finally {
      journal.close();
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
