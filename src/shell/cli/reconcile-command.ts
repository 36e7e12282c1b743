import type { Command } from 'commander';

/** Registers the `reconcile` command(s). */
export function registerReconcile(_program: Command): void {
  // filled in by the reconcile work
}
