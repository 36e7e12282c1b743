/**
 * A crash between CreateUser and recording ownership: the real command line as a child process is
 * killed at the moment AWS has created the Identity Center user and before rolemap hears back (a
 * proxy between them holds the answer and kills the process), leaving a real SQLite journal with the
 * create's intent and no outcome. The next run recovers ownership from that intent row.
 */
import { spawn } from 'node:child_process';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { awsEnv, BIN, readJournal, rolemap, startWorld, useProcessEnv, type World } from './world.js';

let world: World;
let restoreEnv: () => void;

beforeEach(async () => {
  world = await startWorld();
  restoreEnv = useProcessEnv(awsEnv(world));
});

afterEach(async () => {
  restoreEnv();
  await world.stop();
});

/** Forwards to the emulator; when `operation` has been answered, calls `onAnswered` instead of passing the answer on. */
async function killingProxy(target: string, operation: string, onAnswered: () => void): Promise<{ url: string; close(): Promise<void> }> {
  const upstream = new URL(target);
  let fired = false;
  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const body = Buffer.concat(chunks);
      const op = String(req.headers['x-amz-target'] ?? '').split('.')[1];
      const out = http.request({ hostname: upstream.hostname, port: upstream.port, path: req.url, method: req.method, headers: req.headers }, (answer) => {
        if (op === operation && answer.statusCode === 200 && !fired) {
          fired = true;
          answer.resume();
          onAnswered();
          return;
        }
        res.writeHead(answer.statusCode ?? 502, answer.headers);
        answer.pipe(res);
      });
      out.on('error', () => res.destroy());
      out.end(body);
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    close: () =>
      new Promise<void>((r) => {
        server.closeAllConnections();
        server.close(() => r());
      }),
  };
}

describe('a crash between CreateUser and recording ownership', () => {
  it('the next run recovers the user from the journal intent row instead of failing on "not owned" for ever', { timeout: 60_000 }, async () => {
    let kill = (): void => undefined;
    const proxy = await killingProxy(world.emulator.url, 'CreateUser', () => kill());
    try {
      const child = spawn(process.execPath, [BIN, 'reconcile', '--auto-approve', '--config', world.config], {
        cwd: world.dir,
        env: { PATH: process.env['PATH'] ?? '', ...awsEnv(world, { AWS_ENDPOINT_URL: proxy.url }) },
        stdio: ['ignore', 'pipe', 'pipe'],
      });
      kill = () => child.kill('SIGKILL');
      const signal = await new Promise<NodeJS.Signals | null>((r) => child.on('exit', (_code, sig) => r(sig)));
      expect(signal).toBe('SIGKILL');
    } finally {
      await proxy.close();
    }
    // The journal holds the create's intent and no outcome; AWS holds the user.
    const crashed = readJournal(world.journal);
    const intent = crashed.events.filter((e) => e.kind === 'identitystore_user' && e.action === 'create');
    const lastOf = new Map(intent.map((e) => [e.seq, e.status]));
    const stranded = [...lastOf].filter(([, status]) => status === 'intent');
    expect(stranded.length).toBeGreaterThanOrEqual(1);

    const again = await rolemap(['reconcile', '--auto-approve', '--config', world.config]);
    expect(again.code, again.stderr).toBe(2);
    expect(again.stdout).toMatch(/identitystore_user\.\S+: rolemap created it in run \S+ \(change #\d+\) and stopped before recording it; ownership recovered from the journal's intent row/);
    expect(again.stdout).not.toMatch(/not owned/);
    expect(again.stderr).not.toMatch(/failed /);
    const clean = await rolemap(['reconcile', '--dry-run', '--config', world.config]);
    expect(clean.code, clean.stdout).toBe(0);
    expect(readJournal(world.journal).runs.map((r) => r.outcome)).toEqual(['interrupted', 'applied', 'no-changes']);
  });
});
