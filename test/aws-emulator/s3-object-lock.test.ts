/**
 * The emulator's S3 as the real `@aws-sdk/client-s3` sees it: buckets with Object Lock, retention that
 * refuses deletes, versions, conditional writes (412 and 409), checksums, ListObjectsV2 pagination.
 */
import { createHash } from 'node:crypto';
import {
  CreateBucketCommand,
  DeleteObjectCommand,
  GetObjectCommand,
  GetObjectLockConfigurationCommand,
  HeadObjectCommand,
  ListObjectsV2Command,
  PutObjectCommand,
  PutObjectLockConfigurationCommand,
  S3Client,
  S3ServiceException,
  paginateListObjectsV2,
} from '@aws-sdk/client-s3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEFAULT_BASE_CREDENTIALS, startEmulator, userPrincipal, type Emulator } from './index.js';
import { s3State, tamperObject } from './services/s3.js';

let emulator: Emulator;
let s3: S3Client;

function client(credentials: { accessKeyId: string; secretAccessKey: string } = DEFAULT_BASE_CREDENTIALS): S3Client {
  return new S3Client({ endpoint: emulator.url, region: 'eu-west-1', forcePathStyle: true, maxAttempts: 1, credentials });
}

async function failure(p: Promise<unknown>): Promise<{ name: string; status: number | undefined; message: string }> {
  try {
    await p;
  } catch (e) {
    if (e instanceof S3ServiceException) return { name: e.name, status: e.$metadata.httpStatusCode, message: e.message };
    throw e;
  }
  throw new Error('expected the call to fail');
}

function sha256(b: Buffer | string): string {
  return createHash('sha256').update(b).digest('base64');
}

beforeAll(async () => {
  emulator = await startEmulator();
  s3 = client();
  await s3.send(new CreateBucketCommand({ Bucket: 'archive', ObjectLockEnabledForBucket: true }));
  await s3.send(new CreateBucketCommand({ Bucket: 'plain' }));
});
afterAll(async () => {
  s3.destroy();
  await emulator.stop();
});

