/**
 * The fast lane of a daemon: it works with the runtime the daemon's run function built (the same
 * journal, the same wrapped targets and their AWS state cache), holds the run function's mutex,
 * and feeds the daemon's metrics registry.
 */
import type { Logger } from '../logging.js';
import type { DaemonMetrics } from '../daemon/metrics.js';
import type { CurrentRuntime, DaemonWiring } from '../daemon/wiring.js';
import type { LeaverPlanner } from '../../core/fast-lane/plan-leavers.js';
import type { Runtime } from '../reconcile/run-once.js';
import { FastLane } from './fast-lane.js';
import type { LaneRuntime } from './fast-lane.js';
import { FastLaneMetrics } from './metrics.js';
import type { Mutex } from './mutex.js';

export interface LaneRunner<C> {
  current(): CurrentRuntime<C> | undefined;
  readonly mutex: Mutex;
}

/** The lane, or null when the first config has none (LDIF directory, `leavers.pollSeconds: 0`). */
export function fastLaneFor<C>(
  wiring: DaemonWiring<C>,
  runner: LaneRunner<C>,
  context: { readonly log: Logger; readonly metrics: DaemonMetrics; readonly firstConfig: C; readonly planner?: LeaverPlanner | undefined },
): FastLane | null {
  if (!wiring.fastLaneOf) return null;
  const first = wiring.fastLaneOf(context.firstConfig);
  if (first === null) {
    context.log.info({}, 'leaver fast lane off (LDIF directory or leavers.pollSeconds: 0)');
    return null;
  }
  // One lane runtime per daemon runtime (a SIGHUP reload builds a new one, and the lane starts its view afresh).
  let last: { runtime: Runtime; pollSeconds: number; lane: LaneRuntime | undefined } | undefined;
  const metrics = new FastLaneMetrics(context.metrics.registry);
  return new FastLane({
    log: context.log.child({ component: 'fast-lane' }),
    metrics,
    mutex: runner.mutex,
    planner: context.planner,
    pollMs: () => (last?.pollSeconds ?? first.pollSeconds) * 1000,
    current: () => {
      const c = runner.current();
      if (c === undefined) return undefined;
      if (last?.runtime !== c.runtime) {
        const s = c.config === context.firstConfig ? first : (wiring.fastLaneOf?.(c.config) ?? null);
        last = { runtime: c.runtime, pollSeconds: s?.pollSeconds ?? first.pollSeconds, lane: s ? { runtime: c.runtime, cache: c.cache, reader: s.reader } : undefined };
      }
      return last.lane;
    },
  });
}
