import { createHash } from 'node:crypto';
import type { Resource } from '../model/resources.js';
import { attrEntries } from '../model/resources.js';
import { normalizePolicy } from '../model/policy.js';
import type { PolicyDocument } from '../model/policy.js';
import { canonicalJson } from './canonical-json.js';
import { ResourceIndex } from './resource-index.js';

/**
 * sha256 of the actual state in canonical form: resources sorted by kind and id, each written field by field
 * in schema order (sets sorted, maps by key, policies normalised), so that the same state always gives
 * the same digest whatever order a target listed things in. A saved plan is applied only while the
 * state it was computed from is still the state AWS has.
 */
export function stateDigest(resources: readonly Resource[] | ResourceIndex): string {
  const index = resources instanceof ResourceIndex ? resources : new ResourceIndex(resources);
  const hash = createHash('sha256');
  // Each line is pushed as its pieces (the strings the resource already holds, no concatenation) and a few
  // hundred lines are joined flat and hashed at once: one native call per line, or a rope of small strings
  // per line, each cost more than the hashing itself and left megabytes of garbage behind.
  const pieces: string[] = [];
  let lines = 0;
  for (const r of index.sorted()) {
    line(pieces, r);
    if (++lines === 256) {
      hash.update(pieces.join(''));
      pieces.length = 0;
      lines = 0;
    }
  }
  hash.update(pieces.join(''));
  return `sha256:${hash.digest('hex')}`;
}

/** Fields are separated by U+0001 and lines end in U+0002, characters no AWS or AD name can hold. U+0000 is "absent". */
const FS = '\u0001';
const EOL = '\u0002';
const ABSENT = '\u0000';
const str = (v: unknown): string => (typeof v === 'string' ? v : v === undefined || v === null ? ABSENT : JSON.stringify(v));

/** One resource as pieces of its line: `kind FS id FS account FS name FS owned FS awsId FS guid/name (FS attr)* EOL`. */
function line(out: string[], r: Resource): void {
  out.push(r.kind, FS, r.id, FS, r.account, FS, r.name, FS, r.owned ? '1' : '0', FS, str(r.awsId), FS);
  if (r.principal) out.push(r.principal.guid, '/', r.principal.name);
  else out.push(ABSENT);
  const entries = attrEntries(r.kind);
  if (entries.length > 0) {
    const attrs = r.attrs as unknown as Readonly<Record<string, unknown>>;
    for (const [name, type] of entries) {
      const v = attrs[name];
      out.push(FS);
      switch (type) {
        case 'scalar':
          out.push(str(v));
          break;
        case 'set':
          out.push(JSON.stringify([...((v ?? []) as string[])].sort()));
          break;
        case 'stringMap':
          out.push(canonicalJson(v ?? {}));
          break;
        case 'policy':
          out.push(v === null || v === undefined ? 'null' : canonicalJson(normalizePolicy(v as PolicyDocument)));
          break;
        case 'policyMap': {
          const m = (v ?? {}) as Record<string, PolicyDocument>;
          out.push(canonicalJson(Object.fromEntries(Object.keys(m).sort().map((k) => [k, normalizePolicy(m[k] as PolicyDocument)]))));
          break;
        }
      }
    }
  }
  out.push(EOL);
}