describe('buckets with Object Lock', () => {
  it('a bucket created with x-amz-bucket-object-lock-enabled is versioned and locked; a default retention is read back', async () => {
    expect(s3State(emulator).buckets['archive']?.versioning).toBe('Enabled');
    await s3.send(new PutObjectLockConfigurationCommand({ Bucket: 'archive', ObjectLockConfiguration: { ObjectLockEnabled: 'Enabled', Rule: { DefaultRetention: { Mode: 'GOVERNANCE', Days: 1 } } } }));
    const got = await s3.send(new GetObjectLockConfigurationCommand({ Bucket: 'archive' }));
    expect(got.ObjectLockConfiguration).toEqual({ ObjectLockEnabled: 'Enabled', Rule: { DefaultRetention: { Mode: 'GOVERNANCE', Days: 1 } } });
    expect(await failure(s3.send(new GetObjectLockConfigurationCommand({ Bucket: 'plain' })))).toMatchObject({ name: 'ObjectLockConfigurationNotFoundError', status: 404 });
    expect(await failure(s3.send(new CreateBucketCommand({ Bucket: 'archive' })))).toMatchObject({ name: 'BucketAlreadyOwnedByYou', status: 409 });
  });

  it('an Object Lock put needs Content-MD5 or an x-amz-checksum-*, and a wrong checksum is BadDigest', async () => {
    const until = new Date(Date.now() + 86_400_000);
    // The SDK adds a CRC32 by default; with it turned off the request carries no checksum at all.
    const bare = new S3Client({ endpoint: emulator.url, region: 'eu-west-1', forcePathStyle: true, maxAttempts: 1, credentials: DEFAULT_BASE_CREDENTIALS, requestChecksumCalculation: 'WHEN_REQUIRED' });
    try {
      const r = await failure(bare.send(new PutObjectCommand({ Bucket: 'archive', Key: 'no-sum', Body: Buffer.from('x'), ObjectLockMode: 'COMPLIANCE', ObjectLockRetainUntilDate: until })));
      // PutObject is "httpChecksum required" when object lock headers are present? Either the SDK adds one or S3 refuses.
      expect(r).toMatchObject({ name: 'InvalidRequest', status: 400 });
      expect(r.message).toMatch(/Content-MD5 OR x-amz-checksum- HTTP header is required/);
    } finally {
      bare.destroy();
    }
    expect(
      await failure(s3.send(new PutObjectCommand({ Bucket: 'archive', Key: 'bad-sum', Body: Buffer.from('x'), ChecksumSHA256: sha256('y'), ObjectLockMode: 'COMPLIANCE', ObjectLockRetainUntilDate: until }))),
    ).toMatchObject({ name: 'BadDigest', status: 400 });
    expect(await failure(s3.send(new PutObjectCommand({ Bucket: 'plain', Key: 'k', Body: 'x', ChecksumSHA256: sha256('x'), ObjectLockMode: 'COMPLIANCE', ObjectLockRetainUntilDate: until })))).toMatchObject({
      name: 'InvalidRequest',
      status: 400,
    });
    expect(await failure(s3.send(new PutObjectCommand({ Bucket: 'archive', Key: 'past', Body: 'x', ChecksumSHA256: sha256('x'), ObjectLockMode: 'COMPLIANCE', ObjectLockRetainUntilDate: new Date(Date.now() - 1000) })))).toMatchObject({
      name: 'InvalidArgument',
    });
  });

  it('COMPLIANCE: the version cannot be deleted by anyone; a simple delete only adds a delete marker; an overwrite is a new version and the locked one remains', async () => {
    const until = new Date(Date.now() + 86_400_000);
    const put = await s3.send(new PutObjectCommand({ Bucket: 'archive', Key: 'seg/1', Body: 'one', ChecksumSHA256: sha256('one'), ObjectLockMode: 'COMPLIANCE', ObjectLockRetainUntilDate: until }));
    expect(put.VersionId).toBeTruthy();
    const head = await s3.send(new HeadObjectCommand({ Bucket: 'archive', Key: 'seg/1', ChecksumMode: 'ENABLED' }));
    expect(head.ObjectLockMode).toBe('COMPLIANCE');
    expect(head.ObjectLockRetainUntilDate?.toISOString()).toBe(until.toISOString());
    expect(head.ChecksumSHA256).toBe(sha256('one'));
    expect(head.ContentLength).toBe(3);

    expect(await failure(s3.send(new DeleteObjectCommand({ Bucket: 'archive', Key: 'seg/1', VersionId: put.VersionId })))).toMatchObject({ name: 'AccessDenied', status: 403 });
    expect(await failure(s3.send(new DeleteObjectCommand({ Bucket: 'archive', Key: 'seg/1', VersionId: put.VersionId, BypassGovernanceRetention: true })))).toMatchObject({ name: 'AccessDenied', status: 403 });

    const over = await s3.send(new PutObjectCommand({ Bucket: 'archive', Key: 'seg/1', Body: 'two', ChecksumSHA256: sha256('two') }));
    expect(over.VersionId).not.toBe(put.VersionId);
    expect(await (await s3.send(new GetObjectCommand({ Bucket: 'archive', Key: 'seg/1' }))).Body?.transformToString()).toBe('two');
    expect(await (await s3.send(new GetObjectCommand({ Bucket: 'archive', Key: 'seg/1', VersionId: put.VersionId }))).Body?.transformToString()).toBe('one');

    const del = await s3.send(new DeleteObjectCommand({ Bucket: 'archive', Key: 'seg/1' }));
    expect(del.DeleteMarker).toBe(true);
    expect(await failure(s3.send(new GetObjectCommand({ Bucket: 'archive', Key: 'seg/1' })))).toMatchObject({ name: 'NoSuchKey', status: 404 });
    expect(await (await s3.send(new GetObjectCommand({ Bucket: 'archive', Key: 'seg/1', VersionId: put.VersionId }))).Body?.transformToString()).toBe('one');
  });

  it('GOVERNANCE: refused without the bypass header, refused with it for a caller without s3:BypassGovernanceRetention, allowed with both', async () => {
    const until = new Date(Date.now() + 86_400_000);
    const put = await s3.send(new PutObjectCommand({ Bucket: 'archive', Key: 'gov', Body: 'g', ChecksumSHA256: sha256('g'), ObjectLockMode: 'GOVERNANCE', ObjectLockRetainUntilDate: until }));
    expect(await failure(s3.send(new DeleteObjectCommand({ Bucket: 'archive', Key: 'gov', VersionId: put.VersionId })))).toMatchObject({ name: 'AccessDenied', status: 403 });

    const keys = { accessKeyId: 'AKIAS3NOBYPASS000001', secretAccessKey: 'no-bypass' };
    emulator.registerCredentials({
      ...keys,
      principal: userPrincipal(emulator.homeAccount, { userName: 'archiver', userId: 'AIDAARCHIVER00000001' }, 'base', {
        policies: [{ name: 'no-bypass', document: JSON.stringify({ Version: '2012-10-17', Statement: [{ Effect: 'Allow', Action: ['s3:DeleteObject', 's3:DeleteObjectVersion', 's3:GetObject'], Resource: '*' }] }) }],
      }),
    });
    const limited = client(keys);
    try {
      expect(await failure(limited.send(new DeleteObjectCommand({ Bucket: 'archive', Key: 'gov', VersionId: put.VersionId, BypassGovernanceRetention: true })))).toMatchObject({ name: 'AccessDenied', status: 403 });
    } finally {
      limited.destroy();
    }
    await s3.send(new DeleteObjectCommand({ Bucket: 'archive', Key: 'gov', VersionId: put.VersionId, BypassGovernanceRetention: true }));
    expect(await failure(s3.send(new GetObjectCommand({ Bucket: 'archive', Key: 'gov' })))).toMatchObject({ name: 'NoSuchKey' });
  });

  it('a put with retention headers also needs s3:PutObjectRetention: refused with s3:PutObject alone, allowed with both', async () => {
    const until = new Date(Date.now() + 86_400_000);
    const principal = (name: string, actions: string[]): { accessKeyId: string; secretAccessKey: string } => {
      const keys = { accessKeyId: `AKIAS3${name.toUpperCase().padEnd(14, '0')}`, secretAccessKey: `${name}-secret` };
      emulator.registerCredentials({
        ...keys,
        principal: userPrincipal(emulator.homeAccount, { userName: name, userId: `AIDA${name.toUpperCase().padEnd(16, '0')}` }, 'base', {
          policies: [{ name, document: JSON.stringify({ Version: '2012-10-17', Statement: [{ Effect: 'Allow', Action: actions, Resource: '*' }] }) }],
        }),
      });
      return keys;
    };
    const putOnly = client(principal('putonly', ['s3:PutObject']));
    const both = client(principal('putlock', ['s3:PutObject', 's3:PutObjectRetention']));
    try {
      const locked = { Bucket: 'archive', Body: 'r', ChecksumSHA256: sha256('r'), ObjectLockMode: 'COMPLIANCE' as const, ObjectLockRetainUntilDate: until };
      const refused = await failure(putOnly.send(new PutObjectCommand({ ...locked, Key: 'ret-refused' })));
      expect(refused).toMatchObject({ name: 'AccessDenied', status: 403 });
      expect(refused.message).toContain('s3:PutObjectRetention');
      expect(await failure(s3.send(new HeadObjectCommand({ Bucket: 'archive', Key: 'ret-refused' })))).toMatchObject({ status: 404 });
      await putOnly.send(new PutObjectCommand({ Bucket: 'plain', Key: 'no-lock', Body: 'n' }));
      const ok = await both.send(new PutObjectCommand({ ...locked, Key: 'ret-allowed' }));
      expect(ok.VersionId).toBeDefined();
    } finally {
      putOnly.destroy();
      both.destroy();
    }
  });

  it('the bucket default retention applies to a put without lock headers', async () => {
    await s3.send(new PutObjectCommand({ Bucket: 'archive', Key: 'defaulted', Body: 'd', ChecksumSHA256: sha256('d') }));
    const head = await s3.send(new HeadObjectCommand({ Bucket: 'archive', Key: 'defaulted' }));
    expect(head.ObjectLockMode).toBe('GOVERNANCE');
    expect(head.ObjectLockRetainUntilDate?.getTime()).toBeGreaterThan(Date.now() + 86_000_000);
  });
});

