/**
 * The trust policy of a federated role is built in one place, the core (`samlTrustPolicy`), so that
 * what rolemap creates and what it compares against can never disagree. Compare with `policiesEqual`:
 * AWS stores its own spelling of it.
 */
import type { AccountId } from '../../../core/model/role-map.js';

export { SAML_AUDIENCE, samlTrustPolicy } from '../../../core/desired/federated-roles.js';

export function samlProviderArn(account: AccountId, provider: string): string {
  return `arn:aws:iam::${account}:saml-provider/${provider}`;
}
