/**
 * AD objectGUID: 16 bytes on the wire, rendered in AD's canonical string form
 * `xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx` (lower case) whose first three fields are little-endian:
 * bytes `3a 6e a3 e8 3a bf db 47 9e 02 ...` read as `e8a36e3a-bf3a-47db-9e02-...`.
 */
import type { Guid } from '../../core/model/directory.js';

const GUID_PATTERN = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

export function isGuid(value: string): boolean {
  return GUID_PATTERN.test(value.toLowerCase());
}

/** Where each of the 16 bytes goes in the 36 characters (the first three fields little-endian). */
const BYTE_AT = [6, 4, 2, 0, 11, 9, 16, 14, 19, 21, 24, 26, 28, 30, 32, 34];
const HEX = '0123456789abcdef';
const scratch = Buffer.alloc(36, '-'.charCodeAt(0));

/**
 * 16 raw bytes -> canonical string. Throws a RangeError on any other length. Written into one buffer
 * and decoded once, so the result is one flat string of 36 characters (~56 bytes), as the LDAP
 * client's own strings are: a template of hex parts gave a rope of seven concatenations (~330 bytes), and a
 * directory of 100,000 people holds one guid per person and per group.
 */
export function guidFromBytes(bytes: Uint8Array): Guid {
  if (bytes.length !== 16) throw new RangeError(`an objectGUID has 16 bytes, got ${bytes.length}`);
  for (let i = 0; i < 16; i++) {
    const b = bytes[i] as number;
    const at = BYTE_AT[i] as number;
    scratch[at] = HEX.charCodeAt(b >> 4);
    scratch[at + 1] = HEX.charCodeAt(b & 15);
  }
  return scratch.toString('latin1', 0, 36);
}

/** Canonical string -> the 16 bytes AD stores (for an objectGUID equality filter). */
export function guidToBytes(guid: Guid): Buffer {
  const g = guid.toLowerCase();
  if (!GUID_PATTERN.test(g)) throw new RangeError(`not a GUID: ${JSON.stringify(guid)}`);
  const h = g.replaceAll('-', '');
  const field = (from: number, to: number, reverse: boolean): Buffer => {
    const b = Buffer.from(h.slice(from, to), 'hex');
    return reverse ? b.reverse() : b;
  };
  return Buffer.concat([field(0, 8, true), field(8, 12, true), field(12, 16, true), field(16, 32, false)]);
}
