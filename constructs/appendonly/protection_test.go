package appendonly_test

import (
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsdynamodb"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsiam"
	"github.com/aws/jsii-runtime-go"

	"github.com/appendonly/appendonly/constructs/appendonly"
	"github.com/appendonly/appendonly/internal/cdktest"
)

// doors returns what the statement's ArnNotLike condition lets through, each
// value as JSON would print it.
func doors(t *testing.T, s map[string]any) []string {
	t.Helper()
	cond, _ := s["Condition"].(map[string]any)
	arnNotLike, _ := cond["ArnNotLike"].(map[string]any)
	var out []string
	switch v := arnNotLike["aws:PrincipalArn"].(type) {
	case []any:
		for _, x := range v {
			out = append(out, fmt.Sprint(x))
		}
	case nil:
	default:
		out = append(out, fmt.Sprint(v))
	}
	return out
}

func resourcePolicyStatements(t *testing.T, tmpl cdktest.Template) []map[string]any {
	t.Helper()
	_, table := tmpl.Only(t, "AWS::DynamoDB::Table")
	rp, ok := props(table)["ResourcePolicy"].(map[string]any)
	if !ok {
		t.Fatal("got no ResourcePolicy")
	}
	return statementsOf(t, rp["PolicyDocument"])
}

func sub(s string) string { return fmt.Sprint(map[string]any{"Fn::Sub": s}) }

func TestDeployerIsTheSynthesizersExecutionRole(t *testing.T) {
	for _, c := range []struct {
		name    string
		context map[string]any
		want    string
	}{
		{"default qualifier", nil, "arn:${AWS::Partition}:iam::${AWS::AccountId}:role/cdk-hnb659fds-cfn-exec-role-${AWS::AccountId}-${AWS::Region}"},
		{"qualifier from context", map[string]any{"@aws-cdk/core:bootstrapQualifier": "ledger01"},
			"arn:${AWS::Partition}:iam::${AWS::AccountId}:role/cdk-ledger01-cfn-exec-role-${AWS::AccountId}-${AWS::Region}"},
	} {
		t.Run(c.name, func(t *testing.T) {
			stack := awscdk.NewStack(cdktest.NewAppWithContext(t, c.context), jsii.String("Deployer"), nil)
			mustNewTable(t, stack, minimalProps())
			stmts := resourcePolicyStatements(t, cdktest.Synth(t, stack))
			if got, want := doors(t, bySid(t, stmts, appendonly.SidTableWideProtect)), []string{sub(c.want)}; !slices.Equal(got, want) {
				t.Errorf("got deployers %v, want %v", got, want)
			}
			if got := doors(t, bySid(t, stmts, appendonly.SidTableWideDeny)); len(got) != 0 {
				t.Errorf("got %v let through the item deny, want nobody: the deployer never changes items", got)
			}
		})
	}
	t.Run("environment of the stack", func(t *testing.T) {
		stack := awscdk.NewStack(cdktest.NewApp(t), jsii.String("Deployer"), &awscdk.StackProps{
			Env: &awscdk.Environment{Account: jsii.String("111122223333"), Region: jsii.String("eu-west-1")},
		})
		mustNewTable(t, stack, minimalProps())
		stmts := resourcePolicyStatements(t, cdktest.Synth(t, stack))
		want := sub("arn:${AWS::Partition}:iam::111122223333:role/cdk-hnb659fds-cfn-exec-role-111122223333-eu-west-1")
		if got := doors(t, bySid(t, stmts, appendonly.SidTableWideProtect)); !slices.Equal(got, []string{want}) {
			t.Errorf("got deployers %v, want [%s]", got, want)
		}
	})
}

func TestDeployersGivenReplaceTheExecutionRole(t *testing.T) {
	p := minimalProps()
	p.DeployerPrincipalArns = []string{"arn:aws:iam::111122223333:role/Pipeline", "arn:${AWS::Partition}:iam::${AWS::AccountId}:role/Deployer"}
	p.ExemptPrincipalArns = []string{"arn:aws:iam::111122223333:role/BreakGlass"}
	stmts := resourcePolicyStatements(t, synthWith(t, func(stack awscdk.Stack) { mustNewTable(t, stack, p) }))
	want := []string{"arn:aws:iam::111122223333:role/Pipeline", sub("arn:${AWS::Partition}:iam::${AWS::AccountId}:role/Deployer"), "arn:aws:iam::111122223333:role/BreakGlass"}
	if got := doors(t, bySid(t, stmts, appendonly.SidTableWideProtect)); !slices.Equal(got, want) {
		t.Errorf("got %v, want %v", got, want)
	}
	if got, want := doors(t, bySid(t, stmts, appendonly.SidTableWideDeny)), p.ExemptPrincipalArns; !slices.Equal(got, want) {
		t.Errorf("got %v let through the item deny, want only the exempt %v", got, want)
	}
}