describe('conditional writes', () => {
  it('If-None-Match: * refuses an existing key (412); If-Match refuses another ETag (412) and a missing key (404)', async () => {
    const first = await s3.send(new PutObjectCommand({ Bucket: 'plain', Key: 'lease', Body: 'a', IfNoneMatch: '*' }));
    expect(await failure(s3.send(new PutObjectCommand({ Bucket: 'plain', Key: 'lease', Body: 'b', IfNoneMatch: '*' })))).toMatchObject({ name: 'PreconditionFailed', status: 412 });
    expect(await failure(s3.send(new PutObjectCommand({ Bucket: 'plain', Key: 'lease', Body: 'b', IfMatch: '"0123"' })))).toMatchObject({ name: 'PreconditionFailed', status: 412 });
    expect(await failure(s3.send(new PutObjectCommand({ Bucket: 'plain', Key: 'absent', Body: 'b', IfMatch: first.ETag })))).toMatchObject({ name: 'NoSuchKey', status: 404 });
    const second = await s3.send(new PutObjectCommand({ Bucket: 'plain', Key: 'lease', Body: 'b', IfMatch: first.ETag }));
    expect(second.ETag).not.toBe(first.ETag);
  });

  it('two conditional writes to one key in flight at once: one wins, the other is 409 ConditionalRequestConflict', async () => {
    emulator.control('s3', 'setConditionalCommitMs', { ms: 300 });
    try {
      const other = client();
      const results = await Promise.allSettled([
        s3.send(new PutObjectCommand({ Bucket: 'plain', Key: 'race', Body: 'one', IfNoneMatch: '*' })),
        new Promise((r) => setTimeout(r, 50)).then(() => other.send(new PutObjectCommand({ Bucket: 'plain', Key: 'race', Body: 'two', IfNoneMatch: '*' }))),
      ]);
      other.destroy();
      expect(results[0]?.status).toBe('fulfilled');
      const lost = results[1];
      expect(lost?.status).toBe('rejected');
      const reason = (lost as PromiseRejectedResult).reason as S3ServiceException;
      expect(reason.name).toBe('ConditionalRequestConflict');
      expect(reason.$metadata.httpStatusCode).toBe(409);
      expect(await (await s3.send(new GetObjectCommand({ Bucket: 'plain', Key: 'race' }))).Body?.transformToString()).toBe('one');
    } finally {
      emulator.control('s3', 'setConditionalCommitMs', { ms: 0 });
    }
  });
});

