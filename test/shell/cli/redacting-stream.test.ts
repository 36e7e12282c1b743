import { PassThrough } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { InvalidInputError } from '../../../src/core/errors.js';
import { SecretScrubber } from '../../../src/shell/cli/redacting-stream.js';
import { world } from '../reconcile/fixtures.js';
import { runCli, writeConfig } from './run-cli.js';
import { configYaml } from '../reconcile/fixtures.js';

function captured(): { stream: PassThrough & { isTTY: boolean }; text: () => string } {
  const stream = Object.assign(new PassThrough(), { isTTY: true });
  let text = '';
  stream.on('data', (d: Buffer) => (text += d.toString()));
  return { stream, text: () => text };
}

describe('SecretScrubber', () => {
  it('masks secret-looking environment values and secrets added later, plain and JSON-escaped, in strings and Buffers', () => {
    const scrubber = new SecretScrubber({ AWS_SECRET_ACCESS_KEY: 'wJalrXUtnFEMI/K7MDENG', HOME: '/home/rolemap-user' });
    const out = captured();
    const wrapped = scrubber.wrap(out.stream);
    wrapped.write('key wJalrXUtnFEMI/K7MDENG home /home/rolemap-user\n');
    wrapped.write(Buffer.from('bind pa"ss\\word-1 before it is known\n'));
    scrubber.add(['pa"ss\\word-1']);
    wrapped.write(`${JSON.stringify({ msg: 'bind pa"ss\\word-1 failed' })}\n`);
    wrapped.write(Buffer.from('bind pa"ss\\word-1\n'));
    expect(out.text().split('\n')).toEqual([
      'key [redacted] home /home/rolemap-user',
      'bind pa"ss\\word-1 before it is known',
      '{"msg":"bind [redacted] failed"}',
      'bind [redacted]',
      '',
    ]);
    expect(wrapped.isTTY).toBe(true);
  });

  it('main masks a secret the runtime resolved (whatever its variable is called) in the error it prints', async () => {
    const w = world();
    const bindPassword = 'hunter2-but-longer';
    const failing = {
      ...w.runtime,
      secrets: [bindPassword],
      source: { describe: 'fake', read: () => Promise.reject(new InvalidInputError(`server said: bad password ${bindPassword}`)) },
      close: async () => undefined,
    };
    const r = await runCli(['reconcile', '--dry-run', '--config', writeConfig(configYaml())], { runtimeFactory: async () => failing });
    expect(r.code).toBe(1);
    expect(r.stderr).toBe('Error: server said: bad password [redacted]\n');
  });
});
