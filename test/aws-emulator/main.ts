/**
 * Run the emulator as a process: `node --import tsx test/aws-emulator/main.ts [--port N] [--state FILE]`.
 * Prints `AWS emulator listening on URL` and serves until SIGTERM / SIGINT.
 */
import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { startEmulator } from './index.js';

const { values } = parseArgs({ options: { port: { type: 'string' }, state: { type: 'string' }, 'home-account': { type: 'string' } } });
const emulator = await startEmulator({ port: values.port ? Number(values.port) : 0, ...(values['home-account'] ? { homeAccount: values['home-account'] } : {}) });
if (values.state) emulator.load(JSON.parse(readFileSync(values.state, 'utf8')) as Parameters<typeof emulator.load>[0]);
console.log(`AWS emulator listening on ${emulator.url}`);
const stop = (): void => {
  void emulator.stop().then(() => process.exit(0));
};
process.on('SIGTERM', stop);
process.on('SIGINT', stop);
