/**
 * dist/: the compiled JavaScript that `bin/rolemap.js` runs and the package ships (issue 13).
 *
 * `buildDist` compiles src/ with tsconfig.build.json into a fresh folder beside dist/ (never in a
 * shared temporary folder), writes dist/build-manifest.json (the sha256 of every input: the files
 * under src/, both tsconfigs and the TypeScript version; and of every file it emitted), and swaps the
 * folder in. `distStaleness` compares that manifest with the checkout and names each file that
 * differs, so a stale or hand-edited dist/ is found in milliseconds without compiling.
 *
 * Used by `npm run build` (scripts/build.ts), `prepack`, and the tests' global setup
 * (test/support/build-dist.ts), which builds once per vitest run when dist/ is stale.
 */
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join, relative, sep } from 'node:path';

export const MANIFEST = 'build-manifest.json';
/** Inputs besides src/: a change to either tsconfig changes what tsc emits. */
const CONFIGS = ['tsconfig.json', 'tsconfig.build.json'] as const;

export interface BuildManifest {
  readonly typescript: string;
  /** Path relative to the repository root (`src/...`, `tsconfig.json`) -> sha256 hex. */
  readonly inputs: Readonly<Record<string, string>>;
  /** Path relative to the repository root (`dist/...`) -> sha256 hex; the manifest itself excluded. */
  readonly outputs: Readonly<Record<string, string>>;
}

/** One reason dist/ is not what a build of this checkout would make. */
export interface StaleFile {
  /** Repository-relative path, e.g. `src/shell/version.ts` or `dist/shell/version.js`. */
  readonly file: string;
  readonly reason: string;
}

const sha256 = (path: string): string => createHash('sha256').update(readFileSync(path)).digest('hex');
const posix = (p: string): string => p.split(sep).join('/');

/** Every file under `dir`, as repository-relative POSIX paths, sorted. */
function walk(root: string, dir: string): string[] {
  const out: string[] = [];
  const visit = (d: string): void => {
    for (const e of readdirSync(d, { withFileTypes: true })) {
      const p = join(d, e.name);
      if (e.isDirectory()) visit(p);
      else if (e.isFile()) out.push(posix(relative(root, p)));
    }
  };
  if (existsSync(dir)) visit(dir);
  return out.sort();
}

function typescriptVersion(root: string): string {
  const require = createRequire(join(root, 'package.json'));
  return (JSON.parse(readFileSync(require.resolve('typescript/package.json'), 'utf8')) as { version: string }).version;
}

function hashInputs(root: string): Record<string, string> {
  const inputs: Record<string, string> = {};
  for (const f of walk(root, join(root, 'src'))) inputs[f] = sha256(join(root, f));
  for (const f of CONFIGS) inputs[f] = sha256(join(root, f));
  return inputs;
}

/** Hashes of the files in `outDir`, keyed as they will be once it is `dist/`. */
function hashOutputs(outDir: string): Record<string, string> {
  const outputs: Record<string, string> = {};
  for (const f of walk(outDir, outDir)) {
    if (f === MANIFEST) continue;
    outputs[`dist/${f}`] = sha256(join(outDir, f));
  }
  return outputs;
}

/**
 * Compiles src/ into `outDir` with tsconfig.build.json (`outDir` must sit beside dist/, at the same
 * depth, so the source maps' relative paths come out the same). Throws with tsc's output on failure.
 */
export function compile(root: string, outDir: string): void {
  const require = createRequire(join(root, 'package.json'));
  const tsc = join(require.resolve('typescript/package.json'), '..', 'bin', 'tsc');
  const r = spawnSync(process.execPath, [tsc, '-p', join(root, 'tsconfig.build.json'), '--outDir', outDir], { cwd: root, encoding: 'utf8' });
  if (r.status !== 0) {
    throw new Error(`tsc -p tsconfig.build.json failed (exit ${r.status ?? r.signal}):\n${r.stdout}${r.stderr}`);
  }
}

/** A full build of dist/ with its manifest. Returns the manifest. */
export function buildDist(root: string): BuildManifest {
  const inputs = hashInputs(root); // before compiling: an edit made meanwhile leaves dist/ stale, as it is
  const fresh = join(root, `.dist-build-${process.pid}`);
  const old = join(root, `.dist-old-${process.pid}`);
  rmSync(fresh, { recursive: true, force: true });
  mkdirSync(fresh);
  try {
    compile(root, fresh);
    const manifest: BuildManifest = { typescript: typescriptVersion(root), inputs, outputs: hashOutputs(fresh) };
    writeFileSync(join(fresh, MANIFEST), `${JSON.stringify(manifest, null, 2)}\n`);
    const dist = join(root, 'dist');
    if (existsSync(dist)) renameSync(dist, old);
    renameSync(fresh, dist);
    rmSync(old, { recursive: true, force: true });
    return manifest;
  } finally {
    rmSync(fresh, { recursive: true, force: true });
  }
}

/** What differs between dist/ and a build of this checkout; empty when dist/ is current. */
export function distStaleness(root: string): StaleFile[] {
  const manifestPath = join(root, 'dist', MANIFEST);
  if (!existsSync(manifestPath)) return [{ file: `dist/${MANIFEST}`, reason: 'missing: dist/ was never built here (run `npm run build`)' }];
  const manifest = JSON.parse(readFileSync(manifestPath, 'utf8')) as BuildManifest;
  const stale: StaleFile[] = [];
  const compare = (recorded: Readonly<Record<string, string>>, now: Record<string, string>, what: { changed: string; added: string; removed: string }): void => {
    for (const [f, h] of Object.entries(now)) {
      if (!(f in recorded)) stale.push({ file: f, reason: what.added });
      else if (recorded[f] !== h) stale.push({ file: f, reason: what.changed });
    }
    for (const f of Object.keys(recorded)) if (!(f in now)) stale.push({ file: f, reason: what.removed });
  };
  compare(manifest.inputs, hashInputs(root), {
    changed: 'changed since dist/ was built',
    added: 'added since dist/ was built (not compiled)',
    removed: 'deleted since dist/ was built (its output is still in dist/)',
  });
  compare(manifest.outputs, hashOutputs(join(root, 'dist')), {
    changed: 'edited after the build',
    added: 'not made by the build',
    removed: 'deleted after the build',
  });
  const ts = typescriptVersion(root);
  if (manifest.typescript !== ts) stale.push({ file: 'node_modules/typescript', reason: `built with TypeScript ${manifest.typescript}, this checkout has ${ts}` });
  return stale.sort((a, b) => a.file.localeCompare(b.file));
}

export function describeStaleness(stale: readonly StaleFile[]): string {
  return stale.map((s) => `  ${s.file}: ${s.reason}`).join('\n');
}

/** Builds dist/ unless it is current. Returns whether it built. */
export function ensureDist(root: string): { built: boolean; stale: StaleFile[] } {
  const stale = distStaleness(root);
  if (stale.length === 0) return { built: false, stale };
  buildDist(root);
  return { built: true, stale };
}
