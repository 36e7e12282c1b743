/**
 * A test SAML identity provider that answers like ADFS does for the AWS relying party.
 *
 * `createSamlIdp()` makes an RSA key and a self-signed X.509 certificate (`selfsigned`), and offers:
 * - `metadataXml()`: IdP metadata (an `EntityDescriptor` with an `IDPSSODescriptor` naming the signing
 *   certificate) for `iam:CreateSAMLProvider` / `iam:UpdateSAMLProvider`;
 * - `signedResponse({ user, roles, ... })`: the base64 SAML `Response` that the AWS sign-in endpoint
 *   receives from the browser, its `Assertion` signed with an enveloped signature (exclusive c14n,
 *   rsa-sha256) by `xml-crypto`, carrying the `Role` ("roleArn,providerArn") and `RoleSessionName`
 *   attributes (ADFS sends the UPN or sAMAccountName there), optionally `SessionDuration`, the audience
 *   and the `SubjectConfirmationData` `Recipient` and `NotOnOrAfter` that AWS checks.
 *
 * See https://docs.aws.amazon.com/IAM/latest/UserGuide/id_roles_providers_create_saml_assertions.html
 * for the claims AWS expects.
 *
 * ```ts
 * const idp = await createSamlIdp();
 * await iam.send(new CreateSAMLProviderCommand({ Name: 'ADFS', SAMLMetadataDocument: idp.metadataXml() }));
 * const assertion = idp.signedResponse({ user: 'jdoe@corp.example', roles: [{ roleArn, providerArn }] });
 * ```
 */
import { randomUUID } from 'node:crypto';
import { generate } from 'selfsigned';
import { SignedXml } from 'xml-crypto';

export const AWS_SIGNIN_SAML_URL = 'https://signin.aws.amazon.com/saml';
export const SAML_ATTR_ROLE = 'https://aws.amazon.com/SAML/Attributes/Role';
export const SAML_ATTR_ROLE_SESSION_NAME = 'https://aws.amazon.com/SAML/Attributes/RoleSessionName';
export const SAML_ATTR_SESSION_DURATION = 'https://aws.amazon.com/SAML/Attributes/SessionDuration';

export interface SamlRole {
  /** arn:aws:iam::ACCOUNT:role/PATH/NAME */
  readonly roleArn: string;
  /** arn:aws:iam::ACCOUNT:saml-provider/NAME */
  readonly providerArn: string;
}

export interface SignedResponseOptions {
  /** The RoleSessionName attribute: a UPN or sAMAccountName, as ADFS sends it. */
  readonly user: string;
  /** One `Role` attribute value per pair. */
  readonly roles: readonly SamlRole[];
  /** Subject NameID; defaults to `user`. */
  readonly nameId?: string;
  /** NameID Format; defaults to persistent. */
  readonly nameIdFormat?: string;
  /** The AudienceRestriction's Audience; defaults to https://signin.aws.amazon.com/saml (AWS also accepts urn:amazon:webservices). */
  readonly audience?: string;
  /** SubjectConfirmationData Recipient (what STS calls `SAML:aud`); defaults to https://signin.aws.amazon.com/saml. */
  readonly recipient?: string;
  /** SubjectConfirmationData / Conditions NotOnOrAfter; defaults to five minutes after `now`. */
  readonly notOnOrAfter?: Date;
  /** The SessionDuration attribute in seconds; absent when not given. */
  readonly sessionDuration?: number;
  /** Issue instant; defaults to the current time. */
  readonly now?: Date;
  /** Leave the assertion unsigned (for tests of refusal). */
  readonly unsigned?: boolean;
  /** Response Status; defaults to Success. */
  readonly statusCode?: string;
}

