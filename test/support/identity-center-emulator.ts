/**
 * An emulator and real SDK clients pointed at it, for the Identity Center tests and benchmarks.
 */
import type { IdentitystoreClient } from '@aws-sdk/client-identitystore';
import type { SSOAdminClient } from '@aws-sdk/client-sso-admin';
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
  const clients = new AwsClients(
    {
      region: 'us-east-1',
      endpoint: emulator.url,
      maxAttempts: options.maxAttempts ?? 6,
      sessionName: 'rolemap-test',
      credentials: async () => ({ accessKeyId: 'AKIAEMULATORTEST', secretAccessKey: 'not-a-secret' }),
    },
    [],
    IC_ACCOUNT,
  );
  return {
    emulator,
    clients,
    identityStore: clients.identityStore(),
    ssoAdmin: clients.ssoAdmin(),
    async stop() {
      clients.destroy();
      await emulator.stop();
    },
  };
}
