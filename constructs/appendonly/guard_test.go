package appendonly_test

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsdynamodb"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsiam"
	"github.com/aws/aws-cdk-go/awscdk/v2/awslambda"
	"github.com/aws/aws-cdk-go/awscdk/v2/awss3"
	"github.com/aws/constructs-go/constructs/v10"
	"github.com/aws/jsii-runtime-go"

	"github.com/appendonly/appendonly/constructs/appendonly"
	"github.com/appendonly/appendonly/internal/cdktest"
)

// synthError synthesizes the app that holds stack and returns the error
// synthesis failed with, followed by each violation of the validation report
// it names (rule, severity, description, fix), or "".
func synthError(t *testing.T, stack awscdk.Stack) (msg string) {
	t.Helper()
	defer func() {
		if r := recover(); r != nil {
			msg = fmt.Sprint(r)
			if i := strings.Index(msg, "found in: "); i >= 0 {
				for _, v := range readReport(t, strings.TrimSpace(msg[i+len("found in: "):])) {
					msg += "\n" + v
				}
			}
		}
	}()
	cdktest.Synth(t, stack)
	return ""
}

// readReport returns the violations of a CDK validation report file, one
// line each: rule, severity, description and fix.
func readReport(t *testing.T, path string) []string {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var report struct {
		PluginReports []struct {
			Violations []struct {
				RuleName, Severity, Description, SuggestedFix string
			}
		}
	}
	if err := json.Unmarshal(data, &report); err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, p := range report.PluginReports {
		for _, v := range p.Violations {
			out = append(out, fmt.Sprintf("%s %s: %s %s", v.Severity, v.RuleName, v.Description, v.SuggestedFix))
		}
	}
	return out
}

func writer(stack awscdk.Stack, id string) awsiam.Role {
	return awsiam.NewRole(stack, jsii.String(id), &awsiam.RoleProps{AssumedBy: awsiam.NewServicePrincipal(jsii.String("lambda.amazonaws.com"), nil)})
}

func newFunction(stack awscdk.Stack, id string) awslambda.Function {
	return awslambda.NewFunction(stack, jsii.String(id), &awslambda.FunctionProps{
		Runtime: awslambda.Runtime_NODEJS_22_X(),
		Handler: jsii.String("index.handler"),
		Code:    awslambda.Code_FromInline(jsii.String("exports.handler = async () => {};")),
	})
}

func statementOn(actions []string, resources ...string) awsiam.PolicyStatement {
	return awsiam.NewPolicyStatement(&awsiam.PolicyStatementProps{Actions: jsii.Strings(actions...), Resources: jsii.Strings(resources...)})
}

