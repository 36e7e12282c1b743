import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { renderInlinePolicy, splitInlinePolicy } from '../../../../src/adapters/aws/identity-center/revocation-statements.js';
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

  it('follows AWS’s documented deny: every action, every resource, StringEquals identitystore:UserId', () => {
    const doc = renderInlinePolicy(null, { 'abc-123': '2026-01-02T03:04:05.678Z' });
    expect(doc).toEqual({
      Version: '2012-10-17',
      Statement: [{ Sid: 'RolemapRevoked20260102T030405678Zabc123', Effect: 'Deny', Action: '*', Resource: '*', Condition: { StringEquals: { 'identitystore:UserId': 'abc-123' } } }],
    });
  });

  it('leaves a policy without revocations untouched and refuses an instant that is not ISO UTC', () => {
    expect(splitInlinePolicy(configured)).toEqual({ policy: configured, entries: {} });
    expect(() => renderInlinePolicy(null, { u: '2026-01-02 03:04' })).toThrow(RangeError);
  });
});
