/**
 * IAM policy documents, compared by meaning rather than by text.
 *
 * AWS returns documents URL-encoded, with its own key order, and may turn a one-element list
 * into a string (or the reverse). `normalizePolicy` folds those differences away so that
 * a plan never shows drift that is only spelling.
 */

export type PolicyValue = string | number | boolean | null | PolicyValue[] | { [key: string]: PolicyValue };
export type PolicyDocument = { [key: string]: PolicyValue };

/** Keys whose value is a set: order and "string vs one-element list" carry no meaning. */
const SET_KEYS = new Set(['Action', 'NotAction', 'Resource', 'NotResource']);

function normalizeValue(value: PolicyValue, key: string | undefined, inCondition: boolean): PolicyValue {
  if (Array.isArray(value)) {
    const items = value.map((v) => normalizeValue(v, undefined, inCondition));
    if ((key !== undefined && SET_KEYS.has(key)) || inCondition || key === 'AWS' || key === 'Federated' || key === 'Service') {
      const unique = [...new Map(items.map((i) => [JSON.stringify(i), i])).values()];
      unique.sort((a, b) => (JSON.stringify(a) < JSON.stringify(b) ? -1 : 1));
      return unique.length === 1 ? (unique[0] as PolicyValue) : unique;
    }
    return items;
  }
  if (value !== null && typeof value === 'object') {
    const out: { [k: string]: PolicyValue } = {};
    for (const k of Object.keys(value).sort()) {
      out[k] = normalizeValue(value[k] as PolicyValue, k, inCondition || k === 'Condition');
    }
    return out;
  }
  return value;
}

/** A canonical form: sorted keys, set-valued fields as sorted unique lists (a single value unwrapped), Statement always a list. */
export function normalizePolicy(doc: PolicyDocument): PolicyDocument {
  const statement = doc['Statement'];
  const statements = statement === undefined ? [] : Array.isArray(statement) ? statement : [statement];
  const normalized = normalizeValue({ ...doc, Statement: null }, undefined, false) as PolicyDocument;
  const stmts = statements.map((s) => normalizeValue(s, undefined, false));
  stmts.sort((a, b) => (JSON.stringify(a) < JSON.stringify(b) ? -1 : 1));
  normalized['Statement'] = stmts;
  return normalized;
}

export function policiesEqual(a: PolicyDocument | null, b: PolicyDocument | null): boolean {
  if (a === null || b === null) return a === b;
  return JSON.stringify(normalizePolicy(a)) === JSON.stringify(normalizePolicy(b));
}

/** Pretty JSON of the canonical form, for line-by-line diffs in the plan. */
export function formatPolicy(doc: PolicyDocument): string {
  return JSON.stringify(normalizePolicy(doc), null, 2);
}
