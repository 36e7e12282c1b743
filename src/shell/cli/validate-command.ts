import type { Command } from 'commander';

/** Registers the `validate` command(s). */
export function registerValidate(_program: Command): void {
  // filled in by the validate work
}