export interface SamlIdp {
  /** The IdP's entity id, which is the Issuer of its responses. */
  readonly entityId: string;
  /** PEM of the self-signed signing certificate. */
  readonly certificatePem: string;
  /** Base64 DER of the certificate, as it appears in metadata and KeyInfo. */
  readonly certificateBase64: string;
  /** IdP metadata for CreateSAMLProvider / UpdateSAMLProvider (well over IAM's 1,000-character minimum). */
  metadataXml(): string;
  /** A SAML Response as the sign-in endpoint receives it: base64 of the XML. */
  signedResponse(options: SignedResponseOptions): string;
  /** The same response as XML text, before base64 (for tests that tamper with it). */
  responseXml(options: SignedResponseOptions): string;
}

export interface SamlIdpOptions {
  /** Defaults to ADFS's shape: http://adfs.corp.example/adfs/services/trust */
  readonly entityId?: string;
  /** Common name of the certificate; defaults to "ADFS Signing - adfs.corp.example". */
  readonly commonName?: string;
}

const NS_SAMLP = 'urn:oasis:names:tc:SAML:2.0:protocol';
const NS_SAML = 'urn:oasis:names:tc:SAML:2.0:assertion';
const NS_MD = 'urn:oasis:names:tc:SAML:2.0:metadata';
const NS_DS = 'http://www.w3.org/2000/09/xmldsig#';
const PERSISTENT = 'urn:oasis:names:tc:SAML:2.0:nameid-format:persistent';

function esc(s: string): string {
  return s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');
}

/** SAML's xs:dateTime, as ADFS writes it (milliseconds, Z). */
function instant(d: Date): string {
  return d.toISOString();
}

function attribute(name: string, values: readonly string[]): string {
  return `<Attribute Name="${esc(name)}">${values.map((v) => `<AttributeValue>${esc(v)}</AttributeValue>`).join('')}</Attribute>`;
}

