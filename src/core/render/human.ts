import type { Plan } from '../plan/change.js';

export interface RenderOptions {
  readonly color: boolean;
  /** Account id -> alias for addresses. */
  readonly accountAlias?: ((id: string) => string) | undefined;
}

/** The plan the way `terraform plan` prints it. */
export function renderPlan(_plan: Plan, _options: RenderOptions): string {
  throw new Error('not implemented yet');
}
