/**
 * What makes a principal an administrator here: the AWS managed policy `AdministratorAccess`, or a
 * policy with a statement that allows `Action: "*"` on `Resource: "*"` (as a string or in a list).
 */
import type { PolicyDocument } from '../model/policy.js';

export const ADMINISTRATOR_ACCESS_ARN = 'arn:aws:iam::aws:policy/AdministratorAccess';

function includesStar(v: unknown): boolean {
  return v === '*' || (Array.isArray(v) && v.includes('*'));
}

export function isAdministratorAccess(policyArn: string): boolean {
  return policyArn === ADMINISTRATOR_ACCESS_ARN;
}

export function allowsEverything(doc: PolicyDocument): boolean {
  const st = doc['Statement'];
  const statements = Array.isArray(st) ? st : st === undefined || st === null ? [] : [st];
  return statements.some((s) => {
    if (s === null || typeof s !== 'object' || Array.isArray(s)) return false;
    return s['Effect'] === 'Allow' && includesStar(s['Action']) && includesStar(s['Resource']);
  });
}
