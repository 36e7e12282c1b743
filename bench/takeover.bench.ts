/**
 * Takeover time (issue 16): two `rolemap daemon` processes (dist/) on one AWS emulator, one S3 lease
 * of `leaseSeconds` (3 s here, the schema's minimum; ROLEMAP_BENCH_LEASE to change), each with its own
 * journal. A trial SIGKILLs the active daemon and measures the seconds until the other logs that it is
 * active (it took the expired lease, epoch + 1), then restarts the killed one as the new standby.
 * The design bound is leaseSeconds + its margin (a sixth) + one renewal interval (a third): 4.5 s at 3 s.
 *
 *   npm run bench takeover                 (10 kills)
 *   ROLEMAP_BENCH_KILLS=3 npm run bench takeover
 */
import { loadavg } from 'node:os';
import buildDist from '../test/support/build-dist.js';
import { LEASE_SECONDS, becameActive, startHaWorld } from '../test/integration/ha-world.js';
import type { DaemonProcess } from '../test/support/daemon-process.js';

const num = (name: string, dflt: number): number => Number(process.env[name] ?? dflt);
const load = (): string => loadavg().map((l) => l.toFixed(2)).join(' ');

export default async function takeoverBench(): Promise<void> {
  const kills = num('ROLEMAP_BENCH_KILLS', 10);
  buildDist();
  const world = await startHaWorld();
  const up = async (d: DaemonProcess): Promise<void> => d.until(() => d.lines.some((l) => l['msg'] === 'active/standby: role loop started'), 30_000, 'the role loop');
  const seconds: number[] = [];
  const loads: string[] = [];
  try {
    const nodes: Record<string, DaemonProcess> = { a: world.start('a') };
    await up(nodes['a'] as DaemonProcess);
    await (nodes['a'] as DaemonProcess).until(() => becameActive(nodes['a'] as DaemonProcess) !== undefined, 30_000, 'the first active');
    const second = world.start('b');
    nodes['b'] = second;
    await up(second);
    let active = 'a';
    for (let i = 1; i <= kills; i++) {
      const standby = active === 'a' ? 'b' : 'a';
      const s = nodes[standby] as DaemonProcess;
      // Let the standby see a renewed lease first, as in steady state.
      await new Promise((r) => setTimeout(r, (LEASE_SECONDS * 1000) / 3 + 200));
      const victim = nodes[active] as DaemonProcess;
      const t0 = performance.now();
      victim.child.kill('SIGKILL');
      await s.until(() => becameActive(s) !== undefined, 60_000, `takeover ${i}`);
      const took = (performance.now() - t0) / 1000;
      seconds.push(took);
      loads.push(load());
      console.log(`takeover ${i}: ${took.toFixed(2)} s (${active} killed, ${standby} active; load ${load()})`);
      await victim.exited;
      const restarted = world.start(active);
      nodes[active] = restarted;
      await up(restarted);
      active = standby;
    }
  } finally {
    await world.close();
  }
  const sorted = [...seconds].sort((x, y) => x - y);
  const median = sorted.length % 2 === 1 ? (sorted[(sorted.length - 1) / 2] as number) : ((sorted[sorted.length / 2 - 1] as number) + (sorted[sorted.length / 2] as number)) / 2;
  const max = sorted[sorted.length - 1] ?? 0;
  const bound = LEASE_SECONDS * (1 + 1 / 6 + 1 / 3);
  console.log(`takeovers: ${seconds.length}, lease ${LEASE_SECONDS} s; median ${median.toFixed(2)} s, max ${max.toFixed(2)} s (bound leaseSeconds + margin + one renewal = ${bound.toFixed(2)} s, plus the S3 calls); load at the end ${load()}`);
}
