package check

import "slices"

// The IAM action lists below are the single source of truth for what the
// construct allows and denies. The policies it synthesizes are built from
// them. They are unexported so that no caller can change what another table
// gets; the exported functions at the end return copies, which the tests and
// the README read.

// appendActions appends new items and nothing else. PartiQL INSERT fails
// with DuplicateItemException when the key exists, so it can never overwrite.
// It covers INSERT through ExecuteStatement, BatchExecuteStatement and
// ExecuteTransaction.
var appendActions = []string{
	"dynamodb:PartiQLInsert",
}

// readActions reads items and describes the table and its indexes.
var readActions = []string{
	"dynamodb:BatchGetItem",
	"dynamodb:ConditionCheckItem",
	"dynamodb:DescribeTable",
	"dynamodb:GetItem",
	"dynamodb:PartiQLSelect",
	"dynamodb:Query",
	"dynamodb:Scan",
}

// streamReadActions reads the table's change feed (DynamoDB Streams).
// dynamodb:ListStreams is left out: it cannot be scoped to one table.
var streamReadActions = []string{
	"dynamodb:DescribeStream",
	"dynamodb:GetRecords",
	"dynamodb:GetShardIterator",
}

// itemMutationActions change or remove an item that already exists.
// PutItem is among them because it overwrites an existing item and no IAM
// condition key can see a ConditionExpression; BatchWriteItem carries
// PutRequests that overwrite and DeleteRequests. The Put, Update and Delete
// elements of TransactWriteItems are authorized as PutItem, UpdateItem and
// DeleteItem, so denying these denies them too.
var itemMutationActions = []string{
	"dynamodb:BatchWriteItem",
	"dynamodb:DeleteItem",
	"dynamodb:PartiQLDelete",
	"dynamodb:PartiQLUpdate",
	"dynamodb:PutItem",
	"dynamodb:UpdateItem",
}

// dataLossControlActions change the table in ways that remove or rewrite
// data without an item-level call: tableProtectionActions, backup deletion,
// DeleteTable, and more. TTL deletes expired items on its own,
// UpdateTable can switch deletion protection off, drop indexes or switch
// the table to a key someone can disable, UpdateContinuousBackups can switch
// point-in-time recovery off, the resource-policy actions can lift the
// table-wide deny, and the replica and replication actions turn the table
// into a global table whose other replicas accept writes, or write items on
// the replication path. Every principal the construct creates or grants to
// is denied all of them.
var dataLossControlActions = sorted(concat(tableProtectionActions, []string{
	"dynamodb:DeleteBackup",
	"dynamodb:DeleteTable",
	"dynamodb:UpdateTimeToLive",
	"dynamodb:WriteDataForReplication",
}))

// denyActions is every action the construct explicitly denies to the
// principals it creates or grants to.
var denyActions = concat(itemMutationActions, dataLossControlActions)

// tableWideDenyActions is what the table's resource policy denies to every
// principal, the deployer included, in EnforceTableWide mode: the item
// mutations, the TTL switch (TTL deletes items behind IAM's back) and writes
// on the replication path. CloudFormation calls none of them to update this
// stack. DeleteTable is added unless Props.UnsafeAllowTableRemoval is set.
var tableWideDenyActions = concat(itemMutationActions, []string{
	"dynamodb:UpdateTimeToLive",
	"dynamodb:WriteDataForReplication",
})

// tableProtectionActions change what protects the table: its resource
// policy, its settings (deletion protection, encryption key, indexes),
// point-in-time recovery, and replicas. In EnforceTableWide mode the table's
// resource policy denies them to every principal but the deployer, the
// exempt principals and, for a PROVISIONED table, Application Auto Scaling's
// service-linked role. Each applies to the table resource, so a table's
// resource policy can carry it; DeleteBackup, which applies to a backup, is
// left to the identity denies and to an organization policy.
var tableProtectionActions = []string{
	"dynamodb:AssociateTableReplica",
	"dynamodb:CreateGlobalTableWitness",
	"dynamodb:CreateTableReplica",
	"dynamodb:DeleteGlobalTableWitness",
	"dynamodb:DeleteResourcePolicy",
	"dynamodb:DeleteTableReplica",
	"dynamodb:PutResourcePolicy",
	"dynamodb:ReplicateSettings",
	"dynamodb:UpdateContinuousBackups",
	"dynamodb:UpdateGlobalTable",
	"dynamodb:UpdateGlobalTableSettings",
	"dynamodb:UpdateGlobalTableVersion",
	"dynamodb:UpdateTable",
}

