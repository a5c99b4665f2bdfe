package appendonly

import (
	"encoding/json"
	"fmt"
	"github.com/appendonly/appendonly/internal/plan"
	"strings"
	"testing"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsdynamodb"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsiam"
	"github.com/aws/jsii-runtime-go"

	"github.com/appendonly/appendonly/internal/cdktest"
	"github.com/appendonly/appendonly/internal/iamsim"
)

func exemptions(n int) []string {
	out := make([]string, n)
	for i := range out {
		out[i] = fmt.Sprintf("arn:aws:iam::111122223333:role/BreakGlass%05d", i)
	}
	return out
}

func propsWithExemptions(n int) *Props {
	return &Props{
		TableProps: &awsdynamodb.TableProps{
			PartitionKey: &awsdynamodb.Attribute{Name: jsii.String("id"), Type: awsdynamodb.AttributeType_STRING},
		},
		ExemptPrincipalArns: exemptions(n),
	}
}

// defaultDeployer is the CloudFormation execution role of CDK's default
// synthesizer, as the synthesizer gives it.
const defaultDeployer = "arn:${AWS::Partition}:iam::${AWS::AccountId}:role/cdk-hnb659fds-cfn-exec-role-${AWS::AccountId}-${AWS::Region}"

func asWritten(s string) string { return s }

// policySize is the bound validation computes for p's resource policy,
// deployed with CDK's default synthesizer.
func policySize(p *Props) int {
	return plan.ResourcePolicySize(nil, newProtection(p, []string{defaultDeployer}).ResourceStatements(asWritten))
}

func TestDefaultResourcePolicyIsWellUnderTheLimit(t *testing.T) {
	got := policySize(propsWithExemptions(0))
	t.Logf("the default resource policy: at most %d bytes of %d", got, MaxResourcePolicyBytes)
	if got > MaxResourcePolicyBytes/10 {
		t.Errorf("got a %d-byte resource policy, want at most a tenth of DynamoDB's %d", got, MaxResourcePolicyBytes)
	}
}

func TestResourcePolicyLimitAtTheEdge(t *testing.T) {
	// The largest number of exemptions that still fits.
	n := 0
	for policySize(propsWithExemptions(n+1)) <= MaxResourcePolicyBytes {
		n++
	}
	if n == 0 {
		t.Fatal("not even one exemption fits")
	}
	check := func(n int) error {
		p := propsWithExemptions(n)
		return checkResourcePolicySize(p, newProtection(p, []string{defaultDeployer}), nil)
	}
	t.Logf("%d exemptions: %d bytes, accepted; %d: %d bytes, refused", n, policySize(propsWithExemptions(n)), n+1, policySize(propsWithExemptions(n+1)))
	if err := check(n); err != nil {
		t.Errorf("%d exemptions (%d bytes): got error %v, want none", n, policySize(propsWithExemptions(n)), err)
	}
	if err := check(n + 1); err == nil || !strings.Contains(err.Error(), "over DynamoDB's limit of 20480") {
		t.Errorf("%d exemptions (%d bytes): got error %v, want one naming the 20480-byte limit", n+1, policySize(propsWithExemptions(n+1)), err)
	}
}

