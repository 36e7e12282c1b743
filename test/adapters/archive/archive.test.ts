/**
 * The write-once journal archive against the emulator's S3 with the real @aws-sdk/client-s3, and
 * journals in real SQLite files: ship, restore on a new path, pull into a replica, tampering caught
 * by verify, locked segments that cannot be deleted, a failed upload retried.
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gunzipSync, gzipSync } from 'node:zlib';
import Database from 'better-sqlite3';
import { CreateBucketCommand, DeleteObjectCommand, HeadObjectCommand, S3Client, S3ServiceException } from '@aws-sdk/client-s3';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { ArchiveCallError, RestoreTargetExistsError, S3JournalArchive, pullSegments, restoreJournal, shipSegment, verifyArchive } from '../../../src/adapters/archive/index.js';
import { SqliteJournal, openReadOnly, verifyJournal } from '../../../src/adapters/journal/index.js';
import { DEFAULT_BASE_CREDENTIALS, startEmulator, userPrincipal, type Emulator } from '../../aws-emulator/index.js';
import { s3State, tamperObject } from '../../aws-emulator/services/s3.js';
import { ALICE, ADMINS, PROD, changeOf, entitlement, manualClock, planOf, role, runStart } from '../journal/fixtures.js';
import { writeStory } from '../journal/journal-story.js';

const BUCKET = 'journal-archive';
const RETENTION = { mode: 'COMPLIANCE' as const, days: 2190 };

let emulator: Emulator;
let admin: S3Client;
let dir: string;
let prefixN = 0;
let archive: S3JournalArchive;

function newArchive(prefix: string, maxAttempts = 3): S3JournalArchive {
  return new S3JournalArchive({ bucket: BUCKET, prefix, region: 'eu-west-1', endpoint: emulator.url, credentials: async () => DEFAULT_BASE_CREDENTIALS, maxAttempts });
}

/** Every row of the tables a restore must reproduce, in a stable order. */
function dumpJournal(file: string): Record<string, unknown[]> {
  const db = new Database(file, { readonly: true });
  try {
    const q = (sql: string): unknown[] => db.prepare(sql).all();
    return {
      runs: q('SELECT * FROM runs ORDER BY id'),
      run_seals: q('SELECT * FROM run_seals ORDER BY id'),
      change_events: q('SELECT * FROM change_events ORDER BY id'),
      entitlement_snapshots: q('SELECT * FROM entitlement_snapshots ORDER BY id'),
      entitlements: q('SELECT * FROM entitlements ORDER BY snapshot_id, user_guid, target'),
      plan_records: q('SELECT * FROM plan_records ORDER BY id'),
      owned_objects: q('SELECT * FROM owned_objects ORDER BY id'),
      change_concerns: q('SELECT * FROM change_concerns ORDER BY run_id, seq, guid'),
      principal_aliases: q('SELECT * FROM principal_aliases ORDER BY alias, guid'),
    };
  } finally {
    db.close();
  }
}

/** One more applied run on an existing journal: alice's Admin role updated. */
function addRun(file: string, runId: string, at: string): void {
  const j = SqliteJournal.open(file, { clock: manualClock(at) });
  try {
    j.startRun(runStart(runId, at));
    const plan = planOf([changeOf(1, 'update', role(PROD, 'Admin', `federated, ${runId}`))]);
    j.recordPlan(runId, plan);
    const hooks = j.hooks(runId);
    for (const c of plan.changes) {
      hooks.preApply?.(c);
      hooks.postApply?.(c, { requestIds: [`${runId}-${c.seq}`] });
    }
    j.recordEntitlements(runId, at, [entitlement(ALICE, PROD, 'Admin', ADMINS)]);
    j.finishRun(runId, { outcome: 'applied', finishedAt: at, directory: { users: 3, groups: 2 } });
  } finally {
    j.close();
  }
}

async function ship(file: string, a: S3JournalArchive = archive): Promise<Awaited<ReturnType<typeof shipSegment>>> {
  const j = SqliteJournal.open(file);
  try {
    return await shipSegment(j, a, { retention: RETENTION });
  } finally {
    j.close();
  }
}

