/**
 * What the commands need from the outside world, injected so tests drive the real CLI with
 * in-memory streams, fake ports and no process-wide state.
 */
import type { RunLogger } from '../reconcile/run-once.js';
import { createRuntime, type RuntimeFactory } from '../reconcile/runtime.js';
import { createLogger, isLogLevel } from '../logging.js';

export interface CliStreams {
  readonly stdout: NodeJS.WritableStream & { readonly isTTY?: boolean | undefined };
  readonly stderr: NodeJS.WritableStream & { readonly isTTY?: boolean | undefined };
  readonly stdin: NodeJS.ReadableStream & { readonly isTTY?: boolean | undefined };
}

export interface CliContext extends CliStreams {
  readonly env: NodeJS.ProcessEnv;
  readonly runtimeFactory: RuntimeFactory;
  /** Logger for runs started from the command line (JSON lines on stderr). */
  readonly logger: () => RunLogger;
  /** Secrets resolved while running (the bind password): masked from then on in everything printed. */
  readonly addSecrets?: ((values: readonly string[]) => void) | undefined;
}

/** The real process: its streams and environment, JSON logs (secrets redacted) on stderr at ROLEMAP_LOG_LEVEL (default warn). */
export function processContext(overrides: Partial<CliContext> = {}): CliContext {
  const env = overrides.env ?? process.env;
  const stderr = overrides.stderr ?? process.stderr;
  return {
    stdout: process.stdout,
    stderr,
    stdin: process.stdin,
    env,
    runtimeFactory: createRuntime,
    logger: () => {
      const level = env['ROLEMAP_LOG_LEVEL'];
      // Errors only by default: the plan already shows its warnings and main prints the error once;
      // ROLEMAP_LOG_LEVEL=info (or debug) adds the run's JSON log lines on stderr.
      return createLogger({ level: level !== undefined && isLogLevel(level) ? level : 'error', destination: stderr as NodeJS.WritableStream & { write(s: string): boolean } });
    },
    ...overrides,
  };
}

/** Colour only on a terminal, never when NO_COLOR is set to anything non-empty (no-color.org) or --no-color is given. */
export function useColor(ctx: Pick<CliContext, 'stdout' | 'env'>, flag: boolean): boolean {
  const noColor = ctx.env['NO_COLOR'];
  return flag && ctx.stdout.isTTY === true && (noColor === undefined || noColor === '');
}
