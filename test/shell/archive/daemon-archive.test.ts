/**
 * The daemon's shipping after a run (src/shell/archive/daemon-shipper.ts) against the emulator's S3:
 * the run returns before the ship is done (a slow S3 never holds a run), a pass that fails records
 * nothing and is metered, and the pass after the next run ships every row; runs meanwhile coalesce.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CreateBucketCommand, ListObjectsV2Command, S3Client } from '@aws-sdk/client-s3';
import { Registry } from 'prom-client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { S3JournalArchive } from '../../../src/adapters/archive/index.js';
import { ArchiveMetrics, daemonArchive, type ArchiveTarget } from '../../../src/shell/archive/index.js';
import { DEFAULT_BASE_CREDENTIALS, startEmulator, type Emulator } from '../../aws-emulator/index.js';
import { writeStory } from '../../adapters/journal/journal-story.js';

let emulator: Emulator;
let s3: S3Client;
let dir: string;

beforeAll(async () => {
  emulator = await startEmulator();
  s3 = new S3Client({ endpoint: emulator.url, region: 'eu-west-1', forcePathStyle: true, credentials: DEFAULT_BASE_CREDENTIALS, maxAttempts: 1 });
  await s3.send(new CreateBucketCommand({ Bucket: 'daemon-archive', ObjectLockEnabledForBucket: true }));
  dir = mkdtempSync(join(tmpdir(), 'rolemap-daemon-archive-'));
});
afterAll(async () => {
  s3.destroy();
  await emulator.stop();
  rmSync(dir, { recursive: true, force: true });
});

const silent = { info: () => undefined, warn: () => undefined, error: () => undefined };

describe('daemonArchive', () => {
  it('starts a pass after a run without waiting for it; a failed pass is metered and the next one ships', async () => {
    const journalPath = join(dir, 'journal.sqlite');
    writeStory(journalPath);
    const registry = new Registry();
    const metrics = new ArchiveMetrics(registry);
    const target: ArchiveTarget = {
      journalPath,
      archive: new S3JournalArchive({ bucket: 'daemon-archive', prefix: 'daemon', region: 'eu-west-1', endpoint: emulator.url, credentials: async () => DEFAULT_BASE_CREDENTIALS, maxAttempts: 2 }),
      settings: { retention: { mode: 'COMPLIANCE', days: 1 }, timeoutSeconds: 30 },
    };
    const config = { name: 'config-1' };
    const archive = daemonArchive<typeof config>(() => target, { log: silent, metrics });
    try {
      // S3 is slow: the pass is still in flight when afterRun has returned.
      emulator.injectFault({ kind: 'latency', service: 's3', operation: 'PutObject', latencyMs: 1500, times: 1 });
      let passDone = false;
      archive.afterRun(config);
      const idle = archive.idle().then(() => {
        passDone = true;
      });
      expect(passDone).toBe(false);
      await idle;
      expect((await registry.getSingleMetric('rolemap_archive_segments_shipped_total')?.get())?.values[0]?.value).toBe(1);

      // A failing S3: the pass fails (metered), and the next run's pass ships.
      emulator.injectFault({ kind: 'http500', service: 's3', operation: 'ListObjectsV2', times: 2 });
      const { SqliteJournal } = await import('../../../src/adapters/journal/index.js');
      const j = SqliteJournal.open(journalPath);
      j.startRun({ runId: 'run-9', trigger: 'test', mode: 'dry-run', host: 'h', version: '0.1.0', configHash: 'c'.repeat(64), startedAt: new Date().toISOString() });
      j.finishRun('run-9', { outcome: 'no-changes', finishedAt: new Date().toISOString() });
      j.close();
      archive.afterRun(config);
      await archive.idle();
      const failures = (await registry.getSingleMetric('rolemap_archive_failures_total')?.get())?.values ?? [];
      expect(failures).toContainEqual(expect.objectContaining({ labels: { reason: 's3' }, value: 1 }));
      archive.afterRun(config);
      await archive.idle();
      const keys = (await s3.send(new ListObjectsV2Command({ Bucket: 'daemon-archive', Prefix: 'daemon/' }))).Contents?.map((c) => c.Key);
      expect(keys).toEqual(['daemon/0000000001-1-28.json.gz', 'daemon/0000000002-29-28.json.gz']);
    } finally {
      await archive.stop();
    }
  });
});
