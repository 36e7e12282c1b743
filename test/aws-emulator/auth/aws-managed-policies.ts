/**
 * Documents of the AWS managed policies the tests and the demo attach, for the policy evaluator.
 *
 * `AdministratorAccess`, `IAMFullAccess` and `PowerUserAccess` are AWS's documents (the parts that
 * matter here); the read-only ones are reduced to Get/List/Describe on the services the emulator
 * serves, which is what they grant there. Any other AWS managed policy ARN attaches (IAM accepts
 * it) but grants nothing: the evaluator sees an empty policy. Say so in a test that relies on one.
 */
const readOnly = (services: readonly string[]): string =>
  JSON.stringify({
    Version: '2012-10-17',
    Statement: [{ Effect: 'Allow', Action: services.flatMap((s) => [`${s}:Get*`, `${s}:List*`, `${s}:Describe*`]), Resource: '*' }],
  });

const EMULATED = ['iam', 'sts', 'identitystore', 'sso', 's3'];

export const AWS_MANAGED_POLICIES: Readonly<Record<string, string>> = {
  'arn:aws:iam::aws:policy/AdministratorAccess': JSON.stringify({ Version: '2012-10-17', Statement: [{ Effect: 'Allow', Action: '*', Resource: '*' }] }),
  'arn:aws:iam::aws:policy/IAMFullAccess': JSON.stringify({
    Version: '2012-10-17',
    Statement: [{ Effect: 'Allow', Action: ['iam:*', 'organizations:DescribeAccount', 'organizations:DescribeOrganization', 'organizations:DescribeOrganizationalUnit', 'organizations:DescribePolicy', 'organizations:ListChildren', 'organizations:ListParents', 'organizations:ListPoliciesForTarget', 'organizations:ListRoots', 'organizations:ListPolicies', 'organizations:ListTargetsForPolicy'], Resource: '*' }],
  }),
  'arn:aws:iam::aws:policy/PowerUserAccess': JSON.stringify({
    Version: '2012-10-17',
    Statement: [
      { Effect: 'Allow', NotAction: ['iam:*', 'organizations:*', 'account:*'], Resource: '*' },
      { Effect: 'Allow', Action: ['iam:CreateServiceLinkedRole', 'iam:DeleteServiceLinkedRole', 'iam:ListRoles', 'organizations:DescribeOrganization', 'account:ListRegions', 'account:GetAccountInformation'], Resource: '*' },
    ],
  }),
  'arn:aws:iam::aws:policy/ReadOnlyAccess': readOnly(EMULATED),
  'arn:aws:iam::aws:policy/SecurityAudit': readOnly(EMULATED),
  'arn:aws:iam::aws:policy/job-function/ViewOnlyAccess': JSON.stringify({
    Version: '2012-10-17',
    Statement: [{ Effect: 'Allow', Action: EMULATED.flatMap((s) => [`${s}:List*`, `${s}:Describe*`]), Resource: '*' }],
  }),
  'arn:aws:iam::aws:policy/AmazonS3ReadOnlyAccess': JSON.stringify({ Version: '2012-10-17', Statement: [{ Effect: 'Allow', Action: ['s3:Get*', 's3:List*', 's3:Describe*'], Resource: '*' }] }),
  'arn:aws:iam::aws:policy/AmazonS3FullAccess': JSON.stringify({ Version: '2012-10-17', Statement: [{ Effect: 'Allow', Action: ['s3:*'], Resource: '*' }] }),
};
