/**
 * IAM returns policy documents URL-encoded (RFC 3986). Older tooling and some endpoints write a
 * space as `+`, which RFC 3986 output never contains unescaped, so reading `+` as a space is safe.
 * A document that is already plain JSON (an AWS-compatible endpoint that does not encode) is taken as is.
 */
import type { PolicyDocument } from '../../../core/model/policy.js';

export function decodePolicyDocument(text: string): PolicyDocument {
  const trimmed = text.trimStart();
  const json = trimmed.startsWith('{') ? text : decodeURIComponent(text.replace(/\+/g, '%20'));
  const parsed: unknown = JSON.parse(json);
  if (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed)) throw new TypeError('a policy document must be a JSON object');
  return parsed as PolicyDocument;
}
