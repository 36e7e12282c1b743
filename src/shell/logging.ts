/**
 * rolemap's logger: pino, structured JSON lines to stdout (journald keeps them), one line per event.
 *
 * Secrets are redacted by key wherever they sit in a logged object (up to four levels deep), so a
 * config, an error's `cause` or an SDK request that carries a bind password, AWS keys, a session
 * token or an Authorization header never reaches the log. Redaction works on keys, not on text:
 * never interpolate a secret into a message string.
 */
import { pino } from 'pino';
import type { DestinationStream, Level, Logger } from 'pino';

export type { Logger } from 'pino';
export type LogLevel = Level | 'silent';
export const LOG_LEVELS: readonly LogLevel[] = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'];

/** Keys whose values are never logged, in the spellings rolemap's config, the SDK and HTTP use. */
export const SECRET_KEYS: readonly string[] = [
  'bindPassword',
  'password',
  'passwd',
  'secret',
  'secretAccessKey',
  'SecretAccessKey',
  'AWS_SECRET_ACCESS_KEY',
  'accessKeyId',
  'AccessKeyId',
  'AWS_ACCESS_KEY_ID',
  'sessionToken',
  'SessionToken',
  'AWS_SESSION_TOKEN',
  'x-amz-security-token',
  'authorization',
  'Authorization',
  'cookie',
  'credentials',
  'Credentials',
  'privateKey',
];

export const REDACTED = '[REDACTED]';

/** pino redact paths: each secret key at the top level and up to four levels down. */
export function redactPaths(keys: readonly string[] = SECRET_KEYS): string[] {
  const paths: string[] = [];
  for (const key of keys) {
    // Bracket notation so keys with dashes work too.
    const k = `["${key}"]`;
    paths.push(key.includes('-') ? k : key);
    for (let depth = 1; depth <= 4; depth++) paths.push(`${'*.'.repeat(depth).slice(0, -1)}${k}`);
  }
  return paths;
}

export interface LoggerOptions {
  readonly level?: LogLevel | undefined;
  /** Where lines go; stdout (synchronously, so nothing is lost at exit) when absent. Tests pass a stream. */
  readonly destination?: DestinationStream | undefined;
  /** Extra fields on every line. */
  readonly base?: Readonly<Record<string, unknown>> | undefined;
}

export function createLogger(options: LoggerOptions = {}): Logger {
  return pino(
    {
      name: 'rolemap',
      level: options.level ?? 'info',
      base: { pid: process.pid, ...(options.base ?? {}) },
      timestamp: pino.stdTimeFunctions.isoTime,
      formatters: { level: (label) => ({ level: label }) },
      redact: { paths: redactPaths(), censor: REDACTED },
      serializers: { err: pino.stdSerializers.err, error: pino.stdSerializers.err },
    },
    options.destination ?? pino.destination({ fd: 1, sync: true }),
  );
}

export function isLogLevel(value: string): value is LogLevel {
  return (LOG_LEVELS as readonly string[]).includes(value);
}
