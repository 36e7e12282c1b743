/**
 * One measurement of the core bench in a process of its own (so each size starts from an empty heap
 * and its peak RSS is its own): builds the fixture of N people, lets the fixture's garbage go, then
 * times computeDesired + calculatePlan and prints one JSON line. Run by bench/core.bench.ts:
 *   node --import tsx bench/core-worker.ts N
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { calculatePlan, computeDesired } from '../src/core/index.js';
import { NOW, generate, lastRun, writeJournal } from './core-fixture.js';

/** A full collection before measuring, so the fixture's garbage does not count (bench runs without --expose-gc). */
function collectGarbage(): void {
  setFlagsFromString('--expose-gc');
  (runInNewContext('gc') as () => void)();
}

/**
 * Peak RSS of what runs after this call: Linux lets a process reset its high-water mark (VmHWM) to its
 * current RSS (`/proc/self/clear_refs`, value 5). Returns a reader of the peak since the reset, or null
 * where that is not possible.
 */
function resetPeakRss(): (() => number) | null {
  try {
    writeFileSync('/proc/self/clear_refs', '5');
    return () => Number(/VmHWM:\s+(\d+) kB/.exec(readFileSync('/proc/self/status', 'utf8'))?.[1] ?? Number.NaN) * 1024;
  } catch {
    return null;
  }
}

/** Full collections until the RSS stops falling (by less than 1 MB over 250 ms), at most ~5 s. */
async function settle(): Promise<void> {
  let last = Number.POSITIVE_INFINITY;
  for (let i = 0; i < 20; i++) {
    collectGarbage();
    await sleep(250);
    const rss = process.memoryUsage.rss();
    if (last - rss < 1048576) return;
    last = rss;
  }
}

const size = Number(process.argv[2] ?? '100000');
if (process.argv[3] === '--journal') {
  // The last run, in a process of its own: writes its journal and exits.
  writeJournal(size, generate(size).roleMap, process.argv[4] ?? '');
  process.exit(0);
}
const g0 = performance.now();
// The journal the last run left, in a folder only this user can read (mkdtemp: 0700).
const journalDir = mkdtempSync(join(tmpdir(), 'rolemap-core-bench-journal-'));
const journalFile = join(journalDir, 'journal.db');
const wrote = spawnSync(process.execPath, [...process.execArgv, process.argv[1] ?? '', String(size), '--journal', journalFile], { stdio: 'inherit' });
if (wrote.status !== 0) throw new Error(`writing the last run's journal failed: exit ${String(wrote.status ?? wrote.signal)}`);
const { users, groups, roleMap } = generate(size);
const snapshot = { source: 'bench', users, groups };
// Last run: AWS as it left it, and the journal's history (yesterday everyone was active: today's disabled users are leavers).
const { actual, history, close } = lastRun(size, roleMap, journalFile);
const fixtureMs = performance.now() - g0;
// V8 hands the fixture's freed pages back to the OS from a background thread, over a second or so: collect
// and wait until the RSS stops falling, so that "rss before" and the peak count the inputs, not the
// fixture's garbage still on its way out (at 100,000 users one 300 ms wait left ~40 MB of it).
await settle();
const peakSinceReset = resetPeakRss();
// What the inputs hold, after the fixture's garbage is gone: the JavaScript heap in use and committed.
const before = process.memoryUsage();
const rssBefore = before.rss;

const c0 = process.cpuUsage();
// The measured window on the clock a --cpu-prof profile's timestamps use (µs), for reading only its samples.
const window0 = process.hrtime.bigint() / 1000n;
const t0 = performance.now();
const desired = computeDesired(snapshot, roleMap, NOW, history);
const t1 = performance.now();
const cDesired = process.cpuUsage(c0);
// The peak so far (computeDesired's), read outside the clock.
const peakDesired = peakSinceReset?.() ?? Number.NaN;
const t1b = performance.now();
const plan = calculatePlan({ desired, actual, roleMap, now: NOW, approvedRefusal: true });
const t2 = performance.now();
const window1 = process.hrtime.bigint() / 1000n;
const cpu = process.cpuUsage(c0);
const peak = peakSinceReset?.() ?? process.resourceUsage().maxRSS * 1024;
const after = process.memoryUsage();
// What stays reachable once planning is done (the desired state and the plan, beside the inputs).
collectGarbage();
const retained = process.memoryUsage();
// ROLEMAP_BENCH_DUMP=FILE writes the plan (changes, warnings, summary, refusal) as JSON, after the clock
// stopped: an optimisation must leave it byte for byte the same (compare two runs with cmp).
const dump = process.env['ROLEMAP_BENCH_DUMP'];
if (dump !== undefined && dump !== '') {
  writeFileSync(dump, JSON.stringify({ changes: plan.changes, warnings: plan.warnings, summary: plan.summary, refusal: plan.refusal, entitlements: [...desired.entitlements], leavers: desired.leavers, movers: desired.movers }));
}
close();
rmSync(journalDir, { recursive: true, force: true });
const mb = (n: number): number => Math.round(n / 1048576);
const ms = (c: NodeJS.CpuUsage): number => (c.user + c.system) / 1000;

console.log(
  JSON.stringify({
    size,
    groups: groups.length,
    memberships: groups.reduce((n, g) => n + g.members.length, 0),
    desiredResources: desired.resources.length,
    entitlements: desired.entitlements.length,
    actualResources: actual.resources.length,
    changes: plan.changes.length,
    leavers: plan.summary.leavers,
    fixtureMs: Math.round(fixtureMs),
    desiredWallMs: Math.round(t1 - t0),
    desiredCpuMs: Math.round(ms(cDesired)),
    planWallMs: Math.round(t2 - t1b),
    planCpuMs: Math.round(ms(cpu) - ms(cDesired)),
    wallMs: Math.round(t2 - t1b + (t1 - t0)),
    cpuMs: Math.round(ms(cpu)),
    rssBeforeMb: Math.round(rssBefore / 1048576),
    peakRssMb: Math.round(peak / 1048576),
    peakAfterDesiredMb: Math.round(peakDesired / 1048576),
    peakIsolated: peakSinceReset !== null,
    heapUsedBeforeMb: mb(before.heapUsed),
    heapTotalBeforeMb: mb(before.heapTotal),
    heapUsedAfterMb: mb(after.heapUsed),
    heapRetainedMb: mb(retained.heapUsed),
    windowUs: [Number(window0), Number(window1)],
  }),
);