async function verifyWithLocal(file: string, a: S3JournalArchive = archive): Promise<Awaited<ReturnType<typeof verifyArchive>>> {
  const db = openReadOnly(file);
  try {
    return await verifyArchive(a, db);
  } finally {
    db.close();
  }
}

beforeAll(async () => {
  emulator = await startEmulator();
  admin = new S3Client({ endpoint: emulator.url, region: 'eu-west-1', forcePathStyle: true, credentials: DEFAULT_BASE_CREDENTIALS, maxAttempts: 1 });
  await admin.send(new CreateBucketCommand({ Bucket: BUCKET, ObjectLockEnabledForBucket: true }));
});
afterAll(async () => {
  admin.destroy();
  await emulator.stop();
});
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'rolemap-archive-'));
  archive = newArchive(`bastion/journal-${++prefixN}`);
});
afterEach(() => {
  archive.destroy();
  emulator.clearFaults();
  rmSync(dir, { recursive: true, force: true });
});

describe('ship, restore, verify', () => {
  it('ships segments, and after the local journal is deleted a restore on a new path verifies and holds the same rows', async () => {
    const file = join(dir, 'rolemap.sqlite');
    writeStory(file);
    const first = await ship(file);
    expect(first).toMatchObject({ status: 'shipped', seq: 1, key: `${archive.prefix}/0000000001-1-28.json.gz`, adopted: false });
    expect(await ship(file)).toEqual({ status: 'nothing-new' });
    addRun(file, 'run-4', '2026-01-25T09:00:00.000Z');
    const second = await ship(file);
    expect(second).toMatchObject({ status: 'shipped', seq: 2, key: `${archive.prefix}/0000000002-29-31.json.gz` });

    // Each segment is locked (COMPLIANCE, six years) and carries its SHA-256.
    const head = await admin.send(new HeadObjectCommand({ Bucket: BUCKET, Key: second.status === 'shipped' ? second.key : '', ChecksumMode: 'ENABLED' }));
    expect(head.ObjectLockMode).toBe('COMPLIANCE');
    expect((head.ObjectLockRetainUntilDate?.getTime() ?? 0) - Date.now()).toBeGreaterThan(2189 * 86_400_000);
    expect(head.ChecksumSHA256).toBeTruthy();

    const before = dumpJournal(file);
    expect((await verifyWithLocal(file)).problems).toEqual([]);
    rmSync(file);

    const restored = join(dir, 'new-host', 'rolemap.sqlite');
    await import('node:fs').then((fs) => fs.mkdirSync(join(dir, 'new-host')));
    const result = await restoreJournal(restored, archive);
    expect(result.pulled.map((p) => p.seq)).toEqual([1, 2]);
    expect(result.verify.ok).toBe(true);
    const db = openReadOnly(restored);
    try {
      expect(verifyJournal(db).ok).toBe(true);
    } finally {
      db.close();
    }
    expect(dumpJournal(restored)).toEqual(before);
    expect((await verifyWithLocal(restored)).ok).toBe(true);

    // A restore never overwrites a journal.
    await expect(restoreJournal(restored, archive)).rejects.toBeInstanceOf(RestoreTargetExistsError);
    // The restored journal continues the sequence.
    addRun(restored, 'run-5', '2026-01-26T09:00:00.000Z');
    expect(await ship(restored)).toMatchObject({ status: 'shipped', seq: 3 });
    expect((await verifyWithLocal(restored)).ok).toBe(true);
  });

  it('ships, verifies and restores holding only the archive statement of config/iam-policy.json (its Object Lock puts included)', async () => {
    const shipped = JSON.parse(readFileSync(join(import.meta.dirname, '..', '..', '..', 'config', 'iam-policy.json'), 'utf8')) as { Statement: { Sid: string }[] };
    const statement = shipped.Statement.find((s) => s.Sid === 'RolemapJournalArchive');
    expect(statement).toBeDefined();
    const keys = { accessKeyId: 'AKIAARCHIVEPOLICY001', secretAccessKey: 'archive-policy-secret' };
    emulator.registerCredentials({
      ...keys,
      principal: userPrincipal(emulator.homeAccount, { userName: 'rolemap-archive', userId: 'AIDAARCHIVEPOLICY001' }, 'base', {
        policies: [{ name: 'rolemap', document: JSON.stringify({ Version: '2012-10-17', Statement: [statement] }) }],
      }),
    });
    const least = new S3JournalArchive({ bucket: BUCKET, prefix: `${archive.prefix}-least`, region: 'eu-west-1', endpoint: emulator.url, credentials: async () => keys, maxAttempts: 1 });
    try {
      const file = join(dir, 'rolemap.sqlite');
      writeStory(file);
      expect(await ship(file, least)).toMatchObject({ status: 'shipped', seq: 1 });
      expect((await verifyWithLocal(file, least)).problems).toEqual([]);
      const restored = join(dir, 'restored.sqlite');
      expect((await restoreJournal(restored, least)).verify.ok).toBe(true);
    } finally {
      least.destroy();
    }
  });

  it('an archived segment edited in the emulator storage is caught by verify --archive, which names the segment', async () => {
    const file = join(dir, 'rolemap.sqlite');
    writeStory(file);
    const shipped = await ship(file);
    addRun(file, 'run-4', '2026-01-25T09:00:00.000Z');
    await ship(file);
    if (shipped.status !== 'shipped') throw new Error('not shipped');
    // Rewrite segment 1 below the API: run-3's failed deletion of bob now reads "applied".
    tamperObject(s3State(emulator), BUCKET, shipped.key, (bytes) => gzipSync(Buffer.from(gunzipSync(bytes).toString('utf8').replace('"status":"failed"', '"status":"applied"'))));
    const result = await verifyWithLocal(file);
    expect(result.ok).toBe(false);
    expect(result.problems[0]).toMatchObject({ key: shipped.key, field: 'x-amz-checksum-sha256' });
    expect(result.problems[0]?.message).toMatch(/altered in storage/);
  });

  it('a local row edited after shipping is named by segment, row and field', async () => {
    const file = join(dir, 'rolemap.sqlite');
    writeStory(file);
    const shipped = await ship(file);
    if (shipped.status !== 'shipped') throw new Error('not shipped');
    const db = new Database(file);
    const row = db.prepare("SELECT id FROM change_events WHERE status = 'failed' LIMIT 1").get() as { id: number };
    db.prepare("UPDATE change_events SET status = 'applied' WHERE id = ?").run(row.id);
    db.close();
    const result = await verifyWithLocal(file);
    expect(result.problems[0]).toMatchObject({ key: shipped.key, table: 'change_events', row: row.id, field: 'status' });
    expect(result.problems[0]?.message).toContain(`change_events row ${row.id} field status: the archive has "failed", the local journal "applied"`);
  });

  it('a locked segment cannot be deleted: COMPLIANCE by no one, GOVERNANCE not without the bypass', async () => {
    const file = join(dir, 'rolemap.sqlite');
    writeStory(file);
    const compliance = await ship(file);
    if (compliance.status !== 'shipped') throw new Error('not shipped');
    const deny = async (p: Promise<unknown>): Promise<string> => {
      try {
        await p;
        return 'deleted';
      } catch (e) {
        return e instanceof S3ServiceException ? e.name : String(e);
      }
    };
    expect(await deny(admin.send(new DeleteObjectCommand({ Bucket: BUCKET, Key: compliance.key, VersionId: compliance.versionId, BypassGovernanceRetention: true })))).toBe('AccessDenied');

    const governanceFile = join(dir, 'governance.sqlite');
    writeStory(governanceFile);
    const gov = newArchive(`${archive.prefix}-governance`);
    try {
      const j = SqliteJournal.open(governanceFile);
      const shipped = await shipSegment(j, gov, { retention: { mode: 'GOVERNANCE', days: 30 } });
      j.close();
      if (shipped.status !== 'shipped') throw new Error('not shipped');
      expect(await deny(admin.send(new DeleteObjectCommand({ Bucket: BUCKET, Key: shipped.key, VersionId: shipped.versionId })))).toBe('AccessDenied');
      // A simple delete only hides it behind a delete marker; verify says the archive lost a segment.
      await admin.send(new DeleteObjectCommand({ Bucket: BUCKET, Key: shipped.key }));
      expect((await verifyArchive(gov, undefined)).segments).toBe(0);
      const db = openReadOnly(governanceFile);
      try {
        const v = await verifyArchive(gov, db);
        expect(v.ok).toBe(false);
        expect(v.problems[0]).toMatchObject({ key: shipped.key });
        expect(v.problems[0]?.message).toContain('which this journal shipped, is missing from the archive: deleted, or hidden behind a delete marker');
      } finally {
        db.close();
      }
    } finally {
      gov.destroy();
    }
    expect((await verifyWithLocal(file)).ok).toBe(true);
  });

  it('a failed upload records nothing, and the next pass ships the same rows and the newer ones', async () => {
    const file = join(dir, 'rolemap.sqlite');
    writeStory(file);
    emulator.injectFault({ kind: 'http500', service: 's3', operation: 'PutObject', times: 3 });
    await expect(ship(file)).rejects.toBeInstanceOf(ArchiveCallError);
    expect(emulator.calls()['s3:PutObject']).toBeGreaterThanOrEqual(3); // the SDK's own retries
    addRun(file, 'run-4', '2026-01-25T09:00:00.000Z');
    expect(await ship(file)).toMatchObject({ status: 'shipped', seq: 1, key: `${archive.prefix}/0000000001-1-31.json.gz` });
    expect((await verifyWithLocal(file)).ok).toBe(true);
  });

  it('an upload that landed but whose answer was lost is adopted, not written twice', async () => {
    const file = join(dir, 'rolemap.sqlite');
    writeStory(file);
    await ship(file);
    const db = new Database(file);
    db.prepare('DELETE FROM archive_segments').run();
    db.close();
    addRun(file, 'run-4', '2026-01-25T09:00:00.000Z');
    expect(await ship(file)).toMatchObject({ status: 'shipped', seq: 1, adopted: true });
    expect(await ship(file)).toMatchObject({ status: 'shipped', seq: 2, adopted: false });
    expect((await verifyWithLocal(file)).ok).toBe(true);
  });
});

