/**
 * The journal's throughput and query latency (issue 3):
 *  1. journal 100,000 changes with recordPlan (one transaction: hashing, chaining, inserting); target ≥ 20,000 rows/s;
 *     and, for scale, intent + outcome rows written one synchronous transaction each, as during an apply;
 *  2. grow the change log to 1,000,000 rows and time `list --user` (read-only connection, by sAMAccountName,
 *     UPN and objectGUID); target < 100 ms.
 */
import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { cpus, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { SqliteJournal, listChanges, openJournalForQuery, verifyJournal } from '../src/adapters/journal/index.js';
import type { Resource } from '../src/core/model/resources.js';
import type { Change, Plan } from '../src/core/plan/change.js';

const USERS = 20_000;
const GROUPS = 200;
const IC = '999999999999';

const userGuid = (n: number): string => `${n.toString(16).padStart(8, '0')}-0000-4000-8000-000000000000`;
const groupGuid = (n: number): string => `9f${n.toString(16).padStart(6, '0')}-0000-4000-8000-000000000000`;

function change(seq: number, n: number): Change {
  const u = n % USERS;
  const g = n % GROUPS;
  const isUser = n % 4 === 0;
  const principal = { guid: userGuid(u), name: `user${u}` };
  const r: Resource = isUser
    ? {
        kind: 'identitystore_user',
        id: principal.guid,
        account: IC,
        name: `user${u}@corp.example.com`,
        owned: true,
        principal,
        attrs: { userName: `user${u}@corp.example.com`, displayName: `User ${u}`, givenName: 'User', familyName: `${u}`, email: `user${u}@corp.example.com` },
      }
    : { kind: 'identitystore_membership', id: `${groupGuid(g)}/${principal.guid}`, account: IC, name: `AWS-Group-${g}/user${u}`, owned: true, principal, attrs: {} };
  return {
    seq,
    action: 'create',
    kind: r.kind,
    key: `${r.kind}:${r.id}`,
    address: `${r.kind}.${r.name}`,
    account: IC,
    before: null,
    after: r,
    diffs: [],
    reason: 'in the mapped group',
    principal,
    dependsOn: [],
  };
}

function plan(from: number, count: number): Plan {
  const changes = Array.from({ length: count }, (_, i) => change(i + 1, from + i));
  return { formatVersion: 1, createdAt: new Date().toISOString(), ownerId: 'bench', changes, warnings: [], refusal: null, actualDigest: 'd', summary: { add: count, change: 0, destroy: 0, leavers: 0 } };
}

function run(journal: SqliteJournal, id: string, mode: 'apply' | 'dry-run'): void {
  journal.startRun({ runId: id, trigger: 'test', mode, host: 'bench', version: '0.1.0', configHash: 'x', startedAt: new Date().toISOString() });
}

const fmt = (n: number): string => Math.round(n).toLocaleString('en-US');

export default async function bench(): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'rolemap-journal-bench-'));
  const file = join(dir, 'journal.db');
  try {
    const journal = SqliteJournal.open(file);

    // 1a. 100,000 changes in one recordPlan.
    run(journal, 'run-0', 'dry-run');
    const p0 = plan(0, 100_000);
    console.log(`load average ${loadavg().map((l) => l.toFixed(1)).join(' ')} on ${cpus().length} CPUs (wall-clock figures suffer on a shared machine; CPU time does not)`);
    let t = performance.now();
    const cpu = process.cpuUsage();
    journal.recordPlan('run-0', p0);
    let ms = performance.now() - t;
    const used = process.cpuUsage(cpu);
    const cpuMs = (used.user + used.system) / 1000;
    journal.finishRun('run-0', { outcome: 'planned', finishedAt: new Date().toISOString() });
    console.log(
      `recordPlan: 100,000 changes in ${fmt(ms)} ms = ${fmt(100_000 / (ms / 1000))} rows/s wall, ${fmt(100_000 / (cpuMs / 1000))} rows per CPU-second (target ≥ 20,000 rows/s; one transaction, synchronous=FULL)`,
    );

    // 1b. intent + outcome, each its own synchronous transaction, as during an apply.
    run(journal, 'run-apply', 'apply');
    const pa = plan(0, 1_000);
    journal.recordPlan('run-apply', pa);
    const hooks = journal.hooks('run-apply');
    t = performance.now();
    for (const c of pa.changes) {
      hooks.preApply?.(c);
      hooks.postApply?.(c, { requestIds: [`req-${c.seq}`] });
    }
    ms = performance.now() - t;
    journal.finishRun('run-apply', { outcome: 'applied', finishedAt: new Date().toISOString() });
    console.log(`hooks: 1,000 changes (2,000 rows, one fsync'd transaction each) in ${fmt(ms)} ms = ${fmt(2_000 / (ms / 1000))} rows/s (AWS calls take far longer)`);

    // 2. Grow to 1,000,000 change rows.
    t = performance.now();
    const buildCpu = process.cpuUsage();
    let rows = 100_000 + 3_000;
    for (let i = 1; rows < 1_000_000; i++) {
      const n = Math.min(100_000, 1_000_000 - rows);
      run(journal, `run-${i}`, 'dry-run');
      journal.recordPlan(`run-${i}`, plan(i * 100_000, n));
      journal.finishRun(`run-${i}`, { outcome: 'planned', finishedAt: new Date().toISOString() });
      rows += n;
    }
    ms = performance.now() - t;
    const bu = process.cpuUsage(buildCpu);
    console.log(
      `built ${fmt(rows)} change rows (${fmt(rows - 103_000)} more in ${fmt(ms)} ms = ${fmt((rows - 103_000) / (ms / 1000))} rows/s wall, ` +
        `${fmt((rows - 103_000) / ((bu.user + bu.system) / 1e6))} rows per CPU-second); file ${fmt(statSync(file).size / 1e6)} MB + WAL`,
    );
    journal.database.pragma('wal_checkpoint(TRUNCATE)');
    journal.close();

    const db = openJournalForQuery(file);
    try {
      const now = new Date();
      for (const [label, user] of [
        ['sAMAccountName', 'user12345'],
        ['UPN', 'user776@corp.example.com'],
        ['objectGUID', userGuid(4242)],
      ] as const) {
        const times: number[] = [];
        let count = 0;
        for (let k = 0; k < 7; k++) {
          t = performance.now();
          count = listChanges(db, { user }, now).length;
          times.push(performance.now() - t);
        }
        times.sort((a, b) => a - b);
        console.log(
          `list --user (${label}) over ${fmt(rows)} rows: ${count} changes, median ${times[3]?.toFixed(1)} ms, first ${times[0]?.toFixed(1)}..max ${times[6]?.toFixed(1)} ms (target < 100 ms)`,
        );
      }
      t = performance.now();
      const n = listChanges(db, { user: 'user12345', since: '1d', status: 'planned' }, now).length;
      console.log(`list --user --since 1d --status planned: ${n} changes in ${(performance.now() - t).toFixed(1)} ms`);
      t = performance.now();
      const v = verifyJournal(db);
      console.log(`verify: ${fmt(v.changeRows)} change rows, ok=${v.ok}, in ${fmt(performance.now() - t)} ms (chain walk + integrity_check)`);
    } finally {
      db.close();
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
