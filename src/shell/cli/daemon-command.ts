import type { Command } from 'commander';

/** Registers the `daemon` command(s). */
export function registerDaemon(_program: Command): void {
  // filled in by the daemon work
}
