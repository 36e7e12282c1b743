/**
 * What the logs say once: the run id once per JSON line (the daemon hands runOnce a logger already
 * bound to the run), "run started" once per run, and an error once on the terminal (the CLI prints
 * `Error: ...`; runOnce does not also log it).
 */
import { PassThrough } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { InvalidInputError } from '../../../src/core/errors.js';
import { main } from '../../../src/shell/cli/main.js';
import { processContext } from '../../../src/shell/cli/context.js';
import { createLogger } from '../../../src/shell/logging.js';
import { runOnce } from '../../../src/shell/reconcile/run-once.js';
import { configYaml, world } from './fixtures.js';
import { writeConfig } from '../cli/run-cli.js';

function capture(): { stream: PassThrough; text: () => string } {
  const stream = new PassThrough();
  let text = '';
  stream.on('data', (d: Buffer) => (text += d.toString()));
  return { stream, text: () => text };
}

describe('log lines', () => {
  it('a run handed a logger bound to its id writes the id once per line, and "run started" once', async () => {
    const out = capture();
    const w = world();
    const log = createLogger({ level: 'info', destination: out.stream }).child({ runId: 'run-once-1' });
    await runOnce({ ...w.runtime, log }, { mode: 'dry-run', trigger: 'daemon', runId: 'run-once-1' });
    const lines = out.text().trim().split('\n');
    expect(lines.length).toBeGreaterThan(3);
    for (const l of lines) expect(l.match(/"runId":/g), l).toHaveLength(1);
    expect(lines.filter((l) => l.includes('"msg":"run started"'))).toHaveLength(1);
  });

  it('a failing run is said once on the terminal: "Error: ..." and no JSON log line beside it', async () => {
    const w = world();
    w.source.failWith = new InvalidInputError('LDAP bind failed: data 52e (bad password) for svc@example.com');
    const stdout = capture();
    const stderr = capture();
    const ctx = processContext({ env: {}, stderr: stderr.stream as unknown as NodeJS.WriteStream });
    const code = await main(['reconcile', '--dry-run', '--config', writeConfig(configYaml())], {
      ...ctx,
      stdout: stdout.stream as unknown as NodeJS.WriteStream,
      // The runtime logs through the CLI's own logger, as the real one does.
      runtimeFactory: async (_config, { log }) => ({ ...w.runtime, log, close: async () => undefined }),
    });
    expect(code).toBe(1);
    expect(stderr.text()).toBe('Error: LDAP bind failed: data 52e (bad password) for svc@example.com\n');
  });
});
