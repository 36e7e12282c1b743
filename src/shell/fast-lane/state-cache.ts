/**
 * The AWS state last known, for the fast lane: each target's last full read, with every change
 * applied since (by a full run or by the lane) written over it. Wrapping the targets is all it
 * takes: `readActual` replaces a target's part, a successful `apply` puts the change's `after` in
 * place of its `before` (or removes it for a delete). The AWS ids a create returns (`detail.userId`
 * of a new Identity Center user) are kept; other new objects carry no id until the next full read,
 * and a target looks them up when it needs one.
 *
 * What a read could not see (`ActualState.unreadable`: an account whose credentials failed, Identity
 * Center down) stays unreadable until the next read of that target: the lane's plan then holds every
 * change there, as a full run's does, instead of acting on a part of AWS nobody saw.
 */
import type { Resource, ResourceKey } from '../../core/model/resources.js';
import { resourceKey } from '../../core/model/resources.js';
import type { RoleMap } from '../../core/model/role-map.js';
import type { ActualState, UnreadableScope } from '../../core/model/state.js';
import type { Change } from '../../core/plan/change.js';
import type { ApplyOutcome, Target } from '../../core/ports.js';

export class StateCache {
  readonly #parts = new Map<string, { resources: Map<ResourceKey, Resource>; warnings: readonly string[]; unreadable: readonly UnreadableScope[] }>();
  #readAt: Date | undefined;

  /** Every target's last read, merged; null until each wrapped target has been read once. */
  actual(targets: readonly Target[]): ActualState | null {
    const resources: Resource[] = [];
    const warnings: string[] = [];
    const unreadable: UnreadableScope[] = [];
    for (const t of targets) {
      const part = this.#parts.get(t.name);
      if (part === undefined) return null;
      resources.push(...part.resources.values());
      warnings.push(...part.warnings);
      unreadable.push(...part.unreadable);
    }
    return { resources, warnings, ...(unreadable.length > 0 ? { unreadable } : {}) };
  }

  /** When the last full read finished (for logs). */
  get readAt(): Date | undefined {
    return this.#readAt;
  }

  /**
   * The targets, observed: their reads and applies keep this cache current. Everything else a target
   * has (optional port methods included) is forwarded to it unchanged, bound to the target.
   */
  wrap(targets: readonly Target[], clock: () => Date = () => new Date()): Target[] {
    return targets.map((t) => {
      const readActual = async (roleMap: RoleMap): Promise<ActualState> => {
        const state = await t.readActual(roleMap);
        this.#parts.set(t.name, { resources: new Map(state.resources.map((r) => [resourceKey(r), r])), warnings: state.warnings, unreadable: state.unreadable ?? [] });
        this.#readAt = clock();
        return state;
      };
      const apply = async (change: Change, signal?: AbortSignal): Promise<ApplyOutcome> => {
        const outcome = await t.apply(change, signal);
        this.#applied(t.name, change, outcome);
        return outcome;
      };
      return new Proxy(t, {
        get(target, prop) {
          if (prop === 'readActual') return readActual;
          if (prop === 'apply') return apply;
          const v: unknown = Reflect.get(target, prop, target);
          return typeof v === 'function' ? (v as (...a: unknown[]) => unknown).bind(target) : v;
        },
      });
    });
  }

  #applied(target: string, change: Change, outcome: ApplyOutcome): void {
    const part = this.#parts.get(target);
    if (part === undefined) return;
    if (change.after === null) {
      part.resources.delete(change.key);
      return;
    }
    const before = part.resources.get(change.key);
    const awsId = change.after.awsId ?? before?.awsId ?? (change.kind === 'identitystore_user' ? outcome.detail?.['userId'] : undefined);
    part.resources.set(change.key, { ...change.after, owned: true, ...(awsId !== undefined ? { awsId } : {}) } as Resource);
  }
}
