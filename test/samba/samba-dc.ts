/**
 * A real Active Directory domain controller for tests and benches: Samba 4 from Debian, provisioned
 * into a cache directory, loaded offline with ldbadd (far faster than ldapadd over the wire), given a
 * CA and a server certificate with subject alternative names, and started on 127.0.0.1 (LDAPS 636,
 * LDAP 389 for StartTLS). A provisioned directory is reused while its definition is unchanged.
 *
 *   node --import tsx test/samba/cli.ts start|stop|status [test|bench]
 *
 * Samba's LDAP ports are fixed, so one instance runs per machine; starting one stops any other
 * instance this fixture started (found by the pid files under the cache root).
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { chmodSync, existsSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { hostname, tmpdir } from 'node:os';
import { join } from 'node:path';
import { connect as tlsConnect } from 'node:tls';
import { connect as netConnect } from 'node:net';

export const SAMBA_PACKAGES = ['samba', 'samba-ad-dc', 'samba-ad-provision', 'samba-dsdb-modules', 'ldb-tools', 'ldap-utils', 'openssl'];
const FIXTURE_VERSION = 3;

export const REALM = 'ROLEMAP.TEST';
export const DOMAIN = 'ROLEMAP';
export const BASE_DN = 'DC=rolemap,DC=test';
export const ADMIN_PASSWORD = 'Adm1n!Passw0rd';

export interface FixtureUser {
  readonly dn: string;
  readonly sAMAccountName: string;
  readonly userPrincipalName?: string;
  readonly givenName?: string;
  readonly sn?: string;
  readonly displayName?: string;
  readonly mail?: string;
  /** Default 512 (normal account); 514 = disabled. */
  readonly userAccountControl?: number;
  /** FILETIME string; default 0 (never). */
  readonly accountExpires?: string;
  /** Only for accounts that bind (hashing costs ~24 ms a user). */
  readonly password?: string;
  /** pwdLastSet = 0: must change the password at next logon. */
  readonly mustChangePassword?: boolean;
}

export interface FixtureGroup {
  readonly dn: string;
  readonly sAMAccountName: string;
  readonly members: readonly string[];
}

export interface FixtureRename {
  readonly fromDn: string;
  readonly toDn: string;
  readonly sAMAccountName: string;
  readonly userPrincipalName: string;
  readonly displayName: string;
}

/** Everything a test directory holds; its hash decides whether a cached provision is still valid. */
export interface DirectoryDefinition {
  readonly name: string;
  readonly userBase: string;
  readonly groupBase: string;
  readonly ous: readonly string[];
  readonly users: readonly FixtureUser[];
  readonly contacts: readonly string[];
  readonly groups: readonly FixtureGroup[];
  readonly renames: readonly FixtureRename[];
}

/** What the tests need to reach the DC (handed over with vitest's provide/inject). */
export interface SambaFacts {
  readonly dir: string;
  readonly smbConf: string;
  readonly caFile: string;
  readonly ldapsUrl: string;
  readonly ldapUrl: string;
  readonly hostName: string;
  readonly adminUpn: string;
  readonly adminDn: string;
  readonly adminPassword: string;
  readonly baseDn: string;
  readonly userBase: string;
  readonly groupBase: string;
  /** objectGUIDs of renamed users, read before the rename. */
  readonly renamed: readonly { readonly guid: string; readonly fromDn: string; readonly toDn: string }[];
  readonly provisionSeconds: number;
}

export function cacheRoot(): string {
  return process.env['ROLEMAP_SAMBA_CACHE'] ?? join(tmpdir(), 'rolemap-samba');
}

const run = (cmd: string, args: readonly string[], opts: { env?: NodeJS.ProcessEnv; input?: string } = {}): string => {
  try {
    return execFileSync(cmd, args, { encoding: 'utf8', env: opts.env ?? process.env, input: opts.input, stdio: ['pipe', 'pipe', 'pipe'], maxBuffer: 256 * 1024 * 1024 });
  } catch (e) {
    const err = e as { stderr?: string; stdout?: string; message: string };
    throw new Error(`${cmd} ${args.slice(0, 3).join(' ')} failed: ${err.message}\n${err.stderr ?? ''}${(err.stdout ?? '').slice(-2000)}`, { cause: e });
  }
};

