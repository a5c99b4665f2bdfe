package appendonly

import (
	"encoding/json"
	"fmt"
	"slices"
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

// The longest values of the ARN parts nobody knows at synth time: every
// upper bound on an ARN's length in the construct is built from these.
const (
	longestPartition = "aws-us-gov"
	longestRegion    = "us-isof-south-1"
	sampleAccount    = "123456789012"
)

// Placeholders a principal ARN may hold, which CloudFormation fills in
// (Fn::Sub), and the longest value each can take.
var arnPlaceholders = []struct {
	name  string
	bound int
}{
	{"${AWS::Partition}", len(longestPartition)},
	{"${AWS::AccountId}", len(sampleAccount)},
	{"${AWS::Region}", len(longestRegion)},
	{"${AWS::URLSuffix}", len("amazonaws.com.cn")},
}

// Bounds for values the construct cannot know at synth time.
const (
	// maxPrincipalArnBound is the longest an IAM role or user ARN can be: the
	// longest partition, a 512-character path and a 64-character name.
	maxPrincipalArnBound = len("arn:"+longestPartition+":iam::"+sampleAccount+":role") + 512 + 64
	// maxUnknownBound is IAM's longest ARN, for a value nothing is known of.
	maxUnknownBound = 2048
)

// autoScalingRoleArn is Application Auto Scaling's service-linked role for
// DynamoDB tables, which calls UpdateTable to change a PROVISIONED table's
// capacity.
const autoScalingRoleArn = "arn:${AWS::Partition}:iam::${AWS::AccountId}:role/aws-service-role/" +
	"dynamodb.application-autoscaling.amazonaws.com/AWSServiceRoleForApplicationAutoScaling_DynamoDBTable"

// protection holds what the table-wide statements name, as the user wrote it
// or as the synthesizer gave it: ARNs may hold the placeholders above, or be
// CDK tokens.
type protection struct {
	deployers     []string
	exempt        []string
	autoScaling   bool // exempt Application Auto Scaling's role from UpdateTable
	unsafeRemoval bool
}

func newProtection(props *Props, deployers []string) protection {
	return protection{
		deployers:     deployers,
		exempt:        props.ExemptPrincipalArns,
		autoScaling:   props.TableProps != nil && props.TableProps.BillingMode == "PROVISIONED",
		unsafeRemoval: props.UnsafeAllowTableRemoval,
	}
}

// resourceStatements are the statements the table's resource policy gains,
// with every ARN as written (placeholders unexpanded): arn maps each one to
// the value the template holds.
func (p protection) resourceStatements(arn func(string) string) []statement {
	items := statement{
		sid:       SidTableWideDeny,
		effect:    "Deny",
		principal: "*",
		actions:   slices.Clone(tableWideDenyActions),
		resources: []string{"*"},
	}
	control := statement{
		sid:       SidTableWideProtect,
		effect:    "Deny",
		principal: "*",
		actions:   slices.Clone(tableProtectionActions),
		resources: []string{"*"},
	}
	if p.unsafeRemoval {
		control.actions = append(control.actions, "dynamodb:DeleteTable")
	} else {
		items.actions = append(items.actions, "dynamodb:DeleteTable")
	}
	if len(p.exempt) > 0 {
		items.condition = arnNotLike(mapStrings(p.exempt, arn))
	}
	doors := concat(p.deployers, p.exempt)
	if p.autoScaling {
		doors = append(doors, autoScalingRoleArn)
	}
	control.condition = arnNotLike(mapStrings(doors, arn))
	return []statement{items, control}
}

// keyStatement is the statement the key policy of the table's customer
// managed key gains. AWS services acting as themselves (DynamoDB retiring
// its own grant, say) are not principals with an ARN and are left alone.
func (p protection) keyStatement(arn func(string) string) statement {
	s := statement{
		sid:       SidKeyProtect,
		effect:    "Deny",
		principal: "*",
		actions:   slices.Clone(keyDenyActions),
		resources: []string{"*"},
	}
	s.condition = arnNotLike(mapStrings(concat(p.deployers, p.exempt), arn))
	s.condition["BoolIfExists"] = map[string]any{"aws:PrincipalIsAWSService": "false"}
	return s
}

// createGrantForAWSOnly limits grants on a key the construct creates to
// those AWS services create for their resources (DynamoDB creates one for
// the table): AWS Control Tower's proactive control CT.KMS.PR.3, in the form
// its Guard rule checks.
var createGrantForAWSOnly = statement{
	sid:       SidKeyGrantsForAWS,
	effect:    "Deny",
	principal: "*",
	actions:   []string{"kms:CreateGrant"},
	resources: []string{"*"},
	condition: map[string]any{"BoolIfExists": map[string]any{
		"kms:GrantIsForAWSResource": "false",
		"aws:PrincipalIsAWSService": "false",
	}},
}

func arnNotLike(arns []string) map[string]any {
	return map[string]any{"ArnNotLike": map[string]any{"aws:PrincipalArn": arns}}
}

func mapStrings(in []string, f func(string) string) []string {
	out := make([]string, len(in))
	for i, s := range in {
		out[i] = f(s)
	}
	return out
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

// boundedSize is the size in bytes of v as compact JSON once deployed, each
// value not known at synth time counted at the longest it can take:
// placeholders and tokens in strings, and CloudFormation intrinsics (v as
// Stack.Resolve returns it).
func boundedSize(v any) int {
	data, err := json.Marshal(bound(v))
	if err != nil {
		return maxUnknownBound * 10 // not JSON: count it as too large
	}
	n := len(data)
	s := string(data)
	for _, ph := range arnPlaceholders {
		c := strings.Count(s, ph.name)
		n += c * (ph.bound - len(ph.name))
	}
	for rest := s; ; {
		i := strings.Index(rest, "${Token[")
		if i < 0 {
			break
		}
		j := strings.Index(rest[i:], "]}")
		if j < 0 {
			break
		}
		n += maxPrincipalArnBound - (j + 2)
		rest = rest[i+j+2:]
	}
	return n
}

// bound replaces each CloudFormation intrinsic in v with a string as long as
// the longest value it can take.
func bound(v any) any {
	switch v := v.(type) {
	case []any:
		out := make([]any, len(v))
		for i, x := range v {
			out[i] = bound(x)
		}
		return out
	case map[string]any:
		if n, ok := intrinsicBound(v); ok {
			return strings.Repeat("x", n)
		}
		out := make(map[string]any, len(v))
		for k, x := range v {
			out[k] = bound(x)
		}
		return out
	}
	return v
}

// intrinsicBound is the longest value the intrinsic m can take, and whether
// m is an intrinsic at all.
func intrinsicBound(m map[string]any) (int, bool) {
	if len(m) != 1 {
		return 0, false
	}
	for fn, arg := range m {
		switch {
		case fn == "Ref":
			for _, ph := range arnPlaceholders {
				if "${"+fmt.Sprint(arg)+"}" == ph.name {
					return ph.bound, true
				}
			}
			return maxUnknownBound, true
		case fn == "Fn::Join":
			parts, _ := arg.([]any)
			if len(parts) != 2 {
				return maxUnknownBound, true
			}
			sep, _ := parts[0].(string)
			list, _ := parts[1].([]any)
			n := len(sep) * max(len(list)-1, 0)
			for _, x := range list {
				switch x := x.(type) {
				case string:
					n += len(x)
				case map[string]any:
					b, ok := intrinsicBound(x)
					if !ok {
						b = maxUnknownBound
					}
					n += b
				default:
					n += maxUnknownBound
				}
			}
			return n, true
		case fn == "Fn::Sub":
			s, ok := arg.(string)
			if !ok {
				return maxUnknownBound, true
			}
			n := len(s)
			for _, ph := range arnPlaceholders {
				n += strings.Count(s, ph.name) * (ph.bound - len(ph.name))
				s = strings.ReplaceAll(s, ph.name, "")
			}
			n += strings.Count(s, "${") * maxUnknownBound
			return n, true
		case strings.HasPrefix(fn, "Fn::"):
			return maxUnknownBound, true
		}
	}
	return 0, false
}

// resourcePolicySize is the size the table's whole resource policy can reach
// once deployed: the caller's statements (callerDoc as Stack.Resolve returns
// it, nil for none) and the construct's.
func resourcePolicySize(callerDoc any, ours []statement) int {
	n := 0
	if m, ok := callerDoc.(map[string]any); ok && m != nil {
		n = boundedSize(m)
	} else {
		n = len(`{"Version":"2012-10-17","Statement":[]}`)
	}
	for _, s := range ours {
		n += boundedSize(s.json()) + 1 // and a comma
	}
	if callerDoc == nil {
		n-- // no comma before the first statement
	}
	return n
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
