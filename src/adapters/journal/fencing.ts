/**
 * The highest lease epoch a journal recorded (schema 9's `runs.epoch`), so a daemon starting on it never
 * takes a lease with a lower epoch, even when the lease object was deleted. 0: none, no journal yet,
 * or a journal from before schema 9.
 */
import { openReadOnly } from './sqlite.js';

export function lastFencedEpoch(file: string): number {
  let db;
  try {
    db = openReadOnly(file);
  } catch {
    return 0;
  }
  try {
    const row = db.prepare('SELECT max(epoch) AS e FROM runs').get() as { e: number | null } | undefined;
    return row?.e ?? 0;
  } catch {
    return 0;
  } finally {
    db.close();
  }
}
