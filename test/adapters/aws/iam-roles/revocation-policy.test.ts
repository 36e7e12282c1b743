import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { isValidSessionName, parseRevocationPolicy, renderRevocationPolicy } from '../../../../src/adapters/aws/iam-roles/revocation-policy.js';
import { policiesEqual } from '../../../../src/core/model/policy.js';
import type { PolicyDocument } from '../../../../src/core/model/policy.js';

const sessionName = fc.stringMatching(/^[\w+=,.@-]{2,64}$/);
const instant = fc.integer({ min: Date.UTC(2020, 0, 1), max: Date.UTC(2035, 0, 1) }).map((ms) => new Date(ms).toISOString());
const entries = fc.dictionary(sessionName, instant, { maxKeys: 30 });

/** What AWS might hand back: one-element lists collapsed to strings, then URL-encoded and decoded. */
function awsSpelling(doc: PolicyDocument): PolicyDocument {
  const collapse = (v: unknown): unknown =>
    Array.isArray(v) ? (v.length === 1 ? collapse(v[0]) : v.map(collapse)) : v !== null && typeof v === 'object' ? Object.fromEntries(Object.entries(v).map(([k, x]) => [k, collapse(x)])) : v;
  const text = encodeURIComponent(JSON.stringify({ ...doc, Statement: (doc['Statement'] as unknown[]).map(collapse) }));
  return JSON.parse(decodeURIComponent(text)) as PolicyDocument;
}

describe('the revocation policy', () => {
  it('round-trips every set of entries exactly, also in AWS spelling', () => {
    fc.assert(
      fc.property(entries, (e) => {
        const doc = renderRevocationPolicy(e);
        expect(parseRevocationPolicy(doc)).toEqual({ entries: e, foreignStatements: 0 });
        expect(parseRevocationPolicy(awsSpelling(doc)).entries).toEqual(e);
        // The same entries always give the same document.
        expect(JSON.stringify(renderRevocationPolicy(Object.fromEntries(Object.entries(e).reverse())))).toBe(JSON.stringify(doc));
      }),
    );
  });

  it('keeps a session name that is also an Object.prototype key (fast-check found "__proto__")', () => {
    const e: Record<string, string> = {};
    Object.defineProperty(e, '__proto__', { value: '2020-01-01T00:00:00.000Z', enumerable: true, writable: true, configurable: true });
    e['constructor'] = '2021-01-01T00:00:00.000Z';
    const doc = renderRevocationPolicy(e);
    expect(parseRevocationPolicy(doc)).toEqual({ entries: e, foreignStatements: 0 });
    expect(Object.keys(parseRevocationPolicy(awsSpelling(doc)).entries).sort()).toEqual(['__proto__', 'constructor']);
  });

  it('puts leavers revoked at the same instant into one statement', () => {
    const doc = renderRevocationPolicy({ 'jdoe@corp.example': '2026-11-28T09:15:00.000Z', 'asmith@corp.example': '2026-11-28T09:15:00.000Z', bwayne: '2026-11-27T18:00:00.000Z' });
    expect(
      policiesEqual(doc, {
        Version: '2012-10-17',
        Statement: [
          { Sid: 'RolemapRevoked1', Effect: 'Deny', Action: '*', Resource: '*', Condition: { StringLike: { 'aws:userid': '*:bwayne' }, DateLessThan: { 'aws:TokenIssueTime': '2026-11-27T18:00:00.000Z' } } },
          {
            Sid: 'RolemapRevoked2',
            Effect: 'Deny',
            Action: '*',
            Resource: '*',
            Condition: { StringLike: { 'aws:userid': ['*:asmith@corp.example', '*:jdoe@corp.example'] }, DateLessThan: { 'aws:TokenIssueTime': '2026-11-28T09:15:00.000Z' } },
          },
        ],
      }),
    ).toBe(true);
  });

  it('keeps a hundred leavers of one run far inside the 10,240-character inline quota', () => {
    const e = Object.fromEntries(Array.from({ length: 100 }, (_, i) => [`first.last${i}@corp.example`, '2026-11-28T09:15:00.000Z']));
    expect(JSON.stringify(renderRevocationPolicy(e)).length).toBeLessThan(4000);
  });

  it('counts statements it did not write instead of guessing', () => {
    const parsed = parseRevocationPolicy({
      Version: '2012-10-17',
      Statement: [
        { Effect: 'Deny', Action: 's3:*', Resource: '*' },
        { Effect: 'Deny', Action: '*', Resource: '*', Condition: { StringLike: { 'aws:userid': 'AROA*' }, DateLessThan: { 'aws:TokenIssueTime': '2026-01-01T00:00:00Z' } } },
        { Effect: 'Deny', Action: '*', Resource: '*', Condition: { StringLike: { 'aws:userid': '*:ok.user' }, DateLessThan: { 'aws:TokenIssueTime': '2026-01-01T00:00:00Z' }, Bool: { 'aws:MultiFactorAuthPresent': 'false' } } },
        ...(renderRevocationPolicy({ 'ok.user': '2026-01-01T00:00:00Z' })['Statement'] as PolicyDocument[]),
      ],
    });
    expect(parsed).toEqual({ entries: { 'ok.user': '2026-01-01T00:00:00Z' }, foreignStatements: 3 });
    expect(isValidSessionName('jdoe@corp.example')).toBe(true);
    expect(isValidSessionName('j*doe')).toBe(false);
  });
});
