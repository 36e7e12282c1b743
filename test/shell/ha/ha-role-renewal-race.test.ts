/**
 * The apply guard and the lease renewal racing (seen in CI on a slow machine): the renewal's PutObject has
 * landed in S3 (a new ETag) but its answer has not come back, and the guard's check of the lease, still
 * holding the old ETag, reads the new one. The guard must wait for this node's own renewal and check again,
 * not fence the node against itself. Real S3Lease against the emulator; the answer of the renewal is held
 * back by a middleware after S3 has written the object.
 */
import { S3Client } from '@aws-sdk/client-s3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { S3Lease } from '../../../src/adapters/lease/index.js';
import type { Change } from '../../../src/core/plan/change.js';
import { HaRole } from '../../../src/shell/ha/ha-role.js';
import { createLogger } from '../../../src/shell/logging.js';
import { startEmulator } from '../../aws-emulator/index.js';
import type { Emulator } from '../../aws-emulator/index.js';

const CREDENTIALS = { accessKeyId: 'AKIDHARACETEST', secretAccessKey: 'ha-race-secret' };

/** Once `hold()` is called, the answer to the next PutObject is kept back (after S3 wrote it) until `release()`. */
function holdAnswers(client: S3Client): { hold(): void; release(): void; landed(): Promise<void> } {
  let gate: Promise<void> | null = null;
  let open: (() => void) | null = null;
  let landed: Promise<void> = Promise.resolve();
  let signal: (() => void) | null = null;
  client.middlewareStack.add(
    (next, context) => async (args) => {
      const out = await next(args);
      if (context.commandName === 'PutObjectCommand' && gate !== null) {
        signal?.();
        await gate;
      }
      return out;
    },
    { step: 'deserialize', name: 'holdAnswers' },
  );
  return {
    hold() {
      gate = new Promise((r) => (open = r));
      landed = new Promise((r) => (signal = r));
    },
    release() {
      open?.();
      gate = null;
    },
    landed: () => landed,
  };
}

let emulator: Emulator;

beforeAll(async () => {
  emulator = await startEmulator({ baseCredentials: [CREDENTIALS] });
  emulator.control('s3', 'createBucket', { bucket: 'leases' });
});
afterAll(async () => {
  await emulator?.stop();
});

describe('the apply guard while this node renews its lease', () => {
  it('waits for its own renewal whose write landed first, and lets the change go; a lease taken by another node still fences', async () => {
    const client = new S3Client({ region: 'us-east-1', endpoint: emulator.url, credentials: CREDENTIALS, forcePathStyle: true, maxAttempts: 1, requestChecksumCalculation: 'WHEN_REQUIRED' });
    const handler = holdAnswers(client);
    const lease = new S3Lease({ client, bucket: 'leases', key: 'race.json', leaseSeconds: 60, nodeId: 'a' });
    const role = new HaRole({ lease, log: createLogger({ level: 'silent' }) });
    await role.tickOnce();
    expect(role.active).toBe(true);

    handler.hold();
    const renewing = role.tickOnce();
    await handler.landed(); // S3 has the renewed lease (new ETag); the node has not heard back yet
    const verdict = role.guard({ seq: 1 } as Change);
    setTimeout(() => handler.release(), 300);
    expect(await verdict).toBeNull();
    await renewing;
    expect(role.active).toBe(true);

    // Another node's lease (a higher epoch written behind this one's back) is still a loss.
    const other = new S3Lease({ client, bucket: 'leases', key: 'race.json', leaseSeconds: 60, nodeId: 'b', clock: () => new Date(Date.now() + 3_600_000) });
    const taken = await other.tryAcquire();
    expect(taken.held).toBe(true);
    expect(await role.guard({ seq: 2 } as Change)).toMatch(/^fenced: epoch 1 mine \(a\) vs 2 seen \(b\)/);
    expect(role.active).toBe(false);
    client.destroy();
  });
});
