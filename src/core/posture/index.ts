export * from './types.js';
export { parseCredentialReport, ROOT_USER } from './credential-report.js';
export { ADMINISTRATOR_ACCESS_ARN, allowsEverything, isAdministratorAccess } from './admin-policy.js';
export { computeFindings, findingId, passwordPolicyShortfalls } from './findings.js';
export { diffFindings, openAsOf, type FindingEvent, type FindingHistory } from './history.js';
export { leaverLinks } from './leavers.js';
