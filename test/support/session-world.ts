/**
 * The world of the session tests (leavers, review revocations): the AWS emulator with two accounts whose
 * ADFS SAML provider trusts a test IdP, a real SQLite journal in a temporary folder, and the role map
 * "AWS-Dev-Developer -> Developer in dev, AWS-Prod-Admin -> Admin in prod", both with S3 read access.
 * `openSessionWorld` in a beforeEach, `closeSessionWorld` in the afterEach.
 */
import { UpdateSAMLProviderCommand } from '@aws-sdk/client-iam';
import { samlProviderArn } from '../../src/adapters/aws/iam-roles/trust-policy.js';
import { SqliteJournal } from '../../src/adapters/journal/sqlite-journal.js';
import type { RoleMap } from '../../src/core/model/role-map.js';
import { DEV, PROD, roleMap, spec, startWorld, type World } from '../adapters/aws/iam-roles/fixtures.js';
import { tempDir } from '../adapters/journal/fixtures.js';
import type { SamlIdp } from './saml-idp.js';

export const DEV_ROLE = `arn:aws:iam::${DEV}:role/federated/Developer`;
export const PROD_ROLE = `arn:aws:iam::${PROD}:role/federated/Admin`;
export const S3_READ = 'arn:aws:iam::aws:policy/AmazonS3ReadOnlyAccess';

export interface SessionWorld {
  readonly world: World;
  readonly tmp: ReturnType<typeof tempDir>;
  readonly journal: SqliteJournal;
  readonly map: RoleMap;
}

export async function openSessionWorld(idp: SamlIdp): Promise<SessionWorld> {
  const world = await startWorld();
  for (const account of [PROD, DEV]) await world.console(account).send(new UpdateSAMLProviderCommand({ SAMLProviderArn: samlProviderArn(account, 'ADFS'), SAMLMetadataDocument: idp.metadataXml() }));
  const tmp = tempDir();
  const journal = SqliteJournal.open(tmp.file('journal.db'));
  const map = roleMap([
    spec(DEV, 'Developer', { group: { by: 'sAMAccountName', value: 'AWS-Dev-Developer' }, managedPolicyArns: [S3_READ] }),
    spec(PROD, 'Admin', { group: { by: 'sAMAccountName', value: 'AWS-Prod-Admin' }, managedPolicyArns: [S3_READ] }),
  ]);
  return { world, tmp, journal, map };
}

export async function closeSessionWorld(w: Pick<SessionWorld, 'world' | 'tmp' | 'journal'>): Promise<void> {
  w.journal.close();
  w.tmp.cleanup();
  await w.world.stop();
}
