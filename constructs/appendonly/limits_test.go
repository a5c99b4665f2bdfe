package appendonly_test

import (
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/assertions"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsdynamodb"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsiam"
	"github.com/aws/aws-cdk-go/awscdk/v2/awslambda"
	"github.com/aws/constructs-go/constructs/v10"
	"github.com/aws/jsii-runtime-go"

	"github.com/appendonly/appendonly/constructs/appendonly"
	"github.com/appendonly/appendonly/internal/cdktest"
	"github.com/appendonly/appendonly/internal/iamsim"
)

// ledgerTable creates an append-only table with a literal 24-character name.
func ledgerTable(t *testing.T, stack awscdk.Stack, i int) *appendonly.Table {
	t.Helper()
	return namedTable(t, stack, i, 24)
}

// namedTable creates an append-only table with a literal name of n characters.
func namedTable(t *testing.T, stack awscdk.Stack, i, n int) *appendonly.Table {
	t.Helper()
	name := fmt.Sprintf("append-only-ledger-%05d", i)
	name = strings.Repeat("x", n-len(name)) + name
	table, err := appendonly.NewTable(stack, fmt.Sprintf("Ledger%d", i), &appendonly.Props{
		TableProps: &awsdynamodb.TableProps{
			TableName:    jsii.String(name),
			PartitionKey: key("id"),
		},
	})
	if err != nil {
		t.Fatal(err)
	}
	return table
}

// policyChars is the size IAM counts: the resolved JSON without whitespace.
func policyChars(t *testing.T, env *iamsim.Env, doc any) int {
	t.Helper()
	resolved, err := env.Resolve(doc)
	if err != nil {
		t.Fatal(err)
	}
	data, err := json.Marshal(resolved)
	if err != nil {
		t.Fatal(err)
	}
	return len(data)
}

