/**
 * The whole product against the AWS emulator and the demo directory: a fresh emulator with the
 * ADFS SAML providers an administrator would have created, the demo config and LDIF copied into a
 * temp folder, a recording proxy between rolemap and the emulator (it keeps every response's
 * request id, so the journal's ids can be checked against what AWS actually answered), and the real
 * command line, driven in-process through `main()` or as a child process (`node bin/rolemap.js`).
 */
import { spawn } from 'node:child_process';
import { copyFileSync, mkdtempSync } from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { PassThrough } from 'node:stream';
import { fileURLToPath } from 'node:url';
import Database from 'better-sqlite3';
import { CreateSAMLProviderCommand, type IAMClient } from '@aws-sdk/client-iam';
import { newId, startEmulator, userPrincipal, type Emulator } from '../aws-emulator/index.js';
import { adminIam, provisionRolemapPrincipal, type AwsCredentials } from '../support/rolemap-principal.js';
import { main } from '../../src/shell/cli/main.js';

// The SDK warns once per process that its 2027 releases need Node 22; the lockfile pins one that runs on 20.
process.env['AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED'] = 'true';

export const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');
export const BIN = join(ROOT, 'bin', 'rolemap.js');
export const REGION = 'eu-west-1';
/** The emulator's base (administrator) credentials: what a person setting AWS up uses, never rolemap. */
export const ADMIN_CREDENTIALS = { accessKeyId: 'AKIAINTEGRATIONTEST1', secretAccessKey: 'integration-secret-not-real' };
export const HOME_ACCOUNT = '111111111111';
export const PROD_ACCOUNT = '222222222222';
/** The role rolemap assumes in prod (config/demo/rolemap.yaml). */
export const RECONCILER_ROLE_ARN = `arn:aws:iam::${PROD_ACCOUNT}:role/rolemap-reconciler`;

/** One AWS response as the proxy saw it. */
export interface Exchange {
  readonly operation: string;
  readonly status: number;
  readonly requestId: string;
}

/** A loopback HTTP proxy that forwards everything to `target` and records each AWS response's operation and request id. */
export async function recordingProxy(target: string): Promise<{ url: string; exchanges: Exchange[]; close(): Promise<void> }> {
  const exchanges: Exchange[] = [];
  const upstream = new URL(target);
  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const body = Buffer.concat(chunks);
      const xTarget = req.headers['x-amz-target'];
      const operation =
        typeof xTarget === 'string' ? (xTarget.split('.')[1] ?? xTarget) : (new URLSearchParams(body.toString('utf8')).get('Action') ?? '?');
      const out = http.request(
        { hostname: upstream.hostname, port: upstream.port, path: req.url, method: req.method, headers: req.headers },
        (answer) => {
          const requestId = answer.headers['x-amzn-requestid'];
          exchanges.push({ operation, status: answer.statusCode ?? 0, requestId: typeof requestId === 'string' ? requestId : '' });
          res.writeHead(answer.statusCode ?? 502, answer.headers);
          answer.pipe(res);
        },
      );
      out.on('error', () => res.destroy());
      out.end(body);
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    exchanges,
    close: () =>
      new Promise<void>((r) => {
        server.closeAllConnections();
        server.close(() => r());
      }),
  };
}

/** Reads never change AWS; everything else does. STS hands out credentials and changes no state. */
export function isReadOnly(operation: string): boolean {
  return /^(List|Get|Describe)/.test(operation) || operation === 'AssumeRole';
}

/** `service:Operation -> count` of the calls that are not read-only. */
export function mutatingCalls(calls: Record<string, number>): Record<string, number> {
  return Object.fromEntries(Object.entries(calls).filter(([key]) => !isReadOnly(key.split(':')[1] ?? key)));
}

