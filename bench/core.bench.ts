/**
 * computeDesired + calculatePlan at enterprise scale (issue 2, then issue 19): 10,000, 100,000 and
 * 1,000,000 people (a tenth as many groups, 200 accounts; federated roles, explicit and ADFS-pattern, and
 * Identity Center assignments; an actual state that matches but for a little drift and a few leavers).
 * Target at 100,000: under 2 s wall on an idle 2-core machine and a peak under 400 MB.
 *
 * Each size is measured RUNS times, each time in a fresh process (bench/core-worker.ts) so that its heap
 * and its peak RSS are its own; the fixture is built before the clock starts. The process runs what
 * production runs: the compiled core in dist/ (built first when stale) under plain node, the worker and
 * fixture transpiled beside it into a private temporary folder. `ROLEMAP_BENCH_TSX=1` runs them from
 * source through tsx instead (as this bench did before; tsx's loader thread adds ~48 MB of RSS). Beside every figure goes
 * the load average, so a slow machine can be told from slow code. Output, one line per run and one per
 * size (the line `parseCoreBenchLine` reads; a test keeps it parseable):
 *
 *   core size=100000 runs=3 wall_ms=1234/1200/1300 cpu_ms=.../.../... peak_rss_mb=.../.../... load=0.42
 *
 * (median/min/max). `ROLEMAP_BENCH_NODE_FLAGS='--cpu-prof'` passes flags to the measured process. `ROLEMAP_BENCH_SIZES=10000,100000` and `ROLEMAP_BENCH_RUNS=5` choose;
 * `ROLEMAP_BENCH_DUMP=FILE` has each run write its plan and desired entitlements as JSON (after the clock),
 * so that an optimisation can be shown to leave the plan byte for byte the same. Run: npm run bench core
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import ts from 'typescript';
import { ensureDist } from '../scripts/dist.js';

const here = dirname(fileURLToPath(import.meta.url));
const root = join(here, '..');

export interface CoreRun {
  readonly size: number;
  readonly wallMs: number;
  readonly cpuMs: number;
  readonly peakRssMb: number;
  readonly desiredWallMs: number;
  readonly planWallMs: number;
  readonly changes: number;
  readonly [k: string]: unknown;
}

export interface CoreSizeLine {
  readonly size: number;
  readonly runs: number;
  readonly wallMs: readonly [number, number, number];
  readonly cpuMs: readonly [number, number, number];
  readonly peakRssMb: readonly [number, number, number];
  readonly load: number;
}

const LINE = /^core size=(\d+) runs=(\d+) wall_ms=(\d+)\/(\d+)\/(\d+) cpu_ms=(\d+)\/(\d+)\/(\d+) peak_rss_mb=(\d+)\/(\d+)\/(\d+) load=(\d+(?:\.\d+)?)$/;

/** Reads a size line of this bench's output (median/min/max); null for any other line. */
export function parseCoreBenchLine(line: string): CoreSizeLine | null {
  const m = LINE.exec(line.trim());
  if (m === null) return null;
  const n = (i: number): number => Number(m[i]);
  return { size: n(1), runs: n(2), wallMs: [n(3), n(4), n(5)], cpuMs: [n(6), n(7), n(8)], peakRssMb: [n(9), n(10), n(11)], load: n(12) };
}

function stats(xs: readonly number[]): [number, number, number] {
  const s = [...xs].sort((a, b) => a - b);
  return [s[Math.floor((s.length - 1) / 2)] ?? 0, s[0] ?? 0, s.at(-1) ?? 0];
}

export function formatSizeLine(size: number, runs: readonly CoreRun[], load: number): string {
  const f = (t: readonly number[]): string => t.join('/');
  return `core size=${size} runs=${runs.length} wall_ms=${f(stats(runs.map((r) => r.wallMs)))} cpu_ms=${f(stats(runs.map((r) => r.cpuMs)))} peak_rss_mb=${f(stats(runs.map((r) => r.peakRssMb)))} load=${load.toFixed(2)}`;
}

/**
 * The worker as production would run it: dist/ current, and bench/core-worker.ts and core-fixture.ts
 * transpiled (types stripped, nothing else) into a folder only this user can read (mkdtemp: 0700),
 * importing the compiled core and journal. Returns the node arguments that run it and a clean-up.
 */
