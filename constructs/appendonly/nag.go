package appendonly

import (
	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/constructs-go/constructs/v10"
	"github.com/aws/jsii-runtime-go"
)

// A cdk-nag rule suppression. The construct writes its suppressions into the
// resource's Metadata in the form cdk-nag reads ("cdk_nag" ->
// "rules_to_suppress"), so it needs no dependency on cdk-nag, and a reviewer
// sees each one, with its reason, in `cdk synth` output. Each is as narrow as
// the finding: one rule, and for wildcard findings one resource pattern.
type nagSuppression struct {
	id        string
	reason    string
	appliesTo []any
}

const (
	reasonBackupPlan = "Append-only: PITR and deletion protection on; item changes, DeleteTable, DeleteBackup and " +
		"UpdateContinuousBackups denied. Add an AWS Backup plan if a copy outside the table is required."
	reasonIndexWildcard = "Query and Scan need the table's indexes: <table ARN>/index/* stays inside this one table."
)

// tableNagSuppressions apply to the table.
var tableNagSuppressions = []nagSuppression{
	{id: "NIST.800.53.R5-DynamoDBInBackupPlan", reason: reasonBackupPlan},
	{id: "HIPAA.Security-DynamoDBInBackupPlan", reason: reasonBackupPlan},
}

// backupRoleSuppression applies to the role AWS Backup assumes to back the
// table up, which holds AWS Backup's own managed policy.
var backupRoleSuppression = nagSuppression{
	id:        "AwsSolutions-IAM4",
	reason:    "AWS Backup's service role policy is the one AWS maintains for the backup jobs it runs.",
	appliesTo: []any{"Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/AWSBackupServiceRolePolicyForBackup"},
}

// vpcRoleSuppression applies to the role of a journal's function in a VPC
// (JournalProps.Vpc), which holds the policy AWS maintains for it.
var vpcRoleSuppression = nagSuppression{
	id:        "AwsSolutions-IAM4",
	reason:    "Lambda creates a function's network interfaces in a VPC with its role; AWSLambdaVPCAccessExecutionRole is the policy AWS maintains for it.",
	appliesTo: []any{"Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/AWSLambdaVPCAccessExecutionRole"},
}

// indexWildcardSuppression applies to a policy whose read statement names
// the table's indexes.
var indexWildcardSuppression = nagSuppression{
	id:        "AwsSolutions-IAM5",
	reason:    reasonIndexWildcard,
	appliesTo: []any{map[string]any{"regex": `/^Resource::(<[A-Za-z0-9]+\.Arn>|arn:[^*]+:table\/[A-Za-z0-9_.-]+)\/index\/\*$/`}},
}

// suppressNag adds suppressions to the CloudFormation resource behind c.
func suppressNag(c constructs.IConstruct, suppressions ...nagSuppression) {
	if r, ok := c.Node().DefaultChild().(awscdk.CfnResource); ok {
		suppressNagOn(r, suppressions...)
	}
}

// suppressNagOn adds suppressions to r.
func suppressNagOn(r awscdk.CfnResource, suppressions ...nagSuppression) {
	rules := make([]any, 0, len(suppressions))
	for _, s := range suppressions {
		rule := map[string]any{"id": s.id, "reason": s.reason}
		if len(s.appliesTo) > 0 {
			rule["applies_to"] = s.appliesTo
		}
		rules = append(rules, rule)
	}
	r.AddMetadata(jsii.String("cdk_nag"), map[string]any{"rules_to_suppress": rules})
}