const has = (cmd: string): boolean => spawnSync('sh', ['-c', `command -v ${cmd}`]).status === 0;

/** Installs Samba from Debian's packages when missing and we are root; else fails naming the packages. */
export function ensureSambaInstalled(log: (s: string) => void = console.log): void {
  if (['samba', 'samba-tool', 'ldbadd', 'ldbmodify', 'ldapsearch', 'openssl'].every(has)) return;
  const isRoot = process.getuid?.() === 0;
  if (!isRoot || !has('apt-get')) {
    throw new Error(
      `The AD tests need a Samba AD DC from Debian's packages. Install them with:\n  apt-get install -y ${SAMBA_PACKAGES.join(' ')}\n` +
        `or set ROLEMAP_SKIP_SAMBA=1 to skip the AD tests (they then do not run).`,
    );
  }
  log(`[samba] installing ${SAMBA_PACKAGES.join(' ')} (a minute or two)...`);
  const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
  run('apt-get', ['update', '-qq'], { env });
  run('apt-get', ['install', '-y', '-qq', ...SAMBA_PACKAGES], { env });
}

const b64 = (s: string): string => Buffer.from(s, 'utf8').toString('base64');
/** An LDIF attribute line, base64 when the value is not safe as plain text. */
const attr = (name: string, value: string): string =>
  /^[\x20-\x7e]*$/.test(value) && !/^[ :<]/.test(value) && !value.endsWith(' ') ? `${name}: ${value}` : `${name}:: ${b64(value)}`;
const unicodePwd = (pw: string): string => `unicodePwd:: ${Buffer.from(`"${pw}"`, 'utf16le').toString('base64')}`;

export function definitionLdif(def: DirectoryDefinition): { add: string; members: string } {
  const add: string[] = [];
  for (const ou of def.ous) add.push([attr('dn', ou), 'objectClass: organizationalUnit'].join('\n'));
  for (const u of def.users) {
    const lines = [attr('dn', u.dn), 'objectClass: user', attr('sAMAccountName', u.sAMAccountName)];
    const opt: [string, string | undefined][] = [
      ['userPrincipalName', u.userPrincipalName],
      ['givenName', u.givenName],
      ['sn', u.sn],
      ['displayName', u.displayName],
      ['mail', u.mail],
    ];
    for (const [k, v] of opt) if (v !== undefined) lines.push(attr(k, v));
    lines.push(`userAccountControl: ${u.userAccountControl ?? 512}`, `accountExpires: ${u.accountExpires ?? '0'}`);
    if (u.password !== undefined) lines.push(unicodePwd(u.password));
    if (u.mustChangePassword) lines.push('pwdLastSet: 0');
    add.push(lines.join('\n'));
  }
  for (const c of def.contacts) add.push([attr('dn', c), 'objectClass: contact'].join('\n'));
  for (const g of def.groups) add.push([attr('dn', g.dn), 'objectClass: group', attr('sAMAccountName', g.sAMAccountName)].join('\n'));
  // Members in a second pass, so that groups can nest in any order (and in cycles).
  const members = def.groups
    .filter((g) => g.members.length > 0)
    .map((g) => [attr('dn', g.dn), 'changetype: modify', 'add: member', ...g.members.map((m) => attr('member', m)), '-'].join('\n'));
  return { add: add.join('\n\n') + '\n', members: members.join('\n\n') + '\n' };
}

function definitionKey(def: DirectoryDefinition): string {
  const version = has('samba') ? run('samba', ['--version']).trim() : 'none';
  return createHash('sha256').update(JSON.stringify({ def, FIXTURE_VERSION, version })).digest('hex').slice(0, 12);
}

export function directoryFor(def: DirectoryDefinition): string {
  return join(cacheRoot(), `${def.name}-${definitionKey(def)}`);
}

function makeCertificates(dir: string): void {
  const tls = join(dir, 'tls');
  mkdirSync(tls, { recursive: true });
  const o = (args: string[]): string => run('openssl', args);
  o(['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', join(tls, 'ca.key'), '-out', join(tls, 'ca.pem'), '-days', '3650', '-subj', '/CN=rolemap test CA']);
  o(['req', '-newkey', 'rsa:2048', '-nodes', '-keyout', join(tls, 'key.pem'), '-out', join(tls, 'server.csr'), '-subj', '/CN=localhost']);
  writeFileSync(join(tls, 'ext.cnf'), `subjectAltName=IP:127.0.0.1,DNS:localhost,DNS:${hostname()}\nextendedKeyUsage=serverAuth\n`);
  o(['x509', '-req', '-in', join(tls, 'server.csr'), '-CA', join(tls, 'ca.pem'), '-CAkey', join(tls, 'ca.key'), '-CAcreateserial', '-out', join(tls, 'cert.pem'), '-days', '3650', '-extfile', join(tls, 'ext.cnf')]);
  chmodSync(join(tls, 'key.pem'), 0o600);
}

