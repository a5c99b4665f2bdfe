package appendonly

// The IAM action lists below are the single source of truth for what the
// construct allows and denies. The policies it synthesizes are built from
// them, and the tests assert against the same values.

// AppendActions appends new items and nothing else. PartiQL INSERT fails
// with DuplicateItemException when the key exists, so it can never overwrite.
// It covers INSERT through ExecuteStatement, BatchExecuteStatement and
// ExecuteTransaction.
var AppendActions = []string{
	"dynamodb:PartiQLInsert",
}

// ReadActions reads items and describes the table and its indexes.
var ReadActions = []string{
	"dynamodb:BatchGetItem",
	"dynamodb:ConditionCheckItem",
	"dynamodb:DescribeTable",
	"dynamodb:GetItem",
	"dynamodb:PartiQLSelect",
	"dynamodb:Query",
	"dynamodb:Scan",
}

// StreamReadActions reads the table's change feed (DynamoDB Streams).
// dynamodb:ListStreams is left out: it cannot be scoped to one table.
var StreamReadActions = []string{
	"dynamodb:DescribeStream",
	"dynamodb:GetRecords",
	"dynamodb:GetShardIterator",
}

// ItemMutationActions change or remove an item that already exists.
// PutItem is among them because it overwrites an existing item and no IAM
// condition key can see a ConditionExpression; BatchWriteItem carries
// PutRequests that overwrite and DeleteRequests. The Put, Update and Delete
// elements of TransactWriteItems are authorized as PutItem, UpdateItem and
// DeleteItem, so denying these denies them too.
var ItemMutationActions = []string{
	"dynamodb:BatchWriteItem",
	"dynamodb:DeleteItem",
	"dynamodb:PartiQLDelete",
	"dynamodb:PartiQLUpdate",
	"dynamodb:PutItem",
	"dynamodb:UpdateItem",
}

// DataLossControlActions change the table in ways that remove or rewrite
// data without an item-level call: TTL deletes expired items on its own,
// UpdateTable can switch deletion protection off and drop indexes,
// UpdateContinuousBackups can switch point-in-time recovery off, the
// resource-policy actions can lift the table-wide deny, and the replica and
// replication actions turn the table into a global table whose other
// replicas accept writes, or write items on the replication path.
var DataLossControlActions = []string{
	"dynamodb:AssociateTableReplica",
	"dynamodb:CreateGlobalTableWitness",
	"dynamodb:CreateTableReplica",
	"dynamodb:DeleteBackup",
	"dynamodb:DeleteGlobalTableWitness",
	"dynamodb:DeleteResourcePolicy",
	"dynamodb:DeleteTable",
	"dynamodb:DeleteTableReplica",
	"dynamodb:PutResourcePolicy",
	"dynamodb:ReplicateSettings",
	"dynamodb:UpdateContinuousBackups",
	"dynamodb:UpdateGlobalTable",
	"dynamodb:UpdateGlobalTableSettings",
	"dynamodb:UpdateGlobalTableVersion",
	"dynamodb:UpdateTable",
	"dynamodb:UpdateTimeToLive",
	"dynamodb:WriteDataForReplication",
}

// DenyActions is every action the construct explicitly denies to the
// principals it creates or grants to: ItemMutationActions followed by
// DataLossControlActions.
var DenyActions = concat(ItemMutationActions, DataLossControlActions)

// TableWideDenyActions is what the table's resource policy denies to every
// principal in EnforceTableWide mode. It holds only actions that
// CloudFormation never calls to update this stack, so the deny cannot break
// the next deployment: the item mutations, and the TTL switch, which deletes
// items behind IAM's back. DeleteTable is added unless
// Props.UnsafeAllowTableRemoval is set.
var TableWideDenyActions = concat(ItemMutationActions, []string{"dynamodb:UpdateTimeToLive"})

// KeyAppendActions lets a writer encrypt new items with a customer managed
// KMS key.
var KeyAppendActions = []string{
	"kms:Decrypt",
	"kms:DescribeKey",
	"kms:Encrypt",
	"kms:GenerateDataKey",
	"kms:GenerateDataKeyWithoutPlaintext",
	"kms:ReEncryptFrom",
	"kms:ReEncryptTo",
}

// KeyReadActions lets a reader decrypt items encrypted with a customer
// managed KMS key.
var KeyReadActions = []string{
	"kms:Decrypt",
	"kms:DescribeKey",
}

// KeyDenyActions make a customer managed key, and so the table's data,
// unusable: disabling the key, scheduling its deletion, removing its
// imported key material or importing material that expires, revoking
// DynamoDB's grant on it, or rewriting its key policy.
var KeyDenyActions = []string{
	"kms:DeleteImportedKeyMaterial",
	"kms:DisableKey",
	"kms:ImportKeyMaterial",
	"kms:PutKeyPolicy",
	"kms:RetireGrant",
	"kms:RevokeGrant",
	"kms:ScheduleKeyDeletion",
}

func concat(lists ...[]string) []string {
	var out []string
	for _, l := range lists {
		out = append(out, l...)
	}
	return out
}
