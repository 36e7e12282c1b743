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
  const laneOf = wiring.fastLaneOf?.bind(wiring);
  if (!laneOf) return null;
  const log = context.log.child({ component: 'fast-lane' });
  // A config the lane cannot use yet (a bind password reference that does not resolve) is not fatal:
  // the full run reports it, and the lane tries again with each new runtime.
  const settingsOf = (config: C): ReturnType<typeof laneOf> | 'error' => {
    try {
      return laneOf(config);
    } catch (e) {
      log.error({ err: e }, 'leaver fast lane: cannot read directory changes with this config');
      return 'error';
    }
  };
  const checked = settingsOf(context.firstConfig);
  if (checked === null) {
    context.log.info({}, 'leaver fast lane off (LDIF directory or leavers.pollSeconds: 0)');
    return null;
  }
  const first = checked === 'error' ? { pollSeconds: 30 } : checked;
  // One lane runtime per daemon runtime (a SIGHUP reload builds a new one, and the lane starts its view afresh).
  let last: { runtime: Runtime; pollSeconds: number; lane: LaneRuntime | undefined } | undefined;
  const metrics = new FastLaneMetrics(context.metrics.registry);
  return new FastLane({
    log,
    metrics,
    mutex: runner.mutex,
    planner: context.planner,
    pollMs: () => (last?.pollSeconds ?? first.pollSeconds) * 1000,
    current: () => {
      const c = runner.current();
      if (c === undefined) return undefined;
      if (last?.runtime !== c.runtime) {
        const s = c.config === context.firstConfig && checked !== 'error' ? checked : settingsOf(c.config);
        const ok = s === 'error' || s === null ? undefined : s;
        last = { runtime: c.runtime, pollSeconds: ok?.pollSeconds ?? first.pollSeconds, lane: ok ? { runtime: c.runtime, cache: c.cache, reader: ok.reader } : undefined };
      }
      return last.lane;
    },
  });
}