// Every way of granting a write fails synthesis, with a message that names
// the policy, the action and the table, and says what to use instead.
func TestGuardFailsEveryWriteGrant(t *testing.T) {
	for _, c := range []struct {
		name   string
		grant  func(stack awscdk.Stack, ledger *appendonly.Table)
		policy string // a part of the policy's path
		action string
	}{
		{"GrantReadWriteData to a function", func(stack awscdk.Stack, l *appendonly.Table) {
			l.DynamoTable().GrantReadWriteData(newFunction(stack, "Fn"))
		}, "Test/Fn/ServiceRole/DefaultPolicy/Resource", "dynamodb:BatchWriteItem"},
		{"GrantWriteData", func(stack awscdk.Stack, l *appendonly.Table) { l.DynamoTable().GrantWriteData(writer(stack, "W")) },
			"Test/W/DefaultPolicy/Resource", "dynamodb:PutItem"},
		{"GrantFullAccess", func(stack awscdk.Stack, l *appendonly.Table) { l.DynamoTable().GrantFullAccess(writer(stack, "W")) },
			"Test/W/DefaultPolicy/Resource", "dynamodb:BatchWriteItem"},
		{"Grant of DeleteItem", func(stack awscdk.Stack, l *appendonly.Table) {
			l.DynamoTable().Grant(writer(stack, "W"), jsii.String("dynamodb:DeleteItem"))
		}, "Test/W/DefaultPolicy/Resource", "dynamodb:DeleteItem"},
		{"dynamodb:* on the table's ARN", func(stack awscdk.Stack, l *appendonly.Table) {
			writer(stack, "W").AddToPolicy(statementOn([]string{"dynamodb:*"}, *l.DynamoTable().TableArn()))
		}, "Test/W/DefaultPolicy/Resource", "dynamodb:BatchWriteItem"},
		{"dynamodb:*Item on an index", func(stack awscdk.Stack, l *appendonly.Table) {
			writer(stack, "W").AddToPolicy(statementOn([]string{"dynamodb:*Item"}, *l.DynamoTable().TableArn()+"/index/*"))
		}, "Test/W/DefaultPolicy/Resource", "dynamodb:DeleteItem"},
		{"dynamodb:Put* by a wildcard ARN", func(stack awscdk.Stack, l *appendonly.Table) {
			writer(stack, "W").AddToPolicy(statementOn([]string{"dynamodb:Put*"}, "arn:aws:dynamodb:*:*:table/*"))
		}, "Test/W/DefaultPolicy/Resource", "dynamodb:PutItem"},
		{"NotAction", func(stack awscdk.Stack, l *appendonly.Table) {
			writer(stack, "W").AddToPolicy(awsiam.NewPolicyStatement(&awsiam.PolicyStatementProps{
				NotActions: jsii.Strings("dynamodb:GetItem"), Resources: jsii.Strings(*l.DynamoTable().TableArn()),
			}))
		}, "Test/W/DefaultPolicy/Resource", "dynamodb:BatchWriteItem"},
		{"UpdateTable on the table", func(stack awscdk.Stack, l *appendonly.Table) {
			writer(stack, "W").AddToPolicy(statementOn([]string{"dynamodb:UpdateTable"}, *l.DynamoTable().TableArn()))
		}, "Test/W/DefaultPolicy/Resource", "dynamodb:UpdateTable"},
		{"a managed policy", func(stack awscdk.Stack, l *appendonly.Table) {
			awsiam.NewManagedPolicy(stack, jsii.String("Writes"), &awsiam.ManagedPolicyProps{
				Statements: &[]awsiam.PolicyStatement{statementOn([]string{"dynamodb:UpdateItem"}, *l.DynamoTable().TableArn())},
				Roles:      &[]awsiam.IRole{writer(stack, "W")},
			})
		}, "Test/Writes/Resource", "dynamodb:UpdateItem"},
		{"an L1 CfnPolicy", func(stack awscdk.Stack, l *appendonly.Table) {
			awsiam.NewCfnPolicy(stack, jsii.String("Raw"), &awsiam.CfnPolicyProps{
				PolicyName: jsii.String("raw"),
				Roles:      jsii.Strings(*writer(stack, "W").RoleName()),
				PolicyDocument: map[string]any{"Version": "2012-10-17", "Statement": []any{map[string]any{
					"Effect": "Allow", "Action": "dynamodb:PutItem", "Resource": l.DynamoTable().TableArn(),
				}}},
			})
		}, "Test/Raw", "dynamodb:PutItem"},
		{"a role's inline policy", func(stack awscdk.Stack, l *appendonly.Table) {
			awsiam.NewRole(stack, jsii.String("W"), &awsiam.RoleProps{
				AssumedBy: awsiam.NewAccountRootPrincipal(),
				InlinePolicies: &map[string]awsiam.PolicyDocument{"writes": awsiam.NewPolicyDocument(&awsiam.PolicyDocumentProps{
					Statements: &[]awsiam.PolicyStatement{statementOn([]string{"dynamodb:BatchWriteItem"}, *l.DynamoTable().TableArn())},
				})},
			})
		}, "Test/W/Resource", "dynamodb:BatchWriteItem"},
		{"a user's inline policy", func(stack awscdk.Stack, l *appendonly.Table) {
			awsiam.NewCfnUser(stack, jsii.String("U"), &awsiam.CfnUserProps{Policies: &[]any{&awsiam.CfnUser_PolicyProperty{
				PolicyName: jsii.String("writes"),
				PolicyDocument: map[string]any{"Statement": []any{map[string]any{
					"Effect": "Allow", "Action": []any{"dynamodb:PartiQLUpdate"}, "Resource": l.DynamoTable().TableArn(),
				}}},
			}}})
		}, "Test/U", "dynamodb:PartiQLUpdate"},
		{"a group's policy", func(stack awscdk.Stack, l *appendonly.Table) {
			awsiam.NewGroup(stack, jsii.String("G"), nil).AddToPolicy(statementOn([]string{"dynamodb:PartiQLDelete"}, *l.DynamoTable().TableArn()))
		}, "Test/G/DefaultPolicy/Resource", "dynamodb:PartiQLDelete"},
		{"the stream by name", func(stack awscdk.Stack, l *appendonly.Table) {
			writer(stack, "W").AddToPolicy(statementOn([]string{"dynamodb:*"}, "arn:aws:dynamodb:us-east-1:111122223333:table/"+proofTable+"/stream/*"))
		}, "Test/W/DefaultPolicy/Resource", "dynamodb:BatchWriteItem"},
	} {
		t.Run(c.name, func(t *testing.T) {
			stack := newStack(t)
			p := minimalProps()
			p.TableProps.TableName = jsii.String(proofTable)
			ledger := mustNewTable(t, stack, p)
			c.grant(stack, ledger)
			msg := synthError(t, stack)
			for _, want := range []string{"appendonly: ", c.policy, c.action, "append-only table Test/Ledger ", "GrantAppend, GrantRead or GrantStreamRead"} {
				if !strings.Contains(msg, want) {
					t.Errorf("got synthesis error %q, want it to contain %q", msg, want)
				}
			}
		})
	}
}

