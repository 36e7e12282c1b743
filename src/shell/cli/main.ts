/**
 * rolemap's command line. One top-level catch maps errors to exit codes (see ../exit-codes.ts).
 */
import { Command, CommanderError } from 'commander';
import { RolemapError } from '../../core/errors.js';
import { EXIT, ExitError } from '../exit-codes.js';
import { registerDaemon } from './daemon-command.js';
import { registerJournal } from './journal-command.js';
import { registerReconcile } from './reconcile-command.js';
import { registerValidate } from './validate-command.js';
import { VERSION } from '../version.js';

export function buildProgram(): Command {
  const program = new Command('rolemap')
    .description('Reconcile Active Directory groups into AWS federated IAM roles and IAM Identity Center.')
    .version(VERSION)
    .exitOverride()
    .showHelpAfterError();
  registerValidate(program);
  registerReconcile(program);
  registerJournal(program);
  registerDaemon(program);
  return program;
}

export async function main(argv: readonly string[]): Promise<number> {
  const program = buildProgram();
  try {
    await program.parseAsync([...argv], { from: 'user' });
    return typeof process.exitCode === 'number' ? process.exitCode : EXIT.OK;
  } catch (e) {
    if (e instanceof ExitError) {
      if (e.message !== '') process.stderr.write(`${e.message}\n`);
      return e.code;
    }
    if (e instanceof CommanderError) {
      return e.exitCode === 0 ? EXIT.OK : EXIT.ERROR;
    }
    if (e instanceof RolemapError) {
      process.stderr.write(`Error: ${e.message}\n`);
      return EXIT.ERROR;
    }
    process.stderr.write(`Internal error: ${e instanceof Error ? (e.stack ?? e.message) : String(e)}\n`);
    return EXIT.ERROR;
  }
}

if (import.meta.url === `file://${process.argv[1]}`) {
  process.exitCode = await main(process.argv.slice(2));
}
