/**
 * A local AWS-protocol emulator: one HTTP server on loopback that speaks the query protocol
 * (IAM, STS) and the JSON 1.1 protocol (Identity Store, SSO Admin), so that the real SDK v3
 * clients can be pointed at it with an endpoint override. It has no special cases for rolemap.
 *
 * Which account a request acts in comes from the SigV4 access key id: the base credentials
 * map to `homeAccount`, and credentials minted by `sts:AssumeRole` map to the role's account.
 *
 * Control endpoints under `/__emulator/` (JSON) let tests and the demo in another process
 * load and dump state, read and reset call counts, inject faults and set throttling rates.
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { AwsError, jsonError, newRequestId, parseQueryParams, queryError, queryResponse, restXmlError } from './protocol.js';
import type { QueryValue } from './protocol.js';
import { DEFAULT_BASE_CREDENTIALS, PrincipalRegistry, basePrincipal } from './auth/principals.js';
import type { Credentials, PolicyDoc, Principal } from './auth/principals.js';
import { authenticate, invalidToken } from './auth/sigv4.js';
import type { AuthFamily } from './auth/sigv4.js';
import { accessDenied, evaluate, principalPolicies } from './auth/authorize.js';
import type { AuthorizationRequest, Decision, PrincipalPolicies } from './auth/authorize.js';
import { actionFor } from './auth/actions.js';
import type { IamState } from './services/iam.js';

export interface RequestContext {
  /** The account the caller's credentials act in. */
  readonly account: string;
  readonly accessKeyId: string;
  /** Who signed the request (from the principal registry); the base principal for unsigned operations. */
  readonly principal: Principal;
  /** The region in the request's SigV4 credential scope (`aws:RequestedRegion`). */
  readonly region: string;
  readonly requestId: string;
  readonly emulator: Emulator;
}

/** A service: its protocol, its throttle bucket, its operations and its own state. */
export interface ServiceDef<S = unknown> {
  /** SigV4 signing name: iam, sts, identitystore, sso. */
  readonly signingName: string;
  /** `rest-xml`: S3-style REST, routed by `route` (path-style URLs, XML errors). */
  readonly protocol: 'query' | 'json' | 'rest-xml';
  /** IAM action prefix when it differs from the signing name. */
  readonly actionPrefix?: string;
  /** Operations AWS serves without a signature (`sts:AssumeRoleWithSAML`): no SigV4, no authorization. */
  readonly unsignedOperations?: readonly string[];
  /**
   * Operations whose handler authorizes the request itself with `ctx.emulator.authorize` (AssumeRole
   * needs the trust policy; GetCallerIdentity and GetSessionToken need no permission).
   */
  readonly selfAuthorizedOperations?: readonly string[];
  /** `rest-xml`: the operation and its parameters from method, path and query; undefined when not this service's. */
  readonly route?: (req: RestRequest) => { operation: string; params: Record<string, unknown> } | undefined;
  /** The IAM action (without prefix) an operation is authorized as, when it differs from the operation's name (S3: `ListObjectsV2` is `s3:ListBucket`). */
  readonly iamAction?: (operation: string, params: Record<string, unknown>) => string;
  /** JSON 1.1: the X-Amz-Target prefix (`AWSIdentityStore`). */
  readonly targetPrefix?: string;
  /** Query: the XML namespace of responses. */
  readonly xmlNamespace?: string;
  /** Services that share a token bucket name share a rate (Identity Store + SSO Admin). */
  readonly throttleBucket: string;
  /** Query: the error code AWS uses for throttling (`Throttling`); JSON: `ThrottlingException`. */
  readonly throttleCode: string;
  readonly initialState: () => S;
  /** Query handlers receive parsed form params; JSON handlers receive the parsed body. */
  readonly operations: Readonly<Record<string, (state: S, params: Record<string, QueryValue> & Record<string, unknown>, ctx: RequestContext) => unknown>>;
  // (a handler may return a Promise; the server awaits it)
  /** Test controls of this service, served at `POST /__emulator/service/<signingName>/<name>` (JSON in and out). */
  readonly controls?: Readonly<Record<string, (state: S, input: Record<string, unknown>, emulator: Emulator) => unknown>>;
  /** Optional periodic work (async request status progression); called before each request. */
  readonly tick?: (state: S, now: number, emulator: Emulator) => void;
}

