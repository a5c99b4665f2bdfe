package plan

// Suppression is a cdk-nag rule suppression. The construct writes its
// suppressions into the resource's Metadata in the form cdk-nag reads
// ("cdk_nag" -> "rules_to_suppress"), so it needs no dependency on cdk-nag,
// and a reviewer sees each one, with its reason, in `cdk synth` output. Each
// is as narrow as the finding: one rule, and for wildcard findings one
// resource pattern.
type Suppression struct {
	ID        string
	Reason    string
	AppliesTo []any
}

// The reasons the construct gives, for cdk-nag's rules and AWS Control
// Tower's controls it does not meet.
const (
	ReasonBackupPlan = "Append-only: PITR and deletion protection on; item changes, DeleteTable, DeleteBackup and " +
		"UpdateContinuousBackups denied. Add an AWS Backup plan if a copy outside the table is required."
	ReasonNoVPC             = "The sequencer calls only S3, KMS and the DynamoDB stream through their public AWS endpoints; it has no VPC resources to reach."
	ReasonJournalAccessLogs = "Only the sequencer can write the journal and every object version is locked; record its reads and refused writes " +
		"with CloudTrail S3 data events (see the README) rather than access logs into a second bucket."
	reasonJournalReplication = "The journal is the table's own archive under Object Lock; replicate it yourself if a copy in another Region is required."
	reasonConcurrency        = "One concurrent invocation per stream shard (ParallelizationFactor 1); reserving concurrency would fail in accounts with the default limit."
	ReasonSequencerWildcards = "The sequencer writes objects of the journal's own bucket only (<bucket ARN>/*), and its own log group's streams; " +
		"its feed check lists event source mappings and reads concurrency, which take no resource ARN; it encrypts with the alarm topic's key only."
	reasonDLQ = "Invoked by a stream event source mapping, which retries a failed batch until it succeeds; a lag alarm fires meanwhile."
)

// TableNag applies to a table without an AWS Backup plan.
func TableNag() []Suppression {
	return []Suppression{
		{ID: "NIST.800.53.R5-DynamoDBInBackupPlan", Reason: ReasonBackupPlan},
		{ID: "HIPAA.Security-DynamoDBInBackupPlan", Reason: ReasonBackupPlan},
	}
}

// BackupRoleNag applies to the role AWS Backup assumes to back the table
// up, which holds AWS Backup's own managed policy.
func BackupRoleNag() Suppression {
	return Suppression{ID: "AwsSolutions-IAM4",
		Reason:    "AWS Backup's service role policy is the one AWS maintains for the backup jobs it runs.",
		AppliesTo: []any{"Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/AWSBackupServiceRolePolicyForBackup"}}
}

// VPCRoleNag applies to the role of a journal's function in a VPC
// (JournalProps.Vpc), which holds the policy AWS maintains for it.
func VPCRoleNag() Suppression {
	return Suppression{ID: "AwsSolutions-IAM4",
		Reason:    "Lambda creates a function's network interfaces in a VPC with its role; AWSLambdaVPCAccessExecutionRole is the policy AWS maintains for it.",
		AppliesTo: []any{"Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/AWSLambdaVPCAccessExecutionRole"}}
}

// IndexWildcardNag applies to a policy whose read statement names the
// table's indexes.
func IndexWildcardNag() Suppression {
	return Suppression{ID: "AwsSolutions-IAM5",
		Reason:    "Query and Scan need the table's indexes: <table ARN>/index/* stays inside this one table.",
		AppliesTo: []any{map[string]any{"regex": `/^Resource::(<[A-Za-z0-9]+\.Arn>|arn:[^*]+:table\/[A-Za-z0-9_.-]+)\/index\/\*$/`}}}
}

// BucketNag applies to the journal's bucket; accessLogs is set when it
// sends its server access logs to a bucket.
func BucketNag(accessLogs bool) []Suppression {
	var out []Suppression
	if !accessLogs {
		for _, id := range []string{"AwsSolutions-S1", "NIST.800.53.R5-S3BucketLoggingEnabled", "HIPAA.Security-S3BucketLoggingEnabled", "PCI.DSS.321-S3BucketLoggingEnabled"} {
			out = append(out, Suppression{ID: id, Reason: ReasonJournalAccessLogs})
		}
	}
	for _, id := range []string{"NIST.800.53.R5-S3BucketReplicationEnabled", "HIPAA.Security-S3BucketReplicationEnabled", "PCI.DSS.321-S3BucketReplicationEnabled"} {
		out = append(out, Suppression{ID: id, Reason: reasonJournalReplication})
	}
	return out
}

// FunctionNag applies to each of the journal's functions; inVPC is set
// when it runs in a VPC (JournalProps.Vpc).
func FunctionNag(inVPC bool) []Suppression {
	var out []Suppression
	if !inVPC {
		for _, id := range []string{"NIST.800.53.R5-LambdaInsideVPC", "HIPAA.Security-LambdaInsideVPC", "PCI.DSS.321-LambdaInsideVPC"} {
			out = append(out, Suppression{ID: id, Reason: ReasonNoVPC})
		}
	}
	return append(out,
		Suppression{ID: "NIST.800.53.R5-LambdaConcurrency", Reason: reasonConcurrency},
		Suppression{ID: "HIPAA.Security-LambdaConcurrency", Reason: reasonConcurrency},
		Suppression{ID: "NIST.800.53.R5-LambdaDLQ", Reason: reasonDLQ},
		Suppression{ID: "HIPAA.Security-LambdaDLQ", Reason: reasonDLQ})
}
