import { createHash } from 'node:crypto';
import type { Resource } from '../model/resources.js';
import { resourceKey } from '../model/resources.js';
import { canonicalJson } from './canonical-json.js';

/**
 * sha256 of the actual state in canonical form (resources sorted by key, keys sorted): a saved plan
 * is applied only when the state it was computed from is still the state AWS has.
 */
export function stateDigest(resources: readonly Resource[]): string {
  const sorted = [...resources].sort((a, b) => {
    const ka = resourceKey(a);
    const kb = resourceKey(b);
    return ka < kb ? -1 : ka > kb ? 1 : 0;
  });
  const hash = createHash('sha256');
  for (const r of sorted) hash.update(canonicalJson(r)).update('\n');
  return `sha256:${hash.digest('hex')}`;
}