/** A REST request as a `rest-xml` service's router sees it. */
export interface RestRequest {
  readonly method: string;
  /** Decoded path, e.g. `/bucket/key`. */
  readonly path: string;
  readonly query: URLSearchParams;
  readonly headers: http.IncomingHttpHeaders;
  readonly body: Buffer;
}

/** What a `rest-xml` handler answers. */
export interface RestResponse {
  readonly status?: number;
  readonly headers?: Readonly<Record<string, string>>;
  readonly body: string | Buffer;
}

/** `html500`: HTTP 500 with an HTML body and no AWS error headers, as a proxy or load balancer in front of AWS answers. */
export type FaultKind = 'http500' | 'html500' | 'drop' | 'latency' | 'throttle' | 'error';
export interface FaultSpec {
  readonly kind: FaultKind;
  /** Only this operation (e.g. `CreateRole`); any when absent. */
  readonly operation?: string | undefined;
  /** Only this service (signing name); any when absent. */
  readonly service?: string | undefined;
  /** Fire this many times, then stop. Unlimited when absent. */
  readonly times?: number | undefined;
  /** Probability of firing on a matching request (0..1), default 1. */
  readonly rate?: number | undefined;
  readonly latencyMs?: number | undefined;
  /** For kind `error`: the AWS error code and status to answer. */
  readonly code?: string | undefined;
  readonly status?: number | undefined;
  readonly message?: string | undefined;
}

export interface ThrottleRate {
  /** Requests per second (tokens refilled per second). */
  readonly rps: number;
  /** Bucket size. */
  readonly burst: number;
}

export interface EmulatorOptions {
  readonly port?: number;
  /** Account of the base (non-assumed) credentials. */
  readonly homeAccount?: string;
  /**
   * Access keys of the base principal (the IAM user `emulator-admin` in the home account).
   * Default: `DEFAULT_BASE_CREDENTIALS`. Every key given here acts as that user.
   */
  readonly baseCredentials?: readonly { readonly accessKeyId: string; readonly secretAccessKey: string }[];
  /** The base principal's identity policies. Default: AdministratorAccess. */
  readonly basePolicies?: readonly PolicyDoc[];
  /**
   * Member accounts of the home account's organization: each gets the role AWS Organizations creates
   * in an account it creates, `OrganizationAccountAccessRole` (AdministratorAccess, trusting the
   * management account), so a test can reach into them as an administrator would.
   */
  readonly memberAccounts?: readonly string[];
  /** Throttle rates by bucket name (`iam`, `sts`, `identitycenter`). Absent: no throttling. */
  readonly throttle?: Readonly<Record<string, ThrottleRate>>;
  /** Seed for the fault injector's randomness, so `rate` faults are repeatable. */
  readonly seed?: number;
}

interface Bucket {
  tokens: number;
  last: number;
  rate: ThrottleRate;
}

