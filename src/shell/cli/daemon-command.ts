import { chownSync, statSync } from 'node:fs';
import { resolve } from 'node:path';
import type { Command } from 'commander';
import { Daemon } from '../daemon/daemon.js';
import { ApprovalStore, LEGACY_FILES_WARNING, legacyApprovalFiles } from '../daemon/approvals.js';
import { JournalLockedError } from '../daemon/lock.js';
import { DaemonMetrics } from '../daemon/metrics.js';
import { fastLaneFor } from '../fast-lane/wiring.js';
import { runUntilSignalled } from '../daemon/process.js';
import { productionWiring, runFunctionFor } from '../daemon/wiring.js';
import type { DaemonWiring } from '../daemon/wiring.js';
import { EXIT, ExitError } from '../exit-codes.js';
import { createLogger } from '../logging.js';
import { configPathFrom } from '../config/index.js';
import { SecretScrubber } from './redacting-stream.js';
import { ArchiveMetrics, daemonArchive } from '../archive/index.js';


/** Registers `daemon` and `approve RUN`. */
// eslint-disable-next-line @typescript-eslint/no-explicit-any -- the wiring's config type is its own business
export function registerDaemon(program: Command, wiring: DaemonWiring<any> = productionWiring): void {
  program
    .command('daemon')
    .description('Reconcile on the config\'s schedule until SIGTERM/SIGINT (SIGHUP reloads the config); one daemon per journal.')
    .option('-c, --config <file>', 'config file (default: $ROLEMAP_CONFIG or ./rolemap.yaml)')
    .option('--grace <seconds>', 'after SIGTERM, how long the interrupted run may take to stop', '30')
    .option('--backoff <seconds>', 'after a failed run, skip scheduled runs for this long; doubles with each further failure', '60')
    .option('--backoff-max <seconds>', 'the longest backoff', '3600')
    .action(async (opts: { config?: string; grace: string; backoff: string; backoffMax: string }) => {
      const configPath = resolve(configPathFrom(opts.config));
      const seconds = (flag: string, v: string): number => {
        const n = Number(v);
        if (!Number.isFinite(n) || n < 0) throw new ExitError(EXIT.ERROR, `${flag} ${v}: expected a number of seconds`);
        return n;
      };
      const grace = seconds('--grace', opts.grace);
      const backoff = seconds('--backoff', opts.backoff);
      const backoffMax = seconds('--backoff-max', opts.backoffMax);
      // The log passes through the redactor, like everything the command line prints: free text from
      // outside (an AWS error message) could echo a secret; the runtime's bind password is added once resolved.
      const scrubber = new SecretScrubber(process.env);
      const log = createLogger({ level: 'info', destination: scrubber.wrap(process.stdout) });
      const metrics = new DaemonMetrics();
      // The fast lane and active/standby need a config to know whether they run; an invalid one fails in daemon.start() as before.
      const firstConfig: unknown = await wiring.loadConfig(configPath).catch(() => undefined);
      const ref: { daemon?: Daemon<unknown> } = {};
      // Active/standby (`ha`, read at start; a reload does not change it): the standby neither runs nor
      // applies; the active one's journal rows carry its lease, and each AWS mutation is fenced by it.
      const ha = firstConfig === undefined ? null : (wiring.haOf?.(firstConfig, { log, metrics, onActive: () => void ref.daemon?.trigger('takeover') }) ?? null);
      const runner = runFunctionFor(
        {
          ...wiring,
          createRuntime: async (config, context) => {
            const handle = await wiring.createRuntime(config, ha ? { ...context, fencing: () => ha.role.fencing() } : context);
            scrubber.add((handle.runtime as { readonly secrets?: readonly string[] }).secrets ?? []);
            return ha ? { ...handle, runtime: { ...handle.runtime, guard: ha.role.guard } } : handle;
          },
        },
        configPath,
      );
      // After each run the journal's new rows are shipped to journal.archive, in the background.
      const archive = daemonArchive<unknown>(wiring.archiveOf?.bind(wiring), { log, metrics: new ArchiveMetrics(metrics.registry) });
      const lane = firstConfig === undefined ? null : fastLaneFor(wiring, ha ? { current: () => (ha.role.active ? runner.current() : undefined), mutex: runner.mutex } : runner, { log, metrics, firstConfig });
      const daemon = new Daemon<unknown>({
        loadConfig: () => wiring.loadConfig(configPath),
        metrics,
        role: ha ? { gate: () => ha.role.gate(), status: () => ha.role.status() } : undefined,
        // The role loop stops last: a holder releases its lease once nothing of it runs any more.
        companions: [...(lane ? [lane] : []), ...(ha ? [ha.role] : [])],
        settingsOf: (c) => wiring.settingsOf(c),
        run: async (config, options, context) => {
          try {
            return await runner.run(config, options, context);
          } finally {
            archive.afterRun(config);
          }
        },
        log,
        options: { shutdownGraceMs: grace * 1000, backoffInitialMs: backoff * 1000, backoffMaxMs: Math.max(backoff, backoffMax) * 1000 },
        command: `rolemap daemon --config ${configPath}`,
        posture: wiring.posture,
        reviews: wiring.reviews,
      });
      ref.daemon = daemon;
      try {
        await runUntilSignalled(daemon);
      } catch (e) {
        if (e instanceof JournalLockedError) throw new ExitError(EXIT.LOCKED, `rolemap daemon: ${e.message}`, { cause: e });
        throw e;
      } finally {
        await archive.stop();
        await runner.close();
        ha?.close();
      }
    });

  program
    .command('approve')
    .description('Approve the refused plan of run RUN, by its hash; the daemon applies exactly that plan at its next run, unless the directory or AWS changed since.')
    .argument('<run>', 'the refused run\'s id (from /healthz or the daemon\'s log)')
    .option('-c, --config <file>', 'config file, for journal.path (default: $ROLEMAP_CONFIG or ./rolemap.yaml)')
    .option('--journal <file>', 'the journal file (instead of reading --config)')
    .action(async (run: string, opts: { config?: string; journal?: string }) => {
      const journal = resolve(opts.journal ?? wiring.settingsOf(await wiring.loadConfig(resolve(configPathFrom(opts.config)))).journalPath);
      for (const file of legacyApprovalFiles(journal)) process.stderr.write(`Warning: ${file}: ${LEGACY_FILES_WARNING}.\n`);
      const store = ApprovalStore.open(journal);
      let result: ReturnType<ApprovalStore['approve']>;
      try {
        result = store.approve(run);
      } finally {
        store.close();
        keepJournalFilesOwned(journal);
      }
      const { approval, plan, already } = result;
      const s = plan.summary;
      process.stdout.write(
        `${already ? 'Already approved' : 'Approved'} the plan of run ${approval.runId} (${approval.planHash}): ${plan.refusal?.code ?? 'not refused'}, ${plan.changes.length} changes ` +
          `(${s.add} to add, ${s.change} to change, ${s.destroy} to destroy, ${s.leavers} leavers), approved by ${approval.approvedBy} on ${approval.approver.host} at ${approval.approvedAt}.\n` +
          'The daemon applies exactly that plan at its next run, and refuses it if the directory or AWS no longer give exactly these changes.\n',
      );
    });
}

/**
 * `approve` is often run with sudo while the daemon runs as its own user: SQLite files this process
 * created beside the journal (-wal, -shm, when the daemon was not running) would be root's and
 * unreadable to the daemon. Give them the journal's owner.
 */
function keepJournalFilesOwned(journal: string): void {
  if (typeof process.getuid !== 'function' || process.getuid() !== 0) return;
  let owner: { uid: number; gid: number };
  try {
    owner = statSync(journal);
  } catch {
    return;
  }
  for (const f of [`${journal}-wal`, `${journal}-shm`]) {
    try {
      const st = statSync(f);
      if (st.uid !== owner.uid || st.gid !== owner.gid) chownSync(f, owner.uid, owner.gid);
    } catch {
      // absent (SQLite removes them when the last connection closes): nothing to do
    }
  }
}
