/**
 * Start-up of the command line (issue 13): `rolemap --version` and `rolemap validate` on the example
 * config, run as a user runs them, one child process each, before and after the compiled package.
 *
 *   before  tsx from source: bench/startup-tsx-entry.js, what bin/rolemap.js did until issue 13
 *           (register tsx, import src/shell/cli/main.ts). "warm" reuses tsx's transpile cache,
 *           "cold" starts with an empty one (a fresh TMPDIR), as after a reboot or an upgrade.
 *   after   bin/rolemap.js running dist/ with plain node; and the same with --enable-source-maps
 *           (stack traces in TypeScript lines), for what that would cost.
 *
 * Wall time (median and min of RUNS) and the child's CPU time (user+sys, from bash's `times`), with
 * the load average beside them: wall time suffers on a shared machine, CPU time less so.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { cpus, loadavg, tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { ensureDist } from '../scripts/dist.js';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..');
const RUNS = Number(process.env['ROLEMAP_BENCH_RUNS'] ?? 10);
const EXAMPLE = join(ROOT, 'config', 'rolemap.example.yaml');

interface Sample {
  readonly wallMs: number;
  readonly cpuMs: number;
}

const seconds = (s: string): number => {
  const m = /^(\d+)m([\d.]+)s$/.exec(s);
  return m === null ? NaN : Number(m[1]) * 60 + Number(m[2]);
};

/** One run of `node ARGS` through bash, which reports the child's CPU time with `times`. */
function once(nodeArgs: readonly string[], env: NodeJS.ProcessEnv): Sample {
  const quoted = [process.execPath, ...nodeArgs].map((a) => `'${a.replace(/'/g, `'\\''`)}'`).join(' ');
  const script = `s=$(date +%s%N); ${quoted} >/dev/null 2>&1; rc=$?; e=$(date +%s%N); echo "$rc $(( (e - s) / 1000 ))"; times`;
  const r = spawnSync('bash', ['-c', script], { cwd: ROOT, env, encoding: 'utf8' });
  const [status, children] = [r.stdout.split('\n')[0] ?? '', r.stdout.split('\n')[2] ?? ''];
  const [rc, micros] = status.split(' ').map(Number);
  if (rc !== 0) throw new Error(`node ${nodeArgs.join(' ')} exited ${rc}: ${r.stderr}`);
  const [user, sys] = children.trim().split(/\s+/).map(seconds);
  return { wallMs: (micros ?? NaN) / 1000, cpuMs: ((user ?? NaN) + (sys ?? NaN)) * 1000 };
}

function summarise(samples: readonly Sample[]): string {
  const sorted = (xs: number[]): number[] => [...xs].sort((a, b) => a - b);
  const wall = sorted(samples.map((s) => s.wallMs));
  const cpu = sorted(samples.map((s) => s.cpuMs));
  const median = (xs: number[]): number => xs[Math.floor(xs.length / 2)] ?? NaN;
  return `median ${median(wall).toFixed(0).padStart(5)} ms wall (min ${wall[0]!.toFixed(0).padStart(4)}), CPU ${median(cpu).toFixed(0).padStart(4)} ms`;
}

export default async function bench(): Promise<void> {
  ensureDist(ROOT);
  const base = { ...process.env, AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true' };
  const warmTmp = mkdtempSync(join(tmpdir(), 'rolemap-bench-tsx-'));
  const tsxEntry = join(ROOT, 'bench', 'startup-tsx-entry.js');
  const bin = join(ROOT, 'bin', 'rolemap.js');
  const commands: readonly (readonly [string, readonly string[]])[] = [
    ['--version', ['--version']],
    ['validate example', ['validate', '--config', EXAMPLE]],
  ];
  console.log(`${RUNS} runs each; load average ${loadavg().map((l) => l.toFixed(2)).join(' ')} on ${cpus().length} CPUs; node ${process.version}`);
  try {
    for (const [label, args] of commands) {
      once([tsxEntry, ...args], { ...base, TMPDIR: warmTmp }); // fills the warm cache
      const variants: readonly (readonly [string, () => Sample])[] = [
        ['before: tsx from source, warm cache', () => once([tsxEntry, ...args], { ...base, TMPDIR: warmTmp })],
        [
          'before: tsx from source, cold cache',
          () => {
            const cold = mkdtempSync(join(tmpdir(), 'rolemap-bench-tsx-cold-'));
            try {
              return once([tsxEntry, ...args], { ...base, TMPDIR: cold });
            } finally {
              rmSync(cold, { recursive: true, force: true });
            }
          },
        ],
        ['after:  dist/ with plain node', () => once([bin, ...args], base)],
        ['after:  dist/, --enable-source-maps', () => once(['--enable-source-maps', bin, ...args], base)],
      ];
      console.log(`\nrolemap ${label}`);
      for (const [name, fn] of variants) {
        const samples: Sample[] = [];
        for (let i = 0; i < RUNS; i += 1) samples.push(fn());
        console.log(`  ${name.padEnd(38)} ${summarise(samples)}`);
      }
    }
  } finally {
    rmSync(warmTmp, { recursive: true, force: true });
  }
  console.log(`\nload average after: ${loadavg().map((l) => l.toFixed(2)).join(' ')}`);
}
