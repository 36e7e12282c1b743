/**
 * Wire-protocol helpers shared by the emulator's services: AWS errors, the query protocol's
 * form parameters and XML responses, request ids.
 */
import { randomUUID } from 'node:crypto';

/** An error the way AWS names it. `code` becomes `Error/Code` (query) or `__type` (JSON). */
export class AwsError extends Error {
  constructor(
    readonly code: string,
    message: string,
    readonly status = 400,
    /** Query protocol `Error/Type`. */
    readonly type: 'Sender' | 'Receiver' = status >= 500 ? 'Receiver' : 'Sender',
    /** JSON protocol: extra members of the error shape (`Reason`, `ResourceType`, `ResourceId`). */
    readonly fields: Readonly<Record<string, unknown>> = {},
  ) {
    super(message);
    this.name = code;
  }
}

export function newRequestId(): string {
  return randomUUID();
}

/**
 * Query-protocol form parameters as a nested value:
 * `Tags.member.1.Key=a` -> `{ Tags: [{ Key: 'a' }] }`, `PolicyArns.member.2=x` -> arrays,
 * `Attributes.entry.1.key / .value` -> `{ Attributes: { key: value } }`.
 */
export type QueryValue = string | QueryValue[] | { [k: string]: QueryValue };
export function parseQueryParams(form: URLSearchParams): Record<string, QueryValue> {
  const root: Record<string, unknown> = {};
  for (const [fullKey, value] of form) {
    const parts = fullKey.split('.');
    let node: Record<string, unknown> = root;
    for (let i = 0; i < parts.length; i++) {
      const part = parts[i] as string;
      const last = i === parts.length - 1;
      if (last) {
        node[part] = value;
      } else {
        node[part] ??= {};
        node = node[part] as Record<string, unknown>;
      }
    }
  }
  return fold(root) as Record<string, QueryValue>;
}

function fold(node: unknown): unknown {
  if (typeof node !== 'object' || node === null) return node;
  const obj = node as Record<string, unknown>;
  const keys = Object.keys(obj);
  if (keys.length === 1 && keys[0] === 'member') {
    const members = obj['member'] as Record<string, unknown>;
    return Object.keys(members)
      .sort((a, b) => Number(a) - Number(b))
      .map((k) => fold(members[k]));
  }
  if (keys.length === 1 && keys[0] === 'entry') {
    const entries = obj['entry'] as Record<string, Record<string, unknown>>;
    const out: Record<string, unknown> = {};
    for (const k of Object.keys(entries)) {
      const e = entries[k] as Record<string, unknown>;
      out[String(e['key'])] = fold(e['value']);
    }
    return out;
  }
  const out: Record<string, unknown> = {};
  for (const k of keys) out[k] = fold(obj[k]);
  return out;
}

function escapeXml(s: string): string {
  return s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;').replace(/'/g, '&apos;');
}

/**
 * A value as query-protocol XML: objects become elements, arrays become `<member>` lists,
 * `Map` becomes `<entry><key>/<value>` pairs, `Date` becomes ISO-8601, `undefined` / `null` are left out.
 */
export function toXml(value: unknown): string {
  if (value === undefined || value === null) return '';
  if (value instanceof Date) return value.toISOString();
  // A query-protocol map (e.g. IAM's SummaryMap): <entry><key>k</key><value>v</value></entry>.
  if (value instanceof Map) return [...value].map(([k, v]) => `<entry><key>${escapeXml(String(k))}</key><value>${toXml(v)}</value></entry>`).join('');
  if (Array.isArray(value)) return value.map((v) => `<member>${toXml(v)}</member>`).join('');
  if (typeof value === 'object') {
    return Object.entries(value as Record<string, unknown>)
      .filter(([, v]) => v !== undefined && v !== null)
      .map(([k, v]) => `<${k}>${toXml(v)}</${k}>`)
      .join('');
  }
  return escapeXml(String(value));
}

export function queryResponse(action: string, namespace: string, result: unknown, requestId: string): string {
  const body = result === undefined || result === null ? '' : `<${action}Result>${toXml(result)}</${action}Result>`;
  return `<?xml version="1.0" encoding="UTF-8"?>\n<${action}Response xmlns="${namespace}">${body}<ResponseMetadata><RequestId>${requestId}</RequestId></ResponseMetadata></${action}Response>`;
}

export function queryError(err: AwsError, namespace: string, requestId: string): string {
  return `<?xml version="1.0" encoding="UTF-8"?>\n<ErrorResponse xmlns="${namespace}"><Error><Type>${err.type}</Type><Code>${escapeXml(err.code)}</Code><Message>${escapeXml(err.message)}</Message></Error><RequestId>${requestId}</RequestId></ErrorResponse>`;
}

/** S3's REST error body: `<Error><Code/><Message/><RequestId/></Error>`. */
export function restXmlError(err: AwsError, requestId: string): string {
  return `<?xml version="1.0" encoding="UTF-8"?>\n<Error><Code>${escapeXml(err.code)}</Code><Message>${escapeXml(err.message)}</Message><RequestId>${requestId}</RequestId></Error>`;
}

export function jsonError(err: AwsError): string {
  return JSON.stringify({ ...err.fields, __type: err.code, message: err.message, Message: err.message });
}

/** Opaque pagination token for a position in a list. */
export function encodeToken(position: number): string {
  return Buffer.from(JSON.stringify({ p: position }), 'utf8').toString('base64url');
}
export function decodeToken(token: string | undefined, what = 'NextToken'): number {
  if (token === undefined || token === '') return 0;
  try {
    const p = (JSON.parse(Buffer.from(token, 'base64url').toString('utf8')) as { p: unknown }).p;
    if (typeof p === 'number' && Number.isInteger(p) && p >= 0) return p;
  } catch {
    // fall through
  }
  throw new AwsError('ValidationException', `Invalid ${what}`);
}
