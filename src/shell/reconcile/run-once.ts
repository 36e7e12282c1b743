/**
 * One reconciliation: read the directory and AWS, compute desired state and the plan, render and
 * journal it, and (unless dry run) apply it. The CLI's `reconcile` and the daemon both call this.
 * Everything it touches is injected, so tests run it with an LDIF source, the in-memory or
 * emulator-backed targets and a journal file.
 */
import type { Plan } from '../../core/plan/change.js';
import type { ApplyReport } from '../../core/apply/engine.js';
import type { DirectorySource, RunJournal, RunMode, RunOutcome, RunTrigger, Target } from '../../core/ports.js';
import type { RoleMap } from '../../core/model/role-map.js';

export interface Runtime {
  readonly roleMap: RoleMap;
  readonly source: DirectorySource;
  readonly targets: readonly Target[];
  /** Absent only in tests that do not journal. */
  readonly journal?: RunJournal | undefined;
  /** sha256 of the config file bytes, for the journal. */
  readonly configHash: string;
  readonly clock: () => Date;
  /** Structured logger (pino-compatible subset). */
  readonly log: RunLogger;
}

export interface RunLogger {
  info(obj: object, msg?: string): void;
  warn(obj: object, msg?: string): void;
  error(obj: object, msg?: string): void;
  child(bindings: object): RunLogger;
}

export interface RunOnceOptions {
  readonly mode: RunMode;
  readonly trigger: RunTrigger;
  /** Pre-assigned run id (the daemon assigns it so every log line carries it). */
  readonly runId?: string | undefined;
  readonly allowDeletes?: number | undefined;
  /** Operator approval of a refusal (daemon, `approve RUN`). */
  readonly approvedRefusal?: boolean | undefined;
  /** `--plan FILE`: apply exactly this plan, refusing when the actual state changed. */
  readonly savedPlan?: Plan | undefined;
  /** Asked before applying (TTY confirmation); absent means approved (auto-approve). */
  readonly confirm?: ((plan: Plan) => Promise<boolean>) | undefined;
  /** Stop: the AWS call in flight finishes, the rest are skipped, the run is interrupted. */
  readonly signal?: AbortSignal | undefined;
}

export interface RunResult {
  readonly runId: string;
  readonly plan: Plan;
  readonly report: ApplyReport | null;
  readonly outcome: RunOutcome;
}

export async function runOnce(_runtime: Runtime, _options: RunOnceOptions): Promise<RunResult> {
  throw new Error('not implemented yet');
}
