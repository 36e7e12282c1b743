import { createHash } from 'node:crypto';
import type { AttrType, Resource, ResourceKind } from '../model/resources.js';
import { ATTR_SCHEMA, resourceKey } from '../model/resources.js';
import { normalizePolicy } from '../model/policy.js';
import type { PolicyDocument } from '../model/policy.js';
import { canonicalJson } from './canonical-json.js';

const SCHEMA_ENTRIES = new Map<ResourceKind, readonly (readonly [string, AttrType])[]>(
  (Object.keys(ATTR_SCHEMA) as ResourceKind[]).map((k) => [k, Object.entries(ATTR_SCHEMA[k] as Readonly<Record<string, AttrType>>)]),
);

/**
 * sha256 of the actual state in canonical form: resources sorted by key, each written field by field
 * in schema order (sets sorted, maps by key, policies normalised), so that the same state always gives
 * the same digest whatever order a target listed things in. A saved plan is applied only while the
 * state it was computed from is still the state AWS has.
 */
export function stateDigest(resources: readonly Resource[]): string {
  const keyed = resources.map((r) => ({ key: resourceKey(r), r }));
  keyed.sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
  const hash = createHash('sha256');
  for (const { key, r } of keyed) hash.update(line(key, r));
  return `sha256:${hash.digest('hex')}`;
}

function line(key: string, r: Resource): string {
  let out = `${JSON.stringify(key)}\t${JSON.stringify(r.account)}\t${JSON.stringify(r.name)}\t${r.owned ? 1 : 0}\t${JSON.stringify(r.awsId ?? null)}`;
  out += `\t${r.principal ? JSON.stringify(`${r.principal.guid}/${r.principal.name}`) : 'null'}`;
  const attrs = r.attrs as unknown as Readonly<Record<string, unknown>>;
  for (const [name, type] of SCHEMA_ENTRIES.get(r.kind) ?? []) {
    const v = attrs[name];
    switch (type) {
      case 'scalar':
        out += `\t${JSON.stringify(v ?? null)}`;
        break;
      case 'set':
        out += `\t${JSON.stringify([...((v ?? []) as string[])].sort())}`;
        break;
      case 'stringMap':
        out += `\t${canonicalJson(v ?? {})}`;
        break;
      case 'policy':
        out += `\t${v === null || v === undefined ? 'null' : canonicalJson(normalizePolicy(v as PolicyDocument))}`;
        break;
      case 'policyMap': {
        const m = (v ?? {}) as Record<string, PolicyDocument>;
        out += `\t${canonicalJson(Object.fromEntries(Object.keys(m).sort().map((k) => [k, normalizePolicy(m[k] as PolicyDocument)])))}`;
        break;
      }
    }
  }
  return `${out}\n`;
}
