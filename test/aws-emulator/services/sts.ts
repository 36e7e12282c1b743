/**
 * STS over the query protocol: `GetCallerIdentity`, `AssumeRole` and `GetSessionToken`.
 *
 * Every session is registered in the emulator's principal registry with its secret and session
 * token, so SigV4 checks it, and with the principal it acts as, so the policy evaluator judges it.
 *
 * - `AssumeRole` is allowed when the caller's identity policies allow `sts:AssumeRole` on the role
 *   and the role's trust policy (evaluated as a resource-based policy: principal, `sts:ExternalId`,
 *   any condition) admits the caller, by AWS's same- and cross-account rules. A role that does not
 *   exist is `AccessDenied`. `DurationSeconds` is 900..43200 and at most the role's
 *   `MaxSessionDuration`; a role session that assumes a role (role chaining) gets at most one hour,
 *   and asking for more is `ValidationError`. The session: `aws:userid` = `ROLEID:SESSION`,
 *   `aws:TokenIssueTime`, the assumed-role ARN. The role's `RoleLastUsed` is set (date, Region).
 * - `GetSessionToken` is for IAM users' long-term keys only (session credentials: `AccessDenied`);
 *   `DurationSeconds` 900..129600, default 43200. The session acts as the user, with
 *   `aws:TokenIssueTime`; it survives the deactivation of the key that made it. Without MFA
 *   (`SerialNumber` of one of the user's MFA devices and a six-digit `TokenCode`) it cannot call IAM
 *   (`InvalidClientTokenId`, enforced by the server) nor STS other than `AssumeRole` and
 *   `GetCallerIdentity`.
 * - `GetCallerIdentity` needs no permission.
 */
import type { RequestContext, ServiceDef } from '../server.js';
import { AwsError } from '../protocol.js';
import type { QueryValue } from '../protocol.js';
import type { IamState } from './iam.js';
import { newId, newSecret, newSessionToken, rolePrincipal, userPrincipal } from '../auth/principals.js';
import { samlOperations } from './sts-saml.js';

export interface StsSession {
  account: string;
  /** arn:aws:sts::ACCOUNT:assumed-role/NAME/SESSION, or the user ARN for GetSessionToken. */
  arn: string;
  /** ROLEID:SESSION, or the user id. */
  userId: string;
  expiration: string;
}

export interface StsState {
  /** Sessions by access key id (no secrets kept: those are in the principal registry). */
  sessions: Record<string, StsSession>;
}

type Params = Record<string, QueryValue> & Record<string, unknown>;

function param(p: Params, name: string): string | undefined {
  const v = p[name];
  return typeof v === 'string' ? v : undefined;
}

function duration(p: Params, min: number, max: number, fallback: number): number {
  const raw = param(p, 'DurationSeconds');
  if (raw === undefined) return fallback;
  const n = Number(raw);
  if (!Number.isInteger(n)) throw new AwsError('ValidationError', `1 validation error detected: Value '${raw}' at 'durationSeconds' failed to satisfy constraint: Member must be an integer`);
  if (n < min) throw new AwsError('ValidationError', `1 validation error detected: Value '${raw}' at 'durationSeconds' failed to satisfy constraint: Member must have value greater than or equal to ${min}`);
  if (n > max) throw new AwsError('ValidationError', `1 validation error detected: Value '${raw}' at 'durationSeconds' failed to satisfy constraint: Member must have value less than or equal to ${max}`);
  return n;
}

/** A session from GetSessionToken without MFA may call only these STS operations. */
const WITHOUT_MFA = new Set(['AssumeRole', 'GetCallerIdentity']);

function restrictSessionToken(ctx: RequestContext, operation: string): void {
  const p = ctx.principal;
  if (p.source === 'GetSessionToken' && !p.mfa && !WITHOUT_MFA.has(operation)) {
    throw new AwsError('AccessDenied', `User: ${p.arn} is not authorized to perform: sts:${operation} because credentials from GetSessionToken without MFA can only call AssumeRole and GetCallerIdentity`, 403);
  }
}

