import type { Plan } from '../plan/change.js';

/** The plan as versioned, stable JSON (the same data as the human rendering). */
export function planToJson(_plan: Plan): string {
  throw new Error('not implemented yet');
}

/** Parse a saved plan; throws a clear error on a wrong format version or a malformed file. */
export function planFromJson(_text: string): Plan {
  throw new Error('not implemented yet');
}
