/**
 * The plan as versioned, stable JSON: keys sorted at every level, changes in seq order, so the same
 * plan always gives the same bytes (golden tests, `--plan-out`, the journal). `planFromJson` reads it
 * back and validates it before anything may apply it.
 */
import { z } from 'zod';
import { InvalidInputError } from '../errors.js';
import { RESOURCE_KINDS } from '../model/resources.js';
import { ACTIONS } from '../plan/action.js';
import { canonicalJson } from '../plan/canonical-json.js';
import type { Plan } from '../plan/change.js';
import { PLAN_FORMAT_VERSION } from '../plan/change.js';
import { PLAN_HASH, planHash } from '../plan/plan-hash.js';

export function planToJson(plan: Plan): string {
  return `${canonicalJson(plan, 2)}\n`;
}

/**
 * The plan as it is handed out to be applied later (`--plan-out`, `--json`): its JSON plus `planHash`,
 * the sha256 of the plan's canonical form without that field. The journal records the same hash.
 */
export function savedPlanToJson(plan: Plan): string {
  return `${canonicalJson({ ...plan, planHash: planHash(plan) }, 2)}\n`;
}

const kind = z.enum(RESOURCE_KINDS);
const action = z.enum(Object.keys(ACTIONS) as [keyof typeof ACTIONS, ...(keyof typeof ACTIONS)[]]);
const principal = z.strictObject({ guid: z.string(), name: z.string() });
const leaverReason = z.enum(['disabled', 'expired', 'removed-from-groups', 'deleted-from-ad']);

const resource = z.strictObject({
  kind,
  id: z.string().min(1),
  account: z.string(),
  name: z.string(),
  // Attributes are checked per kind by the targets that apply them; here they must be an object.
  attrs: z.record(z.string(), z.unknown()),
  owned: z.boolean(),
  awsId: z.string().optional(),
  principal: principal.optional(),
  dependsOn: z.array(z.string()).optional(),
});

const change = z.strictObject({
  seq: z.number().int().positive(),
  action,
  kind,
  key: z.string().min(1),
  address: z.string().min(1),
  account: z.string(),
  before: resource.nullable(),
  after: resource.nullable(),
  diffs: z.array(z.strictObject({ name: z.string(), type: z.enum(['scalar', 'set', 'policy', 'policyMap', 'stringMap']), before: z.unknown(), after: z.unknown() })),
  reason: z.string(),
  principal: principal.optional(),
  replace: z.literal(true).optional(),
  leaver: z.strictObject({ guid: z.string(), name: z.string(), reason: leaverReason }).optional(),
  dependsOn: z.array(z.number().int().positive()),
});

const planSchema = z.strictObject({
  formatVersion: z.literal(PLAN_FORMAT_VERSION),
  createdAt: z.iso.datetime(),
  ownerId: z.string().min(1),
  changes: z.array(change),
  warnings: z.array(z.string()),
  refusal: z.strictObject({ code: z.enum(['deletion-threshold', 'directory-too-small']), message: z.string() }).nullable(),
  actualDigest: z.string().regex(/^sha256:[0-9a-f]{64}$/),
  summary: z.strictObject({ add: z.number().int().nonnegative(), change: z.number().int().nonnegative(), destroy: z.number().int().nonnegative(), leavers: z.number().int().nonnegative() }),
  /** Written by `savedPlanToJson`; not part of the plan (the hash is of the plan without it). */
  planHash: z.string().regex(PLAN_HASH).optional(),
});

/** Parse a saved plan; throws `InvalidInputError` naming the field on a wrong format version or a malformed file. */
export function planFromJson(text: string, source = 'plan'): Plan {
  return savedPlanFromJson(text, source).plan;
}

/** A saved plan and the `planHash` it carries (null when it carries none), validated as `planFromJson` does. */
export function savedPlanFromJson(text: string, source = 'plan'): { plan: Plan; carriedHash: string | null } {
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (cause) {
    throw new InvalidInputError(`${source}: not a rolemap plan: ${(cause as Error).message}`, { cause });
  }
  const version = (raw as { formatVersion?: unknown } | null)?.formatVersion;
  if (typeof raw === 'object' && raw !== null && version !== PLAN_FORMAT_VERSION) {
    throw new InvalidInputError(`${source}: plan format version ${JSON.stringify(version)} is not supported (this rolemap reads version ${PLAN_FORMAT_VERSION})`);
  }
  const parsed = planSchema.safeParse(raw);
  if (!parsed.success) {
    const issues = parsed.error.issues.slice(0, 5).map((i) => `${i.path.length > 0 ? i.path.join('.') : '(top level)'}: ${i.message}`);
    throw new InvalidInputError(`${source}: not a valid rolemap plan: ${issues.join('; ')}`, { cause: parsed.error });
  }
  const { planHash: carried, ...data } = parsed.data;
  const plan = data as unknown as Plan;
  plan.changes.forEach((c, i) => {
    if (c.seq !== i + 1) throw new InvalidInputError(`${source}: changes.${i}.seq is ${c.seq}, expected ${i + 1} (changes must be numbered in order)`);
    for (const d of c.dependsOn) {
      if (d >= c.seq) throw new InvalidInputError(`${source}: changes.${i}.dependsOn names #${d}, which does not come before #${c.seq}`);
    }
  });
  return { plan, carriedHash: carried ?? null };
}
