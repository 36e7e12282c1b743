import { describe, expect, it } from 'vitest';
import { policiesEqual, normalizePolicy } from '../../src/core/model/policy.js';

describe('policy documents compare by meaning', () => {
  const declared = {
    Version: '2012-10-17',
    Statement: [{ Effect: 'Allow', Action: ['s3:GetObject'], Resource: '*' }],
  };

  it('treats a single statement object like a one-element list', () => {
    expect(policiesEqual(declared, { Version: '2012-10-17', Statement: { Effect: 'Allow', Action: 's3:GetObject', Resource: ['*'] } })).toBe(true);
  });

  it('ignores key order and action order', () => {
    const a = { Statement: [{ Resource: '*', Action: ['b:B', 'a:A'], Effect: 'Allow' }], Version: '2012-10-17' };
    const b = { Version: '2012-10-17', Statement: [{ Effect: 'Allow', Action: ['a:A', 'b:B'], Resource: '*' }] };
    expect(policiesEqual(a, b)).toBe(true);
  });

  it('sees a real difference', () => {
    expect(policiesEqual(declared, { Version: '2012-10-17', Statement: [{ Effect: 'Deny', Action: 's3:GetObject', Resource: '*' }] })).toBe(false);
    expect(policiesEqual(declared, null)).toBe(false);
  });

  it('normalizes condition values as sets', () => {
    const n = normalizePolicy({ Statement: { Effect: 'Allow', Condition: { StringEquals: { 'SAML:aud': ['https://signin.aws.amazon.com/saml'] } } } });
    expect(n['Statement']).toEqual([{ Effect: 'Allow', Condition: { StringEquals: { 'SAML:aud': 'https://signin.aws.amazon.com/saml' } } }]);
  });
});
