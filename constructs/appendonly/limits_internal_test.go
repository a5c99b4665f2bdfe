package appendonly

import (
	"encoding/json"
	"fmt"
	"strings"
	"testing"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsdynamodb"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsiam"
	"github.com/aws/jsii-runtime-go"

	"github.com/appendonly/appendonly/internal/cdktest"
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

func TestDefaultResourcePolicyIsWellUnderTheLimit(t *testing.T) {
	got := tableWideDenySize(propsWithExemptions(0))
	t.Logf("the default resource policy: %d bytes of %d", got, MaxResourcePolicyBytes)
	if got > MaxResourcePolicyBytes/10 {
		t.Errorf("got a %d-byte resource policy, want at most a tenth of DynamoDB's %d", got, MaxResourcePolicyBytes)
	}
}

func TestResourcePolicyLimitAtTheEdge(t *testing.T) {
	// The largest number of exemptions that still fits.
	n := 0
	for tableWideDenySize(propsWithExemptions(n+1)) <= MaxResourcePolicyBytes {
		n++
	}
	if n == 0 {
		t.Fatal("not even one exemption fits")
	}
	t.Logf("%d exemptions: %d bytes, accepted; %d: %d bytes, refused", n, tableWideDenySize(propsWithExemptions(n)), n+1, tableWideDenySize(propsWithExemptions(n+1)))
	if err := validate(propsWithExemptions(n)); err != nil {
		t.Errorf("%d exemptions (%d bytes): got error %v, want none", n, tableWideDenySize(propsWithExemptions(n)), err)
	}
	err := validate(propsWithExemptions(n + 1))
	if err == nil || !strings.Contains(err.Error(), "over DynamoDB's limit of 20480") {
		t.Errorf("%d exemptions (%d bytes): got error %v, want one naming the 20480-byte limit", n+1, tableWideDenySize(propsWithExemptions(n+1)), err)
	}
}

// The size validation computes in Go what the template will hold: check it
// against a synthesized template, so the two cannot drift apart.
func TestSizeEstimateMatchesSynthesizedPolicy(t *testing.T) {
	for _, n := range []int{0, 3} {
		stack := awscdk.NewStack(cdktest.NewApp(t), jsii.String("Size"), nil)
		p := propsWithExemptions(n)
		if _, err := NewTable(stack, "Ledger", p); err != nil {
			t.Fatal(err)
		}
		_, table := cdktest.Synth(t, stack).Only(t, "AWS::DynamoDB::Table")
		doc := table["Properties"].(map[string]any)["ResourcePolicy"].(map[string]any)["PolicyDocument"]
		data, err := json.Marshal(doc)
		if err != nil {
			t.Fatal(err)
		}
		if got, want := len(data), tableWideDenySize(p); got != want {
			t.Errorf("%d exemptions: synthesized policy is %d bytes, validation computed %d", n, got, want)
		}
	}
}

// A principal that already holds 9 managed policies has room for one deny
// policy: the grant that would need a second is refused, naming the quota.
func TestManagedPolicyQuotaAtTheEdge(t *testing.T) {
	stack := awscdk.NewStack(cdktest.NewApp(t), jsii.String("Quota"), nil)
	role := awsiam.NewRole(stack, jsii.String("Grantee"), &awsiam.RoleProps{AssumedBy: awsiam.NewAccountRootPrincipal()})
	countAttached(role, MaxManagedPoliciesPerPrincipal-1)
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
	if got := len(books[role].denyPolicies); got != 1 {
		t.Errorf("got %d deny policies, want 1", got)
	}
	if fits < 2 {
		t.Errorf("one deny policy took %d tables, want several", fits)
	}
	t.Logf("with 9 managed policies already attached, a role takes %d tables; table %d is refused", fits, fits+1)
}
