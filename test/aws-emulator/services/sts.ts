import type { ServiceDef } from '../server.js';

// eslint-disable-next-line @typescript-eslint/no-empty-object-type
export interface StsState {}

/** Placeholder: operations are filled in by the AWS target work. */
export const stsService: ServiceDef<StsState> = {
  signingName: 'sts',
  protocol: 'query',
  xmlNamespace: 'https://sts.amazonaws.com/doc/2011-06-15/',
  throttleBucket: 'sts',
  throttleCode: 'Throttling',
  initialState: () => ({}),
  operations: {},
};
