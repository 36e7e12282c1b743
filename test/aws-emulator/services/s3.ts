/**
 * An S3-compatible REST endpoint (path-style `/<bucket>/<key>`, SigV4 with service `s3`), enough S3 for
 * a write-once journal archive and a lease: buckets (optionally with Object Lock, which turns on
 * versioning), `PutObject` with conditional writes (`If-None-Match: *`, `If-Match: <etag>` -> 412,
 * a concurrent conditional write to the same key -> 409), checksums (`Content-MD5`, `x-amz-checksum-*`),
 * Object Lock retention per version (COMPLIANCE never bypassed, GOVERNANCE only with
 * `x-amz-bypass-governance-retention` and `s3:BypassGovernanceRetention`), `GetObject`, `HeadObject`,
 * `ListObjectsV2` (prefix, continuation tokens, at most 1000 keys), `DeleteObject` (delete markers in a
 * versioned bucket, permanent deletes of a version).
 *
 * Every operation is authorized by the emulator's policy evaluator as the IAM action S3's Service
 * Authorization Reference names for it (`iamAction` below: `ListObjectsV2` is `s3:ListBucket`,
 * `HeadObject` is `s3:GetObject`, a delete with a version id is `s3:DeleteObjectVersion`).
 *
 * Which AWS page each behaviour follows, and what is not modelled: docs/emulator.md ("S3").
 * The default state has one bucket, `emulator-probe`, holding `probe.txt`.
 */
import { createHash, randomBytes } from 'node:crypto';
import { crc32 } from 'node:zlib';
import { AwsError } from '../protocol.js';
import type { Emulator, RequestContext, RestRequest, RestResponse, ServiceDef } from '../server.js';

export const PROBE_BUCKET = 'emulator-probe';
export const PROBE_KEY = 'probe.txt';

export type RetentionMode = 'GOVERNANCE' | 'COMPLIANCE';

/** One version of a key (a delete marker has no body). */
export interface S3Version {
  readonly versionId: string;
  /** Base64 of the stored bytes. The `tamperObject` control edits them below the API. */
  body: string;
  readonly etag: string;
  readonly contentType: string;
  readonly lastModified: string;
  readonly size: number;
  /** `x-amz-checksum-<algorithm>` values stored with the object (base64), by lower-case algorithm. */
  readonly checksums: Readonly<Record<string, string>>;
  readonly deleteMarker?: true;
  readonly retention?: { readonly mode: RetentionMode; readonly retainUntil: string };
}

export interface S3Bucket {
  readonly createdAt: string;
  versioning?: 'Enabled' | 'Suspended';
  objectLock?: { readonly enabled: true; defaultRetention?: { readonly mode: RetentionMode; readonly days?: number; readonly years?: number } };
  /** Every key's versions, oldest first; an unversioned bucket keeps one (`null`) version. */
  readonly objects: Record<string, S3Version[]>;
}

export interface S3State {
  buckets: Record<string, S3Bucket>;
  /**
   * How long a conditional write is in flight before it commits (ms, default 0). While one is in flight,
   * another conditional write to the same key answers 409 ConditionalRequestConflict, as S3 does for
   * concurrent conditional writes; tests raise it to make two writes overlap.
   */
  conditionalCommitMs?: number;
}

/** Conditional writes in flight, per `bucket/key` (not state: a dump never holds one). */
const inFlight = new WeakMap<S3State, Set<string>>();

const NS = 'http://s3.amazonaws.com/doc/2006-03-01/';
const MAX_KEYS = 1000;

function newVersionId(): string {
  return randomBytes(24).toString('base64url');
}

function md5Hex(body: Buffer): string {
  return createHash('md5').update(body).digest('hex');
}

function version(body: Buffer, contentType: string, versionId: string, checksums: Record<string, string>, retention?: S3Version['retention']): S3Version {
  return {
    versionId,
    body: body.toString('base64'),
    etag: `"${md5Hex(body)}"`,
    contentType,
    lastModified: new Date().toUTCString(),
    size: body.length,
    checksums,
    ...(retention ? { retention } : {}),
  };
}

function escapeXml(s: string): string {
  return s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');
}

function xml(root: string, inner: string): string {
  return `<?xml version="1.0" encoding="UTF-8"?>\n<${root} xmlns="${NS}">${inner}</${root}>`;
}

