package plan

import (
	"github.com/appendonly/appendonly/check"
)

// What protects the table against every principal in EnforceTableWide mode:
// two statements in the table's resource policy and, for a customer managed
// key the app defines, one in the key's policy. Each statement is Principal
// "*" with Resource "*", which in a resource or key policy means the resource
// the policy is attached to: naming the table's own ARN would make the table
// depend on itself.

// AutoScalingRoleArn is Application Auto Scaling's service-linked role for
// DynamoDB tables, which calls UpdateTable to change a PROVISIONED table's
// capacity.
const AutoScalingRoleArn = "arn:${AWS::Partition}:iam::${AWS::AccountId}:role/aws-service-role/" +
	"dynamodb.application-autoscaling.amazonaws.com/AWSServiceRoleForApplicationAutoScaling_DynamoDBTable"

// Protection holds what the table-wide statements name, as the user wrote
// it or as the synthesizer gave it: ARNs may hold the placeholders
// ${AWS::Partition}, ${AWS::AccountId} and ${AWS::Region}, or be CDK tokens.
type Protection struct {
	Deployers     []string
	Exempt        []string
	AutoScaling   bool // exempt Application Auto Scaling's role from UpdateTable
	UnsafeRemoval bool // the deployer may delete the table
}

// ResourceStatements are the statements the table's resource policy gains,
// with every ARN as written (placeholders unexpanded): arn maps each one to
// the value the template holds.
func (p Protection) ResourceStatements(arn func(string) string) []Statement {
	items := Statement{
		Sid:       check.SidTableWideDeny,
		Effect:    "Deny",
		Principal: "*",
		Actions:   check.TableWideDenyActions(),
		Resources: []string{"*"},
	}
	control := Statement{
		Sid:       check.SidTableWideProtect,
		Effect:    "Deny",
		Principal: "*",
		Actions:   check.TableProtectionActions(),
		Resources: []string{"*"},
	}
	if p.UnsafeRemoval {
		control.Actions = append(control.Actions, "dynamodb:DeleteTable")
	} else {
		items.Actions = append(items.Actions, "dynamodb:DeleteTable")
	}
	if len(p.Exempt) > 0 {
		items.Condition = ArnNotLike(Map(p.Exempt, arn))
	}
	doors := Concat(p.Deployers, p.Exempt)
	if p.AutoScaling {
		doors = append(doors, AutoScalingRoleArn)
	}
	control.Condition = ArnNotLike(Map(doors, arn))
	return []Statement{items, control}
}

// KeyStatement is the statement the key policy of the table's customer
// managed key gains. AWS services acting as themselves (DynamoDB retiring
// its own grant, say) are not principals with an ARN and are left alone.
func (p Protection) KeyStatement(arn func(string) string) Statement {
	s := Statement{
		Sid:       check.SidKeyProtect,
		Effect:    "Deny",
		Principal: "*",
		Actions:   check.KeyDenyActions(),
		Resources: []string{"*"},
	}
	s.Condition = ArnNotLike(Map(Concat(p.Deployers, p.Exempt), arn))
	s.Condition["BoolIfExists"] = map[string]any{"aws:PrincipalIsAWSService": "false"}
	return s
}

// CreateGrantForAWSOnly limits grants on a key the construct creates to
// those AWS services create for their resources (DynamoDB creates one for
// the table): AWS Control Tower's proactive control CT.KMS.PR.3, in the form
// its Guard rule checks.
func CreateGrantForAWSOnly() Statement {
	return Statement{
		Sid:       check.SidKeyGrantsForAWS,
		Effect:    "Deny",
		Principal: "*",
		Actions:   []string{"kms:CreateGrant"},
		Resources: []string{"*"},
		Condition: map[string]any{"BoolIfExists": map[string]any{
			"kms:GrantIsForAWSResource": "false",
			"aws:PrincipalIsAWSService": "false",
		}},
	}
}