// TestGrantingManyTablesToOnePrincipal grants one principal append access to
// table after table until the construct refuses, then checks both sides of
// that edge: the last count that fits synthesizes policies within every IAM
// limit, and one more is an error at synth that names the limit.
func TestGrantingManyTablesToOnePrincipal(t *testing.T) {
	for _, c := range []struct {
		kind      string
		nameLen   int
		grantee   func(stack awscdk.Stack) (awsiam.IGrantable, constructs.IConstruct)
		atLeast   int
		inlineMax int
		maxDeny   int
		limitText string
	}{
		// CDK counts 150 characters for each ARN it cannot resolve and splits
		// a role's inline policy above 10,000: that binds first for a role.
		{"role", 24, func(stack awscdk.Stack) (awsiam.IGrantable, constructs.IConstruct) {
			r := newGrantee(stack)
			return r, r
		}, 40, 10240, 10, "CDK would split its inline policy"},
		{"user", 24, func(stack awscdk.Stack) (awsiam.IGrantable, constructs.IConstruct) {
			u := awsiam.NewUser(stack, jsii.String("Grantee"), nil)
			return u, u
		}, 10, 2048, 10, "over the limit of 2048 for a user"},
		// With 200-character table names the resolved size binds first. A
		// role NewTable created already holds that table's managed policy,
		// which counts against the same quota of 10.
		{"role created by NewTable", 200, func(stack awscdk.Stack) (awsiam.IGrantable, constructs.IConstruct) {
			p := minimalProps()
			p.Role = &appendonly.RoleProps{AssumedBy: awsiam.NewAccountRootPrincipal()}
			r := mustNewTable(t, stack, p).Role()
			return r, r
		}, 25, 10240, 9, "over the limit of 10000 for a role"},
	} {
		t.Run(c.kind, func(t *testing.T) {
			// Find the edge.
			stack := newStack(t)
			grantee, node := c.grantee(stack)
			fits := 0
			for ; fits < 400; fits++ {
				namedTable(t, stack, fits, c.nameLen).GrantAppend(grantee)
				if errs := cdktest.Errors(node); len(errs) > 0 {
					if !strings.Contains(errs[0], c.limitText) {
						t.Errorf("table %d: got error %q, want it to name %q", fits+1, errs[0], c.limitText)
					}
					if table := fmt.Sprintf("table Test/Ledger%d:", fits); !strings.Contains(errs[0], table) {
						t.Errorf("table %d: got error %q, want it to name the %s", fits+1, errs[0], table)
					}
					// A later grant to the same principal names its own table.
					namedTable(t, stack, fits+1, c.nameLen).GrantAppend(grantee)
					if errs := cdktest.Errors(node); len(errs) != 2 || !strings.Contains(errs[1], fmt.Sprintf("table Test/Ledger%d:", fits+1)) {
						t.Errorf("after the limit: got errors %q, want a second naming table Test/Ledger%d", errs, fits+1)
					}
					break
				}
			}
			if fits < c.atLeast {
				t.Fatalf("a %s took %d tables, want at least %d", c.kind, fits, c.atLeast)
			}
			t.Logf("a %s takes append access to %d tables with %d-character names; table %d is refused at synth", c.kind, fits, c.nameLen, fits+1)
			func() {
				defer func() {
					if r := recover(); r == nil || !strings.Contains(fmt.Sprint(r), "Validation failed") {
						t.Errorf("synthesizing %d tables: got %v, want synthesis to fail on the error", fits+1, r)
					}
				}()
				cdktest.Synth(t, stack)
			}()

			// Just under the edge: every policy within IAM's limits.
			stack = newStack(t)
			grantee, node = c.grantee(stack)
			for i := 0; i < fits; i++ {
				namedTable(t, stack, i, c.nameLen).GrantAppend(grantee)
			}
			if errs := cdktest.Errors(node); len(errs) > 0 {
				t.Fatalf("%d tables: got errors %v, want none", fits, errs)
			}
			tmpl := cdktest.Synth(t, stack)
			env := iamsim.NewEnv(tmpl)
			_, inline := tmpl.Only(t, "AWS::IAM::Policy")
			if n := policyChars(t, env, props(inline)["PolicyDocument"]); n > c.inlineMax {
				t.Errorf("inline policy: got %d characters, want at most %d", n, c.inlineMax)
			}
			denies := 0
			for id, mp := range tmpl.Resources("AWS::IAM::ManagedPolicy") {
				if !strings.Contains(id, "AppendOnlyDeny") {
					continue
				}
				denies++
				if n := policyChars(t, env, props(mp)["PolicyDocument"]); n > appendonly.MaxManagedPolicyChars {
					t.Errorf("%s: got %d characters, want at most %d", id, n, appendonly.MaxManagedPolicyChars)
				}
			}
			if denies == 0 || denies > c.maxDeny {
				t.Errorf("got %d deny policies, want 1 to %d", denies, c.maxDeny)
			}
			for id := range tmpl.Resources("AWS::IAM::ManagedPolicy") {
				if strings.Contains(id, "OverflowPolicy") {
					t.Errorf("CDK split the inline policy into %s, which counts against the quota too", id)
				}
			}
		})
	}
}

func TestGrantingTheSameTableTwiceAddsNothing(t *testing.T) {
	tmpl := synthWith(t, func(stack awscdk.Stack) {
		table := mustNewTable(t, stack, minimalProps())
		g := newGrantee(stack)
		table.GrantAppend(g)
		table.GrantAppend(g)
	})
	_, deny := denyPolicy(t, tmpl)
	for _, s := range statementsOf(t, props(deny)["PolicyDocument"]) {
		if r, ok := s["Resource"].([]any); ok && len(r) > 3 {
			t.Errorf("statement %v: got %d resources, want the table's once", s["Sid"], len(r))
		}
	}
}