func TestGuardFailsAGrantFromAnotherStack(t *testing.T) {
	app := cdktest.NewApp(t)
	tables := awscdk.NewStack(app, jsii.String("Tables"), nil)
	ledger := mustNewTable(t, tables, minimalProps())
	apps := awscdk.NewStack(app, jsii.String("Functions"), nil)
	ledger.DynamoTable().GrantWriteData(writer(apps, "W"))
	msg := synthError(t, tables) // any stack of the app: the guard reads them all
	for _, want := range []string{"Functions/W/DefaultPolicy/Resource", "append-only table Tables/Ledger "} {
		if !strings.Contains(msg, want) {
			t.Errorf("got synthesis error %q, want it to contain %q", msg, want)
		}
	}
}

// What the guard lets through.
func TestGuardPasses(t *testing.T) {
	for _, c := range []struct {
		name  string
		build func(t *testing.T, stack awscdk.Stack, ledger *appendonly.Table)
	}{
		{"the construct's grants", func(t *testing.T, stack awscdk.Stack, l *appendonly.Table) {
			l.GrantAppend(writer(stack, "A"))
			l.GrantRead(newFunction(stack, "R"))
			if _, err := l.GrantStreamRead(writer(stack, "S")); err != nil {
				t.Fatal(err)
			}
		}},
		{"a deny", func(t *testing.T, stack awscdk.Stack, l *appendonly.Table) {
			writer(stack, "W").AddToPolicy(awsiam.NewPolicyStatement(&awsiam.PolicyStatementProps{
				Effect: awsiam.Effect_DENY, Actions: jsii.Strings("dynamodb:*"), Resources: jsii.Strings(*l.DynamoTable().TableArn()),
			}))
		}},
		{"reads through CDK's own grant", func(t *testing.T, stack awscdk.Stack, l *appendonly.Table) {
			l.DynamoTable().GrantReadData(writer(stack, "W"))
		}},
		{"writes on another table", func(t *testing.T, stack awscdk.Stack, l *appendonly.Table) {
			other := awsdynamodb.NewTable(stack, jsii.String("Scratch"), &awsdynamodb.TableProps{PartitionKey: key("id")})
			other.GrantReadWriteData(writer(stack, "W"))
			writer(stack, "X").AddToPolicy(statementOn([]string{"dynamodb:*"}, "arn:aws:dynamodb:*:*:table/Scratch*"))
		}},
		{"an exempt principal", func(t *testing.T, stack awscdk.Stack, l *appendonly.Table) {
			role := awsiam.NewRole(stack, jsii.String("BreakGlass"), &awsiam.RoleProps{RoleName: jsii.String("BreakGlassErasure"), AssumedBy: awsiam.NewAccountRootPrincipal()})
			role.AddToPolicy(statementOn([]string{"dynamodb:DeleteItem"}, *l.DynamoTable().TableArn()))
		}},
		{"an acknowledged principal", func(t *testing.T, stack awscdk.Stack, l *appendonly.Table) {
			w := writer(stack, "Migration")
			l.DynamoTable().GrantWriteData(w)
			if err := appendonly.UnsafeAcknowledgeWriteGrant(w, "one-off migration of 2026 records, removed after"); err != nil {
				t.Fatal(err)
			}
		}},
	} {
		t.Run(c.name, func(t *testing.T) {
			stack := newStack(t)
			p := minimalProps()
			p.TableProps.Stream = awsdynamodb.StreamViewType_NEW_IMAGE
			p.ExemptPrincipalArns = []string{"arn:aws:iam::111122223333:role/BreakGlass*"}
			ledger := mustNewTable(t, stack, p)
			c.build(t, stack, ledger)
			if msg := synthError(t, stack); msg != "" {
				t.Errorf("got synthesis error %q, want none", msg)
			}
		})
	}
}

