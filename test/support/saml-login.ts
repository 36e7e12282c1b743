/**
 * Logging a person in the way a browser does with ADFS: the IdP signs a SAML response for the user,
 * and the response goes to STS `AssumeRoleWithSAML` (here with the real `@aws-sdk/client-sts`, unsigned
 * as on AWS, against the emulator). The credentials that come back are a role session whose
 * `aws:userid` is `ROLEID:<user>`.
 *
 * ```ts
 * const idp = await createSamlIdp();
 * // ... CreateSAMLProvider with idp.metadataXml(), a role trusting it ...
 * const session = await samlLogin(emulator, { idp, user: 'jdoe@corp.example', roleArn, providerArn });
 * const sts = new STSClient({ endpoint: emulator.url, region: 'us-east-1', credentials: session.credentials });
 * ```
 */
import { AssumeRoleWithSAMLCommand, STSClient } from '@aws-sdk/client-sts';
import type { AssumeRoleWithSAMLCommandOutput } from '@aws-sdk/client-sts';
import type { SamlIdp, SamlRole, SignedResponseOptions } from './saml-idp.js';

/** An emulator (anything with a `url`) or its URL. */
export type EmulatorEndpoint = string | { readonly url: string };

export interface SessionCredentials {
  readonly accessKeyId: string;
  readonly secretAccessKey: string;
  readonly sessionToken: string;
  readonly expiration: Date;
}

export interface SamlSession {
  /** Ready for an SDK client's `credentials`. */
  readonly credentials: SessionCredentials;
  /** arn:aws:sts::A:assumed-role/ROLE/SESSION */
  readonly arn: string;
  /** ROLEID:SESSION, the session's aws:userid. */
  readonly assumedRoleId: string;
  /** The whole AssumeRoleWithSAML answer (Subject, Issuer, Audience, NameQualifier, ...). */
  readonly response: AssumeRoleWithSAMLCommandOutput;
}

export interface SamlLoginOptions {
  readonly idp: SamlIdp;
  /** RoleSessionName as ADFS sends it: the UPN or sAMAccountName. */
  readonly user: string;
  /** The role to sign in to, and the SAML provider that names the IdP in the role's account. */
  readonly roleArn: string;
  readonly providerArn: string;
  /** The user's other roles, which the IdP lists in the same Role attribute (a person in several groups). */
  readonly otherRoles?: readonly SamlRole[];
  /** AssumeRoleWithSAML DurationSeconds (default 3600, at most the role's MaxSessionDuration). */
  readonly durationSeconds?: number;
  /** Anything else for the IdP's response (audience, notOnOrAfter, sessionDuration, ...). */
  readonly assertion?: Partial<Omit<SignedResponseOptions, 'user' | 'roles'>>;
}

function url(endpoint: EmulatorEndpoint): string {
  return typeof endpoint === 'string' ? endpoint : endpoint.url;
}

/** An STS client for unsigned calls against the emulator (one attempt: a refusal is the answer, not a fault). */
function stsClient(endpoint: EmulatorEndpoint): STSClient {
  return new STSClient({ endpoint: url(endpoint), region: 'us-east-1', maxAttempts: 1 });
}

/** `AssumeRoleWithSAML` with a SAML response as given (base64), for tests that send a forged or altered one. */
export async function assumeRoleWithSaml(
  endpoint: EmulatorEndpoint,
  input: { readonly roleArn: string; readonly providerArn: string; readonly samlAssertion: string; readonly durationSeconds?: number },
): Promise<SamlSession> {
  const sts = stsClient(endpoint);
  try {
    const out = await sts.send(
      new AssumeRoleWithSAMLCommand({
        RoleArn: input.roleArn,
        PrincipalArn: input.providerArn,
        SAMLAssertion: input.samlAssertion,
        ...(input.durationSeconds !== undefined ? { DurationSeconds: input.durationSeconds } : {}),
      }),
    );
    const c = out.Credentials;
    if (!c?.AccessKeyId || !c.SecretAccessKey || !c.SessionToken || !c.Expiration || !out.AssumedRoleUser?.Arn || !out.AssumedRoleUser.AssumedRoleId) {
      throw new Error('AssumeRoleWithSAML answered without credentials or AssumedRoleUser');
    }
    return {
      credentials: { accessKeyId: c.AccessKeyId, secretAccessKey: c.SecretAccessKey, sessionToken: c.SessionToken, expiration: c.Expiration },
      arn: out.AssumedRoleUser.Arn,
      assumedRoleId: out.AssumedRoleUser.AssumedRoleId,
      response: out,
    };
  } finally {
    sts.destroy();
  }
}

/** The IdP signs a response for `user` listing `roleArn` (and `otherRoles`), and STS turns it into a session of `roleArn`. */
export async function samlLogin(endpoint: EmulatorEndpoint, o: SamlLoginOptions): Promise<SamlSession> {
  const samlAssertion = o.idp.signedResponse({
    ...o.assertion,
    user: o.user,
    roles: [{ roleArn: o.roleArn, providerArn: o.providerArn }, ...(o.otherRoles ?? [])],
  });
  return assumeRoleWithSaml(endpoint, { roleArn: o.roleArn, providerArn: o.providerArn, samlAssertion, ...(o.durationSeconds !== undefined ? { durationSeconds: o.durationSeconds } : {}) });
}
