/**
 * `npm run build`: compiles src/ into dist/ (source maps, declarations) and writes
 * dist/build-manifest.json. `--if-stale` (prepack) builds only when dist/ differs from what this
 * checkout would build; `--check` builds nothing and exits 1 naming each stale file.
 */
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { buildDist, describeStaleness, distStaleness, ensureDist } from './dist.js';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const mode = process.argv[2] ?? '';

if (mode === '--check') {
  const stale = distStaleness(root);
  if (stale.length > 0) {
    console.error(`dist/ is stale against the checkout (run \`npm run build\`):\n${describeStaleness(stale)}`);
    process.exitCode = 1;
  } else {
    console.log('dist/ is current');
  }
} else if (mode === '--if-stale') {
  const { built, stale } = ensureDist(root);
  console.log(built ? `built dist/ (was stale:\n${describeStaleness(stale)})` : 'dist/ is current');
} else if (mode === '') {
  const m = buildDist(root);
  console.log(`built dist/: ${Object.keys(m.outputs).length} files from ${Object.keys(m.inputs).length} inputs`);
} else {
  console.error(`usage: node --import tsx scripts/build.ts [--if-stale | --check]`);
  process.exitCode = 1;
}
