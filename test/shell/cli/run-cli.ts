/** Runs the real CLI (`main`) with in-memory streams and an injected runtime. */
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import { main } from '../../../src/shell/cli/main.js';
import type { RuntimeFactory } from '../../../src/shell/reconcile/runtime.js';
import type { Runtime } from '../../../src/shell/reconcile/run-once.js';
import { MemoryLogger } from '../../support/fake-ports.js';

export interface CliRun {
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
}

export interface CliOptions {
  readonly env?: NodeJS.ProcessEnv;
  readonly stdinTTY?: boolean;
  readonly stdoutTTY?: boolean;
  /** Typed at the prompt. */
  readonly input?: string;
  readonly runtimeFactory?: RuntimeFactory;
}

function stream(isTTY: boolean): PassThrough & { isTTY: boolean } {
  return Object.assign(new PassThrough(), { isTTY });
}

export async function runCli(argv: readonly string[], opts: CliOptions = {}): Promise<CliRun> {
  const stdout = stream(opts.stdoutTTY ?? false);
  const stderr = stream(false);
  const stdin = stream(opts.stdinTTY ?? false);
  let out = '';
  let err = '';
  stdout.on('data', (d: Buffer) => (out += d.toString()));
  stderr.on('data', (d: Buffer) => (err += d.toString()));
  if (opts.input !== undefined) stdin.end(opts.input);
  const code = await main(argv, {
    stdout,
    stderr,
    stdin,
    env: opts.env ?? {},
    logger: () => new MemoryLogger(),
    ...(opts.runtimeFactory ? { runtimeFactory: opts.runtimeFactory } : {}),
  });
  return { code, stdout: out, stderr: err };
}

/** A factory that always hands out the same runtime (so state carries from one command to the next). */
export function fixedRuntime(runtime: Runtime): RuntimeFactory & { calls: number } {
  const factory = Object.assign(
    async () => {
      factory.calls += 1;
      return { ...runtime, close: async () => undefined };
    },
    { calls: 0 },
  );
  return factory;
}

export function writeConfig(text: string): string {
  const dir = mkdtempSync(join(tmpdir(), 'rolemap-cli-'));
  const file = join(dir, 'rolemap.yaml');
  writeFileSync(file, text);
  return file;
}
