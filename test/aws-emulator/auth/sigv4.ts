/**
 * SigV4 verification of a request as received: the signature is recomputed with the SDK's own
 * signer (`@smithy/signature-v4`) over exactly the headers the client says it signed, the path and
 * query as sent and the body's SHA-256 (or the `x-amz-content-sha256` the client signed), with the
 * secret the principal registry holds, and compared in constant time.
 *
 * The answers follow AWS, per protocol family (see docs/emulator.md for the pages):
 * - query (IAM, STS): `MissingAuthenticationToken` 403, `InvalidClientTokenId` 403 (unknown key,
 *   missing or wrong session token, inactive key), `SignatureDoesNotMatch` 403, `ExpiredToken` 403;
 * - JSON (Identity Store, SSO Admin): `MissingAuthenticationToken` 403, `UnrecognizedClientException` 400,
 *   `InvalidSignatureException` 400, `ExpiredTokenException` 400;
 * - S3 (REST-XML): `AccessDenied` 403, `InvalidAccessKeyId` 403, `SignatureDoesNotMatch` 403,
 *   `ExpiredToken` 400, `InvalidToken` 400.
 * Not modelled: presigned URLs (query-string auth), SigV4a, chunked (streaming) payload signing.
 */
import { createHash, createHmac, timingSafeEqual } from 'node:crypto';
import type { IncomingHttpHeaders } from 'node:http';
import { SignatureV4 } from '@smithy/signature-v4';
import { AwsError } from '../protocol.js';
import type { Credentials } from './principals.js';

export type AuthFamily = 'query' | 'json' | 's3';

/** The request exactly as it reached the server. */
export interface ReceivedRequest {
  readonly method: string;
  /** Raw path and query, as in `IncomingMessage.url`. */
  readonly url: string;
  readonly headers: IncomingHttpHeaders;
  readonly body: Buffer;
}

export interface ParsedAuthorization {
  readonly accessKeyId: string;
  readonly date: string;
  readonly region: string;
  readonly service: string;
  readonly signedHeaders: readonly string[];
  readonly signature: string;
}

const AUTH = /^AWS4-HMAC-SHA256 Credential=([^/,\s]+)\/(\d{8})\/([^/]+)\/([^/]+)\/aws4_request,\s*SignedHeaders=([a-z0-9;-]+),\s*Signature=([0-9a-f]{64})$/;

/** The parts of a SigV4 `Authorization` header, or undefined when there is none. Throws when it is malformed. */
export function parseAuthorization(header: string | undefined, family: AuthFamily): ParsedAuthorization | undefined {
  if (header === undefined || header === '') return undefined;
  const m = AUTH.exec(header.trim());
  if (!m) throw incomplete(family);
  return {
    accessKeyId: m[1] as string,
    date: m[2] as string,
    region: m[3] as string,
    service: m[4] as string,
    signedHeaders: (m[5] as string).split(';'),
    signature: m[6] as string,
  };
}

function incomplete(family: AuthFamily): AwsError {
  if (family === 's3') return new AwsError('AuthorizationHeaderMalformed', 'The authorization header is malformed.', 400);
  return new AwsError('IncompleteSignature', 'The request signature does not conform to AWS standards.', 400);
}

export function missingAuthentication(family: AuthFamily): AwsError {
  if (family === 's3') return new AwsError('AccessDenied', 'Access Denied', 403);
  return new AwsError('MissingAuthenticationToken', 'Request is missing Authentication Token', 403);
}

/** Unknown access key, missing or wrong session token, inactive key. */
export function invalidToken(family: AuthFamily, tokenProblem = false): AwsError {
  if (family === 's3') {
    return tokenProblem
      ? new AwsError('InvalidToken', 'The provided token is malformed or otherwise invalid.', 400)
      : new AwsError('InvalidAccessKeyId', 'The AWS Access Key Id you provided does not exist in our records.', 403);
  }
  if (family === 'json') return new AwsError('UnrecognizedClientException', 'The security token included in the request is invalid.', 400);
  return new AwsError('InvalidClientTokenId', 'The security token included in the request is invalid.', 403);
}

