import type { ServiceDef } from '../server.js';

// eslint-disable-next-line @typescript-eslint/no-empty-object-type
export interface SsoAdminState {}

/** Placeholder: operations are filled in by the AWS target work. */
export const ssoAdminService: ServiceDef<SsoAdminState> = {
  signingName: 'sso',
  protocol: 'json',
  targetPrefix: 'SWBExternalService',
  throttleBucket: 'identitycenter',
  throttleCode: 'ThrottlingException',
  initialState: () => ({}),
  operations: {},
};
