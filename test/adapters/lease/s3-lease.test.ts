/**
 * The S3 lease against the emulator's S3 (real SDK over HTTP, SigV4, conditional writes): one winner of
 * a free lease, renewals, takeover only after expiry with the epoch raised, the old holder's renewal and
 * check refused, and a hung S3 call ended by the time box.
 */
import { S3Client } from '@aws-sdk/client-s3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { S3Lease } from '../../../src/adapters/lease/index.js';
import { startEmulator } from '../../aws-emulator/index.js';
import type { Emulator } from '../../aws-emulator/index.js';
import { manualClock } from '../journal/fixtures.js';

const CREDENTIALS = { accessKeyId: 'AKIDLEASETEST', secretAccessKey: 'lease-secret' };
let emulator: Emulator;
let client: S3Client;
let n = 0;

beforeAll(async () => {
  emulator = await startEmulator({ baseCredentials: [CREDENTIALS] });
  emulator.control('s3', 'createBucket', { bucket: 'leases' });
  client = new S3Client({ region: 'us-east-1', endpoint: emulator.url, credentials: CREDENTIALS, forcePathStyle: true, maxAttempts: 2, requestChecksumCalculation: 'WHEN_REQUIRED' });
});
afterAll(async () => {
  client?.destroy();
  await emulator?.stop();
});

function pair(clock: () => Date): [S3Lease, S3Lease] {
  const key = `lease-${++n}.json`;
  return [new S3Lease({ client, bucket: 'leases', key, leaseSeconds: 60, nodeId: 'a', clock }), new S3Lease({ client, bucket: 'leases', key, leaseSeconds: 60, nodeId: 'b', clock })];
}

describe('S3 lease', () => {
  it('gives a free lease to exactly one of two nodes asking at once', async () => {
    const [a, b] = pair(() => new Date());
    const results = await Promise.all([a.tryAcquire(), b.tryAcquire()]);
    expect(results.filter((r) => r.held)).toHaveLength(1);
    const loser = results.find((r) => !r.held);
    expect(loser?.held).toBe(false);
    expect((await a.read())?.record.epoch).toBe(1);
  });

  it('renews; is taken over only once expired (epoch + 1); the old holder then cannot renew and its check sees the higher epoch', async () => {
    const clock = manualClock('2026-12-02T10:00:00.000Z');
    const [a, b] = pair(clock);
    const first = await a.tryAcquire();
    if (!first.held) throw new Error(first.why);
    clock.advance(20_000);
    const renewed = await a.renew(first.lease);
    if (!renewed.held) throw new Error(renewed.why);
    expect(renewed.lease.record).toMatchObject({ nodeId: 'a', epoch: 1, renewedAt: '2026-12-02T10:00:20.000Z', expiresAt: '2026-12-02T10:01:20.000Z' });
    // Expired by the lease's own time, but within the margin (10 s): not yet.
    clock.set('2026-12-02T10:01:25.000Z');
    const early = await b.tryAcquire();
    expect(early).toMatchObject({ held: false, unreachable: false });
    clock.set('2026-12-02T10:01:31.000Z');
    const taken = await b.tryAcquire();
    if (!taken.held) throw new Error(taken.why);
    expect(taken).toMatchObject({ takeover: true, lease: { record: { nodeId: 'b', epoch: 2 } } });
    const late = await a.renew(renewed.lease);
    expect(late).toMatchObject({ held: false, lost: true, current: { record: { nodeId: 'b', epoch: 2 } } });
    // a believed it until renewal + 60 s - 10 s = 10:01:10; past that, the check says no whatever S3 holds.
    const check = await a.check(renewed.lease);
    expect(check).toMatchObject({ held: false, current: { record: { nodeId: 'b', epoch: 2 } } });
    expect(await b.check(taken.lease)).toEqual({ held: true });
  });

  it('ends a hung S3 call at its time box: the renewal fails (not lost); the write that landed late is recognised as its own', { timeout: 20_000 }, async () => {
    const key = `lease-${++n}.json`;
    const lease = new S3Lease({ client, bucket: 'leases', key, leaseSeconds: 60, nodeId: 'a', timeoutMs: 300 });
    const first = await lease.tryAcquire();
    if (!first.held) throw new Error(first.why);
    emulator.injectFault({ kind: 'latency', service: 's3', operation: 'PutObject', latencyMs: 5_000 });
    try {
      const r = await lease.renew(first.lease);
      expect(r).toMatchObject({ held: false, lost: false });
      expect(r.held ? '' : r.why).toMatch(/timed out|abort/i);
    } finally {
      emulator.clearFaults();
    }
    // The delayed write still landed (S3 had it): the next renewal's 412 is this node's own write, not a takeover.
    const deadline = Date.now() + 15_000;
    while ((await lease.read())?.etag === first.lease.etag && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 100));
    expect((await lease.read())?.etag).not.toBe(first.lease.etag);
    const again = await lease.renew(first.lease);
    expect(again).toMatchObject({ held: true, lease: { record: { nodeId: 'a', epoch: 1 } } });
  });
});
