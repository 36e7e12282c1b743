/**
 * SAML federation against the emulator with the real SDK clients: a test IdP (test/support/saml-idp.ts)
 * signs ADFS-shaped responses, `samlLogin` sends them to STS `AssumeRoleWithSAML`, and the sessions
 * that come back are asked who they are. Every refusal a forged, stale or misdirected response must
 * meet is shown, and the role's trust policy decides (evaluated, so changing it changes the answer).
 */
import { CreateRoleCommand, CreateSAMLProviderCommand, IAMClient, UpdateAssumeRolePolicyCommand, UpdateRoleCommand, UpdateSAMLProviderCommand } from '@aws-sdk/client-iam';
import { ExpiredTokenException, GetCallerIdentityCommand, IDPRejectedClaimException, InvalidIdentityTokenException, STSClient } from '@aws-sdk/client-sts';
import { afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { samlTrustPolicy } from '../../src/core/desired/federated-roles.js';
import { createSamlIdp, encodeSamlResponse } from '../support/saml-idp.js';
import type { SamlIdp } from '../support/saml-idp.js';
import { assumeRoleWithSaml, samlLogin } from '../support/saml-login.js';
import type { SamlSession } from '../support/saml-login.js';
import { startEmulator } from './index.js';
import type { Emulator } from './index.js';
import { nameQualifier } from './services/sts-saml.js';

const PROD = '222222222222';
const PROVIDER = `arn:aws:iam::${PROD}:saml-provider/ADFS`;
const ADMIN = `arn:aws:iam::${PROD}:role/federated/Admin`;
const READER = `arn:aws:iam::${PROD}:role/federated/Reader`;
const BASE = { accessKeyId: 'AKIAPRODBASE00000001', secretAccessKey: 'base-secret-not-real' };

let idp: SamlIdp;
let impostor: SamlIdp;
let emulator: Emulator;
let iam: IAMClient;

beforeAll(async () => {
  idp = await createSamlIdp();
  // Same entity id, another key: what an attacker who copied the metadata's name could sign with.
  impostor = await createSamlIdp({ entityId: idp.entityId });
});

beforeEach(async () => {
  emulator = await startEmulator({ homeAccount: PROD, baseCredentials: [BASE] });
  iam = new IAMClient({ endpoint: emulator.url, region: 'us-east-1', credentials: BASE, maxAttempts: 1 });
  await iam.send(new CreateSAMLProviderCommand({ Name: 'ADFS', SAMLMetadataDocument: idp.metadataXml() }));
  for (const name of ['Admin', 'Reader']) {
    await iam.send(new CreateRoleCommand({ RoleName: name, Path: '/federated/', AssumeRolePolicyDocument: JSON.stringify(samlTrustPolicy(PROD, 'ADFS', false)), MaxSessionDuration: 7200 }));
  }
});

afterEach(async () => {
  iam.destroy();
  await emulator.stop();
});

async function whoAmI(session: SamlSession): Promise<{ Arn?: string | undefined; UserId?: string | undefined; Account?: string | undefined }> {
  const sts = new STSClient({ endpoint: emulator.url, region: 'us-east-1', credentials: session.credentials, maxAttempts: 1 });
  try {
    return await sts.send(new GetCallerIdentityCommand({}));
  } finally {
    sts.destroy();
  }
}

function roleId(name: string): string {
  const id = (emulator.state('iam') as { accounts: Record<string, { roles: Record<string, { roleId: string }> }> }).accounts[PROD]?.roles[name.toLowerCase()]?.roleId;
  if (!id) throw new Error(`no role ${name}`);
  return id;
}

async function refusal(p: Promise<unknown>): Promise<Error & { name: string; $metadata?: { httpStatusCode?: number } }> {
  const err = await p.then(
    () => undefined,
    (e: unknown) => e,
  );
  if (!(err instanceof Error)) throw new Error('expected the call to be refused');
  return err as Error & { name: string };
}

describe('a SAML login', () => {
  it('yields a session of the role named after the user, as AWS answers it', async () => {
    const before = Date.now();
    const session = await samlLogin(emulator, { idp, user: 'jdoe@corp.example', roleArn: ADMIN, providerArn: PROVIDER, otherRoles: [{ roleArn: READER, providerArn: PROVIDER }] });
    expect(session.arn).toBe(`arn:aws:sts::${PROD}:assumed-role/Admin/jdoe@corp.example`);
    expect(session.assumedRoleId).toBe(`${roleId('Admin')}:jdoe@corp.example`);
    expect(session.response.Subject).toBe('jdoe@corp.example');
    expect(session.response.SubjectType).toBe('persistent');
    expect(session.response.Issuer).toBe(idp.entityId);
    expect(session.response.Audience).toBe('https://signin.aws.amazon.com/saml');
    expect(session.response.NameQualifier).toBe(nameQualifier(idp.entityId, PROD, 'ADFS'));
    // Default one hour.
    const lifetime = session.credentials.expiration.getTime() - before;
    expect(lifetime).toBeGreaterThan(3590_000);
    expect(lifetime).toBeLessThanOrEqual(3601_000);

    const me = await whoAmI(session);
    expect(me).toMatchObject({ Account: PROD, Arn: session.arn, UserId: `${roleId('Admin')}:jdoe@corp.example` });
  });

  it('logs the same person in to another of their roles with a sAMAccountName as session name', async () => {
    const session = await samlLogin(emulator, { idp, user: 'jdoe', roleArn: READER, providerArn: PROVIDER, otherRoles: [{ roleArn: ADMIN, providerArn: PROVIDER }] });
    expect((await whoAmI(session)).Arn).toBe(`arn:aws:sts::${PROD}:assumed-role/Reader/jdoe`);
  });

  it('lasts DurationSeconds up to the role maximum, and a SessionDuration attribute only shortens it', async () => {
    const t0 = Date.now();
    const long = await samlLogin(emulator, { idp, user: 'jdoe', roleArn: ADMIN, providerArn: PROVIDER, durationSeconds: 7200 });
    expect(long.credentials.expiration.getTime() - t0).toBeGreaterThan(7190_000);
    const short = await samlLogin(emulator, { idp, user: 'jdoe', roleArn: ADMIN, providerArn: PROVIDER, durationSeconds: 7200, assertion: { sessionDuration: 1800 } });
    expect(short.credentials.expiration.getTime() - t0).toBeLessThanOrEqual(1801_000);
    const err = await refusal(samlLogin(emulator, { idp, user: 'jdoe', roleArn: ADMIN, providerArn: PROVIDER, durationSeconds: 7201 }));
    expect(err.name).toBe('ValidationError');
    expect(err.message).toContain('MaxSessionDuration');
    await iam.send(new UpdateRoleCommand({ RoleName: 'Admin', MaxSessionDuration: 43200 }));
    const twelve = await samlLogin(emulator, { idp, user: 'jdoe', roleArn: ADMIN, providerArn: PROVIDER, durationSeconds: 43200 });
    expect(twelve.credentials.expiration.getTime() - t0).toBeGreaterThan(43190_000);
  });

  it('fails once the role trust policy no longer admits the provider', async () => {
    await samlLogin(emulator, { idp, user: 'jdoe', roleArn: ADMIN, providerArn: PROVIDER });
    await iam.send(new CreateSAMLProviderCommand({ Name: 'Okta', SAMLMetadataDocument: idp.metadataXml() }));
    await iam.send(new UpdateAssumeRolePolicyCommand({ RoleName: 'Admin', PolicyDocument: JSON.stringify(samlTrustPolicy(PROD, 'Okta', false)) }));
    const err = await refusal(samlLogin(emulator, { idp, user: 'jdoe', roleArn: ADMIN, providerArn: PROVIDER }));
    expect(err.name).toBe('AccessDenied');
    expect(err.$metadata?.httpStatusCode).toBe(403);
    expect(err.message).toContain('sts:AssumeRoleWithSAML');
    // The role the trust still names works: the policy is evaluated, not matched on its text.
    await samlLogin(emulator, { idp, user: 'jdoe', roleArn: READER, providerArn: PROVIDER });
  });

  it('follows the trust policy conditions: a deny on one subject, or an allow bound to another audience', async () => {
    const trust = samlTrustPolicy(PROD, 'ADFS', false);
    const withDeny = { ...trust, Statement: [...(trust['Statement'] as object[]), { Effect: 'Deny', Principal: { Federated: PROVIDER }, Action: 'sts:AssumeRoleWithSAML', Condition: { StringEquals: { 'SAML:sub': 'mallory' } } }] };
    await iam.send(new UpdateAssumeRolePolicyCommand({ RoleName: 'Admin', PolicyDocument: JSON.stringify(withDeny) }));
    expect((await refusal(samlLogin(emulator, { idp, user: 'mallory', roleArn: ADMIN, providerArn: PROVIDER }))).name).toBe('AccessDenied');
    await samlLogin(emulator, { idp, user: 'jdoe', roleArn: ADMIN, providerArn: PROVIDER });
    const otherAud = { Version: '2012-10-17', Statement: [{ Effect: 'Allow', Principal: { Federated: PROVIDER }, Action: 'sts:AssumeRoleWithSAML', Condition: { StringEquals: { 'SAML:aud': 'https://eu-west-1.signin.aws.amazon.com/saml' } } }] };
    await iam.send(new UpdateAssumeRolePolicyCommand({ RoleName: 'Admin', PolicyDocument: JSON.stringify(otherAud) }));
    expect((await refusal(samlLogin(emulator, { idp, user: 'jdoe', roleArn: ADMIN, providerArn: PROVIDER }))).name).toBe('AccessDenied');
    await samlLogin(emulator, { idp, user: 'jdoe', roleArn: ADMIN, providerArn: PROVIDER, assertion: { recipient: 'https://eu-west-1.signin.aws.amazon.com/saml' } });
  });
});

describe('a SAML response STS refuses', () => {
  const roles = [{ roleArn: ADMIN, providerArn: PROVIDER }];

  it('unsigned', async () => {
    const err = await refusal(assumeRoleWithSaml(emulator, { roleArn: ADMIN, providerArn: PROVIDER, samlAssertion: idp.signedResponse({ user: 'jdoe', roles, unsigned: true }) }));
    expect(err).toBeInstanceOf(InvalidIdentityTokenException);
    expect(err.message).toContain('no signature');
  });

  it('re-signed with another key under the same issuer', async () => {
    const err = await refusal(assumeRoleWithSaml(emulator, { roleArn: ADMIN, providerArn: PROVIDER, samlAssertion: impostor.signedResponse({ user: 'jdoe', roles }) }));
    expect(err).toBeInstanceOf(InvalidIdentityTokenException);
    expect(err.message).toContain('signature');
  });

  it('signed, then altered (another session name)', async () => {
    const xml = idp.responseXml({ user: 'jdoe', roles }).replace('<AttributeValue>jdoe</AttributeValue>', '<AttributeValue>admin</AttributeValue>');
    expect(xml).toContain('<AttributeValue>admin</AttributeValue>');
    const err = await refusal(assumeRoleWithSaml(emulator, { roleArn: ADMIN, providerArn: PROVIDER, samlAssertion: encodeSamlResponse(xml) }));
    expect(err).toBeInstanceOf(InvalidIdentityTokenException);
    expect(err.message).toBe('Response signature invalid');
  });

  it('with a second, unsigned assertion beside the signed one (signature wrapping)', async () => {
    const signed = idp.responseXml({ user: 'jdoe', roles });
    const forged = idp.responseXml({ user: 'admin', roles, unsigned: true });
    const forgedAssertion = /<Assertion[\s\S]*<\/Assertion>/.exec(forged)?.[0] ?? '';
    const wrapped = signed.replace('</samlp:Response>', `${forgedAssertion}</samlp:Response>`);
    const err = await refusal(assumeRoleWithSaml(emulator, { roleArn: ADMIN, providerArn: PROVIDER, samlAssertion: encodeSamlResponse(wrapped) }));
    expect(err).toBeInstanceOf(InvalidIdentityTokenException);
  });

  it('past its NotOnOrAfter', async () => {
    const err = await refusal(samlLogin(emulator, { idp, user: 'jdoe', roleArn: ADMIN, providerArn: PROVIDER, assertion: { now: new Date(Date.now() - 600_000), notOnOrAfter: new Date(Date.now() - 1000) } }));
    expect(err).toBeInstanceOf(ExpiredTokenException);
  });

  it('for another audience or recipient', async () => {
    const aud = await refusal(samlLogin(emulator, { idp, user: 'jdoe', roleArn: ADMIN, providerArn: PROVIDER, assertion: { audience: 'https://app.example.com/saml' } }));
    expect(aud).toBeInstanceOf(InvalidIdentityTokenException);
    const rcpt = await refusal(samlLogin(emulator, { idp, user: 'jdoe', roleArn: ADMIN, providerArn: PROVIDER, assertion: { recipient: 'https://app.example.com/acs' } }));
    expect(rcpt).toBeInstanceOf(InvalidIdentityTokenException);
    // urn:amazon:webservices, what ADFS's AWS relying party sends, is an AWS audience.
    await samlLogin(emulator, { idp, user: 'jdoe', roleArn: ADMIN, providerArn: PROVIDER, assertion: { audience: 'urn:amazon:webservices' } });
  });

  it('when its Role attribute does not pair the role with the provider', async () => {
    const samlAssertion = idp.signedResponse({ user: 'jdoe', roles: [{ roleArn: READER, providerArn: PROVIDER }] });
    const err = await refusal(assumeRoleWithSaml(emulator, { roleArn: ADMIN, providerArn: PROVIDER, samlAssertion }));
    expect(err).toBeInstanceOf(InvalidIdentityTokenException);
    expect(err.message).toContain(ADMIN);
  });

  it('with a session name STS does not allow', async () => {
    for (const user of ['j', 'Jürgen.Müller@corp.example', 'john doe', 'x'.repeat(65)]) {
      const err = await refusal(samlLogin(emulator, { idp, user, roleArn: ADMIN, providerArn: PROVIDER }));
      expect(err, user).toBeInstanceOf(InvalidIdentityTokenException);
    }
  });

  it('whose status is not success', async () => {
    const err = await refusal(samlLogin(emulator, { idp, user: 'jdoe', roleArn: ADMIN, providerArn: PROVIDER, assertion: { statusCode: 'urn:oasis:names:tc:SAML:2.0:status:Requester' } }));
    expect(err).toBeInstanceOf(IDPRejectedClaimException);
  });

  it('for a provider the account does not have', async () => {
    const err = await refusal(samlLogin(emulator, { idp, user: 'jdoe', roleArn: ADMIN, providerArn: `arn:aws:iam::${PROD}:saml-provider/Nope` }));
    expect(err).toBeInstanceOf(InvalidIdentityTokenException);
    expect(err.message).toBe("Specified provider doesn't exist");
  });

  it('until the provider metadata names the new key (rotation with UpdateSAMLProvider)', async () => {
    const rotated = await createSamlIdp({ entityId: idp.entityId });
    expect((await refusal(samlLogin(emulator, { idp: rotated, user: 'jdoe', roleArn: ADMIN, providerArn: PROVIDER }))).message).toBe('Response signature invalid');
    await iam.send(new UpdateSAMLProviderCommand({ SAMLProviderArn: PROVIDER, SAMLMetadataDocument: rotated.metadataXml() }));
    await samlLogin(emulator, { idp: rotated, user: 'jdoe', roleArn: ADMIN, providerArn: PROVIDER });
    expect((await refusal(samlLogin(emulator, { idp, user: 'jdoe', roleArn: ADMIN, providerArn: PROVIDER }))).message).toBe('Response signature invalid');
  });
});
