export { LdapDirectorySource, IN_CHAIN_RULE } from './ldap/ldap-source.js';
export type { LdapSourceOptions, LdapReadObserver, LdapReadStats, NestingStrategy } from './ldap/options.js';
export { LDAP_DEFAULTS } from './ldap/options.js';
export { LdifDirectorySource, snapshotFromLdif } from './ldif/ldif-source.js';
export type { LdifSourceOptions } from './ldif/ldif-source.js';
export { parseLdif } from './ldif/ldif-parser.js';
export * from './errors.js';
export { guidFromBytes, guidToBytes, isGuid } from './guid.js';
