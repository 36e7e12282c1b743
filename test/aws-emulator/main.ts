/**
 * Run the emulator as a process:
 * `node --import tsx test/aws-emulator/main.ts [--port N] [--state FILE] [--credentials FILE] [--home-account ID] [--base-key ID:SECRET ...] [--member-account ID ...]`.
 * Prints `AWS emulator listening on URL` and serves until SIGTERM / SIGINT. `--base-key` gives the
 * base user (`emulator-admin`, AdministratorAccess) an access key; without one it has
 * `DEFAULT_BASE_CREDENTIALS`. A state file holds no secrets: `--credentials FILE` (JSON, a list of
 * `{account, userName, accessKeyId, secretAccessKey}`) honours access keys of IAM users of the loaded
 * state again, as those users.
 */
import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { startEmulator, userPrincipal } from './index.js';
import type { IamState } from './services/iam.js';

const { values } = parseArgs({
  options: {
    port: { type: 'string' },
    state: { type: 'string' },
    credentials: { type: 'string' },
    'home-account': { type: 'string' },
    'base-key': { type: 'string', multiple: true },
    'member-account': { type: 'string', multiple: true },
  },
});
const baseCredentials = (values['base-key'] ?? []).map((k) => {
  const i = k.indexOf(':');
  if (i <= 0) throw new Error(`--base-key wants ACCESS_KEY_ID:SECRET, got ${k.slice(0, 20)}`);
  return { accessKeyId: k.slice(0, i), secretAccessKey: k.slice(i + 1) };
});
const emulator = await startEmulator({
  port: values.port ? Number(values.port) : 0,
  ...(values['home-account'] ? { homeAccount: values['home-account'] } : {}),
  ...(baseCredentials.length > 0 ? { baseCredentials } : {}),
  ...(values['member-account'] ? { memberAccounts: values['member-account'] } : {}),
});
if (values.state) emulator.load(JSON.parse(readFileSync(values.state, 'utf8')) as Parameters<typeof emulator.load>[0]);
if (values.credentials) {
  const keys = JSON.parse(readFileSync(values.credentials, 'utf8')) as { account: string; userName: string; accessKeyId: string; secretAccessKey: string }[];
  for (const k of keys) {
    const user = emulator.state<IamState>('iam').accounts[k.account]?.users[k.userName.toLowerCase()];
    if (!user?.accessKeys.some((a) => a.accessKeyId === k.accessKeyId)) throw new Error(`--credentials: ${k.account} has no IAM user ${k.userName} with access key ${k.accessKeyId}`);
    emulator.registerCredentials({ accessKeyId: k.accessKeyId, secretAccessKey: k.secretAccessKey, principal: userPrincipal(k.account, user, 'CreateAccessKey') });
  }
}
console.log(`AWS emulator listening on ${emulator.url}`);
const stop = (): void => {
  void emulator.stop().then(() => process.exit(0));
};
process.on('SIGTERM', stop);
process.on('SIGINT', stop);
