package appendonly

import (
	"fmt"
	"github.com/appendonly/appendonly/internal/plan"
	"strings"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/jsii-runtime-go"
)

// What protects the table against every principal in EnforceTableWide mode:
// two statements in the table's resource policy and, for a customer managed
// key the app defines, one in the key's policy. Each statement is Principal
// "*" with Resource "*", which in a resource or key policy means the resource
// the policy is attached to: naming the table's own ARN would make the table
// depend on itself.

// newProtection is what the table-wide statements name for props, with
// deployers the stack's.
func newProtection(props *Props, deployers []string) plan.Protection {
	return plan.Protection{
		Deployers:     deployers,
		Exempt:        props.ExemptPrincipalArns,
		AutoScaling:   props.TableProps != nil && props.TableProps.BillingMode == "PROVISIONED",
		UnsafeRemoval: props.UnsafeAllowTableRemoval,
	}
}

// templateArn turns an ARN as written into what the template holds: an ARN
// with placeholders becomes an Fn::Sub, which CloudFormation fills in. Each
// is converted once per app: the same token serves every table.
func (r *registry) templateArn(arn string) string {
	if !strings.Contains(arn, "${AWS::") {
		return arn
	}
	if v, ok := r.templateArns[arn]; ok {
		return v
	}
	r.templateArns[arn] = *awscdk.Fn_Sub(jsii.String(arn), nil)
	return r.templateArns[arn]
}

// deployersOf returns who deploys stack: the DeployerPrincipalArns prop,
// else the CloudFormation execution role of the stack's default
// synthesizer, read once per stack.
func (r *registry) deployersOf(stack awscdk.Stack, props *Props) ([]string, error) {
	if len(props.DeployerPrincipalArns) > 0 {
		return props.DeployerPrincipalArns, nil
	}
	const example = "arn:${AWS::Partition}:iam::${AWS::AccountId}:role/cdk-hnb659fds-cfn-exec-role-${AWS::AccountId}-${AWS::Region}"
	if arn, ok := r.executionRoles[stack]; ok {
		return []string{arn}, nil
	}
	syn := stack.Synthesizer()
	kind := strings.TrimPrefix(fmt.Sprintf("%T", syn), "*awscdk.jsiiProxy_")
	d, ok := syn.(awscdk.DefaultStackSynthesizer)
	if !ok {
		return nil, fmt.Errorf("DeployerPrincipalArns: required with the stack's %s, which has no CloudFormation execution role: "+
			"CloudFormation acts with the credentials that run `cdk deploy`; give the role ARNs of those principals "+
			"(placeholders ${AWS::Partition}, ${AWS::AccountId} and ${AWS::Region} are filled in at deploy)", kind)
	}
	arn, err := executionRoleArn(d)
	if err != nil {
		return nil, fmt.Errorf("DeployerPrincipalArns: required with a %s passed to the stack explicitly: "+
			"the Go bindings hand back the synthesizer you created, not the copy bound to the stack, so its execution role cannot be read; "+
			"give the role it deploys with, such as %s (with your qualifier), or set the qualifier with the context key "+
			"@aws-cdk/core:bootstrapQualifier instead of passing a synthesizer", kind, example)
	}
	r.executionRoles[stack] = arn
	return []string{arn}, nil
}

// executionRoleArn reads the synthesizer's CloudFormation execution role.
// Reading it from a synthesizer that was never bound to a stack throws in
// the jsii kernel, which reaches Go as a panic.
func executionRoleArn(d awscdk.DefaultStackSynthesizer) (arn string, err error) {
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("%v", r)
		}
	}()
	if p := d.CloudFormationExecutionRoleArn(); p != nil {
		return *p, nil
	}
	return "", fmt.Errorf("no execution role")
}
