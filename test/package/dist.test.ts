/**
 * dist/ is what bin/rolemap.js runs and what the package ships: it must be what src/ compiles to.
 * A fresh compile is compared with dist/ byte for byte, and the manifest check (scripts/dist.ts, used
 * by the tests' global setup and by prepack) is shown to name each kind of stale file in a copy of
 * the checkout.
 */
import { createHash } from 'node:crypto';
import { appendFileSync, cpSync, mkdtempSync, readdirSync, readFileSync, rmSync, symlinkSync, unlinkSync, writeFileSync } from 'node:fs';
import { execFileSync, spawnSync } from 'node:child_process';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ROOT } from '../integration/world.js';
import { compile, describeStaleness, distStaleness, ensureDist, MANIFEST } from '../../scripts/dist.js';

/** A tsc run takes a few seconds on an idle machine, half a minute or more on a loaded one. */
const COMPILE_TIMEOUT_MS = 180_000;

function files(dir: string): Map<string, string> {
  const out = new Map<string, string>();
  const visit = (d: string): void => {
    for (const e of readdirSync(d, { withFileTypes: true })) {
      const p = join(d, e.name);
      if (e.isDirectory()) visit(p);
      else out.set(relative(dir, p), createHash('sha256').update(readFileSync(p)).digest('hex'));
    }
  };
  visit(dir);
  return out;
}

describe('dist/ in this checkout', () => {
  it('is what a fresh compile of src/ makes, file for file (the stale or extra file is named)', () => {
    expect(describeStaleness(distStaleness(ROOT)), 'the manifest check').toBe('');
    // Beside dist/, at the same depth, so the source maps' relative paths are the same.
    const fresh = join(ROOT, `.dist-check-${process.pid}`);
    try {
      compile(ROOT, fresh);
      const want = files(fresh);
      const have = files(join(ROOT, 'dist'));
      have.delete(MANIFEST);
      const differ = [...new Set([...want.keys(), ...have.keys()])].filter((f) => want.get(f) !== have.get(f)).sort();
      expect(differ.map((f) => `dist/${f}${want.has(f) ? (have.has(f) ? ' differs' : ' missing') : ' is not from src/'}`)).toEqual([]);
      expect(want.size).toBeGreaterThan(100);
    } finally {
      rmSync(fresh, { recursive: true, force: true });
    }
  }, COMPILE_TIMEOUT_MS);
});

describe('the stale check, in a copy of the checkout', () => {
  let copy: string;
  beforeAll(() => {
    copy = mkdtempSync(join(tmpdir(), 'rolemap-dist-'));
    for (const f of ['src', 'dist', 'bin', 'migrations']) cpSync(join(ROOT, f), join(copy, f), { recursive: true });
    for (const f of ['package.json', 'tsconfig.json', 'tsconfig.build.json']) cpSync(join(ROOT, f), join(copy, f));
    symlinkSync(join(ROOT, 'node_modules'), join(copy, 'node_modules'));
  });
  afterAll(() => rmSync(copy, { recursive: true, force: true }));

  it('names each changed, added and deleted source, tsconfig change and hand-edited or stray dist file', () => {
    expect(distStaleness(copy)).toEqual([]);
    appendFileSync(join(copy, 'src/shell/version.ts'), '// edited\n');
    writeFileSync(join(copy, 'src/shell/new-file.ts'), 'export const x = 1;\n');
    unlinkSync(join(copy, 'src/core/errors.ts'));
    appendFileSync(join(copy, 'tsconfig.build.json'), '\n');
    appendFileSync(join(copy, 'dist/shell/cli/main.js'), '// hand edit\n');
    writeFileSync(join(copy, 'dist/stray.js'), '');
    expect(distStaleness(copy).map((s) => `${s.file}: ${s.reason}`)).toEqual([
      'dist/shell/cli/main.js: edited after the build',
      'dist/stray.js: not made by the build',
      'src/core/errors.ts: deleted since dist/ was built (its output is still in dist/)',
      'src/shell/new-file.ts: added since dist/ was built (not compiled)',
      'src/shell/version.ts: changed since dist/ was built',
      'tsconfig.build.json: changed since dist/ was built',
    ]);
  });

  it('says dist/ was never built when there is no manifest, and so does bin/rolemap.js (exit 1, no stack trace)', () => {
    const bare = mkdtempSync(join(tmpdir(), 'rolemap-dist-bare-'));
    try {
      expect(distStaleness(bare).map((s) => s.file)).toEqual([`dist/${MANIFEST}`]);
      cpSync(join(ROOT, 'bin'), join(bare, 'bin'), { recursive: true });
      const r = spawnSync(process.execPath, [join(bare, 'bin/rolemap.js'), '--version'], { encoding: 'utf8' });
      expect(r.stderr).toBe('rolemap: dist/ is not built. From a checkout, run `npm run build` first.\n');
      expect(r.status).toBe(1);
    } finally {
      rmSync(bare, { recursive: true, force: true });
    }
  });

  it('rebuilds a stale dist/ (what the tests\' global setup does), after which bin/rolemap.js runs the edited source', () => {
    rmSync(join(copy, 'src'), { recursive: true });
    cpSync(join(ROOT, 'src'), join(copy, 'src'), { recursive: true });
    cpSync(join(ROOT, 'tsconfig.build.json'), join(copy, 'tsconfig.build.json'));
    writeFileSync(join(copy, 'src/shell/version.ts'), "export const VERSION = '9.9.9-stale-check';\n");
    expect(distStaleness(copy).map((s) => s.file)).toContain('src/shell/version.ts');
    const { built } = ensureDist(copy);
    expect(built).toBe(true);
    expect(distStaleness(copy)).toEqual([]);
    expect(readdirSync(copy).filter((f) => f.startsWith('.dist-'))).toEqual([]);
    expect(execFileSync(process.execPath, [join(copy, 'bin/rolemap.js'), '--version'], { encoding: 'utf8' })).toBe('9.9.9-stale-check\n');
    expect(ensureDist(copy).built).toBe(false);
  }, COMPILE_TIMEOUT_MS);
});
