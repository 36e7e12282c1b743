/**
 * "Is this session still allowed to do X?" for any credentials: an `s3:GetObject` through the
 * emulator's S3 endpoint with the real `@aws-sdk/client-s3` (path-style). The emulator verifies the
 * signature and evaluates the principal's policies exactly as for any other call, so a deny on
 * `aws:userid`, `aws:TokenIssueTime` or `identitystore:UserId` shows here as `'denied'`.
 *
 *   expect(await probe(emulator.url, credentials)).toBe('allowed');
 *
 * The default object is `emulator-probe/probe.txt`, which every emulator holds. A session needs a
 * policy allowing `s3:GetObject` on it (for example AdministratorAccess or AmazonS3ReadOnlyAccess)
 * to be `'allowed'` at all.
 */
import { GetObjectCommand, S3Client, S3ServiceException } from '@aws-sdk/client-s3';
import { PROBE_BUCKET, PROBE_KEY } from './services/s3.js';

export interface ProbeCredentials {
  readonly accessKeyId: string;
  readonly secretAccessKey: string;
  readonly sessionToken?: string | undefined;
}

export interface ProbeOptions {
  readonly bucket?: string;
  readonly key?: string;
  readonly region?: string;
}

export type ProbeOutcome = 'allowed' | 'denied';

/** The outcome, and when denied the error AWS's S3 answered (`AccessDenied`, `InvalidAccessKeyId`, `ExpiredToken`, ...). */
export interface ProbeResult {
  readonly outcome: ProbeOutcome;
  readonly code?: string;
  readonly message?: string;
}

/** Answers that mean "these credentials may not do this (any more)". Anything else is a broken test and throws. */
const DENIALS = new Set(['AccessDenied', 'InvalidAccessKeyId', 'ExpiredToken', 'InvalidToken']);

export async function probeResult(emulatorUrl: string, credentials: ProbeCredentials, options: ProbeOptions = {}): Promise<ProbeResult> {
  const client = new S3Client({
    endpoint: emulatorUrl,
    region: options.region ?? 'us-east-1',
    forcePathStyle: true,
    maxAttempts: 1,
    credentials: { accessKeyId: credentials.accessKeyId, secretAccessKey: credentials.secretAccessKey, ...(credentials.sessionToken !== undefined ? { sessionToken: credentials.sessionToken } : {}) },
  });
  try {
    const out = await client.send(new GetObjectCommand({ Bucket: options.bucket ?? PROBE_BUCKET, Key: options.key ?? PROBE_KEY }));
    await out.Body?.transformToString();
    return { outcome: 'allowed' };
  } catch (e) {
    if (e instanceof S3ServiceException && DENIALS.has(e.name)) return { outcome: 'denied', code: e.name, message: e.message };
    throw e;
  } finally {
    client.destroy();
  }
}

/** `'allowed'` or `'denied'`: may these credentials still read the probe object? */
export async function probe(emulatorUrl: string, credentials: ProbeCredentials, options: ProbeOptions = {}): Promise<ProbeOutcome> {
  return (await probeResult(emulatorUrl, credentials, options)).outcome;
}