func TestAcknowledgementIsVisibleAndNeedsAReason(t *testing.T) {
	stack := newStack(t)
	ledger := mustNewTable(t, stack, minimalProps())
	w := writer(stack, "Migration")
	ledger.DynamoTable().GrantWriteData(w)
	if err := appendonly.UnsafeAcknowledgeWriteGrant(w, " "); err == nil || !strings.Contains(err.Error(), "reason: required") {
		t.Errorf("got error %v, want one saying the reason is required", err)
	}
	for _, c := range []struct {
		name string
		c    constructs.IConstruct
	}{
		{"a bucket", awss3.NewBucket(stack, jsii.String("B"), nil)},
		{"a stack", stack},
		{"an imported role", awsiam.Role_FromRoleArn(stack, jsii.String("Imported"), jsii.String("arn:aws:iam::111122223333:role/x"), nil)},
	} {
		if err := appendonly.UnsafeAcknowledgeWriteGrant(c.c, "why"); err == nil || !strings.Contains(err.Error(), "pass the Lambda function, IAM role, user or group") {
			t.Errorf("%s: got error %v, want one saying what to pass", c.name, err)
		}
	}
	if err := appendonly.UnsafeAcknowledgeWriteGrant(w, "one-off migration"); err != nil {
		t.Fatal(err)
	}
	tmpl := cdktest.Synth(t, stack)
	for id, r := range tmpl.Resources("AWS::IAM::Role") {
		if md, _ := r["Metadata"].(map[string]any); md["appendonly_write_grant_acknowledged"] != "one-off migration" {
			t.Errorf("%s: got Metadata %v, want the acknowledgement with its reason", id, r["Metadata"])
		}
	}
}

// A statement on Resource "*" is an error where nothing else stops it, and
// a warning naming the table where the resource policy does.
func TestGuardOnEveryResource(t *testing.T) {
	for _, c := range []struct {
		mode appendonly.Enforcement
		want string
	}{
		{appendonly.EnforceIdentityOnlyOthersCanModify, `fatal appendonly-no-write-grant-on-every-table: appendonly: Policy Test/W/DefaultPolicy/Resource, statement #1, allows dynamodb:PutItem on Resource "*", which includes the append-only table Test/Ledger: in EnforceIdentityOnlyOthersCanModify mode nothing else stops it.`},
		{appendonly.EnforceTableWide, `warning appendonly-no-write-grant-on-every-table: appendonly: Policy Test/W/DefaultPolicy/Resource allows item writes on Resource "*", which includes the append-only tables Test/Ledger: their resource policies deny the writes, so they fail at run time.`},
	} {
		t.Run(c.mode.String(), func(t *testing.T) {
			out := t.TempDir()
			stack := awscdk.NewStack(cdktest.NewAppIn(t, out), jsii.String("Test"), nil)
			p := minimalProps()
			p.Enforcement = c.mode
			mustNewTable(t, stack, p)
			writer(stack, "W").AddToPolicy(statementOn([]string{"dynamodb:PutItem"}, "*"))
			msg := synthError(t, stack)
			if c.mode == appendonly.EnforceTableWide && msg != "" {
				t.Errorf("got synthesis error %q, want only a warning", msg)
			}
			violations := readReport(t, filepath.Join(out, "validation-report.json"))
			if len(violations) != 1 || !strings.HasPrefix(violations[0], c.want) {
				t.Errorf("got violations\n%s\nwant one starting\n%s", strings.Join(violations, "\n"), c.want)
			}
		})
	}
}

// Two apps in one process keep their own books: granting the same-named
// principal in each changes nothing in the other.
func TestTwoAppsDoNotShareGrants(t *testing.T) {
	synth := func(grants int) string {
		stack := newStack(t)
		role := awsiam.NewRole(stack, jsii.String("Reader"), &awsiam.RoleProps{RoleName: jsii.String("Reader"), AssumedBy: awsiam.NewAccountRootPrincipal()})
		for i := 0; i < grants; i++ {
			ledgerTable(t, stack, i).GrantRead(role)
		}
		return string(cdktest.Synth(t, stack).JSON(t))
	}
	alone := synth(1)
	synth(10) // another app, the same principal's name, more grants
	if again := synth(1); again != alone {
		t.Error("an app's template changed after another app in the process granted to a principal of the same name")
	}
}
