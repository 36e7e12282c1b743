/**
 * `rolemap daemon` as a real child process, watched from the outside: its JSON log lines, its exit.
 * For end-to-end tests and benches against the AWS emulator (`AWS_ENDPOINT_URL`).
 */
import { spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { join } from 'node:path';

const ROOT = join(import.meta.dirname, '..', '..');
export const BIN = join(ROOT, 'bin', 'rolemap.js');
export const CREDENTIALS = { accessKeyId: 'AKIDE2ETEST', secretAccessKey: 'e2e-secret-key' };

export interface DaemonProcess {
  readonly child: ChildProcess;
  readonly lines: Record<string, unknown>[];
  /** Everything the child wrote to stderr so far. */
  readonly stderr: () => string;
  readonly exited: Promise<number | null>;
  /** The health/metrics URL from the start line. */
  url(): string;
  /** Waits for `check`; fails at once if the daemon exits first, or on the timeout, with its stderr and last lines. */
  until(check: () => boolean, timeoutMs: number, what: string): Promise<void>;
  /** SIGTERM, then the exit code. */
  stop(): Promise<number | null>;
}

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

/** The child's environment: the SDK pointed at the emulator with dummy keys, nothing from the developer's machine. */
export function emulatorEnv(emulatorUrl: string, dir: string, extra: NodeJS.ProcessEnv = {}): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {
    ...process.env,
    AWS_ENDPOINT_URL: emulatorUrl,
    AWS_ACCESS_KEY_ID: CREDENTIALS.accessKeyId,
    AWS_SECRET_ACCESS_KEY: CREDENTIALS.secretAccessKey,
    AWS_REGION: 'us-east-1',
    AWS_MAX_ATTEMPTS: '2',
    AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true',
    AWS_CONFIG_FILE: join(dir, 'no-aws-config'),
    AWS_SHARED_CREDENTIALS_FILE: join(dir, 'no-aws-credentials'),
    ...extra,
  };
  delete env['AWS_PROFILE'];
  delete env['AWS_SESSION_TOKEN'];
  return env;
}

export function startDaemon(configPath: string, env: NodeJS.ProcessEnv, args: readonly string[] = ['--grace', '10']): DaemonProcess {
  const child = spawn(process.execPath, [BIN, 'daemon', '--config', configPath, ...args], { env, stdio: ['ignore', 'pipe', 'pipe'] });
  const lines: Record<string, unknown>[] = [];
  let buf = '';
  let err = '';
  child.stdout?.on('data', (d: Buffer) => {
    buf += d.toString('utf8');
    let i: number;
    while ((i = buf.indexOf('\n')) >= 0) {
      const line = buf.slice(0, i);
      buf = buf.slice(i + 1);
      try {
        lines.push(JSON.parse(line) as Record<string, unknown>);
      } catch {
        lines.push({ msg: line, unparsed: true });
      }
    }
  });
  child.stderr?.on('data', (d: Buffer) => (err += d.toString('utf8')));
  let exitCode: number | null | undefined;
  const exited = new Promise<number | null>((resolve) =>
    child.on('exit', (code, signal) => {
      exitCode = code ?? (signal ? -1 : null);
      resolve(code);
    }),
  );
  const explain = (): string =>
    `daemon pid ${child.pid}${exitCode !== undefined ? ` exited with ${exitCode}` : ' still running'}\n` +
    `stderr:\n${err.slice(-2_000) || '(empty)'}\nlast log lines:\n${lines.slice(-10).map((l) => JSON.stringify(l)).join('\n') || '(none)'}`;
  return {
    child,
    lines,
    stderr: () => err,
    exited,
    url: () => String(lines.find((l) => l['msg'] === 'rolemap daemon started')?.['health'] ?? ''),
    until: async (check, timeoutMs, what) => {
      const end = Date.now() + timeoutMs;
      while (!check()) {
        if (exitCode !== undefined) throw new Error(`the daemon exited while waiting for ${what}\n${explain()}`);
        if (Date.now() > end) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}\n${explain()}`);
        await sleep(20);
      }
    },
    stop: async () => {
      if (exitCode === undefined) child.kill('SIGTERM');
      return exited;
    },
  };
}