// keyAppendActions lets a writer encrypt new items with a customer managed
// KMS key.
var keyAppendActions = []string{
	"kms:Decrypt",
	"kms:DescribeKey",
	"kms:Encrypt",
	"kms:GenerateDataKey",
	"kms:GenerateDataKeyWithoutPlaintext",
	"kms:ReEncryptFrom",
	"kms:ReEncryptTo",
}

// keyReadActions lets a reader decrypt items encrypted with a customer
// managed KMS key.
var keyReadActions = []string{
	"kms:Decrypt",
	"kms:DescribeKey",
}

// keyDenyActions make a customer managed key, and so the table's data,
// unusable: disabling the key, scheduling its deletion, removing its
// imported key material or importing material that expires, revoking
// DynamoDB's grant on it, or rewriting its key policy.
var keyDenyActions = []string{
	"kms:DeleteImportedKeyMaterial",
	"kms:DisableKey",
	"kms:ImportKeyMaterial",
	"kms:PutKeyPolicy",
	"kms:RetireGrant",
	"kms:RevokeGrant",
	"kms:ScheduleKeyDeletion",
}

// AppendActions returns a copy of the actions that append: PartiQL INSERT,
// which fails with DuplicateItemException when the key exists.
func AppendActions() []string { return slices.Clone(appendActions) }

// ReadActions returns a copy of the actions that read items and describe the
// table.
func ReadActions() []string { return slices.Clone(readActions) }

// StreamReadActions returns a copy of the actions that read the table's
// change feed.
func StreamReadActions() []string { return slices.Clone(streamReadActions) }

// ItemMutationActions returns a copy of the actions that change or remove an
// existing item: PutItem, UpdateItem, DeleteItem, BatchWriteItem and PartiQL
// UPDATE and DELETE.
func ItemMutationActions() []string { return slices.Clone(itemMutationActions) }

// DataLossControlActions returns a copy of the table-level actions that lose
// or rewrite data, which the construct's principals are denied.
func DataLossControlActions() []string { return slices.Clone(dataLossControlActions) }

// DenyActions returns a copy of every action the construct denies to the
// principals it creates or grants to: ItemMutationActions followed by
// DataLossControlActions.
func DenyActions() []string { return slices.Clone(denyActions) }

// TableWideDenyActions returns a copy of what the table's resource policy
// denies to every principal, the deployer included, in EnforceTableWide
// mode (DeleteTable, added unless UnsafeAllowTableRemoval, not among them).
func TableWideDenyActions() []string { return slices.Clone(tableWideDenyActions) }

// TableProtectionActions returns a copy of what the table's resource policy
// denies to every principal but the deployer and the exempt principals in
// EnforceTableWide mode.
func TableProtectionActions() []string { return slices.Clone(tableProtectionActions) }

// KeyAppendActions returns a copy of the KMS actions a writer gets on a
// customer managed key.
func KeyAppendActions() []string { return slices.Clone(keyAppendActions) }

// KeyReadActions returns a copy of the KMS actions a reader gets on a
// customer managed key.
func KeyReadActions() []string { return slices.Clone(keyReadActions) }

// KeyDenyActions returns a copy of the KMS actions that make a customer
// managed key unusable, which are denied on the table's key.
func KeyDenyActions() []string { return slices.Clone(keyDenyActions) }

// journalDeleteActions remove a journal object version, hide it, or shorten
// or lift its lock: the bucket policy denies them to everyone but
// ExemptPrincipalArns (and in compliance mode S3 refuses the deletes to
// everyone).
var journalDeleteActions = []string{
	"s3:BypassGovernanceRetention",
	"s3:DeleteObject",
	"s3:DeleteObjectVersion",
	"s3:PutObjectLegalHold",
	"s3:PutObjectRetention",
}

