import { createHash } from 'node:crypto';
import type { Resource } from '../model/resources.js';
import { resourceKey } from '../model/resources.js';
import { canonicalJson } from './canonical-json.js';

/**
 * sha256 of the actual state in canonical form (resources sorted by key, keys sorted): a saved plan
 * is applied only when the state it was computed from is still the state AWS has.
 */
export function stateDigest(resources: readonly Resource[]): string {
  const keyed = resources.map((r) => ({ key: resourceKey(r), r }));
  keyed.sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
  const hash = createHash('sha256');
  for (const { r } of keyed) hash.update(`${canonicalJson(r)}\n`);
  return `sha256:${hash.digest('hex')}`;
}
