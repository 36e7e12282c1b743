export { S3Lease, LeaseError } from './s3-lease.js';
export type { AcquireResult, CheckResult, HeldLease, LeaseRecord, LeaseState, RenewResult, S3LeaseOptions } from './s3-lease.js';