/** Provisions a new domain into `dir` and loads the definition offline. */
export function provision(def: DirectoryDefinition, dir: string, log: (s: string) => void = console.log): SambaFacts {
  const t0 = performance.now();
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(join(dir, 'run'), { recursive: true });
  mkdirSync(join(dir, 'log'), { recursive: true });
  log(`[samba] provisioning ${REALM} into ${dir}`);
  run('samba-tool', [
    'domain', 'provision', `--targetdir=${dir}`, `--realm=${REALM}`, `--domain=${DOMAIN}`, '--server-role=dc', '--dns-backend=NONE',
    `--adminpass=${ADMIN_PASSWORD}`,
    '--option=interfaces = 127.0.0.1', '--option=bind interfaces only = yes', '--option=server services = ldap',
    `--option=pid directory = ${dir}/run`, `--option=ncalrpc dir = ${dir}/run/ncalrpc`,
    `--option=winbindd socket directory = ${dir}/run/winbindd`, `--option=ntp signd socket directory = ${dir}/run/ntp_signd`,
    `--option=log file = ${dir}/log/samba.log`,
  ]);
  const smbConf = join(dir, 'etc', 'smb.conf');
  run('samba-tool', ['domain', 'passwordsettings', 'set', '-s', smbConf, '--complexity=off', '--max-pwd-age=0', '--min-pwd-age=0', '--history-length=0', '--min-pwd-length=0']);
  makeCertificates(dir);
  // Options that provision silently drops must be edited into the file.
  const conf = readFileSync(smbConf, 'utf8').replace(
    '[global]\n',
    `[global]\n\tldap server require strong auth = no\n\ttls enabled = yes\n\ttls keyfile = ${dir}/tls/key.pem\n\ttls certfile = ${dir}/tls/cert.pem\n\ttls cafile = ${dir}/tls/ca.pem\n`,
  );
  writeFileSync(smbConf, conf);

  const sam = join(dir, 'private', 'sam.ldb');
  const { add, members } = definitionLdif(def);
  writeFileSync(join(dir, 'fixture-add.ldif'), add);
  writeFileSync(join(dir, 'fixture-members.ldif'), members);
  log(`[samba] loading ${def.users.length} users and ${def.groups.length} groups offline with ldbadd`);
  run('ldbadd', ['-H', sam, join(dir, 'fixture-add.ldif')]);
  run('ldbmodify', ['-H', sam, join(dir, 'fixture-members.ldif')]);

  const renamed: { guid: string; fromDn: string; toDn: string }[] = [];
  for (const r of def.renames) {
    const before = run('ldbsearch', ['-H', sam, '-b', r.fromDn, '-s', 'base', 'objectGUID']);
    const guid = /objectGUID: ([0-9a-f-]{36})/.exec(before)?.[1];
    if (!guid) throw new Error(`cannot read the objectGUID of ${r.fromDn} before renaming it:\n${before}`);
    run('ldbrename', ['-H', sam, r.fromDn, r.toDn]);
    const change = [attr('dn', r.toDn), 'changetype: modify', 'replace: sAMAccountName', attr('sAMAccountName', r.sAMAccountName), '-',
      'replace: userPrincipalName', attr('userPrincipalName', r.userPrincipalName), '-', 'replace: displayName', attr('displayName', r.displayName), '-'].join('\n');
    writeFileSync(join(dir, 'fixture-rename.ldif'), change + '\n');
    run('ldbmodify', ['-H', sam, join(dir, 'fixture-rename.ldif')]);
    renamed.push({ guid, fromDn: r.fromDn, toDn: r.toDn });
  }

  const facts: SambaFacts = {
    dir,
    smbConf,
    caFile: join(dir, 'tls', 'ca.pem'),
    ldapsUrl: 'ldaps://127.0.0.1',
    ldapUrl: 'ldap://127.0.0.1',
    hostName: 'localhost',
    adminUpn: `Administrator@${REALM.toLowerCase()}`,
    adminDn: `CN=Administrator,CN=Users,${BASE_DN}`,
    adminPassword: ADMIN_PASSWORD,
    baseDn: BASE_DN,
    userBase: def.userBase,
    groupBase: def.groupBase,
    renamed,
    provisionSeconds: Math.round((performance.now() - t0) / 100) / 10,
  };
  writeFileSync(join(dir, 'facts.json'), JSON.stringify(facts, null, 2));
  log(`[samba] provisioned and loaded in ${facts.provisionSeconds} s`);
  return facts;
}

