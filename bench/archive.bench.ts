/**
 * The write-once archive (issue 16): bytes shipped per 1,000 changes, and how long a ship takes, against
 * the emulator's S3 over HTTP with the real @aws-sdk/client-s3 (Object Lock, SHA-256 checksum,
 * If-None-Match), and the time of `verify --archive` and of a restore.
 *
 * A change applied is three rows (planned, intent, applied) plus the run, its seal, an entitlement
 * snapshot of 1,000 grants and the aliases the rows name: what one daemon run of 1,000 changes ships.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { cpus, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { CreateBucketCommand, S3Client } from '@aws-sdk/client-s3';
import { S3JournalArchive, restoreJournal, shipSegment, verifyArchive } from '../src/adapters/archive/index.js';
import { SqliteJournal, openReadOnly } from '../src/adapters/journal/index.js';
import type { Resource } from '../src/core/model/resources.js';
import type { Change, Plan } from '../src/core/plan/change.js';
import { DEFAULT_BASE_CREDENTIALS, startEmulator } from '../test/aws-emulator/index.js';

const IC = '999999999999';
const userGuid = (n: number): string => `${n.toString(16).padStart(8, '0')}-0000-4000-8000-000000000000`;
const groupGuid = (n: number): string => `9f${n.toString(16).padStart(6, '0')}-0000-4000-8000-000000000000`;

function change(seq: number, n: number): Change {
  const principal = { guid: userGuid(n), name: `user${n}` };
  const g = n % 200;
  const r: Resource = { kind: 'identitystore_membership', id: `${groupGuid(g)}/${principal.guid}`, account: IC, name: `AWS-Group-${g}/user${n}`, owned: true, principal, attrs: {} };
  return { seq, action: 'create', kind: r.kind, key: `${r.kind}:${r.id}`, address: `${r.kind}.${r.name}`, account: IC, before: null, after: r, diffs: [], reason: 'in the mapped group', principal, dependsOn: [] };
}

function applyRun(journal: SqliteJournal, runId: string, from: number, count: number): void {
  journal.startRun({ runId, trigger: 'test', mode: 'apply', host: 'bench', version: '0.1.0', configHash: 'x'.repeat(64), startedAt: new Date().toISOString() });
  const changes = Array.from({ length: count }, (_, i) => change(i + 1, from + i));
  const plan: Plan = { formatVersion: 1, createdAt: new Date().toISOString(), ownerId: 'bench', changes, warnings: [], refusal: null, actualDigest: 'd', summary: { add: count, change: 0, destroy: 0, leavers: 0 } };
  journal.recordPlan(runId, plan);
  const hooks = journal.hooks(runId);
  for (const c of changes) {
    hooks.preApply?.(c);
    hooks.postApply?.(c, { requestIds: [`req-${runId}-${c.seq}`] });
  }
  journal.recordEntitlements(
    runId,
    new Date().toISOString(),
    changes.map((c) => ({ userGuid: c.principal?.guid ?? '', userName: c.principal?.name ?? '', account: IC, kind: 'permission_set' as const, target: 'ReadOnly', viaGroupGuid: groupGuid(0), viaGroupName: 'AWS-Group-0' })),
  );
  journal.finishRun(runId, { outcome: 'applied', finishedAt: new Date().toISOString() });
}

const fmt = (n: number): string => Math.round(n).toLocaleString('en-US');
const load = (): string => loadavg().map((l) => l.toFixed(2)).join(' ');

export default async function bench(): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'rolemap-archive-bench-'));
  const emulator = await startEmulator();
  const admin = new S3Client({ endpoint: emulator.url, region: 'eu-west-1', forcePathStyle: true, credentials: DEFAULT_BASE_CREDENTIALS });
  await admin.send(new CreateBucketCommand({ Bucket: 'bench-archive', ObjectLockEnabledForBucket: true }));
  const archive = new S3JournalArchive({ bucket: 'bench-archive', prefix: 'bench/journal', region: 'eu-west-1', endpoint: emulator.url, credentials: async () => DEFAULT_BASE_CREDENTIALS });
  try {
    console.log(`load average ${load()} on ${cpus().length} cores`);
    const file = join(dir, 'journal.sqlite');
    const journal = SqliteJournal.open(file);
    const sizes: { changes: number; bytes: number; ms: number }[] = [];
    let n = 0;
    for (const [i, count] of [1_000, 1_000, 1_000, 1_000, 1_000, 10_000].entries()) {
      applyRun(journal, `run-${i}`, n, count);
      n += count;
      const t = performance.now();
      const r = await shipSegment(journal, archive, { retention: { mode: 'COMPLIANCE', days: 2190 } });
      const ms = performance.now() - t;
      if (r.status !== 'shipped') throw new Error(`not shipped: ${r.status}`);
      sizes.push({ changes: count, bytes: r.bytes, ms });
      console.log(`segment ${r.seq}: ${fmt(count)} changes (${fmt(r.changeRows)} change rows, ${fmt(r.rows)} rows in all) -> ${fmt(r.bytes)} bytes gzip = ${fmt(r.bytes / (count / 1000))} bytes per 1,000 changes; ship (cut, canonical JSON, gzip, PutObject) ${fmt(ms)} ms (load ${load()})`);
    }
    journal.close();
    const small = sizes.filter((s) => s.changes === 1_000);
    const avgBytes = small.reduce((a, s) => a + s.bytes, 0) / small.length;
    const sorted = small.map((s) => s.ms).sort((a, b) => a - b);
    console.log(`bytes shipped per 1,000 changes: ${fmt(avgBytes)} (mean of ${small.length} segments); ship time of a 1,000-change segment: median ${fmt(sorted[Math.floor(sorted.length / 2)] ?? 0)} ms, max ${fmt(sorted.at(-1) ?? 0)} ms`);

    const db = openReadOnly(file);
    let t = performance.now();
    const v = await verifyArchive(archive, db);
    db.close();
    console.log(`verify --archive: ${v.segments} segments, ${fmt(v.rows.change_events ?? 0)} change rows, ok=${v.ok} in ${fmt(performance.now() - t)} ms (load ${load()})`);
    t = performance.now();
    const restored = await restoreJournal(join(dir, 'restored.sqlite'), archive);
    console.log(`restore: ${restored.pulled.length} segments into a new journal, verified, in ${fmt(performance.now() - t)} ms (load ${load()})`);
  } finally {
    archive.destroy();
    admin.destroy();
    await emulator.stop();
    rmSync(dir, { recursive: true, force: true });
  }
}
