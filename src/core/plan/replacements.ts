/**
 * Replacements: attributes AWS cannot change in place. An IAM role's path is fixed at CreateRole
 * (UpdateRole has no Path), so a path change is planned as a replacement: the role is destroyed and
 * created again (`-/+`), counted by the deletion threshold as the deletion it is. The new role has
 * a new ARN and role id: its RoleLastUsed history starts again, live sessions of the old one end,
 * and ADFS claim rules naming the old ARN must be updated. A plan that says so is what an operator
 * asked for by changing the path; refusing it would leave the role map unable ever to converge.
 */
import type { AttrDiff } from './change.js';
import type { DraftChange } from './draft.js';

/** Attributes that force a replacement, by kind. */
const FORCES_REPLACEMENT: Readonly<Partial<Record<DraftChange['kind'], readonly string[]>>> = {
  iam_role: ['path'],
};

function replacementReason(kind: DraftChange['kind'], diffs: readonly AttrDiff[]): string | undefined {
  const forcing = diffs.filter((d) => FORCES_REPLACEMENT[kind]?.includes(d.name));
  if (forcing.length === 0) return undefined;
  const what = forcing.map((d) => `${d.name} ${JSON.stringify(d.before)} -> ${JSON.stringify(d.after)}`).join(', ');
  return (
    `replace: IAM cannot change ${forcing.map((d) => d.name).join(', ')} in place (${what}); the role is destroyed and created again ` +
    '(new ARN and role id: RoleLastUsed starts again, live sessions end, update ADFS claim rules that name the old ARN)'
  );
}

/** Marks updates that AWS cannot make in place as replacements (`replace` set, reason first). */
export function markReplacements(drafts: readonly DraftChange[]): DraftChange[] {
  return drafts.map((d) => {
    if (d.action !== 'update' || d.before === null || d.after === null) return d;
    const why = replacementReason(d.kind, d.diffs);
    return why === undefined ? d : { ...d, replace: true, reason: `${why}; ${d.reason}` };
  });
}
