package appendonly

import (
	"fmt"
	"github.com/appendonly/appendonly/check"
	"strings"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsiam"
	"github.com/aws/constructs-go/constructs/v10"
	"github.com/aws/jsii-runtime-go"
)

// constructPaths returns a replacer from pathOf's stand-ins to construct
// paths: an L1 resource's path without the /Resource ids of its L2 and L1
// (a table is named by the appendonly construct that holds it).
func (g *guard) constructPaths() *strings.Replacer {
	var pairs []string
	for _, c := range *g.registry.Node().Root().Node().FindAll(constructs.ConstructOrder_PREORDER) {
		e, ok := c.(awscdk.CfnElement)
		if !ok {
			continue
		}
		stack := e.Stack()
		id, ok := stack.Resolve(e.LogicalId()).(string)
		if !ok {
			continue
		}
		pairs = append(pairs, check.NamePairs(*stack.Node().Path(), id, *e.Node().Path())...)
	}
	return strings.NewReplacer(pairs...)
}

// existingTable is what the guard knows of a table brought with
// ExistingTable: its name or ARN, resolved once.
func existingTable(t *Table) check.Existing {
	gt := check.Existing{Label: *t.Node().Path(), IdentityOnly: t.enforcement == EnforceIdentityOnlyOthersCanModify, Exempt: t.exempt}
	stack := t.stack
	if arn, ok := stack.Resolve(t.table.TableArn()).(string); ok {
		if f := strings.SplitN(arn, ":", 6); len(f) == 6 && strings.HasPrefix(f[5], "table/") {
			gt.Partition, gt.Region, gt.Account, gt.Name = f[1], f[3], f[4], strings.TrimPrefix(f[5], "table/")
			return gt
		}
	}
	if name, ok := stack.Resolve(t.table.TableName()).(string); ok {
		gt.Name = name
	} else {
		gt.Name = check.Unresolved
	}
	return gt
}

// UnsafeAcknowledgeWriteGrant tells the guard that a principal, or one
// policy, may hold a grant that writes to an append-only table, for the
// rare case that needs one (a migration, say). c is what a grant was given
// to, a Lambda function, an IAM role, user or group, or any other
// iam.IGrantable, whose principal is acknowledged; or an IAM policy, managed
// policy, permission set or the table itself (for the write grants in its
// resource policy), L2 or L1; or a nested stack or stack set whose template
// the guard cannot read. Acknowledging a principal covers its inline
// policies and the managed policies attached only to acknowledged
// principals; it does not cover a policy attached to another principal as
// well. reason is required. The acknowledgement is written into the
// template, in the Metadata of the CloudFormation resource
// (appendonly_write_grant_acknowledged: reason), so a reviewer sees it in
// `cdk synth` output, as cdk-nag suppressions are. It does not lift the
// table's resource policy: in EnforceTableWide mode the write still fails
// unless the principal is also in ExemptPrincipalArns.
func UnsafeAcknowledgeWriteGrant(c constructs.IConstruct, reason string) error {
	if c == nil {
		return fmt.Errorf("appendonly.UnsafeAcknowledgeWriteGrant: the construct is required: pass the function, role, user, group or policy that holds the write grant")
	}
	path := *c.Node().Path()
	if strings.TrimSpace(reason) == "" {
		return fmt.Errorf("appendonly.UnsafeAcknowledgeWriteGrant %s: reason: required: say why this principal must write to an append-only table", path)
	}
	target := c
	if g, ok := c.(awsiam.IGrantable); ok {
		p, ok := g.GrantPrincipal().(constructs.IConstruct)
		if !ok {
			return fmt.Errorf("appendonly.UnsafeAcknowledgeWriteGrant %s: its principal is not a role, user or group of this app: pass the Lambda function, IAM role, user or group the grant was given to, or the IAM policy that holds it", path)
		}
		target = p
	}
	r, ok := target.(awscdk.CfnResource)
	if !ok {
		r, ok = target.Node().DefaultChild().(awscdk.CfnResource)
	}
	if !ok {
		return fmt.Errorf("appendonly.UnsafeAcknowledgeWriteGrant %s: not a principal or policy the app defines: pass the Lambda function, IAM role, user or group the grant was given to, or the IAM policy that holds it, L2 or L1 (an imported role has no resource in the template to carry the acknowledgement)", path)
	}
	switch typ := *r.CfnResourceType(); typ {
	case "AWS::IAM::Role", "AWS::IAM::User", "AWS::IAM::Group", "AWS::IAM::Policy", "AWS::IAM::ManagedPolicy",
		"AWS::IAM::RolePolicy", "AWS::IAM::UserPolicy", "AWS::IAM::GroupPolicy", "AWS::SSO::PermissionSet", "AWS::DynamoDB::Table",
		"AWS::CloudFormation::Stack", "AWS::CloudFormation::StackSet":
	default:
		return fmt.Errorf("appendonly.UnsafeAcknowledgeWriteGrant %s: a %s holds no write grant: pass the Lambda function, IAM role, user or group the grant was given to, or the IAM policy that holds it", path, typ)
	}
	r.AddMetadata(jsii.String(check.AcknowledgedKey), jsii.String(reason))
	return nil
}
