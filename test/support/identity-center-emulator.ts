/**
 * An emulator and real SDK clients pointed at it, for the Identity Center tests and benchmarks.
 * `identityStore` and `ssoAdmin` are plain SDK clients (the emulator's tests check AWS's own
 * exceptions); `clients` is rolemap's factory, whose clients name their errors (AwsCallError).
 */
import { IdentitystoreClient } from '@aws-sdk/client-identitystore';
import { SSOAdminClient } from '@aws-sdk/client-sso-admin';
import { AwsClients } from '../../src/adapters/aws/clients.js';
import { startEmulator } from '../aws-emulator/index.js';
import type { Emulator, EmulatorOptions } from '../aws-emulator/index.js';

export const IC_ACCOUNT = '111111111111';

export interface IcHarness {
  readonly emulator: Emulator;
  readonly clients: AwsClients;
  readonly identityStore: IdentitystoreClient;
  readonly ssoAdmin: SSOAdminClient;
  stop(): Promise<void>;
}

export async function startIdentityCenterEmulator(options: EmulatorOptions & { maxAttempts?: number } = {}): Promise<IcHarness> {
  const emulator = await startEmulator({ homeAccount: IC_ACCOUNT, ...options });
  const settings = {
    region: 'us-east-1',
    endpoint: emulator.url,
    maxAttempts: options.maxAttempts ?? 6,
    credentials: async () => ({ accessKeyId: 'AKIAEMULATORTEST', secretAccessKey: 'not-a-secret' }),
  };
  const clients = new AwsClients({ ...settings, sessionName: 'rolemap-test' }, [], IC_ACCOUNT);
  const sdk = { ...settings, retryMode: 'adaptive' as const };
  const identityStore = new IdentitystoreClient(sdk);
  const ssoAdmin = new SSOAdminClient(sdk);
  return {
    emulator,
    clients,
    identityStore,
    ssoAdmin,
    async stop() {
      identityStore.destroy();
      ssoAdmin.destroy();
      clients.destroy();
      await emulator.stop();
    },
  };
}
