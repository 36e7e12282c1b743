/**
 * Reading a SAML response the way STS does before `AssumeRoleWithSAML` mints a session: the XML
 * signature is checked with `xml-crypto` against the signing certificates in the SAML provider's
 * metadata (never against a certificate the response carries itself), and every claim is read from
 * the XML that the signature covers (`getSignedReferences`), not from the document as sent, so a
 * wrapped or appended assertion cannot slip claims past the check.
 *
 * Errors use the STS error codes of the `AssumeRoleWithSAML` API reference
 * (https://docs.aws.amazon.com/STS/latest/APIReference/API_AssumeRoleWithSAML.html):
 * `InvalidIdentityToken` (400) for a response that cannot be validated, `ExpiredTokenException` (400)
 * for one past its `NotOnOrAfter`, `IDPRejectedClaim` (403) for a response whose status is not success.
 */
import { DOMParser } from '@xmldom/xmldom';
import { SignedXml } from 'xml-crypto';
import { AwsError } from '../protocol.js';

const NS_SAMLP = 'urn:oasis:names:tc:SAML:2.0:protocol';
const NS_SAML = 'urn:oasis:names:tc:SAML:2.0:assertion';
const NS_MD = 'urn:oasis:names:tc:SAML:2.0:metadata';
const NS_DS = 'http://www.w3.org/2000/09/xmldsig#';
const SUCCESS = 'urn:oasis:names:tc:SAML:2.0:status:Success';

export interface SamlClaims {
  readonly issuer: string;
  readonly nameId: string;
  readonly nameIdFormat: string | undefined;
  /** SubjectConfirmationData Recipient: what AWS exposes as `SAML:aud` and answers as `Audience`. */
  readonly recipient: string;
  readonly notOnOrAfter: Date;
  readonly conditionsNotBefore: Date | undefined;
  readonly conditionsNotOnOrAfter: Date | undefined;
  /** AudienceRestriction/Audience values. */
  readonly audiences: readonly string[];
  /** Attribute Name -> values. */
  readonly attributes: ReadonlyMap<string, readonly string[]>;
}

function invalid(message: string): AwsError {
  return new AwsError('InvalidIdentityToken', message, 400);
}

function parse(xml: string, what: string): Document {
  // Document type declarations are how entity-expansion and external-entity attacks start: refused.
  if (/<!DOCTYPE/i.test(xml)) throw invalid(`${what} must not contain a document type declaration`);
  let failed: string | undefined;
  const doc = new DOMParser({
    errorHandler: {
      warning: () => undefined,
      error: (m: string) => {
        failed ??= m;
      },
      fatalError: (m: string) => {
        failed ??= m;
      },
    },
  }).parseFromString(xml, 'text/xml');
  if (failed !== undefined || !doc.documentElement) throw invalid(`${what} is not well-formed XML`);
  return doc;
}

function children(el: Element, ns: string, local: string): Element[] {
  const out: Element[] = [];
  for (let n = el.firstChild; n; n = n.nextSibling) {
    if (n.nodeType === 1 && (n as Element).namespaceURI === ns && (n as Element).localName === local) out.push(n as Element);
  }
  return out;
}

function child(el: Element, ns: string, local: string): Element | undefined {
  return children(el, ns, local)[0];
}

function text(el: Element | undefined): string {
  return (el?.textContent ?? '').trim();
}

function date(raw: string | null, what: string): Date | undefined {
  if (raw === null || raw === '') return undefined;
  const d = new Date(raw);
  if (Number.isNaN(d.getTime())) throw invalid(`${what} is not a valid xs:dateTime`);
  return d;
}

/** The signing certificates (base64 DER) named by IdP metadata: KeyDescriptors with use="signing" or no use. */
export function signingCertificates(metadataXml: string): string[] {
  const doc = parse(metadataXml, 'SAML metadata');
  const out: string[] = [];
  const descriptors = doc.getElementsByTagNameNS(NS_MD, 'IDPSSODescriptor');
  for (let i = 0; i < descriptors.length; i++) {
    const d = descriptors.item(i) as Element;
    for (const kd of children(d, NS_MD, 'KeyDescriptor')) {
      const use = kd.getAttribute('use');
      if (use !== null && use !== '' && use !== 'signing') continue;
      const certs = kd.getElementsByTagNameNS(NS_DS, 'X509Certificate');
      for (let j = 0; j < certs.length; j++) out.push(text(certs.item(j) as Element).replace(/\s+/g, ''));
    }
  }
  return out.filter((c) => c !== '');
}

/** The entityID of IdP metadata. */
export function metadataEntityId(metadataXml: string): string | undefined {
  const doc = parse(metadataXml, 'SAML metadata');
  const root = doc.documentElement;
  return root?.localName === 'EntityDescriptor' ? (root.getAttribute('entityID') ?? undefined) : undefined;
}

function pem(base64Der: string): string {
  return `-----BEGIN CERTIFICATE-----\n${(base64Der.match(/.{1,64}/g) ?? []).join('\n')}\n-----END CERTIFICATE-----\n`;
}

/** The signature under `el` (a direct child, as SAML places it), if any. */
function signatureOf(el: Element): Element | undefined {
  return child(el, NS_DS, 'Signature');
}

/**
 * Verifies the response's signature against `certificates` and returns the claims of the signed
 * assertion. The assertion must be signed itself, or be the one assertion of a signed response.
 */
