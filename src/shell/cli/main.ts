/**
 * rolemap's command line. One top-level catch maps errors to exit codes (see ../exit-codes.ts):
 * a stale saved plan 4, a journal locked by another rolemap 5, any other error 1; commands end
 * with other codes by throwing ExitError.
 */
import { Command, CommanderError } from 'commander';
import { RolemapError } from '../../core/errors.js';
import { EXIT, ExitError } from '../exit-codes.js';
import { JournalLockedError } from '../daemon/lock.js';
import { SavedPlanRefusedError } from '../reconcile/errors.js';
import { processContext, type CliContext } from './context.js';
import { registerDaemon } from './daemon-command.js';
import { registerJournal } from './journal-command.js';
import { registerPosture } from './posture-command.js';
import { registerReconcile } from './reconcile-command.js';
import { registerReview } from './review-command.js';
import { registerValidate } from './validate-command.js';
import { SecretScrubber } from './redacting-stream.js';
import { VERSION } from '../version.js';

export function buildProgram(ctx: CliContext): Command {
  const program = new Command('rolemap')
    .description('Reconcile Active Directory groups into AWS federated IAM roles and IAM Identity Center.')
    .version(VERSION)
    .exitOverride()
    .configureOutput({ writeOut: (s) => ctx.stdout.write(s), writeErr: (s) => ctx.stderr.write(s) })
    .showHelpAfterError();
  registerValidate(program, ctx);
  registerReconcile(program, ctx);
  registerJournal(program, ctx);
  registerPosture(program, ctx);
  registerReview(program, ctx);
  registerDaemon(program);
  return program;
}

export async function main(argv: readonly string[], overrides: Partial<CliContext> = {}): Promise<number> {
  // Everything printed, logs included, goes through the redactor (secrets from the environment now, the runtime's later).
  const scrubber = new SecretScrubber(process.env, overrides.env ?? {});
  const ctx = processContext({
    ...overrides,
    stdout: scrubber.wrap(overrides.stdout ?? process.stdout),
    stderr: scrubber.wrap(overrides.stderr ?? process.stderr),
    addSecrets: (values) => scrubber.add(values),
  });
  const program = buildProgram(ctx);
  try {
    await program.parseAsync([...argv], { from: 'user' });
    return EXIT.OK;
  } catch (e) {
    if (e instanceof ExitError) {
      if (e.message !== '') ctx.stderr.write(`${e.message}\n`);
      return e.code;
    }
    if (e instanceof CommanderError) {
      return e.exitCode === 0 ? EXIT.OK : EXIT.ERROR;
    }
    if (e instanceof SavedPlanRefusedError) {
      ctx.stderr.write(`Error: ${e.message}\n`);
      return EXIT.STALE_PLAN;
    }
    if (e instanceof JournalLockedError) {
      ctx.stderr.write(`Error: ${e.message}\n`);
      return EXIT.LOCKED;
    }
    if (e instanceof RolemapError) {
      ctx.stderr.write(`Error: ${e.message}\n`);
      return EXIT.ERROR;
    }
    ctx.stderr.write(`Internal error: ${e instanceof Error ? (e.stack ?? e.message) : String(e)}\n`);
    return EXIT.ERROR;
  }
}

if (import.meta.url === `file://${process.argv[1]}`) {
  process.exitCode = await main(process.argv.slice(2));
}
