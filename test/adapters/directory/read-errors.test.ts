import { AdminLimitExceededError, InvalidCredentialsError, NoSuchObjectError, SizeLimitExceededError, TimeLimitExceededError, UnknownStatusCodeError } from 'ldapts';
import { describe, expect, it } from 'vitest';
import { bindFailureFromDiagnostic, DirectoryReadError } from '../../../src/adapters/directory/errors.js';
import { readError } from '../../../src/adapters/directory/ldap/ldap-source.js';
import { planConnection } from '../../../src/adapters/directory/ldap/connection.js';

const base = { bindDn: 'svc@example.com', bindPassword: 'x', userBase: 'DC=example,DC=com', groupBase: 'DC=example,DC=com' };

describe('read failures become typed errors that say what and where', () => {
  // Samba enforces none of AD's limits and never refers, so these server answers are built from ldapts's own classes.
  it.each([
    [new SizeLimitExceededError(), 'size-limit', false],
    [new TimeLimitExceededError(), 'time-limit', true],
    [new AdminLimitExceededError(), 'admin-limit', false],
    [new UnknownStatusCodeError(10, 'Referral'), 'referral', false],
    [new NoSuchObjectError(), 'no-such-object', false],
    [new Error('SearchRequest: Operation timed out'), 'timeout', true],
    [new Error('Connection closed before message response was received. Message type: SearchRequest (0x63)'), 'connection-lost', true],
  ] as const)('%#: -> %s', (cause, kind, retryable) => {
    const err = readError(cause, 'users (page 7)', 'OU=People,DC=example,DC=com');
    expect(err).toBeInstanceOf(DirectoryReadError);
    expect(err).toMatchObject({ kind, retryable, what: 'users (page 7)', where: 'OU=People,DC=example,DC=com', cause });
    expect(err.message).toContain('users (page 7) at OU=People,DC=example,DC=com');
  });
});

describe('bind diagnostics', () => {
  it('reads the AD sub-code', () => {
    const msg = new InvalidCredentialsError('80090308: LdapErr: DSID-0C0903A9, comment: AcceptSecurityContext error, data 775, v1db1').message;
    expect(bindFailureFromDiagnostic(msg)).toMatchObject({ reason: 'account-locked', subCode: '775' });
    expect(bindFailureFromDiagnostic('data 52e, v4563')).toMatchObject({ reason: 'invalid-credentials' });
    const none = bindFailureFromDiagnostic('Invalid credentials');
    expect(none.reason).toBe('other');
    expect(none.subCode).toBeUndefined();
  });
});

describe('connection plan', () => {
  it('ldaps by default, StartTLS only on ldap://, plain ldap:// only with allowInsecure', () => {
    expect(planConnection({ ...base, url: 'ldaps://dc1.example.com' })).toMatchObject({ mode: 'ldaps', url: 'ldaps://dc1.example.com', tls: { rejectUnauthorized: true, servername: 'dc1.example.com' } });
    expect(planConnection({ ...base, url: 'ldap://dc1.example.com', startTls: true })).toMatchObject({ mode: 'starttls' });
    expect(() => planConnection({ ...base, url: 'ldap://dc1.example.com' })).toThrow(/refusing plain/);
    expect(planConnection({ ...base, url: 'ldap://dc1.example.com', allowInsecure: true })).toMatchObject({ mode: 'insecure', tls: undefined });
    expect(() => planConnection({ ...base, url: 'ldaps://dc1.example.com', startTls: true })).toThrow(/already TLS/);
    expect(() => planConnection({ ...base, url: 'ldaps://u:p@dc1.example.com' })).toThrow(/credentials/);
    expect(() => planConnection({ ...base, url: 'http://dc1.example.com' })).toThrow(/ldaps:\/\/ or ldap:\/\//);
    expect(() => planConnection({ ...base, url: 'ldaps://dc1', caFile: '/nonexistent/ca.pem' })).toThrow(/cannot read the directory CA file/);
  });
});
