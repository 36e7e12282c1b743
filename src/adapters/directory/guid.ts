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

/** 16 raw bytes -> canonical string. Throws a RangeError on any other length. */
export function guidFromBytes(bytes: Uint8Array): Guid {
  if (bytes.length !== 16) throw new RangeError(`an objectGUID has 16 bytes, got ${bytes.length}`);
  const hex = (from: number, to: number, reverse: boolean): string => {
    const part = Array.from(bytes.subarray(from, to), (b) => b.toString(16).padStart(2, '0'));
    return (reverse ? part.reverse() : part).join('');
  };
  return `${hex(0, 4, true)}-${hex(4, 6, true)}-${hex(6, 8, true)}-${hex(8, 10, false)}-${hex(10, 16, false)}`;
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
