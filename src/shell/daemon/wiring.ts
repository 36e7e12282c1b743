/**
 * How the `daemon` and `approve` commands reach the rest of rolemap: loading a config file, seeing
 * the daemon's settings in it (`schedule`, `journal.path`, `daemon.*` -> DaemonSettings), and
 * building the runtime (`Runtime` of run-once) a run needs, with the default runtime factory.
 * Tests inject their own wiring.
 */
import type { Logger } from '../logging.js';
import type { Runtime, RunResult, RunOnceOptions } from '../reconcile/run-once.js';
import { runOnce } from '../reconcile/run-once.js';
import type { RunFunction } from './daemon.js';
import type { DaemonMetrics } from './metrics.js';
import type { DaemonSettings } from './settings.js';
import { loadConfig } from '../config/index.js';
import type { LoadedConfig } from '../config/index.js';
import { createRuntime } from '../reconcile/runtime.js';
import { postureFromConfig } from '../posture/from-config.js';
import type { PostureJob } from './posture-schedule.js';

export interface RuntimeHandle {
  readonly runtime: Runtime;
  /** Closes what the runtime opened (journal database, SDK clients). */
  close(): void | Promise<void>;
}

export interface DaemonWiring<C> {
  /** Loads and validates the config file; throws a typed error naming file, line and column. */
  loadConfig(path: string): Promise<C>;
  settingsOf(config: C): DaemonSettings;
  /** The runtime for a config; `log` is the daemon's logger, `metrics` gets the AWS throttle hook. */
  createRuntime(config: C, context: { readonly configPath: string; readonly log: Logger; readonly metrics: DaemonMetrics }): Promise<RuntimeHandle>;
  /** The posture report on `posture.schedule`; absent: none. */
  readonly posture?: PostureJob<C> | undefined;
}

export const productionWiring: DaemonWiring<LoadedConfig> = {
  loadConfig: async (path) => loadConfig(path),
  settingsOf: (config) => ({
    schedule: config.schedule,
    timezone: config.daemon.timezone,
    journalPath: config.journal.path,
    runAtStart: config.daemon.runAtStart,
    healthPort: config.daemon.healthPort,
    healthHost: config.daemon.healthHost,
    logLevel: config.daemon.logLevel,
  }),
  createRuntime: async (config, { log, metrics }) => {
    const runtime = await createRuntime(config, { log, onThrottleRetry: metrics.onThrottleRetry });
    return { runtime, close: () => runtime.close() };
  },
  posture: {
    scheduleOf: (config) => config.posture?.schedule ?? null,
    run: (config) => postureFromConfig(config, [], { journal: true, directory: true }),
  },
};

/**
 * The daemon's run function over a wiring: one runtime per loaded config (rebuilt after a SIGHUP
 * reload), each run with its own logger (bound to the run id) and a directory source that feeds
 * the directory metrics. `close()` releases the last runtime.
 */
export function runFunctionFor<C>(
  wiring: DaemonWiring<C>,
  configPath: string,
  run: (runtime: Runtime, options: RunOnceOptions) => Promise<RunResult> = runOnce,
): { run: RunFunction<C>; close(): Promise<void> } {
  let cached: { config: C; handle: RuntimeHandle } | undefined;
  const close = async (): Promise<void> => {
    const c = cached;
    cached = undefined;
    await c?.handle.close();
  };
  return {
    close,
    run: async (config, options, { log, metrics }) => {
      if (cached?.config !== config) {
        await close();
        cached = { config, handle: await wiring.createRuntime(config, { configPath, log, metrics }) };
      }
      const base = cached.handle.runtime;
      return run({ ...base, log, source: metrics.observeSource(base.source) }, options);
    },
  };
}