function compiledWorker(): { readonly args: readonly string[]; readonly done: () => void } {
  if (process.env['ROLEMAP_BENCH_TSX'] === '1') return { args: ['--import', 'tsx', join(here, 'core-worker.ts')], done: () => undefined };
  ensureDist(root);
  const dir = mkdtempSync(join(tmpdir(), 'rolemap-core-bench-'));
  const dist = (path: string): string => JSON.stringify(pathToFileURL(join(root, 'dist', path)).href);
  for (const name of ['core-worker', 'core-fixture']) {
    const source = readFileSync(join(here, `${name}.ts`), 'utf8')
      .replaceAll("'../src/core/index.js'", dist('core/index.js'))
      .replaceAll("'../src/adapters/journal/index.js'", dist('adapters/journal/index.js'))
      .replaceAll("'../src/adapters/directory/guid.js'", dist('adapters/directory/guid.js'));
    const out = ts.transpileModule(source, { compilerOptions: { module: ts.ModuleKind.ES2022, target: ts.ScriptTarget.ES2022, verbatimModuleSyntax: false }, fileName: `${name}.ts` });
    writeFileSync(join(dir, `${name}.mjs`), out.outputText.replaceAll("'./core-fixture.js'", "'./core-fixture.mjs'"), { mode: 0o600 });
  }
  return { args: [join(dir, 'core-worker.mjs')], done: () => rmSync(dir, { recursive: true, force: true }) };
}

/** One measurement in a fresh process; the reason when it could not finish (out of memory, say). */
function measure(worker: readonly string[], size: number): CoreRun | { readonly failed: string } {
  // ROLEMAP_BENCH_NODE_FLAGS: flags for the measured process (--cpu-prof, --trace-gc), for reading where time and memory go.
  const flags = (process.env['ROLEMAP_BENCH_NODE_FLAGS'] ?? '').split(' ').filter((f) => f !== '');
  const r = spawnSync(process.execPath, [...flags, ...worker, String(size)], { encoding: 'utf8', maxBuffer: 16 * 1024 * 1024 });
  const line = r.stdout.trim().split('\n').at(-1) ?? '';
  // With flags, the worker's whole output (its JSON line has windowUs: the measured window on a --cpu-prof profile's clock).
  if (flags.length > 0) process.stderr.write(r.stdout);
  if (r.status === 0 && line.startsWith('{')) return JSON.parse(line) as CoreRun;
  const oom = /heap out of memory|Allocation failed/i.test(r.stderr);
  return { failed: oom ? `the process ran out of heap (V8's default limit here; ${r.stderr.match(/Mark-Compact[^\n]*/)?.[0] ?? 'see stderr'})` : `exit ${String(r.status ?? r.signal)}: ${r.stderr.trim().split('\n').slice(-3).join(' | ')}` };
}

export default async function bench(): Promise<void> {
  const sizes = (process.env['ROLEMAP_BENCH_SIZES'] ?? '10000,100000,1000000').split(',').map(Number);
  const runsWanted = Number(process.env['ROLEMAP_BENCH_RUNS'] ?? '3');
  const worker = compiledWorker();
  console.log(process.env['ROLEMAP_BENCH_TSX'] === '1' ? '(from source through tsx)' : '(compiled: dist/ under plain node, as production runs)');
  try {
    for (const size of sizes) {
      const runs: CoreRun[] = [];
      const loads: number[] = [];
      for (let i = 1; i <= runsWanted; i++) {
        const load = loadavg()[0] ?? 0;
        const r = measure(worker.args, size);
        if ('failed' in r) {
          console.log(`core size=${size} run=${i} stopped: ${r.failed}`);
          break;
        }
        runs.push(r);
        loads.push(load);
        console.log(
          `core size=${size} run=${i} load=${load.toFixed(2)} wall_ms=${r.wallMs} (desired ${r.desiredWallMs}, plan ${r.planWallMs}) cpu_ms=${r.cpuMs} peak_rss_mb=${r.peakRssMb} ` +
            `(rss before ${String(r['rssBeforeMb'])}, peak after computeDesired ${String(r['peakAfterDesiredMb'])}; heap used before ${String(r['heapUsedBeforeMb'])} of ${String(r['heapTotalBeforeMb'])}, at the end ${String(r['heapUsedAfterMb'])}, retained ${String(r['heapRetainedMb'])}) changes=${r.changes} resources=${String(r['desiredResources'])} entitlements=${String(r['entitlements'])} fixture_ms=${String(r['fixtureMs'])}`,
        );
      }
      if (runs.length > 0) console.log(formatSizeLine(size, runs, stats(loads)[0]));
      await Promise.resolve();
    }
  } finally {
    worker.done();
  }
  console.log(
    '(median/min/max; target at 100,000: wall < 2000 ms on an idle machine, peak RSS < 400 MB. wall and cpu are computeDesired + calculatePlan only. ' +
      'peak_rss_mb is the whole process at its highest while planning: the Node runtime (~40 MB; ~88 MB with tsx), the inputs as production holds them ' +
      '(snapshot, role map, actual state, journal history; "heap used before", after the fixture garbage is collected) and what planning allocates. ' +
      '"rss before" is the same process just before planning; the heap V8 keeps committed counts in it)',
  );
}