export function verifySamlResponse(samlAssertion: string, certificates: readonly string[], now: Date): SamlClaims {
  let xml: string;
  try {
    xml = Buffer.from(samlAssertion, 'base64').toString('utf8');
  } catch {
    throw invalid('SAMLAssertion is not base64');
  }
  if (!xml.includes('<')) throw invalid('SAMLAssertion is not a base64-encoded SAML response');
  const doc = parse(xml, 'The SAML response');
  const response = doc.documentElement as Element;
  if (response.namespaceURI !== NS_SAMLP || response.localName !== 'Response') throw invalid('The SAML document is not a SAML 2.0 Response');
  const statusCode = child(child(response, NS_SAMLP, 'Status') ?? response, NS_SAMLP, 'StatusCode')?.getAttribute('Value');
  if (statusCode !== SUCCESS) throw new AwsError('IDPRejectedClaim', `The identity provider's response has status ${statusCode ?? '(none)'}`, 403);
  const assertions = children(response, NS_SAML, 'Assertion');
  if (children(response, NS_SAML, 'EncryptedAssertion').length > 0) throw invalid('Encrypted assertions are not supported by this emulator');
  if (assertions.length !== 1) throw invalid(`The SAML response must contain exactly one Assertion (found ${assertions.length})`);
  const assertion = assertions[0] as Element;

  const signature = signatureOf(assertion) ?? signatureOf(response);
  if (!signature) throw invalid('Response signature invalid: the response carries no signature');
  if (certificates.length === 0) throw invalid('The SAML provider metadata names no signing certificate');

  let signed: string | undefined;
  for (const cert of certificates) {
    const sig = new SignedXml({ publicCert: pem(cert) });
    try {
      sig.loadSignature(signature);
      if (!sig.checkSignature(xml)) continue;
    } catch {
      continue;
    }
    const refs = sig.getSignedReferences();
    if (refs.length !== 1) continue;
    signed = refs[0];
    break;
  }
  if (signed === undefined) throw invalid('Response signature invalid');

  // Everything below comes from the signed XML only.
  const signedRoot = parse(signed, 'The signed part of the SAML response').documentElement as Element;
  let signedAssertion: Element | undefined;
  if (signedRoot.namespaceURI === NS_SAML && signedRoot.localName === 'Assertion') signedAssertion = signedRoot;
  else if (signedRoot.namespaceURI === NS_SAMLP && signedRoot.localName === 'Response') {
    const inner = children(signedRoot, NS_SAML, 'Assertion');
    if (inner.length === 1) signedAssertion = inner[0];
  }
  if (!signedAssertion) throw invalid('Response signature invalid: the signature does not cover the assertion');
  if (signedAssertion.getAttribute('ID') !== assertion.getAttribute('ID')) throw invalid('Response signature invalid: the signature covers another assertion');

  const issuer = text(child(signedAssertion, NS_SAML, 'Issuer'));
  if (issuer === '') throw invalid('The assertion has no Issuer');
  const subject = child(signedAssertion, NS_SAML, 'Subject');
  const nameIdEl = subject ? child(subject, NS_SAML, 'NameID') : undefined;
  const confirmations = subject ? children(subject, NS_SAML, 'SubjectConfirmation') : [];
  if (confirmations.length !== 1) throw invalid('The assertion must have exactly one SubjectConfirmation');
  const data = child(confirmations[0] as Element, NS_SAML, 'SubjectConfirmationData');
  const recipient = data?.getAttribute('Recipient') ?? '';
  const notOnOrAfter = date(data?.getAttribute('NotOnOrAfter') ?? null, 'SubjectConfirmationData NotOnOrAfter');
  if (recipient === '' || notOnOrAfter === undefined) throw invalid('SubjectConfirmationData must have both Recipient and NotOnOrAfter');
  const conditions = child(signedAssertion, NS_SAML, 'Conditions');
  const audiences: string[] = [];
  for (const ar of conditions ? children(conditions, NS_SAML, 'AudienceRestriction') : []) {
    for (const a of children(ar, NS_SAML, 'Audience')) audiences.push(text(a));
  }
  const attributes = new Map<string, string[]>();
  for (const st of children(signedAssertion, NS_SAML, 'AttributeStatement')) {
    for (const at of children(st, NS_SAML, 'Attribute')) {
      const name = at.getAttribute('Name') ?? '';
      attributes.set(name, [...(attributes.get(name) ?? []), ...children(at, NS_SAML, 'AttributeValue').map(text)]);
    }
  }
  const claims: SamlClaims = {
    issuer,
    nameId: text(nameIdEl),
    nameIdFormat: nameIdEl?.getAttribute('Format') ?? undefined,
    recipient,
    notOnOrAfter,
    conditionsNotBefore: date(conditions?.getAttribute('NotBefore') ?? null, 'Conditions NotBefore'),
    conditionsNotOnOrAfter: date(conditions?.getAttribute('NotOnOrAfter') ?? null, 'Conditions NotOnOrAfter'),
    audiences,
    attributes,
  };
  if (claims.notOnOrAfter.getTime() <= now.getTime() || (claims.conditionsNotOnOrAfter !== undefined && claims.conditionsNotOnOrAfter.getTime() <= now.getTime())) {
    throw new AwsError('ExpiredTokenException', 'Token has expired: the SAML assertion is past its NotOnOrAfter', 400);
  }
  if (claims.conditionsNotBefore !== undefined && claims.conditionsNotBefore.getTime() > now.getTime() + 5 * 60_000) {
    throw invalid('The SAML assertion is not yet valid (Conditions NotBefore is in the future)');
  }
  return claims;
}
