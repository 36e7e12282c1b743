/**
 * STS `AssumeRoleWithSAML` (query protocol; unsigned, as on AWS: the SAML response is the credential).
 * Follows https://docs.aws.amazon.com/STS/latest/APIReference/API_AssumeRoleWithSAML.html and
 * https://docs.aws.amazon.com/IAM/latest/UserGuide/id_roles_providers_create_saml_assertions.html:
 *
 * 1. `PrincipalArn` names a SAML provider in its account's IAM state (else `InvalidIdentityToken`,
 *    "Specified provider doesn't exist").
 * 2. The response's signature is checked against the signing certificates of the provider's metadata
 *    and its claims are read from the signed XML only (./saml-assertion.ts): unsigned, tampered or
 *    re-signed responses are `InvalidIdentityToken`; one past `NotOnOrAfter` is `ExpiredTokenException`.
 * 3. The `Issuer` must be the metadata's entityID; the `SubjectConfirmationData` `Recipient` must be
 *    AWS's SAML sign-in endpoint and an `Audience` must be that endpoint or `urn:amazon:webservices`.
 * 4. The `Role` attribute must pair `RoleArn` with `PrincipalArn` (in either order, as AWS accepts);
 *    `RoleSessionName` must be one value of 2-64 characters of `[\w+=,.@-]`.
 * 5. The role must exist, and its trust policy is EVALUATED (`@cloud-copilot/iam-simulate`) for the
 *    action `sts:AssumeRoleWithSAML` by the provider ARN, with the SAML context keys AWS sets
 *    (`saml:aud`, `saml:iss`, `saml:sub`, `saml:sub_type`, `saml:namequalifier`, `saml:doc`, the
 *    Active Directory attribute keys, `aws:FederatedProvider`); a refusal is `AccessDenied`, "Not
 *    authorized to perform sts:AssumeRoleWithSAML".
 * 6. `DurationSeconds` (900..43200, default 3600) may not exceed the role's `MaxSessionDuration`
 *    (`ValidationError`); a `SessionDuration` attribute can only shorten the session.
 * The session (../sessions.ts) is `arn:aws:sts::A:assumed-role/ROLE/SESSION` with `aws:userid`
 * `ROLEID:SESSION` and `aws:TokenIssueTime` now. The role's `RoleLastUsed` (date and Region) is set at once.
 *
 * Where AWS documents no error code (a Role attribute without the pair, an invalid RoleSessionName,
 * a wrong audience) the emulator answers `InvalidIdentityToken`. Not modelled: session policies
 * (`Policy`, `PolicyArns` are accepted and ignored), session tags (`PrincipalTag:*`), `SourceIdentity`,
 * encrypted assertions, `SessionNotOnOrAfter`, the eduPerson / X.500 attribute keys.
 */
import { createHash } from 'node:crypto';
import { runSimulation } from '@cloud-copilot/iam-simulate';
import type { RequestContext } from '../server.js';
import { AwsError } from '../protocol.js';
import type { QueryValue } from '../protocol.js';
import { mintRoleSession } from '../sessions.js';
import type { IamState, RoleRec } from './iam.js';
import { metadataEntityId, signingCertificates, verifySamlResponse } from './saml-assertion.js';
import type { SamlClaims } from './saml-assertion.js';
import type { StsState } from './sts.js';

type Params = Record<string, QueryValue> & Record<string, unknown>;

const ATTR_ROLE = 'https://aws.amazon.com/SAML/Attributes/Role';
const ATTR_SESSION_NAME = 'https://aws.amazon.com/SAML/Attributes/RoleSessionName';
const ATTR_SESSION_DURATION = 'https://aws.amazon.com/SAML/Attributes/SessionDuration';
const SIGNIN = /^https:\/\/(?:[a-z0-9-]+\.)?signin\.aws\.amazon\.com\/(?:static\/)?saml(?:\/acs\/[\w-]+)?$/;
const AUDIENCES = /^(?:urn:amazon:webservices|https:\/\/(?:[a-z0-9-]+\.)?signin\.aws\.amazon\.com\/saml)$/;
const SESSION_NAME = /^[\w+=,.@-]{2,64}$/;
const NAMEID_PREFIX = 'urn:oasis:names:tc:SAML:2.0:nameid-format:';