const SAML_METADATA =
  '<EntityDescriptor xmlns="urn:oasis:names:tc:SAML:2.0:metadata" entityID="http://adfs.example.com/adfs/services/trust">' +
  '<IDPSSODescriptor protocolSupportEnumeration="urn:oasis:names:tc:SAML:2.0:protocol"><KeyDescriptor use="signing">' +
  `<KeyInfo xmlns="http://www.w3.org/2000/09/xmldsig#"><X509Data><X509Certificate>${Buffer.from('integration test certificate '.repeat(20)).toString('base64')}</X509Certificate></X509Data></KeyInfo>` +
  '</KeyDescriptor><SingleSignOnService Binding="urn:oasis:names:tc:SAML:2.0:bindings:HTTP-Redirect" Location="https://adfs.example.com/adfs/ls/"/>' +
  '</IDPSSODescriptor></EntityDescriptor>';

export interface World {
  readonly emulator: Emulator;
  /** Where rolemap's SDK clients go (the recording proxy in front of the emulator). */
  readonly endpoint: string;
  readonly exchanges: Exchange[];
  readonly dir: string;
  readonly config: string;
  readonly ldif: string;
  readonly journal: string;
  /** rolemap's own access key: the IAM user `rolemap`, holding exactly config/iam-policy.json (test/support/rolemap-principal.ts). */
  readonly rolemapCredentials: AwsCredentials;
  /** An IAM client acting as an administrator in `account` (base credentials, or OrganizationAccountAccessRole there), straight to the emulator. */
  iam(account: string): Promise<IAMClient>;
  /**
   * Temporary credentials of rolemap's user with the given secret and session token (an MFA'd
   * GetSessionToken session, which may call IAM), for tests that need to know the secret.
   */
  rolemapSession(secretAccessKey: string, sessionToken: string): AwsCredentials;
  stop(): Promise<void>;
}

export async function startWorld(): Promise<World> {
  const emulator = await startEmulator({ homeAccount: HOME_ACCOUNT, baseCredentials: [ADMIN_CREDENTIALS], memberAccounts: [PROD_ACCOUNT] });
  const proxy = await recordingProxy(emulator.url);
  const dir = mkdtempSync(join(tmpdir(), 'rolemap-integration-'));
  copyFileSync(join(ROOT, 'config/demo/rolemap.yaml'), join(dir, 'rolemap.yaml'));
  copyFileSync(join(ROOT, 'config/demo/directory.ldif'), join(dir, 'directory.ldif'));
  const clients: { destroy(): void }[] = [];
  const setup = { endpoint: emulator.url, region: REGION, admin: ADMIN_CREDENTIALS };
  const iam = async (account: string): Promise<IAMClient> => {
    const c = await adminIam(setup, HOME_ACCOUNT, account);
    clients.push(c);
    return c;
  };
  // What an administrator set up before rolemap: the ADFS SAML provider in both accounts, and
  // rolemap's own user and role holding exactly config/iam-policy.json.
  for (const account of [HOME_ACCOUNT, PROD_ACCOUNT]) {
    await (await iam(account)).send(new CreateSAMLProviderCommand({ Name: 'ADFS', SAMLMetadataDocument: SAML_METADATA }));
  }
  const rolemapCredentials = await provisionRolemapPrincipal({ ...setup, assumeRoleArns: [RECONCILER_ROLE_ARN] }, HOME_ACCOUNT);
  const rolemapUser = emulator.credentialsFor(rolemapCredentials.accessKeyId)?.principal;
  if (!rolemapUser) throw new Error('world: rolemap\'s access key is not registered');
  emulator.resetCalls();
  return {
    emulator,
    endpoint: proxy.url,
    exchanges: proxy.exchanges,
    dir,
    config: join(dir, 'rolemap.yaml'),
    ldif: join(dir, 'directory.ldif'),
    journal: join(dir, 'journal.db'),
    rolemapCredentials,
    iam,
    rolemapSession(secretAccessKey, sessionToken) {
      const accessKeyId = newId('ASIA');
      const principal = userPrincipal(HOME_ACCOUNT, { userName: rolemapUser.userName ?? 'rolemap', userId: rolemapUser.userId }, 'GetSessionToken', { tokenIssueTime: new Date().toISOString(), mfa: true });
      emulator.registerCredentials({ accessKeyId, secretAccessKey, sessionToken, expiration: new Date(Date.now() + 3600_000).toISOString(), principal });
      return { accessKeyId, secretAccessKey, sessionToken };
    },
    stop: async () => {
      for (const c of clients) c.destroy();
      await proxy.close();
      await emulator.stop();
    },
  };
}

