/**
 * The inline deny policy `rolemap-revoked-sessions` that cuts leavers' live federated sessions.
 *
 * A federated session's `aws:userid` is `ROLE-ID:<RoleSessionName>`, and ADFS sends the leaver's
 * UPN or sAMAccountName as the session name. For each revocation instant there is one statement
 * that denies everything to sessions of the leavers revoked at that instant whose token was issued
 * before it (AWS's own "revoke active sessions" uses the same `aws:TokenIssueTime` condition):
 *
 * ```json
 * { "Sid": "RolemapRevoked1", "Effect": "Deny", "Action": "*", "Resource": "*",
 *   "Condition": { "StringLike": { "aws:userid": ["*:asmith@corp.example", "*:jdoe@corp.example"] },
 *                  "DateLessThan": { "aws:TokenIssueTime": "2026-11-28T09:15:00.000Z" } } }
 * ```
 *
 * Leavers found in the same run share their instant, so they share a statement: a layoff of a
 * hundred people stays far inside IAM's 10,240-character quota for a role's inline policies
 * (about 150 characters a statement plus the length of each session name and five).
 * A session opened after the instant would need working AD credentials, which a leaver no longer has.
 *
 * `parseRevocationPolicy` reads exactly what `renderRevocationPolicy` writes: session names and
 * instant strings come back unchanged. Statements it does not recognise are counted, not guessed at.
 */
import type { PolicyDocument, PolicyValue } from '../../../core/model/policy.js';
import { isValidSessionName } from '../../../core/model/session-name.js';

export { isValidSessionName };

export const REVOCATION_SID_PREFIX = 'RolemapRevoked';

/** entries: session name -> ISO instant. Statements in instant order, names sorted: the text is stable. */
export function renderRevocationPolicy(entries: Readonly<Record<string, string>>): PolicyDocument {
  const byInstant = new Map<string, string[]>();
  for (const name of Object.keys(entries).sort()) {
    const at = entries[name] as string;
    byInstant.set(at, [...(byInstant.get(at) ?? []), name]);
  }
  const instants = [...byInstant.keys()].sort();
  return {
    Version: '2012-10-17',
    Statement: instants.map((at, i) => {
      const patterns = (byInstant.get(at) ?? []).map((name) => `*:${name}`);
      return {
        Sid: `${REVOCATION_SID_PREFIX}${i + 1}`,
        Effect: 'Deny',
        Action: '*',
        Resource: '*',
        Condition: {
          StringLike: { 'aws:userid': patterns.length === 1 ? (patterns[0] as string) : patterns },
          DateLessThan: { 'aws:TokenIssueTime': at },
        },
      };
    }),
  };
}

export interface ParsedRevocations {
  readonly entries: Record<string, string>;
  /** Statements that are not rolemap revocations (a hand edit), for a warning. */
  readonly foreignStatements: number;
}

type PolicyObject = { [key: string]: PolicyValue };

function object(v: PolicyValue | undefined): PolicyObject | undefined {
  return v !== null && typeof v === 'object' && !Array.isArray(v) ? v : undefined;
}

function strings(v: PolicyValue | undefined): string[] | undefined {
  if (typeof v === 'string') return [v];
  if (Array.isArray(v) && v.length > 0 && v.every((x) => typeof x === 'string')) return v as string[];
  return undefined;
}

export function parseRevocationPolicy(doc: PolicyDocument): ParsedRevocations {
  const raw = doc['Statement'];
  const statements = raw === undefined ? [] : Array.isArray(raw) ? raw : [raw];
  const entries: Record<string, string> = Object.create(null) as Record<string, string>; // keys are session names: "__proto__" too
  let foreign = 0;
  for (const s of statements) {
    const st = object(s);
    const condition = object(st?.['Condition']);
    const userids = strings(object(condition?.['StringLike'])?.['aws:userid']);
    const instants = strings(object(condition?.['DateLessThan'])?.['aws:TokenIssueTime']);
    const action = strings(st?.['Action']);
    const ours =
      st?.['Effect'] === 'Deny' &&
      action?.length === 1 &&
      action[0] === '*' &&
      condition !== undefined &&
      Object.keys(condition).length === 2 &&
      userids !== undefined &&
      userids.every((u) => u.startsWith('*:') && isValidSessionName(u.slice(2))) &&
      instants?.length === 1;
    if (!ours) {
      foreign++;
      continue;
    }
    for (const u of userids) entries[u.slice(2)] = instants[0] as string;
  }
  return { entries, foreignStatements: foreign };
}