/** The provisioned directory for this definition: reused when its facts file exists, else made anew. */
export function prepare(def: DirectoryDefinition, log: (s: string) => void = console.log): SambaFacts {
  const dir = directoryFor(def);
  const factsFile = join(dir, 'facts.json');
  if (existsSync(factsFile) && existsSync(join(dir, 'private', 'sam.ldb'))) {
    log(`[samba] reusing ${dir}`);
    return JSON.parse(readFileSync(factsFile, 'utf8')) as SambaFacts;
  }
  return provision(def, dir, log);
}

const pidFile = (dir: string): string => join(dir, 'run', 'samba.pid');

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

export function runningPid(dir: string): number | undefined {
  if (!existsSync(pidFile(dir))) return undefined;
  const pid = Number(readFileSync(pidFile(dir), 'utf8').trim());
  return Number.isInteger(pid) && pid > 0 && alive(pid) ? pid : undefined;
}

function portOpen(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = netConnect(port, '127.0.0.1');
    s.once('connect', () => {
      s.destroy();
      resolve(true);
    });
    s.once('error', () => resolve(false));
  });
}

/** Resolves once LDAPS answers with a certificate the CA vouches for. */
export async function waitForLdaps(caFile: string, timeoutMs = 60_000): Promise<void> {
  const ca = readFileSync(caFile);
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const ok = await new Promise<boolean>((resolve) => {
      const s = tlsConnect({ host: '127.0.0.1', port: 636, ca, rejectUnauthorized: true });
      s.once('secureConnect', () => {
        s.destroy();
        resolve(true);
      });
      s.once('error', () => resolve(false));
    });
    if (ok) return;
    if (Date.now() > deadline) throw new Error(`Samba's LDAPS did not answer on 127.0.0.1:636 within ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 150));
  }
}

/** Stops the instance started from `dir` (by the pid in its pid file) and waits until it is gone. */
export async function stopSamba(dir: string): Promise<void> {
  const pid = runningPid(dir);
  if (pid === undefined) return;
  process.kill(pid, 'SIGTERM');
  const deadline = Date.now() + 15_000;
  while (alive(pid) || (await portOpen(636))) {
    if (Date.now() > deadline) {
      if (alive(pid)) process.kill(pid, 'SIGKILL');
      break;
    }
    await new Promise((r) => setTimeout(r, 100));
  }
}

/** Stops every other instance this fixture started (one per machine: the ports are fixed). */
async function stopOthers(keep: string): Promise<void> {
  const root = cacheRoot();
  if (!existsSync(root)) return;
  for (const name of readdirSync(root)) {
    const dir = join(root, name);
    if (dir !== keep && runningPid(dir) !== undefined) await stopSamba(dir);
  }
}

/** Starts samba for `facts.dir` unless it already runs; true when this call started it. */
export async function startSamba(facts: SambaFacts, log: (s: string) => void = console.log): Promise<boolean> {
  if (runningPid(facts.dir) !== undefined) {
    await waitForLdaps(facts.caFile);
    return false;
  }
  await stopOthers(facts.dir);
  if (await portOpen(636)) {
    throw new Error('something else listens on 127.0.0.1:636; the Samba fixture needs that port (Samba cannot use another)');
  }
  log('[samba] starting samba on 127.0.0.1');
  // Without the tunable an in-chain query over a 2,000-member group took 8-11 s here; with it, under 1 s.
  run('samba', ['-s', facts.smbConf, '-D'], { env: { ...process.env, GLIBC_TUNABLES: 'glibc.malloc.top_pad=67108864' } });
  await waitForLdaps(facts.caFile);
  return true;
}
