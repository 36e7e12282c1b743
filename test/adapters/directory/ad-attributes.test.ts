import { describe, expect, it } from 'vitest';
import { USER_FIELD_ATTRIBUTES, decodeAccountExpires, decodeGeneralizedTime, encodeAccountExpires, isDisabled, normalizeDn, userFields } from '../../../src/adapters/directory/ad-attributes.js';

describe('AD attribute decoding', () => {
  it('userAccountControl: ACCOUNTDISABLE is bit 0x2', () => {
    expect(isDisabled('512')).toBe(false);
    expect(isDisabled('514')).toBe(true);
    expect(isDisabled('66050')).toBe(true); // disabled + password never expires
    expect(isDisabled('66048')).toBe(false);
    expect(isDisabled(undefined)).toBe(false);
    expect(() => isDisabled('lots')).toThrow(RangeError);
  });

  it('accountExpires: 0 and 0x7FFFFFFFFFFFFFFF mean never; otherwise 100-ns ticks since 1601', () => {
    expect(decodeAccountExpires('0')).toBeUndefined();
    expect(decodeAccountExpires('9223372036854775807')).toBeUndefined();
    expect(decodeAccountExpires(undefined)).toBeUndefined();
    expect(decodeAccountExpires('116444736000000000')).toBe('1970-01-01T00:00:00.000Z');
    expect(decodeAccountExpires('132223104000000000')).toBe('2020-01-01T00:00:00.000Z');
    expect(decodeAccountExpires(encodeAccountExpires(new Date('2099-12-31T23:59:59.123Z')))).toBe('2099-12-31T23:59:59.123Z');
    expect(() => decodeAccountExpires('soon')).toThrow(RangeError);
  });

  it('whenChanged: GeneralizedTime to ISO', () => {
    expect(decodeGeneralizedTime('20261128235901.0Z')).toBe('2026-11-28T23:59:01.000Z');
    expect(decodeGeneralizedTime('20261128235901Z')).toBe('2026-11-28T23:59:01.000Z');
    expect(() => decodeGeneralizedTime('yesterday')).toThrow(RangeError);
  });

  it('DNs compare as AD compares them: case and spaces around separators do not matter, escapes do', () => {
    expect(normalizeDn('CN=Ops Team, OU=Groups ,DC=Example,DC=com')).toBe('cn=ops team,ou=groups,dc=example,dc=com');
    expect(normalizeDn('CN=Zola\\, Jr.,OU=People')).toBe('cn=zola\\, jr.,ou=people');
    expect(normalizeDn('CN=Zola\\, Jr.,OU=People')).not.toBe(normalizeDn('CN=Zola,Jr.,OU=People'));
  });
});

describe('USER_FIELD_ATTRIBUTES', () => {
  it('names every attribute userFields reads, so the full and the incremental LDAP reads ask for all of them', () => {
    const asked: string[] = [];
    userFields((attribute) => {
      asked.push(attribute);
      return undefined;
    });
    expect([...new Set(asked)].sort()).toEqual([...USER_FIELD_ATTRIBUTES].sort());
  });
});