export const stsService: ServiceDef<StsState> = {
  signingName: 'sts',
  protocol: 'query',
  xmlNamespace: 'https://sts.amazonaws.com/doc/2011-06-15/',
  throttleBucket: 'sts',
  throttleCode: 'Throttling',
  selfAuthorizedOperations: ['AssumeRole', 'GetCallerIdentity', 'GetSessionToken'],
  // The SAML response is the credential (AssumeRoleWithSAML is called without AWS credentials).
  unsignedOperations: ['AssumeRoleWithSAML'],
  initialState: () => ({ sessions: {} }),
  operations: {
    ...samlOperations,
    GetCallerIdentity(_state, _p, ctx) {
      return { UserId: ctx.principal.userId, Account: ctx.principal.account, Arn: ctx.principal.arn };
    },
    async AssumeRole(state, p, ctx) {
      restrictSessionToken(ctx, 'AssumeRole');
      const roleArn = param(p, 'RoleArn');
      const sessionName = param(p, 'RoleSessionName');
      if (!roleArn || !sessionName) throw new AwsError('ValidationError', 'RoleArn and RoleSessionName are required');
      if (!/^[\w+=,.@-]{2,64}$/.test(sessionName)) throw new AwsError('ValidationError', `1 validation error detected: Value '${sessionName}' at 'roleSessionName' failed to satisfy constraint: Member must satisfy regular expression pattern: [\\w+=,.@-]*`);
      const m = /^arn:aws:iam::(\d{12}):role\/(?:.*\/)?([\w+=,.@-]+)$/.exec(roleArn);
      if (!m) throw new AwsError('ValidationError', `${roleArn} is not a valid role ARN`);
      const target = m[1] as string;
      const roleName = m[2] as string;
      const chained = ctx.principal.kind === 'assumed-role';
      const seconds = duration(p, 900, 43200, 3600);
      const externalId = param(p, 'ExternalId');
      const iam = ctx.emulator.state<IamState>('iam');
      const role = iam.accounts[target]?.roles[roleName.toLowerCase()];
      const fullArn = role ? `arn:aws:iam::${target}:role${role.path}${role.roleName}` : roleArn;
      const request = {
        action: 'sts:AssumeRole',
        resources: [fullArn],
        ...(role ? { resourcePolicy: role.assumeRolePolicyDocument } : {}),
        context: { 'sts:RoleSessionName': sessionName, ...(externalId !== undefined ? { 'sts:ExternalId': externalId } : {}) },
      };
      const decision = role ? await ctx.emulator.authorize(ctx, request) : undefined;
      if (!role || !decision?.allowed) {
        // AWS names no reason when the role is missing or its trust policy does not admit the caller.
        const reason = decision?.reason !== undefined && decision.reason.includes('identity-based') ? ` ${decision.reason}` : '';
        throw new AwsError('AccessDenied', `User: ${ctx.principal.arn} is not authorized to perform: sts:AssumeRole on resource: ${roleArn}${reason}`, 403);
      }
      if (chained && seconds > 3600) throw new AwsError('ValidationError', 'The requested DurationSeconds exceeds the 1 hour session limit for roles assumed by role chaining.');
      if (seconds > role.maxSessionDuration) throw new AwsError('ValidationError', 'The requested DurationSeconds exceeds the MaxSessionDuration set for this role.');
      const accessKeyId = newId('ASIA');
      const issued = new Date();
      // RoleLastUsed (API_RoleLastUsed.html), recorded at once (AWS may lag up to four hours).
      role.lastUsed = { date: issued.toISOString(), region: ctx.region };
      const expiration = new Date(issued.getTime() + seconds * 1000).toISOString();
      const principal = rolePrincipal(target, role, sessionName, 'AssumeRole', { tokenIssueTime: issued.toISOString(), roleChained: chained });
      state.sessions[accessKeyId] = { account: target, arn: principal.arn, userId: principal.userId, expiration };
      const secretAccessKey = newSecret();
      const sessionToken = newSessionToken();
      ctx.emulator.registerCredentials({ accessKeyId, secretAccessKey, sessionToken, expiration, principal });
      return {
        Credentials: { AccessKeyId: accessKeyId, SecretAccessKey: secretAccessKey, SessionToken: sessionToken, Expiration: expiration },
        AssumedRoleUser: { AssumedRoleId: principal.userId, Arn: principal.arn },
        PackedPolicySize: 0,
      };
    },
    GetSessionToken(state, p, ctx) {
      const caller = ctx.principal;
      if (caller.tokenIssueTime !== undefined || caller.kind !== 'user') throw new AwsError('AccessDenied', 'Cannot call GetSessionToken with session credentials', 403);
      const seconds = duration(p, 900, 129600, 43200);
      const serial = param(p, 'SerialNumber');
      const code = param(p, 'TokenCode');
      let mfa = false;
      if (serial !== undefined || code !== undefined) {
        const u = ctx.emulator.state<IamState>('iam').accounts[caller.account]?.users[(caller.userName ?? '').toLowerCase()];
        const device = u?.mfaDevices.some((d) => d.serialNumber === serial);
        if (!device || code === undefined || !/^\d{6}$/.test(code)) throw new AwsError('AccessDenied', 'MultiFactorAuthentication failed with invalid MFA one time pass code.', 403);
        mfa = true;
      }
      const accessKeyId = newId('ASIA');
      const issued = new Date();
      const expiration = new Date(issued.getTime() + seconds * 1000).toISOString();
      const principal = userPrincipal(caller.account, { userName: caller.userName ?? '', path: /:user(\/(?:.*\/)?)[^/]+$/.exec(caller.arn)?.[1] ?? '/', userId: caller.userId }, 'GetSessionToken', {
        tokenIssueTime: issued.toISOString(),
        mfa,
        extraContext: caller.extraContext,
        ...(caller.policies !== undefined ? { policies: caller.policies } : {}),
        ...(caller.boundary !== undefined ? { boundary: caller.boundary } : {}),
      });
      state.sessions[accessKeyId] = { account: caller.account, arn: principal.arn, userId: principal.userId, expiration };
      const secretAccessKey = newSecret();
      const sessionToken = newSessionToken();
      ctx.emulator.registerCredentials({ accessKeyId, secretAccessKey, sessionToken, expiration, principal });
      return { Credentials: { AccessKeyId: accessKeyId, SecretAccessKey: secretAccessKey, SessionToken: sessionToken, Expiration: expiration } };
    },
  },
};
