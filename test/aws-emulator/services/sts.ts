/**
 * STS over the query protocol: `GetCallerIdentity` and `AssumeRole`.
 *
 * `AssumeRole` mints temporary credentials and registers the new access key with the account
 * named in the RoleArn, so every later call signed with them acts in that account: multi-account
 * code paths are real. When the role exists in the emulator's IAM state its trust policy must
 * allow the caller (an `AWS` principal naming the caller's account root, the account id, the
 * caller's ARN or `*`, and a matching `sts:ExternalId` condition when it has one); with
 * `requireRole` set the role must exist. Otherwise, as a convenience for tests that do not model
 * the role rolemap assumes, any role ARN is accepted.
 */
import { newId, newSecret, newSessionToken, rolePrincipal } from '../auth/principals.js';
import type { RequestContext, ServiceDef } from '../server.js';
import { AwsError } from '../protocol.js';
import type { QueryValue } from '../protocol.js';
import type { IamState } from './iam.js';
import { samlOperations } from './sts-saml.js';

export interface StsSession {
  account: string;
  /** arn:aws:sts::ACCOUNT:assumed-role/NAME/SESSION */
  arn: string;
  /** ROLEID:SESSION */
  userId: string;
  expiration: string;
}

export interface StsState {
  /** Refuse AssumeRole on a role that does not exist in the emulator's IAM state. */
  requireRole: boolean;
  /** Sessions by access key id (no secrets kept). */
  sessions: Record<string, StsSession>;
}

type Params = Record<string, QueryValue> & Record<string, unknown>;

function param(p: Params, name: string): string | undefined {
  const v = p[name];
  return typeof v === 'string' ? v : undefined;
}

function callerArn(_state: StsState, ctx: RequestContext): { arn: string; userId: string } {
  return { arn: ctx.principal.arn, userId: ctx.principal.userId };
}

function denied(caller: string, roleArn: string): AwsError {
  return new AwsError('AccessDenied', `User: ${caller} is not authorized to perform: sts:AssumeRole on resource: ${roleArn}`, 403);
}

function asList(v: unknown): unknown[] {
  return Array.isArray(v) ? v : v === undefined ? [] : [v];
}

/** Does the trust policy allow this caller to call sts:AssumeRole? */
function trusts(doc: Record<string, unknown>, callerAccount: string, caller: string, externalId: string | undefined): boolean {
  let allowed = false;
  for (const raw of asList(doc['Statement'])) {
    const s = raw as Record<string, unknown>;
    const actions = asList(s['Action']).map(String);
    if (!actions.some((a) => a === 'sts:AssumeRole' || a === 'sts:*' || a === '*')) continue;
    const principal = s['Principal'];
    const aws = principal === '*' ? ['*'] : asList((principal as Record<string, unknown> | undefined)?.['AWS']).map(String);
    const match = aws.some((a) => a === '*' || a === callerAccount || a === `arn:aws:iam::${callerAccount}:root` || a === caller);
    if (!match) continue;
    const wanted = (s['Condition'] as Record<string, Record<string, unknown>> | undefined)?.['StringEquals']?.['sts:ExternalId'];
    if (wanted !== undefined && !asList(wanted).map(String).includes(externalId ?? '')) continue;
    if (s['Effect'] === 'Deny') return false;
    if (s['Effect'] === 'Allow') allowed = true;
  }
  return allowed;
}

export const stsService: ServiceDef<StsState> = {
  signingName: 'sts',
  protocol: 'query',
  xmlNamespace: 'https://sts.amazonaws.com/doc/2011-06-15/',
  throttleBucket: 'sts',
  throttleCode: 'Throttling',
  initialState: () => ({ requireRole: false, sessions: {} }),
  operations: {
    ...samlOperations,
    GetCallerIdentity(state, _p, ctx) {
      const c = callerArn(state, ctx);
      return { UserId: c.userId, Account: ctx.account, Arn: c.arn };
    },
    AssumeRole(state, p, ctx) {
      const roleArn = param(p, 'RoleArn');
      const sessionName = param(p, 'RoleSessionName');
      if (!roleArn || !sessionName) throw new AwsError('ValidationError', 'RoleArn and RoleSessionName are required');
      if (!/^[\w+=,.@-]{2,64}$/.test(sessionName)) throw new AwsError('ValidationError', `1 validation error detected: Value '${sessionName}' at 'roleSessionName' failed to satisfy constraint: Member must satisfy regular expression pattern: [\\w+=,.@-]*`);
      const m = /^arn:aws:iam::(\d{12}):role\/(?:.*\/)?([\w+=,.@-]+)$/.exec(roleArn);
      if (!m) throw new AwsError('ValidationError', `${roleArn} is not a valid role ARN`);
      const target = m[1] as string;
      const roleName = m[2] as string;
      const duration = param(p, 'DurationSeconds') === undefined ? 3600 : Number(param(p, 'DurationSeconds'));
      if (!Number.isInteger(duration) || duration < 900 || duration > 43200) throw new AwsError('ValidationError', `The requested DurationSeconds ${String(duration)} is out of range (900..43200).`);
      const caller = callerArn(state, ctx).arn;
      const iam = ctx.emulator.state<IamState>('iam');
      const role = iam.accounts[target]?.roles[roleName.toLowerCase()];
      if (!role && state.requireRole) throw denied(caller, roleArn);
      if (role) {
        if (duration > role.maxSessionDuration) throw new AwsError('ValidationError', `The requested DurationSeconds exceeds the MaxSessionDuration set for this role.`);
        if (!trusts(JSON.parse(role.assumeRolePolicyDocument) as Record<string, unknown>, ctx.account, caller, param(p, 'ExternalId'))) throw denied(caller, roleArn);
      }
      const roleId = role?.roleId ?? 'AROAEMULATORUNMODELED';
      const accessKeyId = newId('ASIA');
      const issued = new Date();
      const expiration = new Date(issued.getTime() + duration * 1000).toISOString();
      const session: StsSession = {
        account: target,
        arn: `arn:aws:sts::${target}:assumed-role/${roleName}/${sessionName}`,
        userId: `${roleId}:${sessionName}`,
        expiration,
      };
      state.sessions[accessKeyId] = session;
      const secretAccessKey = newSecret();
      const sessionToken = newSessionToken();
      const principal = rolePrincipal(target, { roleName: role?.roleName ?? roleName, path: role?.path ?? '/', roleId }, sessionName, 'AssumeRole', {
        tokenIssueTime: issued.toISOString(),
        roleChained: ctx.principal.kind === 'assumed-role',
      });
      ctx.emulator.registerCredentials({ accessKeyId, secretAccessKey, sessionToken, expiration, principal });
      return {
        Credentials: { AccessKeyId: accessKeyId, SecretAccessKey: secretAccessKey, SessionToken: sessionToken, Expiration: expiration },
        AssumedRoleUser: { AssumedRoleId: session.userId, Arn: session.arn },
        PackedPolicySize: 0,
      };
    },
  },
};