function bucketOf(state: S3State, name: string): S3Bucket {
  const b = state.buckets[name];
  if (!b) throw new AwsError('NoSuchBucket', 'The specified bucket does not exist', 404);
  return b;
}

function header(req: RestRequest, name: string): string | undefined {
  const v = req.headers[name];
  return Array.isArray(v) ? v.join(',') : v;
}

function str(p: Params, name: string): string | undefined {
  const v = p[name];
  return typeof v === 'string' ? v : undefined;
}

type Params = Record<string, unknown>;

/** The current version of a key (undefined when none), which may be a delete marker. */
function current(b: S3Bucket, key: string): S3Version | undefined {
  return b.objects[key]?.at(-1);
}

function findVersion(b: S3Bucket, key: string, versionId: string | undefined): S3Version | undefined {
  if (versionId === undefined) return current(b, key);
  return b.objects[key]?.find((v) => v.versionId === versionId);
}

function noSuchKey(): AwsError {
  return new AwsError('NoSuchKey', 'The specified key does not exist.', 404);
}

function preconditionFailed(): AwsError {
  return new AwsError('PreconditionFailed', 'At least one of the pre-conditions you specified did not hold', 412);
}

/** A version is locked while its retain-until date is in the future. */
function locked(v: S3Version, now: Date): boolean {
  return v.retention !== undefined && Date.parse(v.retention.retainUntil) > now.getTime();
}

/** Lower-case algorithm -> how S3 computes it over the body (base64). Algorithms absent here are stored unchecked. */
const CHECKSUMS: Readonly<Record<string, (b: Buffer) => string>> = {
  sha256: (b) => createHash('sha256').update(b).digest('base64'),
  sha1: (b) => createHash('sha1').update(b).digest('base64'),
  crc32: (b) => {
    const out = Buffer.alloc(4);
    out.writeUInt32BE(crc32(b) >>> 0);
    return out.toString('base64');
  },
};
const CHECKSUM_NAMES: Readonly<Record<string, string>> = { sha256: 'SHA256', sha1: 'SHA1', crc32: 'CRC32', crc32c: 'CRC32C', crc64nvme: 'CRC64NVME' };

function objectHeaders(b: S3Bucket, v: S3Version, req: Params): Record<string, string> {
  const h: Record<string, string> = {
    'content-type': v.contentType,
    etag: v.etag,
    'last-modified': v.lastModified,
    'accept-ranges': 'bytes',
  };
  if (b.versioning !== undefined) h['x-amz-version-id'] = v.versionId;
  if (v.retention) {
    h['x-amz-object-lock-mode'] = v.retention.mode;
    h['x-amz-object-lock-retain-until-date'] = v.retention.retainUntil;
  }
  if (str(req, 'ChecksumMode')?.toUpperCase() === 'ENABLED') {
    for (const [alg, value] of Object.entries(v.checksums)) h[`x-amz-checksum-${alg}`] = value;
  }
  return h;
}

/** The retention a new version gets: the request's own, else the bucket's default rule, else none. */
function retentionFor(b: S3Bucket, p: Params, now: Date): S3Version['retention'] | undefined {
  const mode = str(p, 'ObjectLockMode');
  const until = str(p, 'ObjectLockRetainUntilDate');
  if (mode !== undefined || until !== undefined) {
    if (mode === undefined || until === undefined) throw new AwsError('InvalidArgument', 'x-amz-object-lock-retain-until-date and x-amz-object-lock-mode must both be supplied', 400);
    if (!b.objectLock) throw new AwsError('InvalidRequest', 'Bucket is missing Object Lock Configuration', 400);
    if (mode !== 'GOVERNANCE' && mode !== 'COMPLIANCE') throw new AwsError('InvalidArgument', 'Unknown wormMode directive.', 400);
    const t = Date.parse(until);
    if (Number.isNaN(t)) throw new AwsError('InvalidArgument', 'The retain until date must be provided in ISO 8601 format', 400);
    if (t <= now.getTime()) throw new AwsError('InvalidArgument', 'The retain until date must be in the future!', 400);
    return { mode, retainUntil: new Date(t).toISOString() };
  }
  const rule = b.objectLock?.defaultRetention;
  if (!rule) return undefined;
  const until2 = new Date(now);
  if (rule.days !== undefined) until2.setUTCDate(until2.getUTCDate() + rule.days);
  if (rule.years !== undefined) until2.setUTCFullYear(until2.getUTCFullYear() + rule.years);
  return { mode: rule.mode, retainUntil: until2.toISOString() };
}