func TestSynthesizerWithoutReadableExecutionRoleNeedsDeployers(t *testing.T) {
	for _, c := range []struct {
		name        string
		synthesizer func() awscdk.IStackSynthesizer
		want        string
	}{
		{"CLI credentials", func() awscdk.IStackSynthesizer { return awscdk.NewCliCredentialsStackSynthesizer(nil) },
			"DeployerPrincipalArns: required with the stack's CliCredentialsStackSynthesizer, which has no CloudFormation execution role"},
		{"legacy", func() awscdk.IStackSynthesizer { return awscdk.NewLegacyStackSynthesizer() },
			"DeployerPrincipalArns: required with the stack's LegacyStackSynthesizer, which has no CloudFormation execution role"},
		{"default passed explicitly", func() awscdk.IStackSynthesizer {
			return awscdk.NewDefaultStackSynthesizer(&awscdk.DefaultStackSynthesizerProps{Qualifier: jsii.String("ledger01")})
		}, "DeployerPrincipalArns: required with a DefaultStackSynthesizer passed to the stack explicitly"},
	} {
		t.Run(c.name, func(t *testing.T) {
			stack := awscdk.NewStack(cdktest.NewApp(t), jsii.String("Synth"), &awscdk.StackProps{Synthesizer: c.synthesizer()})
			_, err := appendonly.NewTable(stack, "Ledger", minimalProps())
			if err == nil || !hasLine(err.Error(), c.want) {
				t.Fatalf("got error %v, want a line starting %q", err, c.want)
			}
			if n := len(*stack.Node().Children()); n != 0 {
				t.Errorf("got %d children of the stack, want 0: a refused NewTable creates nothing", n)
			}

			p := minimalProps()
			p.DeployerPrincipalArns = []string{"arn:aws:iam::111122223333:role/Deployer"}
			mustNewTable(t, stack, p)
			stmts := resourcePolicyStatements(t, cdktest.Synth(t, stack))
			if got := doors(t, bySid(t, stmts, appendonly.SidTableWideProtect)); !slices.Equal(got, p.DeployerPrincipalArns) {
				t.Errorf("got %v, want %v", got, p.DeployerPrincipalArns)
			}

			// Identity-only mode has no resource policy: nobody to let through.
			p = minimalProps()
			p.Enforcement = appendonly.EnforceIdentityOnlyOthersCanModify
			if _, err := appendonly.NewTable(stack, "IdentityOnly", p); err != nil {
				t.Errorf("identity-only: got error %v, want none", err)
			}
		})
	}
}

func TestAutoScalingRoleMayUpdateAProvisionedTable(t *testing.T) {
	const slr = "arn:${AWS::Partition}:iam::${AWS::AccountId}:role/aws-service-role/dynamodb.application-autoscaling.amazonaws.com/AWSServiceRoleForApplicationAutoScaling_DynamoDBTable"
	for _, c := range []struct {
		billing awsdynamodb.BillingMode
		want    bool
	}{
		{awsdynamodb.BillingMode_PROVISIONED, true},
		{awsdynamodb.BillingMode_PAY_PER_REQUEST, false},
	} {
		t.Run(string(c.billing), func(t *testing.T) {
			p := minimalProps()
			p.TableProps.BillingMode = c.billing
			stmts := resourcePolicyStatements(t, synthWith(t, func(stack awscdk.Stack) { mustNewTable(t, stack, p) }))
			got := slices.Contains(doors(t, bySid(t, stmts, appendonly.SidTableWideProtect)), sub(slr))
			if got != c.want {
				t.Errorf("Application Auto Scaling's role let through: got %v, want %v", got, c.want)
			}
		})
	}
}

