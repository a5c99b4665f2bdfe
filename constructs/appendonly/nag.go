package appendonly

import (
	"github.com/appendonly/appendonly/internal/plan"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/constructs-go/constructs/v10"
	"github.com/aws/jsii-runtime-go"
)

// suppressNag adds suppressions (package plan holds them and their reasons) to the CloudFormation resource behind c.
func suppressNag(c constructs.IConstruct, suppressions ...plan.Suppression) {
	if r, ok := c.Node().DefaultChild().(awscdk.CfnResource); ok {
		suppressNagOn(r, suppressions...)
	}
}

// suppressNagOn adds suppressions to r.
func suppressNagOn(r awscdk.CfnResource, suppressions ...plan.Suppression) {
	rules := make([]any, 0, len(suppressions))
	for _, s := range suppressions {
		rule := map[string]any{"id": s.ID, "reason": s.Reason}
		if len(s.AppliesTo) > 0 {
			rule["applies_to"] = s.AppliesTo
		}
		rules = append(rules, rule)
	}
	r.AddMetadata(jsii.String("cdk_nag"), map[string]any{"rules_to_suppress": rules})
}