/** Content-MD5 and x-amz-checksum-* checked against the body (BadDigest), and the checksums to store. */
function checkIntegrity(body: Buffer, p: Params): { checksums: Record<string, string>; any: boolean } {
  const md5 = str(p, 'ContentMD5');
  if (md5 !== undefined && createHash('md5').update(body).digest('base64') !== md5) {
    throw new AwsError('BadDigest', 'The Content-MD5 you specified did not match what we received.', 400);
  }
  const checksums: Record<string, string> = {};
  const given = (p['Checksums'] ?? {}) as Record<string, string>;
  for (const [alg, value] of Object.entries(given)) {
    const compute = CHECKSUMS[alg];
    if (compute && compute(body) !== value) throw new AwsError('BadDigest', `The ${CHECKSUM_NAMES[alg] ?? alg} you specified did not match the calculated checksum.`, 400);
    checksums[alg] = value;
  }
  // S3 keeps a SHA-256 the caller sent; with none it computes none (full-object CRC64NVME is not modelled).
  return { checksums, any: md5 !== undefined || Object.keys(given).length > 0 };
}

function tagValue(body: string, tag: string): string | undefined {
  return new RegExp(`<${tag}>\\s*([^<]*?)\\s*</${tag}>`).exec(body)?.[1];
}

/** Path-style routing: `/<bucket>` (bucket operations by sub-resource) and `/<bucket>/<key>`. */
function route(req: RestRequest): { operation: string; params: Params } | undefined {
  const m = /^\/([^/]+)(?:\/(.*))?$/.exec(req.path);
  if (!m) return undefined;
  const bucket = m[1] ?? '';
  const key = m[2] ?? '';
  const q = req.query;
  const base: Params = { Bucket: bucket, RequestHeaders: req.headers };
  if (key === '') {
    if (req.method === 'PUT' && q.has('object-lock')) return { operation: 'PutObjectLockConfiguration', params: { ...base, Body: req.body.toString('utf8') } };
    if (req.method === 'GET' && q.has('object-lock')) return { operation: 'GetObjectLockConfiguration', params: base };
    if (req.method === 'PUT' && q.has('versioning')) return { operation: 'PutBucketVersioning', params: { ...base, Body: req.body.toString('utf8') } };
    if (req.method === 'GET' && q.has('versioning')) return { operation: 'GetBucketVersioning', params: base };
    if (req.method === 'GET' && q.get('list-type') === '2') {
      return { operation: 'ListObjectsV2', params: { ...base, Prefix: q.get('prefix') ?? '', ContinuationToken: q.get('continuation-token') ?? undefined, StartAfter: q.get('start-after') ?? undefined, MaxKeys: q.get('max-keys') ?? undefined } };
    }
    if (req.method === 'PUT' && [...q.keys()].length === 0) return { operation: 'CreateBucket', params: { ...base, ObjectLockEnabledForBucket: header(req, 'x-amz-bucket-object-lock-enabled') } };
    if (req.method === 'HEAD') return { operation: 'HeadBucket', params: base };
    return undefined;
  }
  const params: Params = { ...base, Key: key, VersionId: q.get('versionId') ?? undefined, ChecksumMode: header(req, 'x-amz-checksum-mode') };
  if (req.method === 'GET' && [...q.keys()].every((k) => k === 'versionId' || k === 'x-id')) return { operation: 'GetObject', params };
  if (req.method === 'HEAD') return { operation: 'HeadObject', params };
  if (req.method === 'DELETE') return { operation: 'DeleteObject', params: { ...params, BypassGovernanceRetention: header(req, 'x-amz-bypass-governance-retention') } };
  if (req.method === 'PUT' && [...q.keys()].every((k) => k === 'x-id')) {
    const checksums: Record<string, string> = {};
    for (const alg of Object.keys(CHECKSUM_NAMES)) {
      const v = header(req, `x-amz-checksum-${alg}`);
      if (v !== undefined) checksums[alg] = v;
    }
    return {
      operation: 'PutObject',
      params: {
        ...params,
        Body: req.body,
        ContentType: header(req, 'content-type'),
        ContentMD5: header(req, 'content-md5'),
        ContentEncoding: header(req, 'content-encoding'),
        ContentSha256: header(req, 'x-amz-content-sha256'),
        Checksums: checksums,
        IfNoneMatch: header(req, 'if-none-match'),
        IfMatch: header(req, 'if-match'),
        ObjectLockMode: header(req, 'x-amz-object-lock-mode'),
        ObjectLockRetainUntilDate: header(req, 'x-amz-object-lock-retain-until-date'),
      },
    };
  }
  return undefined;
}

