/**
 * `rolemap reconcile`: plan, show, confirm and apply, the way `terraform plan` / `terraform apply` do.
 *
 *   rolemap reconcile --dry-run              plan only; exit 2 when there are changes
 *   rolemap reconcile --dry-run --plan-out p save the plan for review
 *   rolemap reconcile --plan p               apply exactly that plan, refusing when AWS changed since
 *   rolemap reconcile                        plan, ask "yes" on a terminal, apply
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { createInterface } from 'node:readline/promises';
import { InvalidArgumentError, type Command } from 'commander';
import type { ChangeResult } from '../../core/apply/engine.js';
import { InvalidInputError } from '../../core/errors.js';
import type { RunMode } from '../../core/ports.js';
import type { Plan } from '../../core/plan/change.js';
import { renderPlan } from '../../core/render/human.js';
import { planHash } from '../../core/plan/plan-hash.js';
import { savedPlanFromJson, savedPlanToJson } from '../../core/render/json.js';
import { configPathFrom, loadConfig, type LoadedConfig } from '../config/index.js';
import { acquireJournalLock, type JournalLock } from '../daemon/lock.js';
import { assertWritable } from '../preflight/paths.js';
import { countChanges, leaverActions, leaverLine } from '../../core/render/summary.js';
import { EXIT, ExitError, type ExitCode } from '../exit-codes.js';
import { runOnce, type RunResult } from '../reconcile/run-once.js';
import { archiveFromConfig, shipAfterRun } from '../archive/index.js';
import { useColor, type CliContext } from './context.js';
import { CONFIG_OPTION_HELP } from './validate-command.js';

export interface ReconcileOptions {
  readonly config?: string | undefined;
  readonly dryRun?: boolean | undefined;
  readonly json?: boolean | undefined;
  readonly planOut?: string | undefined;
  readonly plan?: string | undefined;
  readonly autoApprove?: boolean | undefined;
  readonly allowDeletes?: number | undefined;
  readonly color: boolean;
}

function nonNegativeInt(value: string): number {
  if (!/^\d+$/.test(value)) throw new InvalidArgumentError('expected a whole number of deletions, e.g. 25');
  return Number(value);
}

export function registerReconcile(program: Command, ctx: CliContext): void {
  program
    .command('reconcile')
    .description('Plan the changes that bring AWS in line with AD and the role map, and apply them after confirmation.')
    .option('-c, --config <file>', CONFIG_OPTION_HELP)
    .option('--dry-run', 'only plan: show what would change and change nothing (exit 2 when there are changes)')
    .option('--json', 'print the plan as versioned JSON instead of the human rendering (messages go to stderr)')
    .option('--plan-out <file>', 'save the plan as JSON to FILE (apply it later with --plan FILE)')
    .option('--plan <file>', 'apply exactly the plan saved in FILE; refused (exit 4) when AWS changed since it was made')
    .option('--auto-approve', 'apply without asking (scripts, CI); without it a terminal asks, and no terminal refuses')
    .option('--allow-deletes <n>', 'accept a plan that deletes up to N objects past the safety threshold', nonNegativeInt)
    .option('--no-color', 'no colour in the plan (colour is only used on a terminal anyway, and never when NO_COLOR is set)')
    .action(async (opts: ReconcileOptions) => {
      const code = await reconcile(opts, ctx);
      if (code !== EXIT.OK) throw new ExitError(code);
    });
}

interface SavedPlanFile {
  readonly plan: Plan;
  readonly carriedHash: string | null;
}

function readSavedPlan(file: string): SavedPlanFile {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (e) {
    throw new InvalidInputError(`cannot read the saved plan ${file} (${(e as NodeJS.ErrnoException).code ?? String(e)})`, { cause: e });
  }
  try {
    return savedPlanFromJson(text, file);
  } catch (e) {
    throw new InvalidInputError(`${file} is not a usable rolemap plan: ${e instanceof Error ? e.message : String(e)}`, { cause: e });
  }
}

async function askYes(ctx: CliContext, out: NodeJS.WritableStream): Promise<boolean> {
  out.write(
    '\nDo you want to perform these actions?\n' +
      '  rolemap will perform the actions described above.\n' +
      "  Only 'yes' will be accepted to approve.\n\n",
  );
  const rl = createInterface({ input: ctx.stdin, output: out, terminal: false });
  try {
    out.write('  Enter a value: ');
    const answer = await new Promise<string>((resolve) => {
      rl.once('line', resolve);
      rl.once('close', () => resolve(''));
    });
    out.write('\n');
    return answer.trim() === 'yes';
  } finally {
    rl.close();
  }
}

function applySummary(result: RunResult): { line: string; failures: string[] } {
  const results: readonly ChangeResult[] = result.report?.results ?? [];
  const applied = results.filter((r) => r.status === 'applied').map((r) => r.change);
  const failed = results.filter((r) => r.status === 'failed');
  const skipped = results.filter((r) => r.status === 'skipped');
  // Counted in the plan's units (see core/render/summary.ts), so the two lines can be compared.
  const c = countChanges(applied);
  const extra = leaverActions(c);
  // The plan's leavers, when any step of theirs was applied (a shared revocation names no one leaver).
  const leaverSteps = applied.some((ch) => ch.leaver !== undefined || ch.action === 'revoke' || ch.action === 'disable');
  const leavers = leaverLine(applied, leaverSteps ? result.plan.summary.leavers : 0);
  const resources = `${c.add} added, ${c.change} changed, ${c.destroy} destroyed${extra === '' ? '' : `; ${extra}`}`;
  const line =
    (failed.length === 0 && skipped.length === 0 && result.outcome !== 'partial'
      ? `Apply complete! Resources: ${resources}.`
      : `Apply ${result.outcome === 'interrupted' ? 'interrupted' : 'incomplete'}: ${resources}; ${failed.length} failed, ${skipped.length} skipped.`) +
    (leavers === '' ? '' : ` ${leavers}.`);
  // Skipped changes that share a cause (an endpoint that stopped answering, one failed change many
  // depend on) are one line each cause, not one line each change.
  const byCause = new Map<string, ChangeResult[]>();
  for (const r of skipped) {
    const why = r.error ?? '';
    const list = byCause.get(why);
    if (list) list.push(r);
    else byCause.set(why, [r]);
  }
  const skippedLines = [...byCause].flatMap(([why, rs]) =>
    rs.length <= 3
      ? rs.map((r) => `  skipped  ${r.change.address}${why ? `: ${why}` : ''}`)
      : [`  skipped  ${rs.length} changes (${rs.slice(0, 2).map((r) => r.change.address).join(', ')}, ...)${why ? `: ${why}` : ''}`],
  );
  const failures = [
    ...failed.map((r) => `  failed   ${r.change.address}: ${r.error ?? 'unknown error'}`),
    ...skippedLines,
  ];
  return { line, failures };
}

/** The whole command, returning its exit code; errors propagate to main's one catch. */
export async function reconcile(opts: ReconcileOptions, ctx: CliContext): Promise<ExitCode> {
  const configPath = configPathFrom(opts.config, ctx.env);
  const config = loadConfig(configPath);
  const saved = opts.plan !== undefined ? readSavedPlan(opts.plan) : undefined;
  const dryRun = opts.dryRun === true;
  // Before reading AD or AWS: the journal (every run writes it, a dry run too) and --plan-out must be writable.
  assertWritable(config.journal.path, 'journal.path');
  if (opts.planOut !== undefined) assertWritable(opts.planOut, '--plan-out');
  const mode: RunMode = dryRun ? 'dry-run' : saved ? 'saved-plan' : 'apply';

  // Active/standby (`ha`): only the daemon that holds the S3 lease applies, and each of its AWS mutations
  // is fenced by that lease (src/shell/ha/). An apply from the command line holds no lease, so it could
  // race the active bastion's daemon or a standby taking over: refused before anything is read.
  if (!dryRun && config.ha !== undefined) {
    throw new ExitError(
      EXIT.ERROR,
      `Error: refusing to apply from the command line: ${configPath} has \`ha\` (lease s3://${config.ha.bucket}/${config.ha.key}), ` +
        'so only the daemon holding that lease applies, fenced by it. Review the plan here with --dry-run; the active daemon applies it on its schedule.',
    );
  }

  if (!dryRun && opts.autoApprove !== true && ctx.stdin.isTTY !== true) {
    throw new ExitError(
      EXIT.ERROR,
      'Error: refusing to apply without confirmation: standard input is not a terminal. ' +
        'Review the plan with --dry-run (or --plan-out FILE), then apply with --auto-approve (or --plan FILE --auto-approve).',
    );
  }

  // One rolemap applies per journal: an apply takes the journal's lock (the daemon holds it for its
  // whole life) before planning, so the plan it applies is not raced by another apply. Held by a
  // live process: JournalLockedError, exit 5 (main.ts). A dry run changes nothing and takes no lock.
  const lock = dryRun ? undefined : takeLock(config.journal.path, configPath, ctx);
  try {
    return await planAndApply(opts, ctx, config, saved, mode);
  } finally {
    // An apply's rows go to journal.archive once the apply is over (a dry run ships nothing).
    if (!dryRun) await shipToArchive(config, ctx);
    lock?.release();
  }
}

