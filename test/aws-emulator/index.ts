import { Emulator } from './server.js';
import type { EmulatorOptions } from './server.js';
import { iamService } from './services/iam.js';
import { identityPolicyOps } from './services/iam-identity-policies.js';
import { stsService } from './services/sts.js';
import { identitystoreService } from './services/identitystore.js';
import { ssoAdminService } from './services/sso-admin.js';
import { s3Service } from './services/s3.js';

export { Emulator, type EmulatorOptions, type FaultSpec, type ThrottleRate } from './server.js';
export { AwsError } from './protocol.js';
export { DEFAULT_BASE_CREDENTIALS, basePrincipal, newId, newSecret, newSessionToken, rolePrincipal, userPrincipal } from './auth/principals.js';
export type { CredentialSource, Credentials, PolicyDoc, Principal } from './auth/principals.js';

/** An emulator with all four services, not yet started. */
export function createEmulator(options: EmulatorOptions = {}): Emulator {
  const iam = { ...iamService, operations: { ...iamService.operations, ...identityPolicyOps } };
  return new Emulator([iam, stsService, identitystoreService, ssoAdminService, s3Service], options);
}

/** Start one on a free loopback port. */
export async function startEmulator(options: EmulatorOptions = {}): Promise<Emulator> {
  const emulator = createEmulator(options);
  await emulator.start();
  return emulator;
}
export { probe, probeResult, type ProbeCredentials, type ProbeOptions, type ProbeOutcome, type ProbeResult } from './probe.js';
export { PROBE_BUCKET, PROBE_KEY } from './services/s3.js';