describe('pullSegments: a replica catches up', () => {
  it('appends the newer segments, and the replica ends byte-identical to the shipped rows', async () => {
    const active = join(dir, 'active.sqlite');
    const replica = join(dir, 'replica.sqlite');
    writeStory(active);
    await ship(active);
    const r = SqliteJournal.open(replica);
    try {
      const first = await pullSegments(r, archive);
      expect(first.pulled.map((p) => p.seq)).toEqual([1]);
      expect((await pullSegments(r, archive)).pulled).toEqual([]);
      addRun(active, 'run-4', '2026-01-25T09:00:00.000Z');
      await ship(active);
      const second = await pullSegments(r, archive);
      expect(second.pulled.map((p) => p.seq)).toEqual([2]);
      const activeDb = openReadOnly(active);
      const head = activeDb.prepare('SELECT id, hash FROM change_events ORDER BY id DESC LIMIT 1').get();
      activeDb.close();
      expect(second.head).toEqual(head);
    } finally {
      r.close();
    }
    const a = dumpJournal(active);
    const b = dumpJournal(replica);
    expect(b.change_events).toEqual(a.change_events);
    expect(b).toEqual(a);
  });

  it('a replica that wrote rows of its own is refused, naming the segment', async () => {
    const active = join(dir, 'active.sqlite');
    const replica = join(dir, 'replica.sqlite');
    writeStory(active);
    await ship(active);
    addRun(replica, 'replica-run', '2026-01-02T09:00:00.000Z');
    const r = SqliteJournal.open(replica);
    try {
      await expect(pullSegments(r, archive)).rejects.toThrow(new RegExp(`segment ${archive.prefix}/0000000001-1-28.json.gz: continues run_seals after row 0, but the journal's run_seals ends at row 1`));
    } finally {
      r.close();
    }
  });
});
