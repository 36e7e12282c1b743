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
import { createChangeReader, createRuntime } from '../reconcile/runtime.js';
import type { DirectoryChangeReader } from '../fast-lane/fast-lane.js';
import { Mutex } from '../fast-lane/mutex.js';
import { StateCache } from '../fast-lane/state-cache.js';
import { postureFromConfig } from '../posture/from-config.js';
import type { PostureJob } from './posture-schedule.js';
import type { ReviewJob } from './review-schedule.js';
import { reviewCounts, startCampaignFromConfig } from '../review/from-config.js';
import { archiveFromConfig, type ArchiveTarget } from '../archive/index.js';
import { HaMetrics, haRoleFor } from '../ha/index.js';
import type { HaRole } from '../ha/index.js';

export interface RuntimeHandle {
  readonly runtime: Runtime;
  /** Closes what the runtime opened (journal database, SDK clients). */
  close(): void | Promise<void>;
}

export interface RuntimeContext {
  readonly configPath: string;
  readonly log: Logger;
  readonly metrics: DaemonMetrics;
  /** The lease held (active/standby), stamped on every journal row. */
  readonly fencing?: (() => { readonly epoch: number; readonly nodeId: string } | null) | undefined;
}

export interface DaemonWiring<C> {
  /** Loads and validates the config file; throws a typed error naming file, line and column. */
  loadConfig(path: string): Promise<C>;
  settingsOf(config: C): DaemonSettings;
  /** The runtime for a config; `log` is the daemon's logger, `metrics` gets the AWS throttle hook. */
  createRuntime(config: C, context: RuntimeContext): Promise<RuntimeHandle>;
  /** The active/standby role loop for a config (its `ha` section); null: a single daemon, always active. */
  haOf?(config: C, context: { readonly log: Logger; readonly metrics: DaemonMetrics; readonly onActive: () => void }): { readonly role: HaRole; close(): void } | null;
  /** The leaver fast lane for a config: how often it polls and what reads the directory's changes; null: no lane (LDIF, `pollSeconds: 0`). */
  fastLaneOf?(config: C): { readonly pollSeconds: number; readonly reader: DirectoryChangeReader } | null;
  /** The posture report on `posture.schedule`; absent: none. */
  readonly posture?: PostureJob<C> | undefined;
  /** Access review campaigns on `reviews.schedule`, and the pending / overdue counts; absent: none. */
  readonly reviews?: ReviewJob<C> | undefined;
  /** Where the journal is shipped after each run (`journal.archive`); null: not archived. */
  archiveOf?(config: C): ArchiveTarget | null;
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
  createRuntime: async (config, { log, metrics, fencing }) => {
    const runtime = await createRuntime(config, { log, onThrottleRetry: metrics.onThrottleRetry, fencing });
    return { runtime, close: () => runtime.close() };
  },
  fastLaneOf: (config) => {
    if (config.fastLane.pollSeconds === 0) return null;
    const reader = createChangeReader(config);
    return reader ? { pollSeconds: config.fastLane.pollSeconds, reader } : null;
  },
  haOf: (config, { log, metrics, onActive }) => {
    const ref: { role?: HaRole } = {};
    const made = haRoleFor(config, { log, metrics: new HaMetrics(metrics.registry, () => ref.role?.status()), onActive });
    if (made) ref.role = made.role;
    return made;
  },
  posture: {
    scheduleOf: (config) => config.posture?.schedule ?? null,
    run: (config) => postureFromConfig(config, [], { journal: true, directory: true }),
  },
  reviews: {
    scheduleOf: (config) => config.reviews?.schedule ?? null,
    start: (config) => startCampaignFromConfig(config, { now: new Date() }),
    counts: (config) => reviewCounts(config, new Date()),
  },
  archiveOf: (config) => {
    const archive = archiveFromConfig(config);
    return archive && config.journal.archive ? { journalPath: config.journal.path, archive, settings: config.journal.archive } : null;
  },
};

/** The runtime a run function last built, with its AWS state cache: what the fast lane works with. */
export interface CurrentRuntime<C> {
  readonly config: C;
  readonly runtime: Runtime;
  readonly cache: StateCache;
}

/**
 * The daemon's run function over a wiring: one runtime per loaded config (rebuilt after a SIGHUP
 * reload), each run with its own logger (bound to the run id) and a directory source that feeds
 * the directory metrics. `close()` releases the last runtime. Each run holds `mutex` (the fast lane
 * takes it too, so the two never apply at once), and the runtime's targets keep `current().cache`
 * up to date with what they read and apply.
 */
export function runFunctionFor<C>(
  wiring: DaemonWiring<C>,
  configPath: string,
  run: (runtime: Runtime, options: RunOnceOptions) => Promise<RunResult> = runOnce,
  mutex: Mutex = new Mutex(),
): { run: RunFunction<C>; close(): Promise<void>; current(): CurrentRuntime<C> | undefined; readonly mutex: Mutex } {
  let cached: { config: C; handle: RuntimeHandle; current: CurrentRuntime<C> } | undefined;
  const close = async (): Promise<void> => {
    const c = cached;
    cached = undefined;
    await c?.handle.close();
  };
  return {
    close,
    mutex,
    current: () => cached?.current,
    run: (config, options, { log, metrics }) =>
      mutex.runExclusive(async () => {
        if (cached?.config !== config) {
          await close();
          const handle = await wiring.createRuntime(config, { configPath, log, metrics });
          const cache = new StateCache();
          const runtime: Runtime = { ...handle.runtime, targets: cache.wrap(handle.runtime.targets, handle.runtime.clock) };
          cached = { config, handle, current: { config, runtime, cache } };
        }
        const base = cached.current.runtime;
        return run({ ...base, log, source: metrics.observeSource(base.source) }, options);
      }),
  };
}
