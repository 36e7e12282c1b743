/**
 * The IAM policy grammar (https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_grammar.html),
 * shared by every service of the emulator that accepts a policy document: IAM's role trust and inline
 * policies, and a permission set's inline policy in SSO Admin.
 *
 * A document is a JSON object with a `Statement` (one statement or a list), an optional `Version`
 * of `2012-10-17` or `2008-10-17` (reference_policies_elements_version.html), and statements with
 * `Effect` Allow/Deny and `Action` or `NotAction`. A permissions policy's statements also need
 * `Resource` or `NotResource` and may not name a principal; a trust policy's need `Principal` (or
 * `NotPrincipal`) and may not name a resource. The messages are the ones IAM answers.
 */

export type PolicyKind = 'permissions' | 'trust';

export type GrammarResult = { readonly ok: true; readonly doc: Record<string, unknown> } | { readonly ok: false; readonly message: string };

export function checkPolicyGrammar(text: string, kind: PolicyKind): GrammarResult {
  const fail = (message: string): GrammarResult => ({ ok: false, message });
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    return fail('Syntax errors in policy.');
  }
  if (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed)) return fail('Syntax errors in policy.');
  const doc = parsed as Record<string, unknown>;
  const version = doc['Version'];
  if (version !== undefined && version !== '2012-10-17' && version !== '2008-10-17') return fail('The policy failed legacy parsing');
  const st = doc['Statement'];
  if (st === undefined || st === null || typeof st !== 'object') return fail('Syntax errors in policy.');
  const statements = Array.isArray(st) ? (st as unknown[]) : [st];
  if (statements.length === 0) return fail('Syntax errors in policy.');
  for (const raw of statements) {
    if (raw === null || typeof raw !== 'object' || Array.isArray(raw)) return fail('Syntax errors in policy.');
    const s = raw as Record<string, unknown>;
    const effect = s['Effect'];
    if (effect === undefined) return fail('Missing required field Effect');
    if (effect !== 'Allow' && effect !== 'Deny') return fail(`Invalid effect: ${String(effect)}`);
    if (s['Action'] === undefined && s['NotAction'] === undefined) return fail('Policy statement must contain actions.');
    const principal = s['Principal'] !== undefined || s['NotPrincipal'] !== undefined;
    if (kind === 'trust') {
      if (!principal) return fail('Missing required field Principal');
      if (s['Resource'] !== undefined) return fail('Has prohibited field Resource');
      if (s['NotResource'] !== undefined) return fail('Has prohibited field NotResource');
    } else {
      if (principal) return fail('Policy document should not specify a principal.');
      if (s['Resource'] === undefined && s['NotResource'] === undefined) return fail('Policy statement must contain resources.');
    }
  }
  return { ok: true, doc };
}