/** Active Directory claim -> AWS context key (the table "Mapping SAML attributes to AWS trust policy context keys"). */
const AD_KEYS: Readonly<Record<string, string>> = {
  'http://schemas.xmlsoap.org/ws/2005/05/identity/claims/name': 'saml:name',
  'http://schemas.xmlsoap.org/claims/CommonName': 'saml:commonName',
  'http://schemas.xmlsoap.org/ws/2005/05/identity/claims/givenname': 'saml:givenName',
  'http://schemas.xmlsoap.org/ws/2005/05/identity/claims/surname': 'saml:surname',
  'http://schemas.xmlsoap.org/ws/2005/05/identity/claims/emailaddress': 'saml:mail',
  'http://schemas.microsoft.com/ws/2008/06/identity/claims/primarygroupsid': 'saml:uid',
};

function required(p: Params, name: string): string {
  const v = p[name];
  if (typeof v !== 'string' || v === '') {
    throw new AwsError('ValidationError', `1 validation error detected: Value null at '${name.charAt(0).toLowerCase()}${name.slice(1)}' failed to satisfy constraint: Member must not be null`);
  }
  return v;
}

function invalid(message: string): AwsError {
  return new AwsError('InvalidIdentityToken', message, 400);
}

function denied(roleArn: string): AwsError {
  return new AwsError('AccessDenied', `Not authorized to perform sts:AssumeRoleWithSAML on resource: ${roleArn}`, 403);
}

/** BASE64 ( SHA1 ( issuer + account + "/" + provider name ) ), as the API reference describes NameQualifier. */
export function nameQualifier(issuer: string, account: string, providerName: string): string {
  return createHash('sha1').update(`${issuer}${account}/${providerName}`, 'utf8').digest('base64');
}

function subjectType(format: string | undefined): string | undefined {
  if (format === undefined || format === '') return undefined;
  return format.startsWith(NAMEID_PREFIX) ? format.slice(NAMEID_PREFIX.length) : format;
}

/** The request context of the trust-policy evaluation. */
export function samlContext(claims: SamlClaims, account: string, providerName: string, providerArn: string): Record<string, string | string[]> {
  const ctx: Record<string, string | string[]> = {
    'saml:aud': claims.recipient,
    'saml:iss': claims.issuer,
    'saml:sub': claims.nameId,
    'saml:namequalifier': nameQualifier(claims.issuer, account, providerName),
    'saml:doc': `${account}/${providerName}`,
    'aws:FederatedProvider': providerArn,
    'aws:CurrentTime': new Date().toISOString(),
  };
  const st = subjectType(claims.nameIdFormat);
  if (st !== undefined) ctx['saml:sub_type'] = st;
  for (const [claim, key] of Object.entries(AD_KEYS)) {
    const v = claims.attributes.get(claim);
    if (v !== undefined && v[0] !== undefined) ctx[key] = v[0];
  }
  return ctx;
}

/** Does the role's trust policy allow `sts:AssumeRoleWithSAML` by this provider with this context? Evaluated, not matched. */
export async function trustAllowsSaml(role: RoleRec, roleArn: string, account: string, providerArn: string, context: Record<string, string | string[]>): Promise<boolean> {
  const result = await runSimulation(
    {
      request: { principal: providerArn, action: 'sts:AssumeRoleWithSAML', resource: { resource: roleArn, accountId: account }, contextVariables: context },
      identityPolicies: [],
      serviceControlPolicies: [],
      resourceControlPolicies: [],
      resourcePolicy: JSON.parse(role.assumeRolePolicyDocument) as unknown,
    },
    {},
  );
  return result.resultType !== 'error' && result.overallResult === 'Allowed';
}

function roleArnParts(arn: string): { account: string; name: string } {
  const m = /^arn:aws:iam::(\d{12}):role\/(?:[\u0021-\u007e]*\/)?([\w+=,.@-]{1,64})$/.exec(arn);
  if (!m) throw new AwsError('ValidationError', `${arn} is not a valid role ARN`);
  return { account: m[1] as string, name: m[2] as string };
}

function providerArnParts(arn: string): { account: string; name: string } {
  const m = /^arn:aws:iam::(\d{12}):saml-provider\/([\w._-]{1,128})$/.exec(arn);
  if (!m) throw new AwsError('ValidationError', `${arn} is not a valid SAML provider ARN`);
  return { account: m[1] as string, name: m[2] as string };
}