export function signatureMismatch(family: AuthFamily): AwsError {
  if (family === 's3') return new AwsError('SignatureDoesNotMatch', 'The request signature we calculated does not match the signature you provided. Check your key and signing method.', 403);
  const message = 'The request signature we calculated does not match the signature you provided. Check your AWS Secret Access Key and signing method. Consult the service documentation for details.';
  if (family === 'json') return new AwsError('InvalidSignatureException', message, 400);
  return new AwsError('SignatureDoesNotMatch', message, 403);
}

export function expiredToken(family: AuthFamily): AwsError {
  if (family === 's3') return new AwsError('ExpiredToken', 'The provided token has expired.', 400);
  if (family === 'json') return new AwsError('ExpiredTokenException', 'The security token included in the request is expired', 400);
  return new AwsError('ExpiredToken', 'The security token included in the request is expired', 403);
}

function toBytes(data: ArrayBuffer | ArrayBufferView): Uint8Array {
  return ArrayBuffer.isView(data) ? new Uint8Array(data.buffer, data.byteOffset, data.byteLength) : new Uint8Array(data);
}

/** `Checksum` for the signer from node:crypto: SHA-256, or HMAC-SHA-256 when given a key. */
class NodeSha256 {
  #hash: ReturnType<typeof createHash> | ReturnType<typeof createHmac>;
  readonly #secret: Uint8Array | string | undefined;
  constructor(secret?: string | ArrayBuffer | ArrayBufferView) {
    this.#secret = secret === undefined || typeof secret === 'string' ? secret : toBytes(secret);
    this.#hash = secret === undefined ? createHash('sha256') : createHmac('sha256', this.#secret as Uint8Array | string);
  }
  update(data: string | ArrayBuffer | ArrayBufferView): void {
    this.#hash.update(typeof data === 'string' ? Buffer.from(data, 'utf8') : toBytes(data));
  }
  digest(): Promise<Uint8Array> {
    return Promise.resolve(new Uint8Array(this.#hash.digest()));
  }
  reset(): void {
    this.#hash = this.#secret === undefined ? createHash('sha256') : createHmac('sha256', this.#secret);
  }
}

/** x-amz-date `YYYYMMDDTHHMMSSZ` as a Date, or undefined. */
function amzDate(value: string | undefined): Date | undefined {
  const m = /^(\d{4})(\d{2})(\d{2})T(\d{2})(\d{2})(\d{2})Z$/.exec(value ?? '');
  if (!m) return undefined;
  return new Date(Date.UTC(Number(m[1]), Number(m[2]) - 1, Number(m[3]), Number(m[4]), Number(m[5]), Number(m[6])));
}

function header(headers: IncomingHttpHeaders, name: string): string | undefined {
  const v = headers[name];
  return Array.isArray(v) ? v.join(',') : v;
}

/** The signature a client holding `credentials` would have computed for this request. */
export async function expectedSignature(req: ReceivedRequest, auth: ParsedAuthorization, credentials: Credentials, family: AuthFamily): Promise<string> {
  const url = new URL(req.url, 'http://emulator');
  const headers: Record<string, string> = {};
  for (const name of auth.signedHeaders) {
    const v = header(req.headers, name);
    if (v !== undefined) headers[name] = v;
  }
  const query: Record<string, string | string[]> = {};
  for (const [k, v] of url.searchParams) {
    const prev = query[k];
    query[k] = prev === undefined ? v : Array.isArray(prev) ? [...prev, v] : [prev, v];
  }
  const signer = new SignatureV4({
    credentials: {
      accessKeyId: credentials.accessKeyId,
      secretAccessKey: credentials.secretAccessKey,
      // The signer adds the token header itself; only when the client signed it.
      ...(auth.signedHeaders.includes('x-amz-security-token') && credentials.sessionToken !== undefined ? { sessionToken: credentials.sessionToken } : {}),
    },
    region: auth.region,
    service: auth.service,
    sha256: NodeSha256,
    applyChecksum: false,
    // S3 signs the path as sent; every other service normalises and encodes it once more.
    uriEscapePath: family !== 's3',
  });
  const signingDate = amzDate(header(req.headers, 'x-amz-date')) ?? new Date(header(req.headers, 'date') ?? 0);
  const path = req.url.replace(/\?.*$/, '');
  const signed = await signer.sign(
    { method: req.method, protocol: 'http:', hostname: url.hostname, path: family === 's3' ? path : decodeURIComponent(path), query, headers, body: req.body.length === 0 ? undefined : req.body },
    { signingDate, signingRegion: auth.region, signingService: auth.service },
  );
  const m = /Signature=([0-9a-f]{64})/.exec(String(signed.headers['authorization'] ?? ''));
  return m?.[1] ?? '';
}

const SKEW_MS = 15 * 60 * 1000;

/**
 * Authenticates a request: returns the registry's credentials for its key, or throws the AwsError
 * AWS would answer. `lookup` is the principal registry; `keyActive` says whether a long-term key is
 * still Active (IAM users' keys can be made Inactive).
 */
export async function authenticate(
  req: ReceivedRequest,
  family: AuthFamily,
  lookup: (accessKeyId: string) => Credentials | undefined,
  now: Date,
  keyActive: (credentials: Credentials) => boolean = () => true,
): Promise<{ credentials: Credentials; auth: ParsedAuthorization }> {
  const auth = parseAuthorization(header(req.headers, 'authorization'), family);
  if (!auth) throw missingAuthentication(family);
  const credentials = lookup(auth.accessKeyId);
  if (!credentials) throw invalidToken(family);
  const token = header(req.headers, 'x-amz-security-token');
  if (credentials.sessionToken !== undefined) {
    if (token === undefined) throw invalidToken(family, true);
    const a = Buffer.from(token);
    const b = Buffer.from(credentials.sessionToken);
    if (a.length !== b.length || !timingSafeEqual(a, b)) throw invalidToken(family, true);
  } else if (token !== undefined) {
    // A session token sent with long-term keys: AWS does not recognise the pair.
    throw invalidToken(family, true);
  }
  if (!keyActive(credentials)) throw invalidToken(family);
  const date = amzDate(header(req.headers, 'x-amz-date'));
  if (date !== undefined && Math.abs(now.getTime() - date.getTime()) > SKEW_MS) {
    if (family === 's3') throw new AwsError('RequestTimeTooSkewed', 'The difference between the request time and the current time is too large.', 403);
    throw new AwsError(family === 'json' ? 'InvalidSignatureException' : 'SignatureDoesNotMatch', `Signature expired: ${header(req.headers, 'x-amz-date') ?? ''} is now earlier than ${new Date(now.getTime() - SKEW_MS).toISOString().replace(/[-:]|\.\d+/g, '')} (${now.toISOString().replace(/[-:]|\.\d+/g, '')} - 15 min.)`, family === 'json' ? 400 : 403);
  }
  const expected = await expectedSignature(req, auth, credentials, family);
  const a = Buffer.from(expected);
  const b = Buffer.from(auth.signature);
  if (a.length !== b.length || !timingSafeEqual(a, b)) throw signatureMismatch(family);
  // The declared payload hash must be the body's (S3 signs the header, not the body).
  const declared = header(req.headers, 'x-amz-content-sha256');
  if (declared !== undefined && /^[0-9a-f]{64}$/.test(declared) && createHash('sha256').update(req.body).digest('hex') !== declared) {
    throw new AwsError('XAmzContentSHA256Mismatch', 'The provided \'x-amz-content-sha256\' header does not match what was computed.', 400);
  }
  if (credentials.expiration !== undefined && now.getTime() >= Date.parse(credentials.expiration)) throw expiredToken(family);
  return { credentials, auth };
}