/** Which IAM action S3 checks for an operation (Service Authorization Reference, Amazon S3). */
function iamAction(operation: string, params: Params): string {
  switch (operation) {
    case 'HeadObject':
    case 'GetObject':
      return str(params, 'VersionId') !== undefined ? 'GetObjectVersion' : 'GetObject';
    case 'DeleteObject':
      return str(params, 'VersionId') !== undefined ? 'DeleteObjectVersion' : 'DeleteObject';
    case 'ListObjectsV2':
    case 'HeadBucket':
      return 'ListBucket';
    case 'PutObjectLockConfiguration':
      return 'PutBucketObjectLockConfiguration';
    case 'GetObjectLockConfiguration':
      return 'GetBucketObjectLockConfiguration';
    default:
      return operation;
  }
}

/**
 * A PutObject that carries Object Lock retention headers also needs `s3:PutObjectRetention` on the object
 * (S3 user guide, Object Lock permissions); one without them needs `s3:PutObject` alone (checked before).
 */
async function putObjectAuthorized(state: S3State, p: Params, ctx: RequestContext): Promise<RestResponse> {
  if (str(p, 'ObjectLockMode') !== undefined || str(p, 'ObjectLockRetainUntilDate') !== undefined) {
    await ctx.emulator.authorizeOrThrow(ctx, { action: 's3:PutObjectRetention', resources: [`arn:aws:s3:::${String(p['Bucket'])}/${String(p['Key'])}`] }, 's3');
  }
  return await putObject(state, p);
}

function putObject(state: S3State, p: Params): RestResponse | Promise<RestResponse> {
  const bucketName = String(p['Bucket']);
  const b = bucketOf(state, bucketName);
  const key = String(p['Key']);
  const body = p['Body'] as Buffer;
  const encoding = str(p, 'ContentEncoding') ?? '';
  if (encoding.includes('aws-chunked') || (str(p, 'ContentSha256') ?? '').startsWith('STREAMING-')) {
    throw new AwsError('NotImplemented', 'A header you provided implies functionality that is not implemented (aws-chunked bodies are not emulated)', 501);
  }
  const now = new Date();
  const ifNoneMatch = str(p, 'IfNoneMatch');
  const ifMatch = str(p, 'IfMatch');
  if (ifNoneMatch !== undefined && ifNoneMatch !== '*') throw new AwsError('NotImplemented', 'A header you provided implies functionality that is not implemented (If-None-Match takes only *)', 501);
  const retention = retentionFor(b, p, now);
  const { checksums, any } = checkIntegrity(body, p);
  if (retention !== undefined && !any) {
    throw new AwsError('InvalidRequest', 'Content-MD5 OR x-amz-checksum- HTTP header is required for Put Object requests with Object Lock parameters', 400);
  }
  const conditional = ifNoneMatch !== undefined || ifMatch !== undefined;
  const slot = `${bucketName}/${key}`;
  const flying = inFlight.get(state) ?? new Set<string>();
  inFlight.set(state, flying);
  if (conditional && flying.has(slot)) {
    throw new AwsError('ConditionalRequestConflict', 'The conditional request cannot succeed due to a conflicting operation against this resource.', 409);
  }
  const commit = (): RestResponse => {
    const cur = current(b, key);
    const exists = cur !== undefined && !cur.deleteMarker;
    if (ifNoneMatch === '*' && exists) throw preconditionFailed();
    if (ifMatch !== undefined) {
      if (!exists) throw noSuchKey();
      if (cur.etag !== ifMatch) throw preconditionFailed();
    }
    const versioned = b.versioning === 'Enabled';
    const v = version(body, str(p, 'ContentType') ?? 'binary/octet-stream', versioned ? newVersionId() : 'null', checksums, retention);
    if (versioned) (b.objects[key] ??= []).push(v);
    else b.objects[key] = [...(b.objects[key] ?? []).filter((x) => x.versionId !== 'null'), v];
    const headers: Record<string, string> = { etag: v.etag };
    if (b.versioning !== undefined) headers['x-amz-version-id'] = v.versionId;
    for (const [alg, value] of Object.entries(checksums)) headers[`x-amz-checksum-${alg}`] = value;
    return { body: '', headers };
  };
  const delay = state.conditionalCommitMs ?? 0;
  if (!conditional || delay <= 0) return commit();
  flying.add(slot);
  return new Promise<RestResponse>((resolve, reject) => {
    setTimeout(() => {
      flying.delete(slot);
      try {
        resolve(commit());
      } catch (e) {
        reject(e instanceof Error ? e : new Error(String(e)));
      }
    }, delay);
  });
}

