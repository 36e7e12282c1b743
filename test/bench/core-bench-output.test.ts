/**
 * The core bench's output stays machine-readable, so figures can be compared from run to run: one line
 * per size with wall, CPU and peak RSS (median/min/max) and the load average. Not a timed test: it runs
 * the real bench at a small size and asserts the shape of what it prints, never how fast it was.
 */
import { spawnSync } from 'node:child_process';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { formatSizeLine, parseCoreBenchLine, type CoreRun } from '../../bench/core.bench.js';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..', '..');

describe('npm run bench core: output format', () => {
  it('a size line round-trips through the parser', () => {
    const runs = [300, 100, 200].map((w, i) => ({ size: 2000, wallMs: w, cpuMs: w + 10, peakRssMb: 90 + i, desiredWallMs: 1, planWallMs: 1, changes: 5 }) as CoreRun);
    const line = formatSizeLine(2000, runs, 0.42);
    expect(line).toBe('core size=2000 runs=3 wall_ms=200/100/300 cpu_ms=210/110/310 peak_rss_mb=91/90/92 load=0.42');
    expect(parseCoreBenchLine(line)).toEqual({ size: 2000, runs: 3, wallMs: [200, 100, 300], cpuMs: [210, 110, 310], peakRssMb: [91, 90, 92], load: 0.42 });
    expect(parseCoreBenchLine('core size=2000 run=1 load=0.1 wall_ms=3')).toBeNull();
  });

  it('the real bench, run small, prints one parseable line per size with a plan that has changes', () => {
    const r = spawnSync(process.execPath, ['--import', 'tsx', 'bench/run.ts', 'core'], {
      cwd: ROOT,
      encoding: 'utf8',
      env: { ...process.env, ROLEMAP_BENCH_SIZES: '1000,2000', ROLEMAP_BENCH_RUNS: '1' },
      timeout: 120_000,
    });
    expect(r.status, r.stderr).toBe(0);
    const lines = r.stdout.split('\n').map(parseCoreBenchLine).filter((l) => l !== null);
    expect(lines.map((l) => [l.size, l.runs])).toEqual([
      [1000, 1],
      [2000, 1],
    ]);
    for (const l of lines) {
      expect(l.wallMs[0]).toBeGreaterThan(0);
      expect(l.cpuMs[0]).toBeGreaterThan(0);
      expect(l.peakRssMb[0]).toBeGreaterThan(10);
    }
    expect(r.stdout).toMatch(/core size=2000 run=1 .* changes=[1-9]\d*/);
  });
});
