/**
 * Signals for a daemon running as a process: SIGTERM/SIGINT stop it (exit 0 once the aborted run
 * has finished or the grace period is over), SIGHUP reloads the config. A second SIGTERM/SIGINT
 * while stopping exits at once.
 */
import type { Daemon } from './daemon.js';

export interface ProcessLike {
  on(signal: NodeJS.Signals, listener: () => void): unknown;
  off(signal: NodeJS.Signals, listener: () => void): unknown;
}

/** Starts the daemon and resolves with the exit code once it has stopped. */
export async function runUntilSignalled<C>(daemon: Daemon<C>, proc: ProcessLike = process, exit: (code: number) => void = (c) => process.exit(c)): Promise<number> {
  let stopping = false;
  let started = false;
  let stopWhenStarted: NodeJS.Signals | undefined;
  let resolveDone: (code: number) => void = () => undefined;
  const done = new Promise<number>((resolve) => {
    resolveDone = resolve;
  });
  const onStop = (signal: NodeJS.Signals) => (): void => {
    if (stopping) {
      daemon.log.warn({ signal }, 'second stop signal: exiting now');
      exit(0);
      return;
    }
    stopping = true;
    if (!started) {
      // Stop once start() is done, so nothing it sets up afterwards is left running.
      stopWhenStarted = signal;
      return;
    }
    stopNow(signal);
  };
  const stopNow = (signal: NodeJS.Signals): void => {
    void daemon.stop(signal).then(
      ({ graceful }) => {
        // Past the grace period the aborted run may still hold sockets open: exit regardless.
        if (!graceful) exit(0);
        // Otherwise let the event loop drain, but never hang on a stray handle.
        setTimeout(() => exit(0), 2_000).unref();
        resolveDone(0);
      },
      (e: unknown) => {
        daemon.log.error({ err: e }, 'error while stopping');
        resolveDone(0);
      },
    );
  };
  const term = onStop('SIGTERM');
  const int = onStop('SIGINT');
  const hup = (): void => {
    daemon.log.info({ signal: 'SIGHUP' }, 'reloading the config');
    void daemon.reload();
  };
  proc.on('SIGTERM', term);
  proc.on('SIGINT', int);
  proc.on('SIGHUP', hup);
  try {
    await daemon.start();
  } catch (e) {
    proc.off('SIGTERM', term);
    proc.off('SIGINT', int);
    proc.off('SIGHUP', hup);
    throw e;
  }
  started = true;
  if (stopWhenStarted) stopNow(stopWhenStarted);
  const code = await done;
  proc.off('SIGTERM', term);
  proc.off('SIGINT', int);
  proc.off('SIGHUP', hup);
  return code;
}
