/**
 * The archive's S3 side: segment objects under `<bucket>/<prefix>/`, written once (`If-None-Match: *`)
 * with Object Lock retention and a SHA-256 checksum, listed with the SDK's ListObjectsV2 paginator and
 * read back with the checksum asked for (`ChecksumMode: ENABLED`, which the SDK validates).
 * Retries are the SDK's own (adaptive); a call is time-boxed by the caller's AbortSignal.
 */
import { GetObjectCommand, PutObjectCommand, S3Client, S3ServiceException, paginateListObjectsV2 } from '@aws-sdk/client-s3';
import type { AwsCredentialIdentityProvider } from '@smithy/types';
import { RolemapError } from '../../core/errors.js';

export type RetentionMode = 'COMPLIANCE' | 'GOVERNANCE';

export interface ArchiveLocation {
  readonly bucket: string;
  readonly prefix: string;
}

/** A segment object as read back. */
export interface StoredSegment {
  readonly key: string;
  readonly bytes: Buffer;
  /** `x-amz-checksum-sha256` S3 stored with the object (base64), when it has one. */
  readonly checksumSha256: string | undefined;
  readonly lockMode: string | undefined;
  readonly retainUntil: Date | undefined;
  readonly versionId: string | undefined;
}

/** What the archive code needs from an object store. */
export interface JournalArchive extends ArchiveLocation {
  /** Writes a new object; throws SegmentExistsError when the key already exists. */
  put(key: string, bytes: Buffer, options: { readonly sha256Base64: string; readonly mode: RetentionMode; readonly retainUntil: Date; readonly signal?: AbortSignal | undefined }): Promise<{ readonly versionId: string | undefined; readonly requestId: string | undefined }>;
  /** Keys under the prefix in key order, after `startAfter` when given. */
  list(options?: { readonly startAfter?: string | undefined; readonly signal?: AbortSignal | undefined }): Promise<string[]>;
  get(key: string, options?: { readonly signal?: AbortSignal | undefined }): Promise<StoredSegment>;
}

/** A call to the archive bucket failed (after the SDK's retries): worth another try next time. */
export class ArchiveCallError extends RolemapError {
  readonly retryable = true;
  constructor(
    readonly operation: string,
    readonly key: string,
    message: string,
    readonly code: string | undefined,
    readonly requestId: string | undefined,
    options?: { cause?: unknown },
  ) {
    super(`s3:${operation} s3://${key}: ${message}`, options);
  }
}

/** `If-None-Match: *` refused: an object with this key exists (a segment is never overwritten). */
export class SegmentExistsError extends RolemapError {
  readonly retryable = false;
  constructor(
    readonly key: string,
    options?: { cause?: unknown },
  ) {
    super(`segment ${key} already exists in the archive`, options);
  }
}

function wrap(operation: string, bucket: string, key: string, e: unknown): Error {
  if (e instanceof S3ServiceException) return new ArchiveCallError(operation, `${bucket}/${key}`, `${e.name}: ${e.message}`, e.name, e.$metadata.requestId, { cause: e });
  const err = e as Error;
  return new ArchiveCallError(operation, `${bucket}/${key}`, err.name === 'AbortError' ? 'timed out (the shipping time box ran out)' : `${err.name}: ${err.message}`, undefined, undefined, { cause: e });
}

export interface S3ArchiveSettings extends ArchiveLocation {
  readonly region: string;
  /** An AWS-compatible endpoint (the emulator); otherwise the SDK's own resolution (AWS_ENDPOINT_URL_S3...). */
  readonly endpoint?: string | undefined;
  /** SDK attempts per call (adaptive retry mode). */
  readonly maxAttempts?: number | undefined;
  /** The SDK's default chain when absent. */
  readonly credentials?: AwsCredentialIdentityProvider | undefined;
  /** Path-style URLs (the emulator, S3-compatible stores). Default: true when an endpoint is given. */
  readonly forcePathStyle?: boolean | undefined;
}

export class S3JournalArchive implements JournalArchive {
  readonly bucket: string;
  readonly prefix: string;
  readonly #s3: S3Client;

  constructor(settings: S3ArchiveSettings) {
    this.bucket = settings.bucket;
    this.prefix = settings.prefix;
    this.#s3 = new S3Client({
      region: settings.region,
      ...(settings.endpoint ? { endpoint: settings.endpoint } : {}),
      forcePathStyle: settings.forcePathStyle ?? settings.endpoint !== undefined,
      maxAttempts: settings.maxAttempts ?? 3,
      retryMode: 'adaptive',
      ...(settings.credentials ? { credentials: settings.credentials } : {}),
    });
  }

  destroy(): void {
    this.#s3.destroy();
  }

  async put(key: string, bytes: Buffer, options: { sha256Base64: string; mode: RetentionMode; retainUntil: Date; signal?: AbortSignal | undefined }): Promise<{ versionId: string | undefined; requestId: string | undefined }> {
    try {
      const out = await this.#s3.send(
        new PutObjectCommand({
          Bucket: this.bucket,
          Key: key,
          Body: bytes,
          ContentType: 'application/gzip',
          ChecksumSHA256: options.sha256Base64,
          IfNoneMatch: '*',
          ObjectLockMode: options.mode,
          ObjectLockRetainUntilDate: options.retainUntil,
        }),
        { abortSignal: options.signal },
      );
      return { versionId: out.VersionId, requestId: out.$metadata.requestId };
    } catch (e) {
      if (e instanceof S3ServiceException && (e.name === 'PreconditionFailed' || e.$metadata.httpStatusCode === 412)) throw new SegmentExistsError(`${this.bucket}/${key}`, { cause: e });
      throw wrap('PutObject', this.bucket, key, e);
    }
  }

  async list(options: { startAfter?: string | undefined; signal?: AbortSignal | undefined } = {}): Promise<string[]> {
    const keys: string[] = [];
    try {
      for await (const page of paginateListObjectsV2({ client: this.#s3, withCommand: (c) => c }, { Bucket: this.bucket, Prefix: `${this.prefix}/`, ...(options.startAfter ? { StartAfter: options.startAfter } : {}) })) {
        if (options.signal?.aborted) throw Object.assign(new Error('aborted'), { name: 'AbortError' });
        for (const o of page.Contents ?? []) if (o.Key !== undefined) keys.push(o.Key);
      }
    } catch (e) {
      throw wrap('ListObjectsV2', this.bucket, `${this.prefix}/`, e);
    }
    return keys;
  }

  async get(key: string, options: { signal?: AbortSignal | undefined } = {}): Promise<StoredSegment> {
    try {
      const out = await this.#s3.send(new GetObjectCommand({ Bucket: this.bucket, Key: key, ChecksumMode: 'ENABLED' }), { abortSignal: options.signal });
      // The SDK validates the body against the stored checksum while it reads it: a mismatch throws here.
      const bytes = Buffer.from((await out.Body?.transformToByteArray()) ?? new Uint8Array());
      return { key, bytes, checksumSha256: out.ChecksumSHA256, lockMode: out.ObjectLockMode, retainUntil: out.ObjectLockRetainUntilDate, versionId: out.VersionId };
    } catch (e) {
      throw wrap('GetObject', this.bucket, key, e);
    }
  }
}
