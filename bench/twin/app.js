// A plain JavaScript twin of the Go example app (appendonly.go): the same
// stack, resources, statements and outputs, built with aws-cdk-lib directly,
// for the Go/JavaScript synthesis benchmark (`make bench-twin`). It is not
// a library: TestTwinMatchesTheApp checks that it synthesizes the same
// template as the Go app, so the two measure the same work.
'use strict';

const cdk = require('aws-cdk-lib');
const dynamodb = require('aws-cdk-lib/aws-dynamodb');
const iam = require('aws-cdk-lib/aws-iam');
const { Construct } = require('constructs');
const crypto = require('crypto');

// digest is check.Digest: the statements' JSON as IAM reads it (a list of
// one is its element, lists in any order, Principal "*" is {"AWS": "*"},
// keys sorted), 96 bits of SHA-256, base64url.
function norm(v) {
  if (Array.isArray(v)) {
    if (v.length === 1) return norm(v[0]);
    return v.map(norm).sort((a, b) => (compact(a) < compact(b) ? -1 : compact(a) > compact(b) ? 1 : 0));
  }
  if (v && typeof v === 'object') {
    const out = {};
    for (const k of Object.keys(v)) out[k] = norm(k === 'Principal' && v[k] === '*' ? { AWS: '*' } : v[k]);
    return out;
  }
  return v;
}
function compact(v) {
  if (Array.isArray(v)) return '[' + v.map(compact).join(',') + ']';
  if (v && typeof v === 'object') return '{' + Object.keys(v).sort().map((k) => JSON.stringify(k) + ':' + compact(v[k])).join(',') + '}';
  return JSON.stringify(v);
}
function digest(statements) {
  return crypto.createHash('sha256').update(compact(norm(statements))).digest().subarray(0, 12).toString('base64url');
}
// describe writes what the Go construct writes for appendonly check: on the
// table, its mode, its parts and their descriptions, the statements
// resolved at synth and digested.
function describe(table, parts) {
  table.addMetadata('appendonly', cdk.Lazy.uncachedAny({
    produce: (ctx) => {
      const ids = ctx.resolve(parts.map((p) => p.resource.logicalId));
      const protectedParts = {};
      parts.forEach((p, i) => {
        protectedParts[ids[i]] = Object.assign({}, p.description, { statements: digest(ctx.resolve(p.statements)) });
      });
      return { mode: 'EnforceTableWide', parts: ids, protected: protectedParts, v: 1 };
    },
  }));
}

const ITEM_MUTATIONS = ['dynamodb:BatchWriteItem', 'dynamodb:DeleteItem', 'dynamodb:PartiQLDelete',
  'dynamodb:PartiQLUpdate', 'dynamodb:PutItem', 'dynamodb:UpdateItem'];
const PROTECTION = ['dynamodb:AssociateTableReplica', 'dynamodb:CreateGlobalTableWitness',
  'dynamodb:CreateTableReplica', 'dynamodb:DeleteGlobalTableWitness', 'dynamodb:DeleteResourcePolicy',
  'dynamodb:DeleteTableReplica', 'dynamodb:PutResourcePolicy', 'dynamodb:ReplicateSettings',
  'dynamodb:UpdateContinuousBackups', 'dynamodb:UpdateGlobalTable', 'dynamodb:UpdateGlobalTableSettings',
  'dynamodb:UpdateGlobalTableVersion', 'dynamodb:UpdateTable'];
const DATA_LOSS = ['dynamodb:AssociateTableReplica', 'dynamodb:CreateGlobalTableWitness',
  'dynamodb:CreateTableReplica', 'dynamodb:DeleteBackup', 'dynamodb:DeleteGlobalTableWitness',
  'dynamodb:DeleteResourcePolicy', 'dynamodb:DeleteTable', 'dynamodb:DeleteTableReplica',
  'dynamodb:PutResourcePolicy', 'dynamodb:ReplicateSettings', 'dynamodb:UpdateContinuousBackups',
  'dynamodb:UpdateGlobalTable', 'dynamodb:UpdateGlobalTableSettings', 'dynamodb:UpdateGlobalTableVersion',
  'dynamodb:UpdateTable', 'dynamodb:UpdateTimeToLive', 'dynamodb:WriteDataForReplication'];
const READ = ['dynamodb:BatchGetItem', 'dynamodb:ConditionCheckItem', 'dynamodb:DescribeTable',
  'dynamodb:GetItem', 'dynamodb:PartiQLSelect', 'dynamodb:Query', 'dynamodb:Scan'];
const BACKUP_REASON = 'Append-only: PITR and deletion protection on; item changes, DeleteTable, DeleteBackup and ' +
  'UpdateContinuousBackups denied. Add an AWS Backup plan if a copy outside the table is required.';