// CloudFormation allows 500 resources per stack: CDK refuses more at synth,
// naming the limit. A table with its user is four resources.
func TestStackResourceLimitAtTheEdge(t *testing.T) {
	build := func(n int) (stack awscdk.Stack) {
		stack = newStack(t)
		for i := 0; i < n; i++ {
			p := minimalProps()
			p.User = &appendonly.UserProps{}
			if _, err := appendonly.NewTable(stack, fmt.Sprintf("Ledger%d", i), p); err != nil {
				t.Fatal(err)
			}
		}
		return stack
	}
	tmpl := cdktest.Synth(t, build(125))
	if n := len(tmpl["Resources"].(map[string]any)); n != 500 {
		t.Errorf("125 tables: got %d resources, want 500", n)
	}
	// CDK writes templates indented by one space.
	data, err := json.MarshalIndent(tmpl, "", " ")
	if err != nil {
		t.Fatal(err)
	}
	if len(data) >= 1_000_000 {
		t.Errorf("500 resources: got a %d-byte template, want it under CloudFormation's 1 MB", len(data))
	}
	t.Logf("125 tables with users: 500 resources, %d bytes of template", len(data))

	stack := build(126)
	defer func() {
		r := recover()
		if r == nil || !strings.Contains(fmt.Sprint(r), "is greater than allowed maximum of 500") {
			t.Errorf("126 tables: got %v, want a synth error naming the 500-resource limit", r)
		}
	}()
	cdktest.Synth(t, stack)
}

// The construct's own managed policy does not grow with use: check it at
// its largest, with a 255-character table name, a customer managed key and a
// stream.
func TestManagedPolicyAtItsLargest(t *testing.T) {
	name := strings.Repeat("n", 255)
	tmpl := synthWith(t, func(stack awscdk.Stack) {
		p := minimalProps()
		p.TableProps.TableName = jsii.String(name)
		p.TableProps.Encryption = awsdynamodb.TableEncryption_CUSTOMER_MANAGED
		p.TableProps.Stream = awsdynamodb.StreamViewType_NEW_IMAGE
		mustNewTable(t, stack, p)
	})
	_, policy := constructPolicy(t, tmpl)
	n := policyChars(t, iamsim.NewEnv(tmpl), props(policy)["PolicyDocument"])
	// iamsim names the key after its logical id; a real key id is 36 characters.
	keyID, _ := tmpl.Only(t, "AWS::KMS::Key")
	n += 2 * (36 - len(keyID))
	if n > appendonly.MaxManagedPolicyChars {
		t.Errorf("got %d characters, want at most %d", n, appendonly.MaxManagedPolicyChars)
	}
	t.Logf("the managed policy at its largest: %d of %d characters", n, appendonly.MaxManagedPolicyChars)
}

// A table's denies are written once per principal, whatever it is granted:
// append and read on 8 tables take as many deny policies as append alone.
func TestAppendAndReadOnOneTableShareTheDenies(t *testing.T) {
	denyPolicies := func(read bool) int {
		stack := newStack(t)
		g := newGrantee(stack)
		for i := 0; i < 8; i++ {
			table := namedTable(t, stack, i, 120)
			table.GrantAppend(g)
			if read {
				table.GrantRead(g)
			}
		}
		n := 0
		for id := range cdktest.Synth(t, stack).Resources("AWS::IAM::ManagedPolicy") {
			if strings.Contains(id, "AppendOnlyDeny") {
				n++
			}
		}
		return n
	}
	appendOnly, appendAndRead := denyPolicies(false), denyPolicies(true)
	if appendOnly < 2 {
		t.Fatalf("got %d deny policies for 8 tables, want the test to span at least 2", appendOnly)
	}
	if appendAndRead != appendOnly {
		t.Errorf("got %d deny policies for append and read, want %d, as for append alone", appendAndRead, appendOnly)
	}
}

// A Lambda function is the usual grantee: its role gets the deny policy.
func TestGrantToALambdaFunction(t *testing.T) {
	tmpl := synthWith(t, func(stack awscdk.Stack) {
		table := mustNewTable(t, stack, minimalProps())
		fn := awslambda.NewFunction(stack, jsii.String("Writer"), &awslambda.FunctionProps{
			Runtime: awslambda.Runtime_NODEJS_22_X(),
			Handler: jsii.String("index.handler"),
			Code:    awslambda.Code_FromInline(jsii.String("exports.handler = async () => {}")),
		})
		table.GrantAppend(fn)
	})
	roleID, _ := tmpl.Only(t, "AWS::IAM::Role")
	_, deny := denyPolicy(t, tmpl)
	roles, _ := props(deny)["Roles"].([]any)
	if len(roles) != 1 || roles[0].(map[string]any)["Ref"] != roleID {
		t.Errorf("got deny policy on %v, want the function's role %s", roles, roleID)
	}
	if got := allowedActions(granteePolicy(t, tmpl)); !slices.Equal(got, appendonly.AppendActions()) {
		t.Errorf("got allowed %v, want %v", got, appendonly.AppendActions())
	}
}

