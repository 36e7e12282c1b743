import type { Command } from 'commander';

/** Registers the `journal` command(s). */
export function registerJournal(_program: Command): void {
  // filled in by the journal work
}