// journalProtectionActions change what protects the journal's bucket: the
// bucket policy, its lock, versioning, lifecycle, replication, encryption,
// ownership and public access settings, and the bucket itself. The bucket
// policy denies them to everyone but the deployer and ExemptPrincipalArns.
var journalProtectionActions = []string{
	"s3:DeleteBucket",
	"s3:DeleteBucketPolicy",
	"s3:PutBucketObjectLockConfiguration",
	"s3:PutBucketOwnershipControls",
	"s3:PutBucketPolicy",
	"s3:PutBucketPublicAccessBlock",
	"s3:PutBucketVersioning",
	"s3:PutEncryptionConfiguration",
	"s3:PutLifecycleConfiguration",
	"s3:PutReplicationConfiguration",
}

// journalReplicationActions write object versions and delete markers into
// a bucket by replication from another bucket of the account, past the
// s3:PutObject deny: the bucket policy denies them to everyone.
var journalReplicationActions = []string{
	"s3:ObjectOwnerOverrideToBucketOwner",
	"s3:ReplicateDelete",
	"s3:ReplicateObject",
	"s3:ReplicateTags",
}

// sequencerControlActions make the sequencer speak for someone else, or
// stop it: invoking it with a hand-made event, changing its code,
// configuration, layers, concurrency, permissions or URL, deleting it,
// changing or removing its event source mapping, and changing, passing or
// deleting its role. The construct's principals are denied them on the
// sequencer, its mapping and its role, and on the monitor and its role
// (whose code, changed, could report all is well); the README gives the
// organization policy that denies them to everyone but the deployer.
var sequencerControlActions = []string{
	"iam:AttachRolePolicy",
	"iam:DeleteRole",
	"iam:DeleteRolePermissionsBoundary",
	"iam:DeleteRolePolicy",
	"iam:DetachRolePolicy",
	"iam:PassRole",
	"iam:PutRolePermissionsBoundary",
	"iam:PutRolePolicy",
	"iam:UpdateAssumeRolePolicy",
	"lambda:AddPermission",
	"lambda:CreateFunctionUrlConfig",
	"lambda:DeleteEventSourceMapping",
	"lambda:DeleteFunction",
	"lambda:DeleteFunctionConcurrency",
	"lambda:InvokeAsync",
	"lambda:InvokeFunction",
	"lambda:InvokeFunctionUrl",
	"lambda:PutFunctionConcurrency",
	"lambda:PutFunctionEventInvokeConfig",
	"lambda:RemovePermission",
	"lambda:UpdateEventSourceMapping",
	"lambda:UpdateFunctionCode",
	"lambda:UpdateFunctionConfiguration",
	"lambda:UpdateFunctionEventInvokeConfig",
	"lambda:UpdateFunctionUrlConfig",
}

// vaultDenyActions remove a recovery point, shorten its life, or remove the
// vault: the vault's access policy denies them to everyone but the exempt
// principals.
var vaultDenyActions = []string{
	"backup:DeleteBackupVault",
	"backup:DeleteRecoveryPoint",
	"backup:UpdateRecoveryPointLifecycle",
}

// SequencerControlActions returns a copy of what the construct's
// principals are denied on the journal's sequencer, its event source
// mapping and its role, and on the monitor and its role.
func SequencerControlActions() []string { return slices.Clone(sequencerControlActions) }

// JournalReplicationActions returns a copy of what the journal's bucket
// policy denies to everyone: replication into the bucket.
func JournalReplicationActions() []string { return slices.Clone(journalReplicationActions) }

// JournalDeleteActions returns a copy of what the journal's bucket policy
// denies to everyone but the exempt principals.
func JournalDeleteActions() []string { return slices.Clone(journalDeleteActions) }

// JournalProtectionActions returns a copy of what the journal's bucket
// policy denies to everyone but the deployer and the exempt principals.
func JournalProtectionActions() []string { return slices.Clone(journalProtectionActions) }

// VaultDenyActions returns a copy of what the backup vault's access policy
// denies to everyone but the exempt principals.
func VaultDenyActions() []string { return slices.Clone(vaultDenyActions) }

func sorted(l []string) []string {
	slices.Sort(l)
	return l
}

func concat(lists ...[]string) []string {
	var out []string
	for _, l := range lists {
		out = append(out, l...)
	}
	return out
}