describe('ListObjectsV2', () => {
  it('lists by prefix in key order, at most 1000 a page, with continuation tokens (the SDK paginator reads them all)', async () => {
    const state = s3State(emulator);
    state.buckets['many'] = { createdAt: new Date().toISOString(), objects: {} };
    for (let i = 0; i < 2101; i++) state.buckets['many'].objects[`p/${String(i).padStart(5, '0')}`] = [{ versionId: 'null', body: '', etag: '"d41d8cd98f00b204e9800998ecf8427e"', contentType: 'text/plain', lastModified: new Date().toUTCString(), size: 0, checksums: {} }];
    state.buckets['many'].objects['q/other'] = [{ versionId: 'null', body: '', etag: '""', contentType: 'text/plain', lastModified: new Date().toUTCString(), size: 0, checksums: {} }];
    const page = await s3.send(new ListObjectsV2Command({ Bucket: 'many', Prefix: 'p/', MaxKeys: 5000 }));
    expect(page.KeyCount).toBe(1000);
    expect(page.MaxKeys).toBe(1000);
    expect(page.IsTruncated).toBe(true);
    expect(page.Contents?.[0]?.Key).toBe('p/00000');
    const keys: string[] = [];
    let pages = 0;
    for await (const p of paginateListObjectsV2({ client: s3 }, { Bucket: 'many', Prefix: 'p/' })) {
      pages++;
      keys.push(...(p.Contents ?? []).map((c) => c.Key ?? ''));
    }
    expect(pages).toBe(3);
    expect(keys).toHaveLength(2101);
    expect(keys).toEqual([...keys].sort());
    expect(await failure(s3.send(new ListObjectsV2Command({ Bucket: 'many', ContinuationToken: 'not-a-token' })))).toMatchObject({ name: 'InvalidArgument', status: 400 });
  });
});

describe('tampering below the API', () => {
  it('tamperObject changes the stored bytes while the stored checksum stays what was uploaded, so the SDK refuses the object', async () => {
    await s3.send(new PutObjectCommand({ Bucket: 'plain', Key: 't', Body: 'original', ChecksumSHA256: sha256('original') }));
    tamperObject(s3State(emulator), 'plain', 't', () => Buffer.from('edited!!'));
    expect(Buffer.from(s3State(emulator).buckets['plain']?.objects['t']?.at(-1)?.body ?? '', 'base64').toString()).toBe('edited!!');
    const head = await s3.send(new HeadObjectCommand({ Bucket: 'plain', Key: 't', ChecksumMode: 'ENABLED' }));
    expect(head.ChecksumSHA256).toBe(sha256('original'));
    // The SDK asks for the checksum (x-amz-checksum-mode: ENABLED) and validates the body against it.
    await expect((await s3.send(new GetObjectCommand({ Bucket: 'plain', Key: 't' }))).Body?.transformToString()).rejects.toThrow(/Checksum mismatch/);
  });
});