export const samlOperations = {
  async AssumeRoleWithSAML(_state: StsState, p: Params, ctx: RequestContext): Promise<unknown> {
    const roleArn = required(p, 'RoleArn');
    const principalArn = required(p, 'PrincipalArn');
    const samlAssertion = required(p, 'SAMLAssertion');
    if (samlAssertion.length < 4 || samlAssertion.length > 100_000) {
      throw new AwsError('ValidationError', "1 validation error detected: Value at 'sAMLAssertion' failed to satisfy constraint: Member must have length between 4 and 100000");
    }
    const rawDuration = p['DurationSeconds'];
    const duration = rawDuration === undefined ? 3600 : Number(rawDuration);
    if (!Number.isInteger(duration) || duration < 900 || duration > 43200) {
      throw new AwsError('ValidationError', `1 validation error detected: Value '${String(rawDuration)}' at 'durationSeconds' failed to satisfy constraint: Member must have value between 900 and 43200`);
    }
    const r = roleArnParts(roleArn);
    const pr = providerArnParts(principalArn);
    const iam = ctx.emulator.state<IamState>('iam');
    const provider = iam.accounts[pr.account]?.samlProviders[pr.name];
    if (!provider) throw invalid("Specified provider doesn't exist");

    const now = new Date();
    const claims = verifySamlResponse(samlAssertion, signingCertificates(provider.metadata), now);
    const entityId = metadataEntityId(provider.metadata);
    if (entityId !== undefined && entityId !== claims.issuer) throw invalid(`Issuer ${claims.issuer} does not match the SAML provider's entity ${entityId}`);
    if (!SIGNIN.test(claims.recipient)) throw invalid(`The SubjectConfirmationData Recipient ${claims.recipient} is not the AWS SAML sign-in endpoint`);
    if (!claims.audiences.some((a) => AUDIENCES.test(a))) throw invalid(`The assertion's audience (${claims.audiences.join(', ') || 'none'}) does not include AWS`);

    const pairs = (claims.attributes.get(ATTR_ROLE) ?? []).map((v) => v.split(',').map((s) => s.trim()));
    if (!pairs.some((pair) => pair.length === 2 && pair.includes(roleArn) && pair.includes(principalArn))) {
      throw invalid(`The SAML assertion's Role attribute does not pair role ${roleArn} with provider ${principalArn}`);
    }
    const names = claims.attributes.get(ATTR_SESSION_NAME) ?? [];
    if (names.length === 0) throw invalid('Error: RoleSessionName is required in AuthnResponse');
    const sessionName = names[0] as string;
    if (names.length > 1 || !SESSION_NAME.test(sessionName)) {
      throw invalid(`RoleSessionName '${sessionName}' must be 2 to 64 characters of letters, digits and _+=,.@-`);
    }

    const role = iam.accounts[r.account]?.roles[r.name.toLowerCase()];
    const canonicalArn = role ? `arn:aws:iam::${r.account}:role${role.path}${role.roleName}` : undefined;
    if (!role || canonicalArn !== roleArn) throw denied(roleArn);
    const context = samlContext(claims, pr.account, pr.name, principalArn);
    if (!(await trustAllowsSaml(role, roleArn, r.account, principalArn, context))) throw denied(roleArn);

    if (duration > role.maxSessionDuration) throw new AwsError('ValidationError', 'The requested DurationSeconds exceeds the MaxSessionDuration set for this role.');
    const attrDuration = Number((claims.attributes.get(ATTR_SESSION_DURATION) ?? [])[0]);
    const seconds = Number.isInteger(attrDuration) && attrDuration >= 900 && attrDuration < duration ? attrDuration : duration;

    const session = mintRoleSession(ctx.emulator, { account: r.account, role, sessionName, source: 'AssumeRoleWithSAML', durationSeconds: seconds, now });
    // RoleLastUsed (API_RoleLastUsed.html): when and in which Region the role was last assumed. AWS may lag up to
    // four hours; the emulator records it at once.
    role.lastUsed = { date: now.toISOString(), region: ctx.region };
    const st = subjectType(claims.nameIdFormat);
    return {
      Credentials: {
        AccessKeyId: session.accessKeyId,
        SecretAccessKey: session.secretAccessKey,
        SessionToken: session.sessionToken,
        Expiration: session.expiration,
      },
      AssumedRoleUser: { AssumedRoleId: session.userId, Arn: session.arn },
      Subject: claims.nameId,
      ...(st !== undefined ? { SubjectType: st } : {}),
      Issuer: claims.issuer,
      Audience: claims.recipient,
      NameQualifier: nameQualifier(claims.issuer, pr.account, pr.name),
    };
  },
};
