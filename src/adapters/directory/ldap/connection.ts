/**
 * Opening an LDAP session the way rolemap wants it: TLS with certificate checks (LDAPS or StartTLS),
 * plain LDAP only when explicitly allowed, a simple bind whose AD sub-code becomes a clear error.
 */
import { readFileSync } from 'node:fs';
import { isIP } from 'node:net';
import type { ConnectionOptions } from 'node:tls';
import { Client, InvalidCredentialsError, ResultCodeError } from 'ldapts';
import { bindFailureFromDiagnostic, DirectoryBindError, DirectoryConfigError, DirectoryConnectError } from '../errors.js';
import type { LdapSourceOptions } from './options.js';
import { LDAP_DEFAULTS } from './options.js';

/** What the URL and the TLS settings amount to, checked before anything touches the network. */
export interface ConnectionPlan {
  readonly url: string;
  readonly host: string;
  readonly mode: 'ldaps' | 'starttls' | 'insecure';
  readonly tls: ConnectionOptions | undefined;
}

export function planConnection(opts: LdapSourceOptions): ConnectionPlan {
  let parsed: URL;
  try {
    parsed = new URL(opts.url);
  } catch (e) {
    throw new DirectoryConfigError(`directory url ${JSON.stringify(opts.url)} is not a URL`, { cause: e });
  }
  if (parsed.username || parsed.password) throw new DirectoryConfigError(`directory url must not carry credentials`);
  if (parsed.pathname !== '' && parsed.pathname !== '/') {
    throw new DirectoryConfigError(`directory url ${parsed.origin} must be only scheme, host and port (put base DNs in userBase/groupBase)`);
  }
  const host = parsed.hostname.replace(/^\[|\]$/g, '');
  let ca: string | Buffer | undefined = opts.ca;
  if (ca === undefined && opts.caFile !== undefined) {
    try {
      ca = readFileSync(opts.caFile);
    } catch (e) {
      throw new DirectoryConfigError(`cannot read the directory CA file ${opts.caFile}: ${(e as Error).message}`, { cause: e });
    }
  }
  const tls: ConnectionOptions = {
    rejectUnauthorized: true,
    minVersion: 'TLSv1.2',
    host,
    ...(isIP(host) === 0 ? { servername: host } : {}),
    ...(ca !== undefined ? { ca } : {}),
  };
  const url = `${parsed.protocol}//${parsed.host}`;
  if (parsed.protocol === 'ldaps:') {
    if (opts.startTls) throw new DirectoryConfigError(`startTls is for ldap:// URLs; ${url} is already TLS`);
    return { url, host, mode: 'ldaps', tls };
  }
  if (parsed.protocol === 'ldap:') {
    if (opts.startTls) return { url, host, mode: 'starttls', tls };
    if (opts.allowInsecure === true) return { url, host, mode: 'insecure', tls: undefined };
    throw new DirectoryConfigError(
      `refusing plain ${url}: the bind password would cross the network in clear. Use ldaps://, or startTls: true with the DC's CA; ` +
        `allowInsecure: true exists only for labs`,
    );
  }
  throw new DirectoryConfigError(`directory url ${JSON.stringify(opts.url)} must start with ldaps:// or ldap://`);
}

const TLS_TRUST_CODES = new Set([
  'UNABLE_TO_VERIFY_LEAF_SIGNATURE',
  'UNABLE_TO_GET_ISSUER_CERT_LOCALLY',
  'SELF_SIGNED_CERT_IN_CHAIN',
  'DEPTH_ZERO_SELF_SIGNED_CERT',
  'CERT_HAS_EXPIRED',
  'CERT_NOT_YET_VALID',
  'ERR_TLS_CERT_ALTNAME_INVALID',
  'CERT_SIGNATURE_FAILURE',
]);

function connectError(url: string, e: unknown): DirectoryConnectError {
  const code = (e as { code?: unknown }).code;
  const message = e instanceof Error ? e.message : String(e);
  if (typeof code === 'string' && TLS_TRUST_CODES.has(code)) {
    return new DirectoryConnectError(url, `the server's certificate is not trusted (${code}: ${message}); check caFile and the host name in the URL`, false, { cause: e });
  }
  if (/timeout/i.test(message)) return new DirectoryConnectError(url, `timed out (${message})`, true, { cause: e });
  return new DirectoryConnectError(url, typeof code === 'string' ? `${code}: ${message}` : message, true, { cause: e });
}

/** Connects (TLS as planned), binds, and returns the client. Closes the client on any failure. */
export async function openSession(opts: LdapSourceOptions, plan: ConnectionPlan): Promise<Client> {
  if (opts.bindPassword === '') {
    // An LDAP simple bind with a DN and an empty password is an anonymous bind that "succeeds".
    throw new DirectoryConfigError(`the bind password for ${opts.bindDn} is empty`);
  }
  const client = new Client({
    url: plan.url,
    timeout: opts.timeoutMs ?? LDAP_DEFAULTS.timeoutMs,
    connectTimeout: opts.connectTimeoutMs ?? LDAP_DEFAULTS.connectTimeoutMs,
    ...(plan.mode === 'ldaps' ? { tlsOptions: plan.tls } : {}),
    strictDN: false,
  });
  try {
    if (plan.mode === 'starttls') {
      try {
        await client.startTLS({ ...plan.tls });
      } catch (e) {
        if (e instanceof ResultCodeError) throw new DirectoryConnectError(plan.url, `the server refused StartTLS: ${e.message}`, false, { cause: e });
        throw connectError(plan.url, e);
      }
    }
    try {
      await client.bind(opts.bindDn, opts.bindPassword);
    } catch (e) {
      if (e instanceof InvalidCredentialsError) {
        const f = bindFailureFromDiagnostic(e.message);
        throw new DirectoryBindError(f.reason, opts.bindDn, plan.url, f.subCode, f.text, { cause: e });
      }
      if (e instanceof ResultCodeError) {
        throw new DirectoryBindError('other', opts.bindDn, plan.url, undefined, e.message, { cause: e });
      }
      throw connectError(plan.url, e);
    }
    return client;
  } catch (e) {
    await client.unbind().catch(() => undefined);
    throw e;
  }
}