async function deleteObject(state: S3State, p: Params, ctx: RequestContext): Promise<RestResponse> {
  const b = bucketOf(state, String(p['Bucket']));
  const key = String(p['Key']);
  const versionId = str(p, 'VersionId');
  const now = new Date();
  if (versionId === undefined) {
    if (b.versioning === undefined) {
      delete b.objects[key];
      return { status: 204, body: '' };
    }
    // A simple DELETE in a versioned bucket adds a delete marker; every version stays.
    const marker: S3Version = { versionId: newVersionId(), body: '', etag: '', contentType: '', lastModified: now.toUTCString(), size: 0, checksums: {}, deleteMarker: true };
    (b.objects[key] ??= []).push(marker);
    return { status: 204, body: '', headers: { 'x-amz-delete-marker': 'true', 'x-amz-version-id': marker.versionId } };
  }
  const versions = b.objects[key] ?? [];
  const v = versions.find((x) => x.versionId === versionId);
  if (!v) return { status: 204, body: '', headers: { 'x-amz-version-id': versionId } };
  if (locked(v, now)) {
    const bypass = (str(p, 'BypassGovernanceRetention') ?? '').toLowerCase() === 'true';
    let allowed = false;
    if (v.retention?.mode === 'GOVERNANCE' && bypass) {
      const decision = await ctx.emulator.authorize(ctx, { action: 's3:BypassGovernanceRetention', resources: [`arn:aws:s3:::${String(p['Bucket'])}/${key}`] }, now);
      allowed = decision.allowed;
    }
    if (!allowed) throw new AwsError('AccessDenied', 'Access Denied because object protected by object lock.', 403);
  }
  b.objects[key] = versions.filter((x) => x !== v);
  if (b.objects[key].length === 0) delete b.objects[key];
  return { status: 204, body: '', headers: { 'x-amz-version-id': versionId, ...(v.deleteMarker ? { 'x-amz-delete-marker': 'true' } : {}) } };
}

function getOrHead(state: S3State, p: Params, head: boolean): RestResponse {
  const b = bucketOf(state, String(p['Bucket']));
  const key = String(p['Key']);
  const versionId = str(p, 'VersionId');
  const v = findVersion(b, key, versionId);
  if (!v) {
    if (versionId !== undefined) throw new AwsError('NoSuchVersion', 'The specified version does not exist.', 404);
    throw noSuchKey();
  }
  if (v.deleteMarker) {
    // GET of a delete marker: 404 without a version id, 405 with it; both say x-amz-delete-marker.
    if (versionId !== undefined) throw new AwsError('MethodNotAllowed', 'The specified method is not allowed against this resource.', 405);
    throw noSuchKey();
  }
  const body = Buffer.from(v.body, 'base64');
  const headers = objectHeaders(b, v, p);
  if (head) return { body: '', headers: { ...headers, 'content-length': String(v.size) } };
  return { body, headers };
}

