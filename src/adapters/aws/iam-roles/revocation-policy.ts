/**
 * The inline deny policy `rolemap-revoked-sessions` that cuts leavers' live federated sessions.
 *
 * One statement per leaver, in session-name order, each denying everything to sessions whose
 * `aws:userid` (`ROLE-ID:<RoleSessionName>`) ends with the leaver's session name and whose token
 * was issued before the revocation instant:
 *
 * ```json
 * { "Sid": "RolemapRevoked1", "Effect": "Deny", "Action": "*", "Resource": "*",
 *   "Condition": { "StringLike": { "aws:userid": "*:jdoe@example.com" },
 *                  "DateLessThan": { "aws:TokenIssueTime": "2026-11-28T10:00:00.000Z" } } }
 * ```
 *
 * A session the leaver could still open after the instant would need working AD credentials,
 * which a leaver no longer has; the deny therefore only needs to cover tokens issued before it.
 * `parseRevocationPolicy` reads exactly what `renderRevocationPolicy` writes, so entries round-trip
 * (session name and instant string unchanged); statements it does not recognise are reported.
 */
import type { PolicyDocument, PolicyValue } from '../../../core/model/policy.js';

export const REVOCATION_SID_PREFIX = 'RolemapRevoked';

/** Characters STS allows in a RoleSessionName; anything else could not match a real session. */
const SESSION_NAME = /^[\w+=,.@-]{2,64}$/;

export function isValidSessionName(name: string): boolean {
  return SESSION_NAME.test(name);
}

/** entries: session name -> ISO instant. Statements sorted by session name, so the text is stable. */
export function renderRevocationPolicy(entries: Readonly<Record<string, string>>): PolicyDocument {
  const names = Object.keys(entries).sort();
  return {
    Version: '2012-10-17',
    Statement: names.map((name, i) => ({
      Sid: `${REVOCATION_SID_PREFIX}${i + 1}`,
      Effect: 'Deny',
      Action: '*',
      Resource: '*',
      Condition: {
        StringLike: { 'aws:userid': `*:${name}` },
        DateLessThan: { 'aws:TokenIssueTime': entries[name] as string },
      },
    })),
  };
}

export interface ParsedRevocations {
  readonly entries: Record<string, string>;
  /** Statements that are not rolemap revocations (a hand edit), by position, for a warning. */
  readonly foreignStatements: number;
}

function single(v: PolicyValue | undefined): string | undefined {
  if (typeof v === 'string') return v;
  if (Array.isArray(v) && v.length === 1 && typeof v[0] === 'string') return v[0];
  return undefined;
}

export function parseRevocationPolicy(doc: PolicyDocument): ParsedRevocations {
  const raw = doc['Statement'];
  const statements = raw === undefined ? [] : Array.isArray(raw) ? raw : [raw];
  const entries: Record<string, string> = {};
  let foreign = 0;
  for (const s of statements) {
    const st = s !== null && typeof s === 'object' && !Array.isArray(s) ? s : undefined;
    const cond = st?.['Condition'];
    const c = cond !== null && typeof cond === 'object' && !Array.isArray(cond) ? cond : undefined;
    const like = c?.['StringLike'];
    const before = c?.['DateLessThan'];
    const userid = like !== null && typeof like === 'object' && !Array.isArray(like) ? single(like['aws:userid']) : undefined;
    const instant = before !== null && typeof before === 'object' && !Array.isArray(before) ? single(before['aws:TokenIssueTime']) : undefined;
    if (st?.['Effect'] !== 'Deny' || single(st['Action']) !== '*' || userid === undefined || !userid.startsWith('*:') || instant === undefined) {
      foreign++;
      continue;
    }
    entries[userid.slice(2)] = instant;
  }
  return { entries, foreignStatements: foreign };
}