async function shipToArchive(config: LoadedConfig, ctx: CliContext): Promise<void> {
  const archive = archiveFromConfig(config);
  if (archive === null || config.journal.archive === undefined) return;
  try {
    const outcome = await shipAfterRun(config.journal.path, archive, config.journal.archive, { log: ctx.logger() });
    if (!outcome.ok) ctx.stderr.write(`Not archived: ${outcome.error}. The rows stay in the journal; the next run ships them.\n`);
  } finally {
    archive.destroy();
  }
}

function takeLock(journalPath: string, configPath: string, ctx: CliContext): JournalLock {
  return acquireJournalLock(journalPath, {
    command: `rolemap reconcile --config ${configPath}`,
    onStaleRecovered: (stale, why) =>
      ctx.stderr.write(`Recovered a stale journal lock: ${why} (taken by ${stale.command || 'an unknown command'} at ${stale.startedAt}).\n`),
  });
}

async function planAndApply(opts: ReconcileOptions, ctx: CliContext, config: LoadedConfig, saved: SavedPlanFile | undefined, mode: RunMode): Promise<ExitCode> {
  // Messages for people go to stderr when stdout carries JSON.
  const human = opts.json ? ctx.stderr : ctx.stdout;
  const color = useColor(ctx, opts.color && !opts.json);
  const controller = new AbortController();
  const onSignal = (): void => {
    ctx.stderr.write('\nInterrupt received: finishing the change in flight, skipping the rest.\n');
    controller.abort();
  };
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);

  const runtime = await ctx.runtimeFactory(config, { log: ctx.logger() });
  ctx.addSecrets?.(runtime.secrets ?? []);
  try {
    const result = await runOnce(runtime, {
      mode,
      trigger: 'cli',
      allowDeletes: opts.allowDeletes,
      savedPlan: saved?.plan,
      savedPlanHash: saved?.carriedHash,
      signal: controller.signal,
      onPlan: (plan, runId) => {
        // Serialised once when both --json and --plan-out want it (a plan of 100,000 users is large).
        // A plan handed out carries its hash, and the journal records it: `--plan FILE` applies only such a plan.
        const handedOut = opts.json === true || opts.planOut !== undefined;
        const json = handedOut ? `${savedPlanToJson(plan)}\n` : '';
        if (handedOut) runtime.journal?.recordSavedPlan(runId, planHash(plan), plan.changes.length);
        if (opts.json) ctx.stdout.write(json);
        // An apply that asks for nothing shows the plan as one line a change: it applies a plan already
        // read (a saved one, or the dry run before --auto-approve). A dry run and a prompt show it whole.
        else ctx.stdout.write(renderPlan(plan, { color, compact: mode !== 'dry-run' && (opts.autoApprove === true || saved !== undefined) }).replace(/\n*$/, '\n'));
        if (opts.planOut !== undefined) {
          writeFileSync(opts.planOut, json, { mode: 0o640 });
          human.write(`Saved the plan to ${opts.planOut}. Apply exactly this plan with: rolemap reconcile --plan ${opts.planOut}\n`);
        }
      },
      confirm: opts.autoApprove === true ? undefined : () => askYes(ctx, human),
    });

    if (result.outcome === 'refused') {
      const refusal = result.plan.refusal;
      ctx.stderr.write(`Plan refused: ${refusal?.message ?? 'the safety checks refused it'}\n`);
      if (refusal?.code === 'deletion-threshold') ctx.stderr.write('Review the deletions above; to accept them, re-run with --allow-deletes N.\n');
      return EXIT.REFUSED;
    }
    // Parts of AWS that could not be read were held (nothing planned there): said once each, exit 1.
    const unreadable = result.unreadable ?? [];
    for (const u of unreadable) ctx.stderr.write(`Not read: ${u.name}: ${u.reason}. Nothing was planned there; everything else went ahead.\n`);
    if (mode === 'dry-run' && unreadable.length > 0) return EXIT.ERROR;
    if (result.outcome === 'no-changes') return EXIT.OK;
    if (mode === 'dry-run') return EXIT.CHANGES;
    if (result.declined) {
      ctx.stderr.write('Apply cancelled.\n');
      return EXIT.ERROR;
    }
    const summary = applySummary(result);
    human.write(`${summary.line}\n`);
    for (const f of summary.failures) ctx.stderr.write(`${f}\n`);
    // An endpoint that stopped answering: the one line that says what happened, last.
    for (const u of result.report?.unavailable ?? []) ctx.stderr.write(`Stopped sending to AWS: ${u.cause.replace(/^not sent: /, '')}. ${u.changes} change${u.changes === 1 ? ' was' : 's were'} not sent; run again when it answers.\n`);
    return result.outcome === 'applied' ? EXIT.CHANGES : EXIT.ERROR;
  } finally {
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
    await runtime.close();
  }
}