function listObjectsV2(state: S3State, p: Params): RestResponse {
  const name = String(p['Bucket']);
  const b = bucketOf(state, name);
  const prefix = str(p, 'Prefix') ?? '';
  const maxRaw = str(p, 'MaxKeys');
  let max = MAX_KEYS;
  if (maxRaw !== undefined) {
    const n = Number(maxRaw);
    if (!Number.isInteger(n) || n < 0) throw new AwsError('InvalidArgument', 'Provided max-keys not an integer or within integer range', 400);
    max = Math.min(n, MAX_KEYS);
  }
  const token = str(p, 'ContinuationToken');
  let after = str(p, 'StartAfter') ?? '';
  if (token !== undefined) {
    let decoded: unknown;
    try {
      decoded = JSON.parse(Buffer.from(token, 'base64url').toString('utf8'));
    } catch {
      decoded = undefined;
    }
    if (typeof decoded !== 'object' || decoded === null || typeof (decoded as { k?: unknown }).k !== 'string') {
      throw new AwsError('InvalidArgument', 'The continuation token provided is incorrect', 400);
    }
    after = (decoded as { k: string }).k;
  }
  // UTF-8 binary order, as S3 lists keys.
  const keys = Object.keys(b.objects)
    .filter((k) => k.startsWith(prefix) && Buffer.compare(Buffer.from(k), Buffer.from(after)) > 0)
    .filter((k) => {
      const c = current(b, k);
      return c !== undefined && !c.deleteMarker;
    })
    .sort((x, y) => Buffer.compare(Buffer.from(x), Buffer.from(y)));
  const page = keys.slice(0, max);
  const truncated = keys.length > page.length;
  const contents = page
    .map((k) => {
      const v = current(b, k) as S3Version;
      const checksum = Object.keys(v.checksums).map((a) => `<ChecksumAlgorithm>${CHECKSUM_NAMES[a] ?? a}</ChecksumAlgorithm>`).join('');
      return `<Contents><Key>${escapeXml(k)}</Key><LastModified>${new Date(v.lastModified).toISOString()}</LastModified><ETag>${escapeXml(v.etag)}</ETag>${checksum}<Size>${v.size}</Size><StorageClass>STANDARD</StorageClass></Contents>`;
    })
    .join('');
  const last = page.at(-1);
  const next = truncated && last !== undefined ? `<NextContinuationToken>${Buffer.from(JSON.stringify({ k: last })).toString('base64url')}</NextContinuationToken>` : '';
  const inner =
    `<Name>${escapeXml(name)}</Name><Prefix>${escapeXml(prefix)}</Prefix><KeyCount>${page.length}</KeyCount><MaxKeys>${max}</MaxKeys><IsTruncated>${truncated}</IsTruncated>` +
    (token !== undefined ? `<ContinuationToken>${escapeXml(token)}</ContinuationToken>` : '') +
    next +
    contents;
  return { body: xml('ListBucketResult', inner), headers: { 'content-type': 'application/xml' } };
}

/** Test hook: replace an object version's stored bytes below the API (ETag and checksums stay as stored), as a tamperer with access to the storage would. */
export function tamperObject(state: S3State, bucket: string, key: string, edit: (bytes: Buffer) => Buffer, versionId?: string): void {
  const b = bucketOf(state, bucket);
  const v = findVersion(b, key, versionId);
  if (!v || v.deleteMarker) throw noSuchKey();
  v.body = edit(Buffer.from(v.body, 'base64')).toString('base64');
}

