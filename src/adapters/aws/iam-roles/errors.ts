import { RolemapError } from '../../../core/errors.js';
import type { AccountId } from '../../../core/model/role-map.js';

/** A SAML provider the role map names does not exist in an account: roles there could not trust it. */
export class SamlProviderMissingError extends RolemapError {
  readonly retryable = false;
  constructor(readonly missing: readonly { readonly account: AccountId; readonly alias: string; readonly provider: string }[]) {
    super(
      `SAML provider missing: ${missing.map((m) => `"${m.provider}" in account ${m.alias} (${m.account})`).join(', ')}. ` +
        'Create it (the ADFS federation metadata) or correct samlProvider in the role map.',
    );
  }
}

/** A change the IAM targets will not carry out (it would touch what rolemap does not own, or IAM cannot do it in place). */
export class IamChangeRefusedError extends RolemapError {
  readonly retryable = false;
  constructor(
    readonly address: string,
    readonly account: AccountId,
    why: string,
  ) {
    super(`${address} (account ${account}): ${why}`);
  }
}

/** A policy document AWS returned that is not JSON after URL-decoding. */
export class PolicyDecodeError extends RolemapError {
  readonly retryable = false;
  constructor(
    readonly account: AccountId,
    readonly where: string,
    options?: { cause?: unknown },
  ) {
    super(`cannot decode the policy document of ${where} in account ${account}`, options);
  }
}
