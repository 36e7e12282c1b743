/** The throttle observer on a real SDK client against the emulator, which injects throttling. */
import { IAMClient, ListRolesCommand } from '@aws-sdk/client-iam';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startEmulator } from '../../aws-emulator/index.js';
import type { Emulator } from '../../aws-emulator/index.js';
import { DaemonMetrics } from '../../../src/shell/daemon/metrics.js';
import { isThrottlingError, observeThrottling } from '../../../src/shell/daemon/throttle-observer.js';

let emulator: Emulator;
beforeAll(async () => {
  emulator = await startEmulator({ baseCredentials: [{ accessKeyId: 'AKIDTEST', secretAccessKey: 'test-secret' }] });
});
afterAll(async () => {
  await emulator.stop();
});

describe('AWS throttling observer', () => {
  it('counts each throttled attempt of a real SDK call into rolemap_aws_throttle_retries_total', async () => {
    const metrics = new DaemonMetrics({ defaultMetrics: false });
    const client = new IAMClient({ region: 'us-east-1', endpoint: emulator.url, maxAttempts: 5, retryMode: 'adaptive', credentials: { accessKeyId: 'AKIDTEST', secretAccessKey: 'test-secret' } });
    observeThrottling(client.middlewareStack, 'iam', metrics.onThrottleRetry);
    observeThrottling(client.middlewareStack, 'iam', metrics.onThrottleRetry); // idempotent
    emulator.resetCalls();
    emulator.injectFault({ kind: 'throttle', service: 'iam', operation: 'ListRoles', times: 2 });
    // After two throttled attempts the SDK's third attempt reaches the emulator's (empty) IAM and
    // fails with an error that is not throttling: what matters here is that the retries happened.
    const err = await client.send(new ListRolesCommand({})).catch((e: unknown) => e);
    expect(isThrottlingError(err)).toBe(false);
    expect(emulator.calls()['iam:ListRoles']).toBe(3);
    expect(emulator.throttledCount()).toBe(2);
    expect(await metrics.text()).toMatch(/^rolemap_aws_throttle_retries_total\{service="iam"\} 2$/m);
    client.destroy();
  });

  it('tells throttling errors from others', () => {
    expect(isThrottlingError({ name: 'ThrottlingException' })).toBe(true);
    expect(isThrottlingError({ name: 'Whatever', $metadata: { httpStatusCode: 429 } })).toBe(true);
    expect(isThrottlingError({ name: 'NoSuchEntityException', $metadata: { httpStatusCode: 404 } })).toBe(false);
    expect(isThrottlingError(null)).toBe(false);
  });
});
