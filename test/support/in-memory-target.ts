/**
 * An in-memory AWS: a Map of resources that applies `Change`s the way the real targets must, with
 * the same refusals AWS gives (a name already taken, a delete while something still hangs on the
 * object, a membership for a user that does not exist), so a plan in the wrong order fails here too.
 * Used by the core's tests and by anyone who needs a Target without the emulator.
 */
import type { ActualState, ApplyOutcome, Change, Resource, ResourceKey, Target } from '../../src/core/index.js';
import { RESOURCE_KINDS, resourceKey } from '../../src/core/index.js';
import { references } from '../../src/core/plan/order.js';

const NAMED = new Set(['iam_role', 'identitystore_user', 'identitystore_group', 'sso_permission_set']);

export class InMemoryConflictError extends Error {
  readonly requestId: string;
  constructor(message: string, requestId: string) {
    super(message);
    this.name = 'InMemoryConflictError';
    this.requestId = requestId;
  }
}

export interface InMemoryTargetOptions {
  /** Make a change fail (the error is what the target throws). */
  readonly failOn?: ((change: Change) => boolean) | undefined;
  /** Milliseconds each apply waits, to make concurrency observable. */
  readonly delayMs?: number | undefined;
}

export class InMemoryTarget implements Target {
  readonly name = 'in-memory';
  readonly kinds = RESOURCE_KINDS;
  readonly resources = new Map<ResourceKey, Resource>();
  /** Every change applied, in the order it completed. */
  readonly applied: Change[] = [];
  inFlight = 0;
  maxInFlight = 0;
  #requests = 0;
  #ids = 0;

  constructor(
    initial: readonly Resource[] = [],
    readonly options: InMemoryTargetOptions = {},
  ) {
    for (const r of initial) this.resources.set(resourceKey(r), r);
  }

  async readActual(): Promise<ActualState> {
    return { resources: [...this.resources.values()], warnings: [] };
  }

  state(): ActualState {
    return { resources: [...this.resources.values()], warnings: [] };
  }

  async apply(change: Change): Promise<ApplyOutcome> {
    this.inFlight++;
    this.maxInFlight = Math.max(this.maxInFlight, this.inFlight);
    try {
      if (this.options.delayMs) await new Promise((r) => setTimeout(r, this.options.delayMs));
      const requestId = `req-${++this.#requests}`;
      if (this.options.failOn?.(change)) throw new InMemoryConflictError(`simulated failure of ${change.address}`, requestId);
      applyChange(this.resources, change, () => `mem-${++this.#ids}`, requestId);
      this.applied.push(change);
      return { requestIds: [requestId] };
    } finally {
      this.inFlight--;
    }
  }
}

/** Applies one change to a map of resources, refusing what AWS would refuse. */
export function applyChange(resources: Map<ResourceKey, Resource>, change: Change, newAwsId: () => string, requestId = 'req'): void {
  const fail = (why: string): never => {
    throw new InMemoryConflictError(`${change.action} ${change.address}: ${why}`, requestId);
  };
  const present = (key: ResourceKey): boolean => resources.has(key);
  switch (change.action) {
    case 'create': {
      const r = change.after ?? fail('create without after');
      if (present(change.key)) fail('already exists');
      if (NAMED.has(r.kind)) {
        for (const o of resources.values()) {
          if (o.kind === r.kind && o.account === r.account && o.name.toLowerCase() === r.name.toLowerCase()) fail(`name taken by ${resourceKey(o)}`);
        }
      }
      for (const ref of references(r.kind, r.id, r.dependsOn)) if (!present(ref)) fail(`needs ${ref}`);
      resources.set(change.key, { ...r, owned: true, awsId: newAwsId() } as Resource);
      return;
    }
    case 'update':
    case 'revoke':
    case 'disable': {
      const after = change.after ?? fail('no after');
      const beforeKey = change.before ? resourceKey(change.before) : change.key;
      const old = resources.get(beforeKey);
      if (old === undefined) {
        // A revocation policy that does not exist yet is put on the role.
        if (change.before !== null) fail('does not exist');
        for (const ref of references(after.kind, after.id, after.dependsOn)) if (!present(ref)) fail(`needs ${ref}`);
        resources.set(change.key, { ...after, owned: true, awsId: newAwsId() } as Resource);
        return;
      }
      if (NAMED.has(after.kind) && old.name.toLowerCase() !== after.name.toLowerCase()) {
        for (const [k, o] of resources) {
          if (k !== beforeKey && o.kind === after.kind && o.account === after.account && o.name.toLowerCase() === after.name.toLowerCase()) fail(`name taken by ${k}`);
        }
      }
      resources.delete(beforeKey);
      const owned = change.action === 'disable' ? old.owned : true;
      resources.set(change.key, { ...after, owned, awsId: old.awsId } as Resource);
      return;
    }
    case 'delete': {
      if (!present(change.key)) fail('does not exist');
      for (const [k, o] of resources) {
        if (k !== change.key && references(o.kind, o.id, o.dependsOn).includes(change.key)) fail(`${k} still depends on it`);
      }
      resources.delete(change.key);
      return;
    }
  }
}
