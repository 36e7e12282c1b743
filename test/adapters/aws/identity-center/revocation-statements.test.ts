import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { inlinePolicySize, PERMISSION_SET_INLINE_POLICY_QUOTA, renderInlinePolicy, splitInlinePolicy } from '../../../../src/adapters/aws/identity-center/revocation-statements.js';
import type { PolicyDocument } from '../../../../src/core/model/policy.js';

const configured: PolicyDocument = { Version: '2012-10-17', Statement: [{ Sid: 'Read', Effect: 'Allow', Action: 's3:GetObject', Resource: '*' }] };
const userId = fc.tuple(fc.stringMatching(/^[0-9a-f]{10}$/), fc.uuid()).map(([a, b]) => `${a}-${b}`);
const instant = fc.date({ min: new Date('2000-01-01'), max: new Date('2100-01-01'), noInvalidDate: true }).chain((d) => fc.constantFrom(d.toISOString(), d.toISOString().replace(/\.\d{3}Z$/, 'Z')));

describe('revocation statements in a permission set inline policy', () => {
  it('render then split gives back the configured policy and the entries exactly', () => {
    fc.assert(
      fc.property(fc.option(fc.constant(configured), { nil: null }), fc.dictionary(userId, instant, { maxKeys: 5 }), (policy, entries) => {
        const rendered = renderInlinePolicy(policy, entries);
        const { policy: back, entries: backEntries } = splitInlinePolicy(rendered);
        expect(backEntries).toEqual(entries);
        expect(back).toEqual(policy);
      }),
    );
  });

  it('follows AWS’s documented deny: every action, every resource, StringEquals identitystore:UserId; one statement per instant', () => {
    const doc = renderInlinePolicy(null, { 'abc-123': '2026-01-02T03:04:05.678Z', 'def-456': '2026-01-02T03:04:05.678Z', 'ghi-789': '2026-01-03T00:00:00.000Z' });
    expect(doc).toEqual({
      Version: '2012-10-17',
      Statement: [
        { Sid: 'RolemapRevoked20260102T030405678Z', Effect: 'Deny', Action: '*', Resource: '*', Condition: { StringEquals: { 'identitystore:UserId': ['abc-123', 'def-456'] } } },
        { Sid: 'RolemapRevoked20260103T000000000Z', Effect: 'Deny', Action: '*', Resource: '*', Condition: { StringEquals: { 'identitystore:UserId': 'ghi-789' } } },
      ],
    });
  });

  it('a deny scoped to one account (UserId@account) is its own statement per instant and account, with aws:PrincipalAccount; render then split gives it back', () => {
    const at = '2026-01-02T03:04:05.678Z';
    const doc = renderInlinePolicy(configured, { 'abc-123': at, 'def-456@222222222222': at, 'ghi-789@222222222222': at, 'def-456@333333333333': at });
    expect(doc?.['Statement']).toEqual([
      { Sid: 'Read', Effect: 'Allow', Action: 's3:GetObject', Resource: '*' },
      { Sid: 'RolemapRevoked20260102T030405678Z', Effect: 'Deny', Action: '*', Resource: '*', Condition: { StringEquals: { 'identitystore:UserId': 'abc-123' } } },
      { Sid: 'RolemapRevoked20260102T030405678ZIn222222222222', Effect: 'Deny', Action: '*', Resource: '*', Condition: { StringEquals: { 'identitystore:UserId': ['def-456', 'ghi-789'], 'aws:PrincipalAccount': '222222222222' } } },
      { Sid: 'RolemapRevoked20260102T030405678ZIn333333333333', Effect: 'Deny', Action: '*', Resource: '*', Condition: { StringEquals: { 'identitystore:UserId': 'def-456', 'aws:PrincipalAccount': '333333333333' } } },
    ]);
    const account = fc.constantFrom('111111111111', '222222222222', '333333333333');
    const key = fc.tuple(userId, fc.option(account, { nil: undefined })).map(([id, a]) => (a === undefined ? id : `${id}@${a}`));
    fc.assert(
      fc.property(fc.option(fc.constant(configured), { nil: null }), fc.dictionary(key, instant, { maxKeys: 6 }), (policy, entries) => {
        const { policy: back, entries: backEntries } = splitInlinePolicy(renderInlinePolicy(policy, entries));
        expect(backEntries).toEqual(entries);
        expect(back).toEqual(policy);
      }),
    );
  });

  it('still reads the older one-statement-per-UserId form, so an upgrade keeps every revocation', () => {
    const older: PolicyDocument = {
      Version: '2012-10-17',
      Statement: [
        { Sid: 'Read', Effect: 'Allow', Action: 's3:GetObject', Resource: '*' },
        { Sid: 'RolemapRevoked20260102T030405678Zabc123', Effect: 'Deny', Action: '*', Resource: '*', Condition: { StringEquals: { 'identitystore:UserId': 'abc-123' } } },
      ],
    };
    expect(splitInlinePolicy(older)).toEqual({ policy: configured, entries: { 'abc-123': '2026-01-02T03:04:05.678Z' } });
  });

  it('fits about 200 leavers revoked in one run into one set (the older one-statement-per-UserId form fit 43) (issue 12, defect 6)', () => {
    // Identity Center UserIds are 10 hex digits, a dash and a UUID: 47 characters.
    const ids = Array.from({ length: 400 }, (_, i) => `${i.toString(16).padStart(10, '0')}-${'0'.repeat(8)}-0000-4000-8000-${i.toString(16).padStart(12, '0')}`);
    const fit = (policy: PolicyDocument | null, instants: number): number => {
      let n = 0;
      while (n < ids.length) {
        const entries = Object.fromEntries(ids.slice(0, n + 1).map((id, i) => [id, new Date(Date.UTC(2026, 0, 2, 3, 4, i % instants)).toISOString()]));
        if (inlinePolicySize(renderInlinePolicy(policy, entries)) > PERMISSION_SET_INLINE_POLICY_QUOTA) break;
        n++;
      }
      return n;
    };
    expect(fit(null, 1)).toBe(201); // one layoff, one instant, no configured policy
    expect(fit(configured, 1)).toBe(199); // beside a small configured statement
    expect(fit(configured, 24)).toBe(133); // spread over 24 runs (a different instant each)
  });

  it('leaves a policy without revocations untouched and refuses an instant that is not ISO UTC', () => {
    expect(splitInlinePolicy(configured)).toEqual({ policy: configured, entries: {} });
    expect(() => renderInlinePolicy(null, { u: '2026-01-02 03:04' })).toThrow(RangeError);
  });
});