class MusicStack extends cdk.Stack {
  constructor(scope, id, props) {
    super(scope, id, props);
    const music = new Construct(this, 'Music');
    const deployer = cdk.Fn.sub(this.synthesizer.cloudFormationExecutionRoleArn);
    const tableStatements = [
      { Sid: 'DenyEveryoneOverwriteUpdateAndDeleteOfItems', Effect: 'Deny', Principal: '*', Resource: '*',
        Action: [...ITEM_MUTATIONS, 'dynamodb:UpdateTimeToLive', 'dynamodb:WriteDataForReplication', 'dynamodb:DeleteTable'] },
      { Sid: 'DenyEveryoneButDeployerChangingTableProtection', Effect: 'Deny', Principal: '*', Resource: '*',
        Action: PROTECTION, Condition: { ArnNotLike: { 'aws:PrincipalArn': [deployer] } } },
    ];
    const table = new dynamodb.Table(music, 'Resource', {
      tableName: 'Music',
      partitionKey: { name: 'Artist', type: dynamodb.AttributeType.STRING },
      sortKey: { name: 'SongTitle', type: dynamodb.AttributeType.STRING },
      billingMode: dynamodb.BillingMode.PAY_PER_REQUEST,
      encryption: dynamodb.TableEncryption.AWS_MANAGED,
      pointInTimeRecoverySpecification: { pointInTimeRecoveryEnabled: true, recoveryPeriodInDays: 35 },
      removalPolicy: cdk.RemovalPolicy.RETAIN,
      deletionProtection: true,
      resourcePolicy: iam.PolicyDocument.fromJson({ Version: '2012-10-17', Statement: tableStatements }),
    });
    table.node.defaultChild.addMetadata('cdk_nag', { rules_to_suppress: [
      { id: 'NIST.800.53.R5-DynamoDBInBackupPlan', reason: BACKUP_REASON },
      { id: 'HIPAA.Security-DynamoDBInBackupPlan', reason: BACKUP_REASON },
    ] });
    const arn = table.tableArn;
    const globalArn = this.formatArn({ service: 'dynamodb', region: '', resource: 'global-table', resourceName: table.tableName });
    const policyDenies = [
      { Sid: 'DenyOverwriteUpdateAndDeleteOfItems', Effect: 'Deny', Action: ITEM_MUTATIONS, Resource: [arn, arn + '/*'] },
      { Sid: 'DenyTableChangesThatLoseData', Effect: 'Deny', Action: DATA_LOSS, Resource: [arn, arn + '/*', globalArn] },
    ];
    const policy = new iam.ManagedPolicy(music, 'Policy', {
      managedPolicyName: 'AppendOnlyDynamoDB',
      description: 'Append-only access to one DynamoDB table: PartiQL INSERT and reads allowed; overwrite, update, delete and data-losing table changes denied.',
      document: iam.PolicyDocument.fromJson({
        Version: '2012-10-17',
        Statement: [
          { Sid: 'AppendNewItemsWithPartiQLInsert', Effect: 'Allow', Action: 'dynamodb:PartiQLInsert', Resource: arn },
          { Sid: 'ReadItems', Effect: 'Allow', Action: READ, Resource: [arn, arn + '/index/*'] },
          ...policyDenies,
        ],
      }),
    });
    const tableL1 = table.node.defaultChild;
    describe(tableL1, [
      { resource: tableL1, statements: tableStatements, description: { absent: ['TimeToLiveSpecification'], props: { DeletionProtectionEnabled: true,
        PointInTimeRecoverySpecification: { PointInTimeRecoveryEnabled: true, RecoveryPeriodInDays: 35 }, SSESpecification: { SSEEnabled: true } }, retain: true, what: 'table' } },
      { resource: policy.node.defaultChild, statements: policyDenies, description: { what: 'managed policy' } },
    ]);
    policy.node.defaultChild.addMetadata('cdk_nag', { rules_to_suppress: [{
      id: 'AwsSolutions-IAM5',
      reason: "Query and Scan need the table's indexes: <table ARN>/index/* stays inside this one table.",
      applies_to: [{ regex: '/^Resource::(<[A-Za-z0-9]+\\.Arn>|arn:[^*]+:table\\/[A-Za-z0-9_.-]+)\\/index\\/\\*$/' }],
    }] });
    const group = new iam.Group(music, 'Group', { managedPolicies: [policy] });
    const user = new iam.User(music, 'User', { userName: 'AppendUser', groups: [group] });
    new cdk.CfnOutput(this, 'TableName', { value: table.tableName, description: 'The append-only table' });
    new cdk.CfnOutput(this, 'PolicyArn', { value: policy.managedPolicyArn, description: 'The append-only managed policy' });
    new cdk.CfnOutput(this, 'UserName', { value: user.userName, description: 'The IAM user that appends; create its access key after deployment' });
  }
}

const app = new cdk.App();
new MusicStack(app, 'AppendOnlyMusicStack', {
  description: 'appendonly: the DynamoDB table Music, append-only for every principal',
});
app.synth();