// A PolicyDocument passed in TableProps.ResourcePolicy may serve several
// tables: each gets the caller's statements and its own, once.
func TestCallersResourcePolicyIsNotChanged(t *testing.T) {
	doc := awsiam.NewPolicyDocument(nil)
	doc.AddStatements(awsiam.NewPolicyStatement(&awsiam.PolicyStatementProps{
		Sid:        jsii.String("ReadFromAnalytics"),
		Principals: &[]awsiam.IPrincipal{awsiam.NewArnPrincipal(jsii.String("arn:aws:iam::444455556666:role/Analytics"))},
		Actions:    jsii.Strings("dynamodb:GetItem"),
		Resources:  jsii.Strings("*"),
	}))
	stack := newStack(t)
	for _, id := range []string{"First", "Second"} {
		p := minimalProps()
		p.TableProps.ResourcePolicy = doc
		if _, err := appendonly.NewTable(stack, id, p); err != nil {
			t.Fatal(err)
		}
	}
	if n := *doc.StatementCount(); n != 1 {
		t.Errorf("the caller's document holds %v statements, want its 1", n)
	}
	tmpl := cdktest.Synth(t, stack)
	for id, table := range tmpl.Resources("AWS::DynamoDB::Table") {
		var sids []string
		for _, s := range statementsOf(t, props(table)["ResourcePolicy"].(map[string]any)["PolicyDocument"]) {
			sids = append(sids, fmt.Sprint(s["Sid"]))
		}
		want := []string{"ReadFromAnalytics", appendonly.SidTableWideDeny, appendonly.SidTableWideProtect}
		if !slices.Equal(sids, want) {
			t.Errorf("%s: got statements %v, want %v", id, sids, want)
		}
	}
}

func TestCallersResourcePolicyCountsAgainstTheLimit(t *testing.T) {
	doc := awsiam.NewPolicyDocument(nil)
	for i := 0; i < 120; i++ {
		doc.AddStatements(awsiam.NewPolicyStatement(&awsiam.PolicyStatementProps{
			Sid:        jsii.String(fmt.Sprintf("ReadFromPartner%03d", i)),
			Principals: &[]awsiam.IPrincipal{awsiam.NewArnPrincipal(jsii.String(fmt.Sprintf("arn:aws:iam::444455556666:role/PartnerReader%03d", i)))},
			Actions:    jsii.Strings("dynamodb:GetItem", "dynamodb:Query", "dynamodb:Scan"),
			Resources:  jsii.Strings("*"),
		}))
	}
	stack := newStack(t)
	p := minimalProps()
	p.TableProps.ResourcePolicy = doc
	_, err := appendonly.NewTable(stack, "Ledger", p)
	const want = "TableProps.ResourcePolicy: with the construct's statements the table's resource policy can reach "
	if err == nil || !hasLine(err.Error(), want) || !strings.Contains(err.Error(), "over DynamoDB's limit of 20480") {
		t.Errorf("got error %v, want a line starting %q naming the limit", err, want)
	}
}

func TestKeyPolicyDeniesKeyLossToEveryoneButTheDeployer(t *testing.T) {
	p := minimalProps()
	p.TableProps.Encryption = awsdynamodb.TableEncryption_CUSTOMER_MANAGED
	p.ExemptPrincipalArns = []string{"arn:aws:iam::111122223333:role/BreakGlass"}
	tmpl := synthWith(t, func(stack awscdk.Stack) { mustNewTable(t, stack, p) })
	_, key := tmpl.Only(t, "AWS::KMS::Key")
	s := bySid(t, statementsOf(t, props(key)["KeyPolicy"]), appendonly.SidKeyProtect)
	if s["Effect"] != "Deny" || s["Principal"] != "*" || s["Resource"] != "*" {
		t.Errorf("got %v, want Effect Deny, Principal *, Resource *", s)
	}
	assertActions(t, s, appendonly.KeyDenyActions())
	want := []string{sub("arn:${AWS::Partition}:iam::${AWS::AccountId}:role/cdk-hnb659fds-cfn-exec-role-${AWS::AccountId}-${AWS::Region}"), p.ExemptPrincipalArns[0]}
	if got := doors(t, s); !slices.Equal(got, want) {
		t.Errorf("got %v let through, want %v", got, want)
	}
}

// The lists a caller reads are copies: changing one changes no policy.
func TestChangingAReturnedListChangesNoPolicy(t *testing.T) {
	synth := func() string {
		p := minimalProps()
		p.User = &appendonly.UserProps{}
		return string(synthWith(t, func(stack awscdk.Stack) { mustNewTable(t, stack, p) }).JSON(t))
	}
	before := synth()
	for _, list := range [][]string{appendonly.ItemMutationActions(), appendonly.DenyActions(), appendonly.TableWideDenyActions(),
		appendonly.TableProtectionActions(), appendonly.AppendActions(), appendonly.ReadActions(), appendonly.KeyDenyActions()} {
		for i := range list {
			list[i] = "dynamodb:DescribeLimits"
		}
	}
	if after := synth(); after != before {
		t.Error("changing the returned action lists changed the synthesized template")
	}
	if slices.Contains(appendonly.ItemMutationActions(), "dynamodb:DescribeLimits") {
		t.Error("ItemMutationActions returned the changed list")
	}
}
