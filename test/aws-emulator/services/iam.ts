import type { ServiceDef } from '../server.js';

// eslint-disable-next-line @typescript-eslint/no-empty-object-type
export interface IamState {}

/** Placeholder: operations are filled in by the AWS target work. */
export const iamService: ServiceDef<IamState> = {
  signingName: 'iam',
  protocol: 'query',
  xmlNamespace: 'https://iam.amazonaws.com/doc/2010-05-08/',
  throttleBucket: 'iam',
  throttleCode: 'Throttling',
  initialState: () => ({}),
  operations: {},
};