export async function createSamlIdp(options: SamlIdpOptions = {}): Promise<SamlIdp> {
  const entityId = options.entityId ?? 'http://adfs.corp.example/adfs/services/trust';
  const notBefore = new Date(Date.now() - 86400_000);
  const pems = await generate([{ name: 'commonName', value: options.commonName ?? 'ADFS Signing - adfs.corp.example' }], {
    keySize: 2048,
    algorithm: 'sha256',
    notBeforeDate: notBefore,
    notAfterDate: new Date(notBefore.getTime() + 2 * 365 * 86400_000),
  });
  const certificatePem = pems.cert;
  const privateKeyPem = pems.private;
  const certificateBase64 = certificatePem.replace(/-----(BEGIN|END) CERTIFICATE-----/g, '').replace(/\s+/g, '');

  const metadataXml = (): string =>
    `<?xml version="1.0" encoding="utf-8"?>` +
    `<EntityDescriptor xmlns="${NS_MD}" ID="_${randomUUID()}" entityID="${esc(entityId)}">` +
    `<IDPSSODescriptor WantAuthnRequestsSigned="false" protocolSupportEnumeration="${NS_SAMLP}">` +
    `<KeyDescriptor use="signing"><KeyInfo xmlns="${NS_DS}"><X509Data><X509Certificate>${certificateBase64}</X509Certificate></X509Data></KeyInfo></KeyDescriptor>` +
    `<NameIDFormat>urn:oasis:names:tc:SAML:1.1:nameid-format:emailAddress</NameIDFormat>` +
    `<NameIDFormat>${PERSISTENT}</NameIDFormat>` +
    `<NameIDFormat>urn:oasis:names:tc:SAML:2.0:nameid-format:transient</NameIDFormat>` +
    `<SingleSignOnService Binding="urn:oasis:names:tc:SAML:2.0:bindings:HTTP-Redirect" Location="${esc(entityId.replace(/\/services\/trust$/, '/ls/'))}"/>` +
    `<SingleSignOnService Binding="urn:oasis:names:tc:SAML:2.0:bindings:HTTP-POST" Location="${esc(entityId.replace(/\/services\/trust$/, '/ls/'))}"/>` +
    `</IDPSSODescriptor></EntityDescriptor>`;

  const responseXml = (o: SignedResponseOptions): string => {
    const now = o.now ?? new Date();
    const notOnOrAfter = o.notOnOrAfter ?? new Date(now.getTime() + 5 * 60_000);
    const recipient = o.recipient ?? AWS_SIGNIN_SAML_URL;
    const audience = o.audience ?? AWS_SIGNIN_SAML_URL;
    const assertionId = `_${randomUUID()}`;
    const attributes = [
      attribute(SAML_ATTR_ROLE_SESSION_NAME, [o.user]),
      attribute(
        SAML_ATTR_ROLE,
        o.roles.map((r) => `${r.roleArn},${r.providerArn}`),
      ),
      ...(o.sessionDuration !== undefined ? [attribute(SAML_ATTR_SESSION_DURATION, [String(o.sessionDuration)])] : []),
    ].join('');
    const assertion =
      `<Assertion xmlns="${NS_SAML}" ID="${assertionId}" IssueInstant="${instant(now)}" Version="2.0">` +
      `<Issuer>${esc(entityId)}</Issuer>` +
      `<Subject><NameID Format="${esc(o.nameIdFormat ?? PERSISTENT)}">${esc(o.nameId ?? o.user)}</NameID>` +
      `<SubjectConfirmation Method="urn:oasis:names:tc:SAML:2.0:cm:bearer"><SubjectConfirmationData NotOnOrAfter="${instant(notOnOrAfter)}" Recipient="${esc(recipient)}"/></SubjectConfirmation></Subject>` +
      `<Conditions NotBefore="${instant(new Date(now.getTime() - 60_000))}" NotOnOrAfter="${instant(notOnOrAfter)}"><AudienceRestriction><Audience>${esc(audience)}</Audience></AudienceRestriction></Conditions>` +
      `<AttributeStatement>${attributes}</AttributeStatement>` +
      `<AuthnStatement AuthnInstant="${instant(now)}" SessionIndex="${assertionId}"><AuthnContext><AuthnContextClassRef>urn:oasis:names:tc:SAML:2.0:ac:classes:PasswordProtectedTransport</AuthnContextClassRef></AuthnContext></AuthnStatement>` +
      `</Assertion>`;
    const response =
      `<samlp:Response xmlns:samlp="${NS_SAMLP}" ID="_${randomUUID()}" Version="2.0" IssueInstant="${instant(now)}" Destination="${esc(recipient)}" Consent="urn:oasis:names:tc:SAML:2.0:consent:unspecified">` +
      `<Issuer xmlns="${NS_SAML}">${esc(entityId)}</Issuer>` +
      `<samlp:Status><samlp:StatusCode Value="${esc(o.statusCode ?? 'urn:oasis:names:tc:SAML:2.0:status:Success')}"/></samlp:Status>` +
      assertion +
      `</samlp:Response>`;
    if (o.unsigned) return response;
    const sig = new SignedXml({
      privateKey: privateKeyPem,
      publicCert: certificatePem,
      signatureAlgorithm: 'http://www.w3.org/2001/04/xmldsig-more#rsa-sha256',
      canonicalizationAlgorithm: 'http://www.w3.org/2001/10/xml-exc-c14n#',
    });
    sig.addReference({
      xpath: `//*[local-name(.)='Assertion' and namespace-uri(.)='${NS_SAML}']`,
      transforms: ['http://www.w3.org/2000/09/xmldsig#enveloped-signature', 'http://www.w3.org/2001/10/xml-exc-c14n#'],
      digestAlgorithm: 'http://www.w3.org/2001/04/xmlenc#sha256',
    });
    sig.computeSignature(response, {
      prefix: 'ds',
      location: { reference: `//*[local-name(.)='Assertion']/*[local-name(.)='Issuer']`, action: 'after' },
    });
    return sig.getSignedXml();
  };

  return {
    entityId,
    certificatePem,
    certificateBase64,
    metadataXml,
    responseXml,
    signedResponse: (o) => Buffer.from(responseXml(o), 'utf8').toString('base64'),
  };
}

/** Base64 of an XML text, as the sign-in endpoint receives a response (for tests that build or alter one by hand). */
export function encodeSamlResponse(xml: string): string {
  return Buffer.from(xml, 'utf8').toString('base64');
}