// Without the recommended minimizePolicies flag every table's allows stay
// statements of their own, which is how the construct counts them in any
// case: at the edge the inline policy still fits and CDK does not split it.
func TestGrantingWithoutPolicyMinimization(t *testing.T) {
	stack := awscdk.NewStack(awscdk.NewApp(&awscdk.AppProps{
		Context: &map[string]any{"@aws-cdk/aws-iam:minimizePolicies": false},
	}), jsii.String("Test"), nil)
	role := newGrantee(stack)
	fits := 0
	for ; fits < 200; fits++ {
		ledgerTable(t, stack, fits).GrantAppend(role)
		if len(cdktest.Errors(role)) > 0 {
			break
		}
	}
	if fits < 40 {
		t.Errorf("a role took %d tables without minimization, want at least 40", fits)
	}
	t.Logf("without policy minimization a role takes %d tables", fits)

	// At the edge the synthesized inline policy fits, and CDK did not split it.
	stack = awscdk.NewStack(awscdk.NewApp(&awscdk.AppProps{
		Context: &map[string]any{"@aws-cdk/aws-iam:minimizePolicies": false},
	}), jsii.String("Test"), nil)
	role = newGrantee(stack)
	for i := 0; i < fits; i++ {
		ledgerTable(t, stack, i).GrantAppend(role)
	}
	tmpl := cdktest.Synth(t, stack)
	_, inline := tmpl.Only(t, "AWS::IAM::Policy")
	if n := policyChars(t, iamsim.NewEnv(tmpl), props(inline)["PolicyDocument"]); n > 10240 {
		t.Errorf("inline policy: got %d characters, want at most 10240", n)
	}
	for id := range tmpl.Resources("AWS::IAM::ManagedPolicy") {
		if strings.Contains(id, "OverflowPolicy") {
			t.Errorf("CDK split the inline policy into %s", id)
		}
	}
}

// CloudFormation takes templates of up to 1 MB. CDK measures the template it
// writes and warns at synth, naming the limit (`cdk synth --strict`, which
// make synth runs, turns that into an error). Tables with long exemption
// lists (in both table-wide statements) reach it first: check both sides of
// the edge.
func TestTemplateSizeLimitAtTheEdge(t *testing.T) {
	exempt := make([]string, 120)
	for i := range exempt {
		exempt[i] = fmt.Sprintf("arn:aws:iam::111122223333:role/BreakGlassRoleNumber%05d", i)
	}
	sizeWarnings := func(n int) []string {
		stack := newStack(t)
		for i := 0; i < n; i++ {
			p := minimalProps()
			p.ExemptPrincipalArns = exempt
			if _, err := appendonly.NewTable(stack, fmt.Sprintf("Ledger%d", i), p); err != nil {
				t.Fatal(err)
			}
		}
		var out []string
		for _, m := range *assertions.Annotations_FromStack(stack).FindWarning(jsii.String("*"),
			assertions.Match_StringLikeRegexp(jsii.String("Template size"))) {
			//lint:ignore SA1019 assertions.Annotations returns this type; the Go bindings offer no other
			out = append(out, fmt.Sprint(m.Entry.Data))
		}
		return out
	}
	exceeds := func(ws []string) bool {
		return len(ws) == 1 && strings.Contains(ws[0], "Template size exceeds limit") && strings.Contains(ws[0], "/1000000")
	}
	n := 36
	under := sizeWarnings(n)
	for ; n < 80 && !exceeds(under); n++ {
		next := sizeWarnings(n + 1)
		if exceeds(next) {
			if len(under) != 1 || !strings.Contains(under[0], "is approaching limit") {
				t.Errorf("%d tables: got %v, want only the warning that the template approaches the limit", n, under)
			}
			t.Logf("%d tables with %d exemptions each: %s; %d: %s", n, len(exempt), under[0], n+1, next[0])
			return
		}
		under = next
	}
	t.Fatalf("no edge between 36 and 80 tables: got %v", under)
}
