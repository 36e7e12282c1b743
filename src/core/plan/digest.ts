import { createHash } from 'node:crypto';
import type { AttrType, Resource, ResourceKind } from '../model/resources.js';
import { ATTR_SCHEMA } from '../model/resources.js';
import { normalizePolicy } from '../model/policy.js';
import type { PolicyDocument } from '../model/policy.js';
import { canonicalJson } from './canonical-json.js';
import { ResourceIndex } from './resource-index.js';

const SCHEMA_ENTRIES = new Map<ResourceKind, readonly (readonly [string, AttrType])[]>(
  (Object.keys(ATTR_SCHEMA) as ResourceKind[]).map((k) => [k, Object.entries(ATTR_SCHEMA[k] as Readonly<Record<string, AttrType>>)]),
);

/**
 * sha256 of the actual state in canonical form: resources sorted by kind and id, each written field by field
 * in schema order (sets sorted, maps by key, policies normalised), so that the same state always gives
 * the same digest whatever order a target listed things in. A saved plan is applied only while the
 * state it was computed from is still the state AWS has.
 */
export function stateDigest(resources: readonly Resource[] | ResourceIndex): string {
  const index = resources instanceof ResourceIndex ? resources : new ResourceIndex(resources);
  const hash = createHash('sha256');
  // Lines are hashed in chunks joined flat: one native call per line, or one rope built with +=,
  // each cost more than the hashing itself.
  let chunk: string[] = [];
  for (const r of index.sorted()) {
    chunk.push(line(r));
    if (chunk.length === 2048) {
      hash.update(chunk.join(''));
      chunk = [];
    }
  }
  hash.update(chunk.join(''));
  return `sha256:${hash.digest('hex')}`;
}

/** Fields are separated by U+0001 and lines end in U+0002, characters no AWS or AD name can hold. */
const str = (v: unknown): string => (typeof v === 'string' ? v : v === undefined || v === null ? '\u0000' : JSON.stringify(v));

function line(r: Resource): string {
  let out = `${r.kind}\u0001${r.id}\u0001${r.account}\u0001${r.name}\u0001${r.owned ? 1 : 0}\u0001${str(r.awsId)}`;
  out += `\u0001${r.principal ? `${r.principal.guid}/${r.principal.name}` : '\u0000'}`;
  const attrs = r.attrs as unknown as Readonly<Record<string, unknown>>;
  for (const [name, type] of SCHEMA_ENTRIES.get(r.kind) ?? []) {
    const v = attrs[name];
    switch (type) {
      case 'scalar':
        out += `\u0001${str(v)}`;
        break;
      case 'set':
        out += `\u0001${JSON.stringify([...((v ?? []) as string[])].sort())}`;
        break;
      case 'stringMap':
        out += `\u0001${canonicalJson(v ?? {})}`;
        break;
      case 'policy':
        out += `\u0001${v === null || v === undefined ? 'null' : canonicalJson(normalizePolicy(v as PolicyDocument))}`;
        break;
      case 'policyMap': {
        const m = (v ?? {}) as Record<string, PolicyDocument>;
        out += `\u0001${canonicalJson(Object.fromEntries(Object.keys(m).sort().map((k) => [k, normalizePolicy(m[k] as PolicyDocument)])))}`;
        break;
      }
    }
  }
  return `${out}\u0002`;
}
