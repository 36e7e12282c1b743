/**
 * vitest global setup (project `unit`): many tests run the real command line as a child process,
 * `node bin/rolemap.js`, which runs the compiled dist/. Build it once per vitest run when it is stale
 * against src/ (scripts/dist.ts compares dist/build-manifest.json with the checkout, in milliseconds),
 * so those tests always run the code under test.
 */
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describeStaleness, ensureDist } from '../../scripts/dist.js';

export default function setup(): void {
  const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
  const { built, stale } = ensureDist(root);
  if (built) console.log(`[build-dist] dist/ was stale, rebuilt it:\n${describeStaleness(stale.slice(0, 10))}${stale.length > 10 ? `\n  ... and ${stale.length - 10} more` : ''}`);
}
