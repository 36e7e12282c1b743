/**
 * What the daemon needs from the config, as a small interface of its own: the config loader's
 * `schedule`, `journal.path` and `daemon: {runAtStart, healthPort, logLevel}` map onto it, so the
 * daemon does not depend on the loader's exact types.
 */
import cron from 'node-cron';
import { InvalidInputError } from '../../core/errors.js';
import { isLogLevel } from '../logging.js';
import type { LogLevel } from '../logging.js';

export interface DaemonSettings {
  /** Cron expression, 5 fields (minute precision) or 6 (seconds first), as node-cron reads it. */
  readonly schedule: string;
  /** IANA time zone for the schedule; the host's when absent. */
  readonly timezone?: string | undefined;
  /** The journal file; the lock and the refusal/approval files sit next to it. */
  readonly journalPath: string;
  /** Run once as soon as the daemon starts, before the first scheduled time. */
  readonly runAtStart: boolean;
  /** Port of the health/metrics listener on 127.0.0.1; 0 picks a free one (tests); null: no listener. */
  readonly healthPort: number | null;
  /** Address of the listener; 127.0.0.1 unless a deployment really needs otherwise. */
  readonly healthHost?: string | undefined;
  readonly logLevel: LogLevel;
}

/** Checks settings that the config loader may not have checked; throws InvalidInputError naming the field. */
export function checkSettings(s: DaemonSettings): DaemonSettings {
  const problems: string[] = [];
  const v = cron.validateDetailed(s.schedule);
  if (!v.valid) problems.push(`schedule "${s.schedule}" is not a cron expression: ${v.errors.map((e) => `${e.field}: ${e.message}`).join('; ')}`);
  if (s.journalPath.trim() === '') problems.push('journal.path is empty');
  if (s.healthPort !== null && (!Number.isInteger(s.healthPort) || s.healthPort < 0 || s.healthPort > 65535)) problems.push(`daemon.healthPort ${s.healthPort} is not a TCP port (0-65535)`);
  if (!isLogLevel(s.logLevel)) problems.push(`daemon.logLevel "${String(s.logLevel)}" is not one of fatal, error, warn, info, debug, trace, silent`);
  if (problems.length > 0) throw new InvalidInputError(`daemon settings: ${problems.join('; ')}`);
  return s;
}
