/**
 * `npm run bench [filter]`: runs every bench/*.bench.ts (or those whose name contains filter).
 * Each exports a default async function that prints its own figures. Benchmarks, not tests:
 * performance targets are checked and reported here, never in timed tests.
 */
import { readdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
const filter = process.argv[2] ?? '';
const files = readdirSync(here)
  .filter((f) => f.endsWith('.bench.ts') && f.includes(filter))
  .sort();
for (const f of files) {
  console.log(`\n=== ${f}`);
  const mod = (await import(pathToFileURL(join(here, f)).href)) as { default: () => Promise<void> };
  await mod.default();
}