export const s3Service: ServiceDef<S3State> & { readonly iamAction: (operation: string, params: Params) => string } = {
  signingName: 's3',
  protocol: 'rest-xml',
  throttleBucket: 's3',
  throttleCode: 'SlowDown',
  iamAction,
  initialState: () => ({ buckets: { [PROBE_BUCKET]: { createdAt: new Date(0).toISOString(), objects: { [PROBE_KEY]: [version(Buffer.from('ok\n'), 'text/plain', 'null', {})] } } } }),
  route,
  operations: {
    CreateBucket(state, p): RestResponse {
      const name = String(p['Bucket']);
      if (!/^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/.test(name)) throw new AwsError('InvalidBucketName', 'The specified bucket is not valid.', 400);
      if (state.buckets[name]) throw new AwsError('BucketAlreadyOwnedByYou', 'Your previous request to create the named bucket succeeded and you already own it.', 409);
      const lock = (str(p, 'ObjectLockEnabledForBucket') ?? '').toLowerCase() === 'true';
      state.buckets[name] = { createdAt: new Date().toISOString(), objects: {}, ...(lock ? { versioning: 'Enabled' as const, objectLock: { enabled: true as const } } : {}) };
      return { body: '', headers: { location: `/${name}` } };
    },
    HeadBucket(state, p): RestResponse {
      bucketOf(state, String(p['Bucket']));
      return { body: '' };
    },
    PutBucketVersioning(state, p): RestResponse {
      const b = bucketOf(state, String(p['Bucket']));
      const status = tagValue(String(p['Body'] ?? ''), 'Status');
      if (status !== 'Enabled' && status !== 'Suspended') throw new AwsError('MalformedXML', 'The XML you provided was not well-formed or did not validate against our published schema', 400);
      if (status === 'Suspended' && b.objectLock) throw new AwsError('InvalidBucketState', 'An Object Lock configuration is present on this bucket, so the versioning state cannot be changed.', 409);
      b.versioning = status;
      return { body: '' };
    },
    GetBucketVersioning(state, p): RestResponse {
      const b = bucketOf(state, String(p['Bucket']));
      return { body: xml('VersioningConfiguration', b.versioning ? `<Status>${b.versioning}</Status>` : ''), headers: { 'content-type': 'application/xml' } };
    },
    PutObjectLockConfiguration(state, p): RestResponse {
      const b = bucketOf(state, String(p['Bucket']));
      const body = String(p['Body'] ?? '');
      if (tagValue(body, 'ObjectLockEnabled') !== 'Enabled') throw new AwsError('MalformedXML', 'The XML you provided was not well-formed or did not validate against our published schema', 400);
      if (!b.objectLock && b.versioning !== 'Enabled') throw new AwsError('InvalidBucketState', 'Versioning must be \'Enabled\' on the bucket to apply a Object Lock configuration', 409);
      const mode = tagValue(body, 'Mode');
      const days = tagValue(body, 'Days');
      const years = tagValue(body, 'Years');
      let defaultRetention: NonNullable<S3Bucket['objectLock']>['defaultRetention'];
      if (body.includes('<DefaultRetention>')) {
        if (mode !== 'GOVERNANCE' && mode !== 'COMPLIANCE') throw new AwsError('MalformedXML', 'The XML you provided was not well-formed or did not validate against our published schema', 400);
        if ((days === undefined) === (years === undefined)) throw new AwsError('MalformedXML', 'The XML you provided was not well-formed or did not validate against our published schema', 400);
        const n = Number(days ?? years);
        if (!Number.isInteger(n) || n <= 0) throw new AwsError('InvalidArgument', 'Default retention period must be a positive integer value', 400);
        defaultRetention = days !== undefined ? { mode, days: n } : { mode, years: n };
      }
      b.objectLock = { enabled: true, ...(defaultRetention ? { defaultRetention } : {}) };
      b.versioning = 'Enabled';
      return { body: '' };
    },
    GetObjectLockConfiguration(state, p): RestResponse {
      const b = bucketOf(state, String(p['Bucket']));
      if (!b.objectLock) throw new AwsError('ObjectLockConfigurationNotFoundError', 'Object Lock configuration does not exist for this bucket', 404);
      const r = b.objectLock.defaultRetention;
      const rule = r ? `<Rule><DefaultRetention><Mode>${r.mode}</Mode>${r.days !== undefined ? `<Days>${r.days}</Days>` : `<Years>${r.years ?? 0}</Years>`}</DefaultRetention></Rule>` : '';
      return { body: xml('ObjectLockConfiguration', `<ObjectLockEnabled>Enabled</ObjectLockEnabled>${rule}`), headers: { 'content-type': 'application/xml' } };
    },
    GetObject: (state, p) => getOrHead(state, p, false),
    HeadObject: (state, p) => getOrHead(state, p, true),
    PutObject: (state, p, ctx) => putObjectAuthorized(state, p, ctx),
    DeleteObject: (state, p, ctx) => deleteObject(state, p, ctx),
    ListObjectsV2: (state, p) => listObjectsV2(state, p),
  },
  controls: {
    /** `POST /__emulator/service/s3/createBucket {"bucket": "name", "objectLock"?: true}` */
    createBucket(state, input) {
      const name = String(input['bucket']);
      state.buckets[name] ??= { createdAt: new Date().toISOString(), objects: {}, ...(input['objectLock'] === true ? { versioning: 'Enabled' as const, objectLock: { enabled: true as const } } : {}) };
      return {};
    },
    /**
     * `POST /__emulator/service/s3/tamperObject {"bucket", "key", "versionId"?, "bodyBase64"}`: the stored
     * bytes of a version replaced below the API (ETag, checksums and retention unchanged).
     */
    tamperObject(state, input) {
      tamperObject(state, String(input['bucket']), String(input['key']), () => Buffer.from(String(input['bodyBase64']), 'base64'), typeof input['versionId'] === 'string' ? input['versionId'] : undefined);
      return {};
    },
    /** `POST /__emulator/service/s3/setConditionalCommitMs {"ms": 200}` (see S3State.conditionalCommitMs). */
    setConditionalCommitMs(state, input) {
      state.conditionalCommitMs = Number(input['ms'] ?? 0);
      return {};
    },
  },
};

/** For tests in-process: the emulator's S3 state. */
export function s3State(emulator: Emulator): S3State {
  return emulator.state<S3State>('s3');
}
