package check

import "strings"

// What the check knows of each kind of resource the construct protects:
// its CloudFormation type, where its policy document is, the props that
// change the construct's statements in it, and, for each property it
// must have, the prop that changes it legitimately and why it matters. The
// construct says only which kind, and the values (ProtectedMetadata).
type kind struct {
	typ     string
	docPath []string
	docProp string
	// sids are the Sids of the statements the construct may write in its
	// policy and protects: those the description's digest covers.
	sids  []string
	props map[string]propText // by path under Properties, joined with "."
}

type propText struct{ prop, why string }

const streamWhy = "the journal reads every change from the stream's new and old images"

var kinds = map[string]kind{
	"table": {typ: "AWS::DynamoDB::Table", docPath: []string{"ResourcePolicy", "PolicyDocument"}, docProp: "ExemptPrincipalArns and DeployerPrincipalArns",
		sids: []string{SidTableWideDeny, SidTableWideProtect, SidJournalDescribesTable, SidJournalMonitorReads},
		props: map[string]propText{
			"PointInTimeRecoverySpecification": {"TableProps.PointInTimeRecoverySpecification.RecoveryPeriodInDays",
				"point-in-time recovery is how a table is restored after an administrator changes items"},
			"TimeToLiveSpecification":   {"", "TTL deletes items, which an append-only table must never do"},
			"DeletionProtectionEnabled": {"UnsafeAllowTableRemoval (with TableProps.DeletionProtection)", "deletion protection stops DeleteTable, whoever calls it"},
			"SSESpecification": {"TableProps.Encryption (a customer managed key the app defines is protected with the table)",
				"a key the construct does not protect can be disabled or deleted, and every item with it"},
			"StreamSpecification":                {"", streamWhy},
			"StreamSpecification.StreamViewType": {"", streamWhy},
		}},
	"managed policy": {typ: "AWS::IAM::ManagedPolicy", docPath: []string{"PolicyDocument"},
		sids: []string{SidDenyItemMutations, SidDenyDataLoss, SidDenyKeyLoss, SidDenySequencerControl}},
	"key": {typ: "AWS::KMS::Key", docPath: []string{"KeyPolicy"}, docProp: "DeployerPrincipalArns and ExemptPrincipalArns",
		sids: []string{SidKeyGrantsForAWS, SidKeyProtect}},
	"backup vault": {typ: "AWS::Backup::BackupVault", docPath: []string{"AccessPolicy"}, docProp: "ExemptPrincipalArns",
		sids: []string{SidVaultProtect},
		props: map[string]propText{
			"LockConfiguration": {"Backup.Lock, Backup.RetentionDays, Backup.MaxRetentionDays and Backup.ChangeableForDays",
				"the vault lock keeps recovery points from being deleted or shortened"},
		}},
	"journal bucket": {typ: "AWS::S3::Bucket",
		props: map[string]propText{
			"ObjectLockEnabled":       {"", "Object Lock keeps every journal object version from being deleted or overwritten"},
			"ObjectLockConfiguration": {"Journal.Lock and Journal.RetentionDays", "the default retention locks each object the sequencer writes"},
			"VersioningConfiguration": {"", "Object Lock needs versioning"},
		}},
	"journal bucket policy": {typ: "AWS::S3::BucketPolicy", docPath: []string{"PolicyDocument"}, docProp: "DeployerPrincipalArns and ExemptPrincipalArns",
		sids: []string{SidJournalWriteOnlyBySequencer, SidJournalNoDelete, SidJournalProtect, SidJournalNoReplicationIn, SidJournalMonitorOwnPrefix}},
	"journal mapping":        {typ: "AWS::Lambda::EventSourceMapping"},
	"journal sequencer":      {typ: "AWS::Lambda::Function"},
	"journal sequencer role": {typ: "AWS::IAM::Role"},
	"journal monitor":        {typ: "AWS::Lambda::Function"},
	"journal key": {typ: "AWS::KMS::Key", docPath: []string{"KeyPolicy"}, docProp: "DeployerPrincipalArns and ExemptPrincipalArns",
		sids:  []string{SidJournalSignOnlyBySequencer, SidKeyProtect, SidKeyGrantsForAWS},
		props: map[string]propText{"KeySpec": {"", "checkpoints are signed with Ed25519"}}},
}

// TypeOf returns the CloudFormation type of the kind of protected resource
// what ("table", "journal key", ...), and DocPath where its policy is.
func TypeOf(what string) string    { return kinds[what].typ }
func DocPath(what string) []string { return kinds[what].docPath }

// text returns the prop that changes a protected property and why it
// matters.
func text(what string, path []string) propText {
	return kinds[what].props[strings.Join(path, ".")]
}

// ProtectedSids returns the Sids of the statements the construct may write,
// and protects, in the policy of the kind of resource what.
func ProtectedSids(what string) []string { return append([]string(nil), kinds[what].sids...) }

func (k kind) protects(sid string) bool {
	for _, s := range k.sids {
		if s == sid {
			return true
		}
	}
	return false
}