/** The environment the SDK inside rolemap reads: the emulator (through the proxy) and rolemap's own access key. */
export function awsEnv(world: World, extra: Record<string, string> = {}): Record<string, string> {
  return {
    AWS_ENDPOINT_URL: world.endpoint,
    AWS_ACCESS_KEY_ID: world.rolemapCredentials.accessKeyId,
    AWS_SECRET_ACCESS_KEY: world.rolemapCredentials.secretAccessKey,
    AWS_REGION: REGION,
    AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true',
    NO_COLOR: '1',
    ...extra,
  };
}

/**
 * Points this process's SDK at `world` (in-process `main()` reads AWS settings from process.env,
 * like the real program). Returns a function that restores the previous values.
 */
export function useProcessEnv(env: Record<string, string>): () => void {
  const saved = new Map<string, string | undefined>();
  for (const k of [...Object.keys(env), 'AWS_PROFILE', 'AWS_SESSION_TOKEN']) saved.set(k, process.env[k]);
  delete process.env['AWS_PROFILE'];
  delete process.env['AWS_SESSION_TOKEN'];
  Object.assign(process.env, env);
  return () => {
    for (const [k, v] of saved) {
      if (v === undefined) delete process.env[k];
      else process.env[k] = v;
    }
  };
}

export interface CliRun {
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
}

/** The real CLI in this process: `main()` with in-memory streams, the real runtime and the real (pino) logger on stderr. */
export async function rolemap(argv: readonly string[], env: NodeJS.ProcessEnv = process.env): Promise<CliRun> {
  const stream = (): PassThrough & { isTTY: boolean } => Object.assign(new PassThrough(), { isTTY: false });
  const stdout = stream();
  const stderr = stream();
  const stdin = stream();
  stdin.end();
  let out = '';
  let err = '';
  stdout.on('data', (d: Buffer) => (out += d.toString()));
  stderr.on('data', (d: Buffer) => (err += d.toString()));
  const code = await main(argv, { stdout, stderr, stdin, env });
  await new Promise((r) => setImmediate(r));
  return { code, stdout: out, stderr: err };
}

/** The real CLI as a child process (`node bin/rolemap.js`), with exactly `env` (plus PATH). */
export async function rolemapProcess(argv: readonly string[], env: Record<string, string>, cwd: string): Promise<CliRun> {
  return await new Promise<CliRun>((resolveRun, reject) => {
    const child = spawn(process.execPath, [BIN, ...argv], { cwd, env: { PATH: process.env['PATH'] ?? '', ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    child.stderr.on('data', (d: Buffer) => (err += d.toString()));
    child.on('error', reject);
    child.on('close', (code) => resolveRun({ code: code ?? -1, stdout: out, stderr: err }));
  });
}

export interface EventRow {
  readonly id: number;
  readonly run_id: string;
  readonly seq: number;
  readonly status: string;
  readonly action: string;
  readonly kind: string;
  readonly address: string;
  readonly request_ids: string | null;
}

export interface RunRow {
  readonly id: string;
  readonly mode: string;
  readonly outcome: string | null;
  readonly error: string | null;
}

/** The journal's runs and change rows, read straight from the SQLite file. */
export function readJournal(file: string): { runs: RunRow[]; events: EventRow[] } {
  const db = new Database(file, { readonly: true, fileMustExist: true });
  try {
    return {
      runs: db.prepare('SELECT id, mode, outcome, error FROM runs ORDER BY started_at, rowid').all() as RunRow[],
      events: db.prepare('SELECT id, run_id, seq, status, action, kind, address, request_ids FROM change_events ORDER BY id').all() as EventRow[],
    };
  } finally {
    db.close();
  }
}