// The size validation computes in Go what the template will hold: check it
// against synthesized templates, so the two cannot drift apart. With literal
// ARNs the bound is exact; with the default deployer, whose ARN CloudFormation
// fills in, it exceeds the policy deployed in aws/us-east-1 by exactly the
// longest partition and Region over those.
func TestSizeBoundMatchesSynthesizedPolicy(t *testing.T) {
	callerDoc := awsiam.NewPolicyDocument(&awsiam.PolicyDocumentProps{Statements: &[]awsiam.PolicyStatement{
		awsiam.NewPolicyStatement(&awsiam.PolicyStatementProps{
			Sid: jsii.String("ReadFromAnotherAccount"), Actions: jsii.Strings("dynamodb:GetItem"), Resources: jsii.Strings("*"),
			Principals: &[]awsiam.IPrincipal{awsiam.NewArnPrincipal(jsii.String("arn:aws:iam::444455556666:role/Reader"))},
		}),
	}})
	for _, c := range []struct {
		name      string
		deployers []string
		exempt    int
		caller    awsiam.PolicyDocument
		slack     int
	}{
		{"literal deployer", []string{"arn:aws:iam::111122223333:role/Deployer"}, 0, nil, 0},
		{"literal deployer, exemptions", []string{"arn:aws:iam::111122223333:role/Deployer"}, 3, nil, 0},
		{"literal deployer, caller's statements", []string{"arn:aws:iam::111122223333:role/Deployer"}, 1, callerDoc, 0},
		{"default deployer", nil, 0, nil, (len("aws-us-gov") - len("aws")) + (len("us-isof-south-1") - len("us-east-1"))},
	} {
		t.Run(c.name, func(t *testing.T) {
			stack := awscdk.NewStack(cdktest.NewApp(t), jsii.String("Size"), nil)
			p := propsWithExemptions(c.exempt)
			p.DeployerPrincipalArns = c.deployers
			p.TableProps.ResourcePolicy = c.caller
			deployers, err := registryOf(stack).deployersOf(stack, p)
			if err != nil {
				t.Fatal(err)
			}
			var resolvedCaller any
			if c.caller != nil {
				resolvedCaller = stack.Resolve(c.caller)
			}
			bound := plan.ResourcePolicySize(resolvedCaller, newProtection(p, deployers).ResourceStatements(asWritten))
			if _, err := NewTable(stack, "Ledger", p); err != nil {
				t.Fatal(err)
			}
			tmpl := cdktest.Synth(t, stack)
			_, table := tmpl.Only(t, "AWS::DynamoDB::Table")
			doc, err := iamsim.NewEnv(iamsim.Template(tmpl)).Resolve(table["Properties"].(map[string]any)["ResourcePolicy"].(map[string]any)["PolicyDocument"])
			if err != nil {
				t.Fatal(err)
			}
			data, err := json.Marshal(doc)
			if err != nil {
				t.Fatal(err)
			}
			if got, want := bound-len(data), c.slack; got != want {
				t.Errorf("validation's bound %d exceeds the %d-byte policy deployed in %s/%s by %d, want %d", bound, len(data), iamsim.Partition, iamsim.Region, got, want)
			}
		})
	}
}

// A principal that already holds 9 managed policies has room for one deny
// policy: the grant that would need a second is refused, naming the quota.
func TestManagedPolicyQuotaAtTheEdge(t *testing.T) {
	stack := awscdk.NewStack(cdktest.NewApp(t), jsii.String("Quota"), nil)
	role := awsiam.NewRole(stack, jsii.String("Grantee"), &awsiam.RoleProps{AssumedBy: awsiam.NewAccountRootPrincipal()})
	registryOf(stack).countAttached(role, MaxManagedPoliciesPerPrincipal-1)
	var errs []string
	fits := 0
	for ; fits < 100 && len(errs) == 0; fits++ {
		table, err := NewTable(stack, fmt.Sprintf("Ledger%d", fits), &Props{TableProps: &awsdynamodb.TableProps{
			TableName:    jsii.String(fmt.Sprintf("append-only-ledger-%05d", fits)),
			PartitionKey: &awsdynamodb.Attribute{Name: jsii.String("id"), Type: awsdynamodb.AttributeType_STRING},
		}})
		if err != nil {
			t.Fatal(err)
		}
		table.GrantAppend(role)
		errs = cdktest.Errors(role)
	}
	fits-- // the last grant was refused
	if len(errs) != 1 || !strings.Contains(errs[0], "need more than 10 managed policies") {
		t.Fatalf("got errors %v, want one naming the quota of 10 managed policies", errs)
	}
	if got := len(registryOf(stack).books[role].denyPolicies); got != 1 {
		t.Errorf("got %d deny policies, want 1", got)
	}
	if fits < 2 {
		t.Errorf("one deny policy took %d tables, want several", fits)
	}
	t.Logf("with 9 managed policies already attached, a role takes %d tables; table %d is refused", fits, fits+1)
}
