/**
 * A fake of the daemon's injected run function (the `runOnce` contract): it records each call and
 * does what the test scripts: finish after a delay, fail, throw, refuse, or stop when aborted the
 * way the apply engine does (the call in flight finishes, the run ends `interrupted`).
 */
import { createHash } from 'node:crypto';
import { Writable } from 'node:stream';
import type { Change, Plan, Refusal } from '../../../src/core/plan/change.js';
import type { ApplyReport } from '../../../src/core/apply/engine.js';
import type { RunOutcome } from '../../../src/core/ports.js';
import type { RunOnceOptions, RunResult } from '../../../src/shell/reconcile/run-once.js';
import type { RunContext, RunFunction } from '../../../src/shell/daemon/daemon.js';
import type { DaemonSettings } from '../../../src/shell/daemon/settings.js';
import { createLogger } from '../../../src/shell/logging.js';
import type { Logger } from '../../../src/shell/logging.js';

export interface TestConfig {
  readonly name: string;
  readonly settings: DaemonSettings;
}

export interface Step {
  readonly delayMs?: number;
  /** Outcome to report; `applied` by default. */
  readonly outcome?: RunOutcome;
  readonly throws?: string;
  readonly refusal?: Refusal;
  readonly actualDigest?: string;
  readonly changes?: number;
  /** Keep going past an abort (a run that does not stop). */
  readonly ignoreAbort?: boolean;
}

export interface Call {
  readonly config: TestConfig;
  readonly options: RunOnceOptions;
  readonly context: RunContext;
  aborted: boolean;
  finished: boolean;
}

export function change(seq: number, action: Change['action'] = 'create', kind: Change['kind'] = 'iam_role'): Change {
  return {
    seq,
    action,
    kind,
    key: `${kind}:111111111111/Role${seq}`,
    address: `${kind}.prod.Role${seq}`,
    account: '111111111111',
    before: null,
    after: null,
    diffs: [],
    reason: 'test',
    dependsOn: [],
  };
}

/** A plan as run-once makes them; `actualDigest` is a tag, turned into a well-formed digest. */
export function plan(changes: number, refusal: Refusal | null = null, actualDigest = 'digest-1', action: Change['action'] = 'create'): Plan {
  const digest = `sha256:${createHash('sha256').update(actualDigest).digest('hex')}`;
  const list = Array.from({ length: changes }, (_, i) => change(i + 1, action));
  return {
    formatVersion: 1,
    createdAt: '2026-01-01T00:00:00.000Z',
    ownerId: 'test',
    changes: list,
    warnings: [],
    refusal,
    actualDigest: digest,
    summary: { add: action === 'create' ? changes : 0, change: 0, destroy: action === 'delete' ? changes : 0, leavers: 0 },
  };
}

function report(p: Plan, outcome: RunOutcome): ApplyReport | null {
  if (outcome === 'refused' || outcome === 'planned' || outcome === 'no-changes') return null;
  const failed = outcome === 'failed' || outcome === 'partial' ? 1 : 0;
  const results = p.changes.map((c, i) => ({
    change: c,
    status: i < failed ? ('failed' as const) : outcome === 'interrupted' && i > 0 ? ('skipped' as const) : ('applied' as const),
    requestIds: [],
  }));
  return {
    results,
    applied: results.filter((r) => r.status === 'applied').length,
    failed: results.filter((r) => r.status === 'failed').length,
    skipped: results.filter((r) => r.status === 'skipped').length,
    interrupted: outcome === 'interrupted',
  };
}

export class FakeRun {
  readonly calls: Call[] = [];
  /** Steps taken in order; when none is left, `fallback` is used. */
  readonly steps: Step[] = [];
  fallback: Step = { changes: 0, outcome: 'no-changes' };
  /** The error a `throws` step throws (a plain Error by default). */
  throwsAs: (message: string) => Error = (m) => new Error(m);

  readonly run: RunFunction<TestConfig> = async (config, options, context) => {
    const call: Call = { config, options, context, aborted: false, finished: false };
    this.calls.push(call);
    const step = this.steps.shift() ?? this.fallback;
    context.log.info({ fake: true }, 'fake run working');
    if (step.delayMs) {
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, step.delayMs);
        options.signal?.addEventListener('abort', () => {
          call.aborted = true;
          if (!step.ignoreAbort) {
            clearTimeout(timer);
            // The call in flight finishes a moment later.
            setTimeout(resolve, 20);
          }
        });
      });
    }
    call.finished = true;
    if (step.throws) throw this.throwsAs(step.throws);
    const p = options.savedPlan ?? plan(step.changes ?? 1, step.refusal ?? null, step.actualDigest);
    const outcome: RunOutcome = call.aborted ? 'interrupted' : (step.outcome ?? (step.refusal ? 'refused' : p.changes.length === 0 ? 'no-changes' : 'applied'));
    const result: RunResult = { runId: options.runId ?? 'none', plan: p, report: report(p, outcome), outcome };
    return result;
  };
}

/** A logger whose JSON lines the test can read. */
export function captureLogger(): { log: Logger; lines: Record<string, unknown>[] } {
  const lines: Record<string, unknown>[] = [];
  const destination = new Writable({
    write(chunk: Buffer, _enc, cb) {
      for (const line of chunk.toString('utf8').split('\n')) if (line.trim() !== '') lines.push(JSON.parse(line) as Record<string, unknown>);
      cb();
    },
  });
  return { log: createLogger({ level: 'debug', destination }), lines };
}

export function settings(journalPath: string, over: Partial<DaemonSettings> = {}): DaemonSettings {
  return { schedule: '0 0 1 1 *', journalPath, runAtStart: false, healthPort: 0, logLevel: 'debug', ...over };
}

export const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

export async function waitFor(check: () => boolean, timeoutMs = 10_000, what = 'condition'): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await sleep(20);
  }
}
