/**
 * A small S3-compatible REST endpoint (path-style `/<bucket>/<key>`, SigV4 with service `s3`), so a
 * test can ask "may this session still do X?" with any credentials: `GetObject` is authorized as
 * `s3:GetObject` on `arn:aws:s3:::bucket/key` by the emulator's policy evaluator, and answers 200
 * with the object, or S3's XML `AccessDenied` (403).
 *
 * Built to grow into the S3 a journal store needs: buckets with objects, ETags, `PutObject` with
 * S3's conditional writes (`If-None-Match: *` refuses to overwrite, `If-Match: <etag>` refuses a
 * stale write, both `412 PreconditionFailed`). Not modelled yet: bucket policies, ListObjects,
 * DeleteObject, versioning, multipart uploads, aws-chunked payloads, virtual-hosted-style URLs.
 *
 * The default state has one bucket, `emulator-probe`, holding `probe.txt`.
 */
import { createHash } from 'node:crypto';
import { AwsError } from '../protocol.js';
import type { RestRequest, RestResponse, ServiceDef } from '../server.js';

export const PROBE_BUCKET = 'emulator-probe';
export const PROBE_KEY = 'probe.txt';

export interface S3Object {
  /** Base64 of the bytes. */
  body: string;
  etag: string;
  contentType: string;
  lastModified: string;
}

export interface S3Bucket {
  createdAt: string;
  objects: Record<string, S3Object>;
}

export interface S3State {
  buckets: Record<string, S3Bucket>;
}

function object(body: Buffer, contentType: string): S3Object {
  return { body: body.toString('base64'), etag: `"${createHash('md5').update(body).digest('hex')}"`, contentType, lastModified: new Date().toUTCString() };
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

type Params = Record<string, unknown>;

export const s3Service: ServiceDef<S3State> = {
  signingName: 's3',
  protocol: 'rest-xml',
  throttleBucket: 's3',
  throttleCode: 'SlowDown',
  initialState: () => ({ buckets: { [PROBE_BUCKET]: { createdAt: new Date(0).toISOString(), objects: { [PROBE_KEY]: object(Buffer.from('ok\n'), 'text/plain') } } } }),
  route(req) {
    const m = /^\/([^/]+)\/(.+)$/.exec(req.path);
    if (!m) return undefined;
    const params: Params = { Bucket: m[1], Key: m[2], Body: req.body, ContentType: header(req, 'content-type'), IfNoneMatch: header(req, 'if-none-match'), IfMatch: header(req, 'if-match') };
    if (req.method === 'GET') return { operation: 'GetObject', params };
    if (req.method === 'PUT') return { operation: 'PutObject', params };
    return undefined;
  },
  operations: {
    GetObject(state, p): RestResponse {
      const o = bucketOf(state, String(p['Bucket'])).objects[String(p['Key'])];
      if (!o) throw new AwsError('NoSuchKey', 'The specified key does not exist.', 404);
      return { body: Buffer.from(o.body, 'base64'), headers: { 'content-type': o.contentType, etag: o.etag, 'last-modified': o.lastModified } };
    },
    PutObject(state, p): RestResponse {
      const b = bucketOf(state, String(p['Bucket']));
      const key = String(p['Key']);
      const existing = b.objects[key];
      const ifNoneMatch = p['IfNoneMatch'];
      const ifMatch = p['IfMatch'];
      if (ifNoneMatch === '*' && existing) throw new AwsError('PreconditionFailed', 'At least one of the pre-conditions you specified did not hold', 412);
      if (typeof ifMatch === 'string' && (!existing || existing.etag !== ifMatch)) {
        if (!existing) throw new AwsError('NoSuchKey', 'The specified key does not exist.', 404);
        throw new AwsError('PreconditionFailed', 'At least one of the pre-conditions you specified did not hold', 412);
      }
      const o = object(p['Body'] as unknown as Buffer, typeof p['ContentType'] === 'string' ? p['ContentType'] : 'binary/octet-stream');
      b.objects[key] = o;
      return { body: '', headers: { etag: o.etag } };
    },
  },
  controls: {
    /** `POST /__emulator/service/s3/createBucket {"bucket": "name"}` */
    createBucket(state, input) {
      const name = String(input['bucket']);
      state.buckets[name] ??= { createdAt: new Date().toISOString(), objects: {} };
      return {};
    },
  },
};
