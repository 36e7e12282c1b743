/**
 * Issue 13: the package as a bastion gets it. `npm pack` (prepack builds dist/ if stale and ships the
 * lockfile as npm-shrinkwrap.json), then `npm install -g` of the tarball into an empty prefix with an
 * empty HOME and TMPDIR: production dependencies only, better-sqlite3 compiled for the Node running
 * the tests. The installed `rolemap` then runs --version, validate, a dry run against the AWS emulator,
 * journal migrate and journal verify.
 *
 * And the tsx cache attack (a local user pre-creates `$TMPDIR/tsx-<uid>` with planted "transpiled"
 * modules, which tsx would run as root): shown to work against rolemap run through tsx from this
 * checkout, as bin/rolemap.js did before, and shown not to touch the installed rolemap.
 *
 * The install compiles the native module: a minute on an idle 2-core machine, several on a loaded one.
 */
import { chmodSync, chownSync, cpSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { execFileSync } from 'node:child_process';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { awsEnv, mutatingCalls, ROOT, startWorld, type World } from '../integration/world.js';
import { distStaleness, describeStaleness } from '../../scripts/dist.js';
import { nodeHeadersDir, npmNetworkSettings, pathWithThisNode, run, type Ran } from './npm.js';

const VERSION = (JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { version: string }).version;
const INSTALL_TIMEOUT_MS = 15 * 60_000;
const COMMAND_TIMEOUT_MS = 60_000;

let work: string;
let tarball: string;
let packed: string[];
let prefix: string;
let installed: string;
/** The TMPDIR every installed `rolemap` runs with: empty, and it must stay empty. */
let runTmp: string;
let world: World;

/** The installed `rolemap` (the prefix's bin/ symlink, as on the PATH of a bastion), on a clean HOME and TMPDIR. */
function rolemap(args: readonly string[], extra: Record<string, string> = {}): Promise<Ran> {
  return run(join(prefix, 'bin', 'rolemap'), args, {
    cwd: join(work, 'run'),
    env: { PATH: pathWithThisNode(), HOME: join(work, 'home'), TMPDIR: runTmp, ...awsEnv(world), ...extra },
    timeoutMs: COMMAND_TIMEOUT_MS,
  });
}

beforeAll(async () => {
  work = mkdtempSync(join(tmpdir(), 'rolemap-package-'));
  for (const d of ['pack', 'home', 'install-tmp', 'run-tmp', 'prefix', 'run']) mkdirSync(join(work, d));
  prefix = join(work, 'prefix');
  runTmp = join(work, 'run-tmp');

  // The global setup built dist/; the tarball must carry exactly that build.
  expect(describeStaleness(distStaleness(ROOT)), 'dist/ is current before packing').toBe('');
  const pack = await run('npm', ['pack', '--json', '--pack-destination', join(work, 'pack')], {
    cwd: ROOT,
    env: { ...process.env, PATH: pathWithThisNode() },
    timeoutMs: 5 * 60_000,
  });
  expect(pack.code, pack.stderr).toBe(0);
  const [info] = JSON.parse(pack.stdout.slice(pack.stdout.indexOf('['))) as { filename: string; files: { path: string }[] }[];
  tarball = join(work, 'pack', info!.filename);
  packed = info!.files.map((f) => f.path).sort();

  const headers = nodeHeadersDir();
  const install = await run('npm', ['install', '-g', '--prefix', prefix, '--allow-scripts=better-sqlite3', '--prefer-offline', tarball], {
    cwd: work,
    env: {
      PATH: pathWithThisNode(),
      HOME: join(work, 'home'),
      TMPDIR: join(work, 'install-tmp'),
      ...npmNetworkSettings(ROOT),
      ...(headers === undefined ? {} : { npm_config_nodedir: headers }),
      npm_config_update_notifier: 'false',
      npm_config_fund: 'false',
      npm_config_audit: 'false',
      npm_config_loglevel: 'warn',
    },
    timeoutMs: INSTALL_TIMEOUT_MS,
  });
  expect(install.code, `npm install -g failed:\n${install.stdout}\n${install.stderr}`).toBe(0);
  installed = join(prefix, 'lib', 'node_modules', 'rolemap');

  world = await startWorld();
  cpSync(world.config, join(work, 'run', 'rolemap.yaml'));
  cpSync(world.ldif, join(work, 'run', 'directory.ldif'));
}, INSTALL_TIMEOUT_MS + 6 * 60_000);

afterAll(async () => {
  await world?.stop();
  if (work !== undefined) rmSync(work, { recursive: true, force: true });
});

describe('npm pack', () => {
  it('carries dist/, migrations/, the config examples, the systemd unit, the JSON Schema, the README and the lockfile; nothing from test/ or src/', () => {
    for (const f of [
      'bin/rolemap.js',
      'dist/shell/cli/main.js',
      'dist/shell/cli/main.js.map',
      'dist/shell/cli/main.d.ts',
      'dist/adapters/journal/migrations.js',
      'migrations/001_init.sql',
      'config/rolemap.example.yaml',
      'config/rolemap.schema.json',
      'config/rolemap.service',
      'config/iam-policy.json',
      'README.md',
      'package.json',
      'npm-shrinkwrap.json',
    ]) {
      expect(packed, f).toContain(f);
    }
    const foreign = packed.filter((f) => /^(test|src|scripts|bench|node_modules|\.ci)\//.test(f) || (f.endsWith('.ts') && !f.endsWith('.d.ts')));
    expect(foreign).toEqual([]);
    // Every migration the checkout has is in the package (the runner refuses a gap).
    const migrations = readdirSync(join(ROOT, 'migrations')).filter((f) => f.endsWith('.sql'));
    expect(packed.filter((f) => f.startsWith('migrations/'))).toEqual(migrations.map((m) => `migrations/${m}`).sort());
    // Source maps carry their sources: the package has no src/ to point at.
    const map = JSON.parse(execFileSync('tar', ['-xzOf', tarball, 'package/dist/shell/cli/main.js.map'], { encoding: 'utf8' })) as { sourcesContent?: string[] };
    expect(map.sourcesContent?.[0]).toContain('export async function main(');
  });

  it('leaves no npm-shrinkwrap.json behind in the checkout (postpack), so package-lock.json stays the one lockfile', () => {
    expect(existsSync(join(ROOT, 'npm-shrinkwrap.json'))).toBe(false);
  });
});

describe('npm install -g of the tarball on a clean machine', () => {
  it('installs production dependencies only (no tsx, TypeScript or vitest) and a compiled better-sqlite3', () => {
    const deps = readdirSync(join(installed, 'node_modules'));
    for (const dev of ['tsx', 'esbuild', 'typescript', 'vitest', 'eslint', 'fast-check', '@types']) expect(deps, dev).not.toContain(dev);
    expect(deps).toContain('better-sqlite3');
    expect(existsSync(join(installed, 'node_modules', 'better-sqlite3', 'build', 'Release', 'better_sqlite3.node'))).toBe(true);
    expect(existsSync(join(installed, 'src'))).toBe(false);
    expect(existsSync(join(installed, 'test'))).toBe(false);
  });

  it('has the files the systemd unit names, at the same place under the prefix (/opt/rolemap/current there)', () => {
    const unit = readFileSync(join(installed, 'config', 'rolemap.service'), 'utf8');
    const execStart = /^ExecStart=(\S+) (\S+) daemon /m.exec(unit);
    const docs = /^Documentation=file:\/\/(\S+)$/m.exec(unit);
    expect(execStart?.[1]).toBe('/usr/bin/node');
    for (const path of [execStart?.[2], docs?.[1]]) {
      expect(path).toMatch(/^\/opt\/rolemap\/current\//);
      expect(existsSync(path!.replace('/opt/rolemap/current', prefix)), path).toBe(true);
    }
  });

  it('rolemap --version prints the package version', async () => {
    const r = await rolemap(['--version']);
    expect(r.stderr).toBe('');
    expect(r).toMatchObject({ code: 0, stdout: `${VERSION}\n` });
  });

  it('rolemap validate accepts the example config it ships', async () => {
    const r = await rolemap(['validate', '--config', join(installed, 'config', 'rolemap.example.yaml')]);
    expect(r.code, r.stderr).toBe(0);
  });

  it('rolemap reconcile --dry-run against the emulator plans the demo (exit 2), changes nothing, journals the plan; journal migrate and verify pass', async () => {
    world.emulator.resetCalls();
    const dry = await rolemap(['reconcile', '--dry-run', '--no-color', '--config', 'rolemap.yaml']);
    expect(dry.code, dry.stderr).toBe(2);
    expect(dry.stdout).toMatch(/Plan: [1-9]\d* to add/);
    expect(mutatingCalls(world.emulator.calls())).toEqual({});
    const journal = join(work, 'run', 'journal.db');
    expect(existsSync(journal)).toBe(true);

    const migrate = await rolemap(['journal', 'migrate', '--journal', journal]);
    expect(migrate.code, migrate.stderr).toBe(0);
    const verify = await rolemap(['journal', 'verify', '--journal', journal]);
    expect(verify.code, verify.stderr).toBe(0);
    const runs = await rolemap(['journal', 'runs', '--journal', journal]);
    expect(runs.code, runs.stderr).toBe(0);
    const runId = /^([0-9a-f-]{36}) .* dry-run +planned /m.exec(runs.stdout)?.[1];
    expect(runId, runs.stdout).toBeDefined();
    const show = await rolemap(['journal', 'show', runId!, '--journal', journal]);
    expect(show.stdout).toContain(`mode dry-run, host `);
    expect(show.stdout).toContain(`rolemap ${VERSION}\n`);
  });

  it('writes nothing to TMPDIR while it runs', () => {
    expect(readdirSync(runTmp)).toEqual([]);
  });
});

/** The uid/gid of `nobody`, the "other local user" who plants the cache. */
function nobody(): { uid: number; gid: number } {
  const uid = Number(execFileSync('id', ['-u', 'nobody'], { encoding: 'utf8' }).trim());
  const gid = Number(execFileSync('id', ['-g', 'nobody'], { encoding: 'utf8' }).trim());
  return { uid, gid };
}

/** Every path under `dir` with its size and mtime: what "nothing changed there" compares. */
function listing(dir: string): string[] {
  const out: string[] = [];
  const visit = (d: string): void => {
    for (const e of readdirSync(d, { withFileTypes: true })) {
      const p = join(d, e.name);
      const s = statSync(p);
      out.push(`${p.slice(dir.length)} ${s.size} ${s.mtimeMs} ${s.uid}`);
      if (e.isDirectory()) visit(p);
    }
  };
  visit(dir);
  return out.sort();
}

describe.skipIf(process.geteuid?.() !== 0)('the tsx cache attack (a hostile $TMPDIR/tsx-<uid> owned by another user)', () => {
  it('runs planted code in a tsx-run rolemap, and is never read by the installed rolemap', async () => {
    const euid = process.geteuid!();
    const seedTmp = join(work, 'seed-tmp');
    const hostileTmp = join(work, 'hostile-tmp');
    const marker = join(work, 'PLANTED-CODE-RAN');
    mkdirSync(seedTmp);
    mkdirSync(hostileTmp);
    chmodSync(hostileTmp, 0o1777); // like /tmp: anyone may create a folder in it

    // The attacker computes tsx's cache entries for rolemap's sources (here: lets tsx write them once)...
    const tsxRun = (tmp: string): Promise<Ran> =>
      run(process.execPath, ['--import', 'tsx', 'src/shell/cli/main.ts', '--version'], {
        cwd: ROOT,
        env: { PATH: pathWithThisNode(), HOME: join(work, 'home'), TMPDIR: tmp },
        timeoutMs: COMMAND_TIMEOUT_MS,
      });
    const seeded = await tsxRun(seedTmp);
    expect(seeded.code, seeded.stderr).toBe(0);
    const entries = readdirSync(join(seedTmp, `tsx-${euid}`));
    expect(entries.length).toBeGreaterThan(10);

    // ...and plants them, each with a payload, in a folder of its own that root's tsx will use.
    const cache = join(hostileTmp, `tsx-${euid}`);
    mkdirSync(cache);
    const payload = `import("node:fs").then((fs) => fs.writeFileSync(${JSON.stringify(marker)}, "planted code ran as uid " + process.geteuid()));\n`;
    for (const e of entries) {
      const entry = JSON.parse(readFileSync(join(seedTmp, `tsx-${euid}`, e), 'utf8')) as { code: string };
      writeFileSync(join(cache, e), JSON.stringify({ ...entry, code: payload + entry.code }));
    }
    const { uid, gid } = nobody();
    chownSync(cache, uid, gid);
    for (const e of entries) chownSync(join(cache, e), uid, gid);

    // The control: rolemap through tsx (what bin/rolemap.js did) runs the planted code as root.
    const attacked = await tsxRun(hostileTmp);
    expect(attacked.code, attacked.stderr).toBe(0);
    expect(existsSync(marker), 'the planted cache is used by tsx').toBe(true);
    expect(readFileSync(marker, 'utf8')).toBe(`planted code ran as uid ${euid}`);
    rmSync(marker);
    const before = listing(hostileTmp);

    // The installed rolemap, with the same hostile TMPDIR: the planted code never runs, the folder is
    // untouched. A rolemap that still ran through tsx would fail one or the other: where the planted
    // keys match its files the payload runs; where they miss, tsx writes its own entries into the
    // planted folder (and would read whatever the attacker put there next).
    const runWith = { TMPDIR: hostileTmp };
    const journal = join(work, 'run', 'journal.db');
    for (const args of [['--version'], ['validate', '--config', 'rolemap.yaml'], ['journal', 'verify', '--journal', journal]]) {
      const r = await rolemap(args, runWith);
      expect(r.code, `${args.join(' ')}: ${r.stderr}`).toBe(0);
    }
    const dry = await rolemap(['reconcile', '--dry-run', '--config', 'rolemap.yaml'], runWith);
    expect(dry.code, dry.stderr).toBe(2);
    expect(existsSync(marker), 'planted code ran in the installed rolemap').toBe(false);
    expect(listing(hostileTmp)).toEqual(before);
  });
});
