import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { guidFromBytes, guidToBytes, isGuid } from '../../../src/adapters/directory/guid.js';

describe('objectGUID rendering', () => {
  it('renders the first three fields little-endian, as AD and Samba do', () => {
    // Seen on Samba: ldapsearch gave objectGUID:: Om6j6Dq/20eeAvewLVxb6w== and ldbsearch e8a36e3a-bf3a-47db-9e02-f7b02d5c5beb.
    expect(guidFromBytes(Buffer.from('Om6j6Dq/20eeAvewLVxb6w==', 'base64'))).toBe('e8a36e3a-bf3a-47db-9e02-f7b02d5c5beb');
  });

  it('turns back into the same bytes (for objectGUID filters), whatever the case', () => {
    expect(guidToBytes('E8A36E3A-BF3A-47DB-9E02-F7B02D5C5BEB').toString('base64')).toBe('Om6j6Dq/20eeAvewLVxb6w==');
    fc.assert(fc.property(fc.uint8Array({ minLength: 16, maxLength: 16 }), (bytes) => {
      const g = guidFromBytes(bytes);
      return isGuid(g) && g === g.toLowerCase() && guidToBytes(g).equals(Buffer.from(bytes));
    }));
  });

  it('refuses anything that is not 16 bytes or a GUID string', () => {
    expect(() => guidFromBytes(new Uint8Array(15))).toThrow(RangeError);
    expect(() => guidToBytes('*)(objectClass=*')).toThrow(RangeError);
  });
});