export class Emulator {
  readonly #services = new Map<string, ServiceDef<unknown>>();
  readonly #state = new Map<string, unknown>();
  readonly #principals = new PrincipalRegistry();
  readonly #buckets = new Map<string, Bucket>();
  #faults: (FaultSpec & { fired: number })[] = [];
  #calls = new Map<string, number>();
  #throttled = 0;
  #rand: () => number;
  #server: http.Server | undefined;
  #url = '';
  readonly homeAccount: string;
  /** Multiplier for asynchronous operations' delay (ms until IN_PROGRESS becomes final). */
  asyncDelayMs = 50;

  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  constructor(services: readonly ServiceDef<any>[], readonly options: EmulatorOptions = {}) {
    this.homeAccount = options.homeAccount ?? '111111111111';
    for (const s of services) {
      const def = s as unknown as ServiceDef<unknown>;
      this.#services.set(def.signingName, def);
      this.#state.set(def.signingName, def.initialState());
    }
    for (const [name, rate] of Object.entries(options.throttle ?? {})) this.setThrottle(name, rate);
    const base = basePrincipal(this.homeAccount, options.basePolicies);
    for (const c of options.baseCredentials ?? [DEFAULT_BASE_CREDENTIALS]) this.registerCredentials({ ...c, principal: base });
    for (const account of options.memberAccounts ?? []) this.addMemberAccount(account);
    let seed = options.seed ?? 42;
    this.#rand = () => {
      seed = (seed * 1103515245 + 12345) & 0x7fffffff;
      return seed / 0x7fffffff;
    };
  }

  get url(): string {
    return this.#url;
  }

  /** A service's live state object (tests may read and change it directly). */
  state<S>(signingName: string): S {
    const s = this.#state.get(signingName);
    if (s === undefined) throw new Error(`emulator has no service ${signingName}`);
    return s as S;
  }

  /**
   * Honour these credentials from now on: requests signed with them act as `principal`. STS,
   * `iam:CreateAccessKey` and the sign-in helpers call it; tests may too (a key of their own).
   */
  registerCredentials(credentials: Credentials): void {
    this.#principals.register(credentials);
  }

  /** `OrganizationAccountAccessRole` in `account`, trusting the home (management) account, with AdministratorAccess. */
  addMemberAccount(account: string): void {
    const iam = this.#state.get('iam') as IamState | undefined;
    if (!iam) return;
    iam.accounts[account] ??= { samlProviders: {}, roles: {}, users: {} };
    iam.accounts[account].roles['organizationaccountaccessrole'] = {
      roleName: 'OrganizationAccountAccessRole',
      roleId: `AROAORGACCESS${account}`.slice(0, 21),
      path: '/',
      createDate: new Date(0).toISOString(),
      assumeRolePolicyDocument: JSON.stringify({ Version: '2012-10-17', Statement: [{ Effect: 'Allow', Principal: { AWS: `arn:aws:iam::${this.homeAccount}:root` }, Action: 'sts:AssumeRole' }] }),
      maxSessionDuration: 3600,
      tags: [],
      attachedPolicies: ['arn:aws:iam::aws:policy/AdministratorAccess'],
      inlinePolicies: {},
    };
  }

  /** The credentials of an access key, or undefined when the emulator does not know it. */
  credentialsFor(accessKeyId: string): Credentials | undefined {
    return this.#principals.get(accessKeyId);
  }

  /** Stop honouring an access key (`iam:DeleteAccessKey`). */
  forgetCredentials(accessKeyId: string): void {
    this.#principals.delete(accessKeyId);
  }

  setThrottle(bucket: string, rate: ThrottleRate | null): void {
    if (rate === null) this.#buckets.delete(bucket);
    else this.#buckets.set(bucket, { tokens: rate.burst, last: Date.now(), rate });
  }

  /**
   * Run a service's test control in-process (what `POST /__emulator/service/<service>/<name>` does),
   * after the service's periodic work, so it sees finished asynchronous requests.
   */
  control(signingName: string, name: string, input: Record<string, unknown>): unknown {
    const service = this.#services.get(signingName);
    const control = service?.controls?.[name];
    if (!service || !control) throw new Error(`no control ${signingName}/${name}`);
    const state = this.#state.get(signingName);
    service.tick?.(state, Date.now(), this);
    return control(state, input, this);
  }

  injectFault(fault: FaultSpec): void {
    this.#faults.push({ ...fault, fired: 0 });
  }

  clearFaults(): void {
    this.#faults = [];
  }

  /** Calls per `service:Operation`, including throttled and faulted ones. */
  calls(): Record<string, number> {
    return Object.fromEntries([...this.#calls].sort(([a], [b]) => (a < b ? -1 : 1)));
  }

  throttledCount(): number {
    return this.#throttled;
  }

  resetCalls(): void {
    this.#calls = new Map();
    this.#throttled = 0;
  }

  dump(): Record<string, unknown> {
    // Principals without their secrets: a dump never holds a credential that works.
    return JSON.parse(JSON.stringify({ homeAccount: this.homeAccount, services: Object.fromEntries(this.#state), principals: this.#principals.describe() })) as Record<string, unknown>;
  }

  /**
   * Replace every service's state. Credentials other than the base ones are forgotten (their
   * secrets are not in a dump, and the sessions they belong to are gone with the old state).
   */
  load(dump: { services?: Record<string, unknown> }): void {
    for (const [name, def] of this.#services) {
      const loaded = dump.services?.[name];
      this.#state.set(name, loaded === undefined ? def.initialState() : structuredClone(loaded));
    }
    this.#principals.clearNonBase();
  }

  async start(): Promise<string> {
    this.#server = http.createServer((req, res) => {
      void this.#handle(req, res);
    });
    this.#server.keepAliveTimeout = 1000;
    await new Promise<void>((resolve) => this.#server?.listen(this.options.port ?? 0, '127.0.0.1', resolve));
    const { port } = this.#server.address() as AddressInfo;
    this.#url = `http://127.0.0.1:${port}`;
    return this.#url;
  }

  async stop(): Promise<void> {
    const server = this.#server;
    if (!server) return;
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
    this.#server = undefined;
  }

  #take(bucketName: string): boolean {
    const b = this.#buckets.get(bucketName);
    if (!b) return true;
    const now = Date.now();
    b.tokens = Math.min(b.rate.burst, b.tokens + ((now - b.last) / 1000) * b.rate.rps);
    b.last = now;
    if (b.tokens >= 1) {
      b.tokens -= 1;
      return true;
    }
    return false;
  }

  #matchFault(service: string, operation: string): FaultSpec | undefined {
    for (const f of this.#faults) {
      if (f.operation !== undefined && f.operation !== operation) continue;
      if (f.service !== undefined && f.service !== service) continue;
      if (f.times !== undefined && f.fired >= f.times) continue;
      if (f.rate !== undefined && this.#rand() >= f.rate) continue;
      f.fired++;
      return f;
    }
    return undefined;
  }

  async #handle(req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
    const chunks: Buffer[] = [];
    for await (const c of req) chunks.push(c as Buffer);
    const raw = Buffer.concat(chunks);
    const body = raw.toString('utf8');
    if (req.url?.startsWith('/__emulator/')) {
      this.#control(req, res, body);
      return;
    }
    const requestId = newRequestId();
    const auth = String(req.headers['authorization'] ?? '');
    const cred = /Credential=([^/]+)\/[^/]+\/([^/]+)\/([^/]+)\//.exec(auth);
    const signingName = cred?.[3] ?? '';
    const target = req.headers['x-amz-target'];
    const path = (req.url ?? '/').replace(/\?.*$/, '');
    let service: ServiceDef<unknown> | undefined;
    let operation = '';
    let params: Record<string, unknown> = {};
    try {
      if (typeof target === 'string') {
        const [prefix, op] = target.split('.');
        service = [...this.#services.values()].find((s) => s.protocol === 'json' && s.targetPrefix === prefix);
        operation = op ?? '';
        if (!service) throw new AwsError('UnknownOperationException', `Unknown target ${target}`);
        try {
          params = body === '' ? {} : (JSON.parse(body) as Record<string, unknown>);
        } catch {
          throw new AwsError('SerializationException', 'Request body is not valid JSON');
        }
      } else if (req.method === 'POST' && path === '/') {
        const form = new URLSearchParams(body);
        operation = form.get('Action') ?? '';
        // An unsigned request (AssumeRoleWithSAML needs no credentials) names no service: the Action does.
        service =
          this.#services.get(signingName) ??
          [...this.#services.values()].find((s) => s.protocol === 'query' && signingName === '' && s.operations[operation] !== undefined) ??
          [...this.#services.values()].find((s) => s.protocol === 'query');
        if (!service || service.protocol !== 'query') throw new AwsError('InvalidAction', `Unknown service ${signingName}`);
        form.delete('Action');
        form.delete('Version');
        params = parseQueryParams(form);
      } else {
        const url = new URL(req.url ?? '/', 'http://emulator');
        const rest: RestRequest = { method: req.method ?? 'GET', path: decodeURIComponent(url.pathname), query: url.searchParams, headers: req.headers, body: raw };
        for (const s of this.#services.values()) {
          const routed = s.protocol === 'rest-xml' ? s.route?.(rest) : undefined;
          if (routed) {
            service = s;
            operation = routed.operation;
            params = routed.params;
            break;
          }
        }
        if (!service) {
          const err = new AwsError('MethodNotAllowed', `No emulated service serves ${req.method ?? ''} ${path}`, 405);
          const text = restXmlError(err, requestId);
          res.writeHead(err.status, { 'content-type': 'application/xml', 'x-amz-request-id': requestId, 'content-length': Buffer.byteLength(text) });
          res.end(text);
          return;
        }
      }
    } catch (e) {
      this.#sendError(res, service, e instanceof AwsError ? e : new AwsError('InternalFailure', String(e), 500), requestId);
      return;
    }
    const key = `${service.signingName}:${operation}`;
    this.#calls.set(key, (this.#calls.get(key) ?? 0) + 1);

    const fault = this.#matchFault(service.signingName, operation);
    if (fault) {
      if (fault.kind === 'latency') await new Promise((r) => setTimeout(r, fault.latencyMs ?? 200));
      if (fault.kind === 'drop') {
        // Headers and part of a body, then the connection is cut.
        res.writeHead(200, { 'content-type': service.protocol === 'json' ? 'application/x-amz-json-1.1' : 'text/xml', 'content-length': '4096' });
        res.write(service.protocol === 'json' ? '{"Users":[' : '<?xml version="1.0"?><');
        setTimeout(() => req.socket.destroy(), 5);
        return;
      }
      if (fault.kind === 'http500') {
        this.#sendError(res, service, new AwsError(service.protocol === 'json' ? 'InternalServerException' : 'ServiceFailure', 'Injected internal error', 500), requestId);
        return;
      }
      if (fault.kind === 'html500') {
        const text = '<html><head><title>500 Internal Server Error</title></head><body><h1>Internal Server Error</h1></body></html>';
        res.writeHead(500, { 'content-type': 'text/html', 'content-length': Buffer.byteLength(text) });
        res.end(text);
        return;
      }
      if (fault.kind === 'throttle') {
        this.#throttled++;
        this.#sendError(res, service, new AwsError(service.throttleCode, 'Rate exceeded', 400), requestId);
        return;
      }
      if (fault.kind === 'error') {
        this.#sendError(res, service, new AwsError(fault.code ?? 'InternalFailure', fault.message ?? 'Injected error', fault.status ?? 400), requestId);
        return;
      }
    }
    if (!this.#take(service.throttleBucket)) {
      this.#throttled++;
      this.#sendError(res, service, new AwsError(service.throttleCode, 'Rate exceeded', 400), requestId);
      return;
    }
    const handler = service.operations[operation];
    if (!handler) {
      this.#sendError(res, service, new AwsError(service.protocol === 'json' ? 'UnknownOperationException' : 'InvalidAction', `Operation ${operation} is not supported by this emulator`), requestId);
      return;
    }
    const state = this.#state.get(service.signingName);
    const family: AuthFamily = service.protocol === 'rest-xml' ? 's3' : service.protocol;
    try {
      service.tick?.(state, Date.now(), this);
      const now = new Date();
      let principal: Principal;
      let region = cred?.[2] ?? 'us-east-1';
      let accessKeyId = cred?.[1] ?? '';
      if (service.unsignedOperations?.includes(operation)) {
        principal = basePrincipal(this.homeAccount);
      } else {
        const authn = await authenticate({ method: req.method ?? 'POST', url: req.url ?? '/', headers: req.headers, body: raw }, family, (id) => this.credentialsFor(id), now, (c) => this.#keyActive(c));
        principal = authn.credentials.principal;
        region = authn.auth.region;
        accessKeyId = authn.auth.accessKeyId;
        this.#recordKeyUse(authn.credentials, service.signingName, region, now);
        // GetSessionToken credentials without MFA cannot call IAM (AWS answers InvalidClientTokenId).
        if (principal.source === 'GetSessionToken' && !principal.mfa && service.signingName === 'iam') throw invalidToken(family);
      }
      const ctx: RequestContext = { account: principal.account, accessKeyId, principal, region, requestId, emulator: this };
      if (!service.unsignedOperations?.includes(operation) && !service.selfAuthorizedOperations?.includes(operation)) {
        const { action, resources } = await actionFor(service.actionPrefix ?? service.signingName, service.iamAction?.(operation, params) ?? operation, params, ctx);
        await this.authorizeOrThrow(ctx, { action, resources }, family, now);
      }
      const result: unknown = await handler(state, params as Record<string, QueryValue> & Record<string, unknown>, ctx);
      if (service.protocol === 'json') {
        const text = JSON.stringify(result ?? {});
        res.writeHead(200, { 'content-type': 'application/x-amz-json-1.1', 'x-amzn-requestid': requestId, 'content-length': Buffer.byteLength(text) });
        res.end(text);
      } else if (service.protocol === 'rest-xml') {
        const out = result as RestResponse;
        res.writeHead(out.status ?? 200, { 'x-amz-request-id': requestId, 'content-length': Buffer.byteLength(out.body), ...(out.headers ?? {}) });
        res.end(out.body);
      } else {
        const text = queryResponse(operation, service.xmlNamespace ?? '', result, requestId);
        res.writeHead(200, { 'content-type': 'text/xml', 'x-amzn-requestid': requestId, 'content-length': Buffer.byteLength(text) });
        res.end(text);
      }
    } catch (e) {
      this.#sendError(res, service, e instanceof AwsError ? e : new AwsError(service.protocol === 'json' ? 'InternalServerException' : 'ServiceFailure', String(e), 500), requestId);
    }
  }

  /** A long-term key of an IAM user works while the user has it and it is Active. */
  /** AccessKeyLastUsed of an IAM user's long-term key: every authenticated request with it (AWS may lag; recorded at once). */
  #recordKeyUse(credentials: Credentials, serviceName: string, region: string, now: Date): void {
    const p = credentials.principal;
    if (p.source !== 'CreateAccessKey' || credentials.sessionToken !== undefined) return;
    const key = this.state<IamState>('iam').accounts[p.account]?.users[(p.userName ?? '').toLowerCase()]?.accessKeys.find((k) => k.accessKeyId === credentials.accessKeyId);
    if (key !== undefined) key.lastUsed = { date: now.toISOString(), serviceName, region };
  }

  #keyActive(credentials: Credentials): boolean {
    const p = credentials.principal;
    if (p.source !== 'CreateAccessKey') return true;
    const u = this.state<IamState>('iam').accounts[p.account]?.users[(p.userName ?? '').toLowerCase()];
    return u?.accessKeys.some((k) => k.accessKeyId === credentials.accessKeyId && k.status === 'Active') ?? false;
  }

  /** The identity policies (and boundary) that decide for a principal, read from the IAM state now. */
  policiesOf(principal: Principal): PrincipalPolicies {
    return principalPolicies(this.state<IamState>('iam'), principal);
  }

  /**
   * Evaluates a request for the caller of `ctx` (identity policies, boundary, the request context,
   * and `resourcePolicy` when given). Services that authorize themselves call it.
   */
  async authorize(ctx: Pick<RequestContext, 'principal' | 'region'>, request: AuthorizationRequest, now = new Date()): Promise<Decision> {
    return await evaluate(ctx.principal, this.policiesOf(ctx.principal), { ...request, context: { 'aws:RequestedRegion': ctx.region, ...(request.context ?? {}) } }, now);
  }

  /** `authorize`, throwing AWS's AccessDenied answer for the protocol family when denied. */
  async authorizeOrThrow(ctx: Pick<RequestContext, 'principal' | 'region'>, request: AuthorizationRequest, family: AuthFamily, now = new Date()): Promise<void> {
    const decision = await this.authorize(ctx, request, now);
    if (!decision.allowed) throw accessDenied(family, ctx.principal, request.action, decision);
  }

  #sendError(res: http.ServerResponse, service: ServiceDef<unknown> | undefined, err: AwsError, requestId: string): void {
    if (service?.protocol === 'json') {
      const text = jsonError(err);
      res.writeHead(err.status, { 'content-type': 'application/x-amz-json-1.1', 'x-amzn-requestid': requestId, 'x-amzn-errortype': err.code, 'content-length': Buffer.byteLength(text) });
      res.end(text);
    } else if (service?.protocol === 'rest-xml') {
      const text = restXmlError(err, requestId);
      res.writeHead(err.status, { 'content-type': 'application/xml', 'x-amz-request-id': requestId, 'content-length': Buffer.byteLength(text) });
      res.end(text);
    } else {
      const text = queryError(err, service?.xmlNamespace ?? '', requestId);
      res.writeHead(err.status, { 'content-type': 'text/xml', 'x-amzn-requestid': requestId, 'content-length': Buffer.byteLength(text) });
      res.end(text);
    }
  }

  #control(req: http.IncomingMessage, res: http.ServerResponse, body: string): void {
    const send = (status: number, value: unknown): void => {
      const text = JSON.stringify(value ?? {});
      res.writeHead(status, { 'content-type': 'application/json' });
      res.end(text);
    };
    try {
      const path = (req.url ?? '').replace(/\?.*$/, '');
      const input = body === '' ? {} : (JSON.parse(body) as Record<string, unknown>);
      switch (`${req.method} ${path}`) {
        case 'GET /__emulator/state':
          return send(200, this.dump());
        case 'PUT /__emulator/state':
          this.load(input as Parameters<Emulator['load']>[0]);
          return send(200, {});
        case 'GET /__emulator/calls':
          return send(200, { calls: this.calls(), throttled: this.throttledCount() });
        case 'DELETE /__emulator/calls':
          this.resetCalls();
          return send(200, {});
        case 'POST /__emulator/faults':
          this.injectFault(input as unknown as FaultSpec);
          return send(200, {});
        case 'DELETE /__emulator/faults':
          this.clearFaults();
          return send(200, {});
        case 'PUT /__emulator/throttle':
          this.setThrottle(String(input['bucket']), (input['rate'] as ThrottleRate | null) ?? null);
          return send(200, {});
        default: {
          const m = req.method === 'POST' ? /^\/__emulator\/service\/([^/]+)\/([^/]+)$/.exec(path) : null;
          const control = m ? this.#services.get(m[1] ?? '')?.controls?.[m[2] ?? ''] : undefined;
          if (m && control) return send(200, this.control(m[1] ?? '', m[2] ?? '', input) ?? {});
          return send(404, { error: `no control endpoint ${req.method} ${path}` });
        }
      }
    } catch (e) {
      send(400, { error: String(e), ...(e instanceof AwsError ? { code: e.code, message: e.message } : {}) });
    }
  }
}
