/**
 * An RFC 2849 LDIF reader for directory exports: `ldapsearch -LLL` and `ldifde -f` output. Handles
 * folded lines, comments (also folded), `attr:: base64` values (objectGUID comes that way), the
 * `version:` line and ldifde's `changetype: add`. Values stay bytes until the caller decides how to
 * read them.
 */
import { LdifSyntaxError } from '../errors.js';

export interface LdifRecord {
  readonly dn: string;
  /** Line of the record's `dn:` in the file, for error messages. */
  readonly line: number;
  /** Attribute name (as written, options included, e.g. `member;range=0-1499`) lower-cased -> values. */
  readonly attributes: ReadonlyMap<string, readonly Buffer[]>;
}

interface Line {
  readonly text: string;
  readonly line: number;
}

/** Joins folded lines (a line starting with one space continues the previous one). */
function unfold(text: string): Line[] {
  const out: { text: string; line: number }[] = [];
  const raw = text.replace(/^\uFEFF/, '').split(/\r?\n/);
  raw.forEach((t, i) => {
    const last = out[out.length - 1];
    if (t.startsWith(' ') && last !== undefined && last.text !== '') last.text += t.slice(1);
    else out.push({ text: t, line: i + 1 });
  });
  return out;
}

const ATTR_LINE = /^([A-Za-z][A-Za-z0-9-]*(?:;[A-Za-z0-9=\-*]+)*|[0-9.]+)(::|:<|:)\s?(.*)$/;

export function parseLdif(text: string, file: string): LdifRecord[] {
  const records: LdifRecord[] = [];
  let current: { dn: string; line: number; attributes: Map<string, Buffer[]> } | undefined;
  const flush = (): void => {
    if (current) records.push(current);
    current = undefined;
  };
  for (const { text: t, line } of unfold(text)) {
    if (t === '') {
      flush();
      continue;
    }
    if (t.startsWith('#')) continue;
    const m = ATTR_LINE.exec(t);
    if (!m) throw new LdifSyntaxError(file, line, `not an LDIF attribute line: ${JSON.stringify(t.slice(0, 80))}`);
    const [, name, sep, rawValue] = m as unknown as [string, string, string, string];
    if (sep === ':<') throw new LdifSyntaxError(file, line, `URL values (${name}:< ...) are not supported`);
    let value: Buffer;
    if (sep === '::') {
      const compact = rawValue.replace(/\s+/g, '');
      if (!/^[A-Za-z0-9+/]*={0,2}$/.test(compact)) throw new LdifSyntaxError(file, line, `${name}:: is not base64`);
      value = Buffer.from(compact, 'base64');
    } else {
      value = Buffer.from(rawValue, 'utf8');
    }
    const key = name.toLowerCase();
    if (current === undefined) {
      if (key === 'version') continue;
      if (key !== 'dn') throw new LdifSyntaxError(file, line, `a record must start with dn:, found ${name}:`);
      current = { dn: value.toString('utf8'), line, attributes: new Map() };
      continue;
    }
    if (key === 'dn') throw new LdifSyntaxError(file, line, `second dn: in one record (a blank line is missing)`);
    if (key === 'changetype') {
      if (value.toString('utf8').trim().toLowerCase() !== 'add') {
        throw new LdifSyntaxError(file, line, `changetype ${value.toString('utf8')} is not an export; only plain or 'add' records can be read`);
      }
      continue;
    }
    const list = current.attributes.get(key);
    if (list) list.push(value);
    else current.attributes.set(key, [value]);
  }
  flush();
  return records;
}
