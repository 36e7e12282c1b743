/**
 * The trust policy of a federated role: the account's SAML provider may call
 * `sts:AssumeRoleWithSAML` (and `sts:TagSession` when session tags are wanted) for the AWS
 * sign-in audience. Compare with `policiesEqual`: AWS stores its own spelling of it.
 */
import type { PolicyDocument } from '../../../core/model/policy.js';
import type { AccountId } from '../../../core/model/role-map.js';

export const SAML_AUDIENCE = 'https://signin.aws.amazon.com/saml';

export function samlProviderArn(account: AccountId, provider: string): string {
  return `arn:aws:iam::${account}:saml-provider/${provider}`;
}

export function samlTrustPolicy(account: AccountId, provider: string, allowTagSession: boolean): PolicyDocument {
  return {
    Version: '2012-10-17',
    Statement: [
      {
        Effect: 'Allow',
        Principal: { Federated: samlProviderArn(account, provider) },
        Action: allowTagSession ? ['sts:AssumeRoleWithSAML', 'sts:TagSession'] : 'sts:AssumeRoleWithSAML',
        Condition: { StringEquals: { 'SAML:aud': SAML_AUDIENCE } },
      },
    ],
  };
}
