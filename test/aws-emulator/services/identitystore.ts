import type { ServiceDef } from '../server.js';

// eslint-disable-next-line @typescript-eslint/no-empty-object-type
export interface IdentitystoreState {}

/** Placeholder: operations are filled in by the AWS target work. */
export const identitystoreService: ServiceDef<IdentitystoreState> = {
  signingName: 'identitystore',
  protocol: 'json',
  targetPrefix: 'AWSIdentityStore',
  throttleBucket: 'identitycenter',
  throttleCode: 'ThrottlingException',
  initialState: () => ({}),
  operations: {},
};
