package appendonly_test

// The proof that append-only holds: every dynamodb action that iam-data knows
// is simulated by an IAM evaluator nobody on this project wrote
// (@cloud-copilot/iam-simulate) against the policies of the synthesized
// templates, for every principal the construct creates or grants to.

import (
	"bufio"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"sync"
	"testing"
	"text/tabwriter"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsdynamodb"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsiam"
	"github.com/aws/jsii-runtime-go"

	"github.com/appendonly/appendonly/constructs/appendonly"
	"github.com/appendonly/appendonly/internal/cdktest"
	"github.com/appendonly/appendonly/internal/iamsim"
)

var printMatrix = flag.Bool("print-matrix", false, "print the action-by-principal decision matrices")

const proofTable = "Ledger"

var (
	runnerOnce sync.Once
	runner     *iamsim.Runner
	runnerErr  error
)

func simulator(t *testing.T) *iamsim.Runner {
	t.Helper()
	runnerOnce.Do(func() { runner, runnerErr = iamsim.NewRunner() })
	if runnerErr != nil {
		t.Fatal(runnerErr)
	}
	return runner
}

// allowEverything is the administrator's identity policy in these tests.
var allowEverything = iamsim.AllowAll("dynamodb")

// A principal as the matrix sees it.
type principal struct {
	column    string
	logicalID string // the user or role in the template; empty for the administrator
	arn       string
	append    bool
	read      bool
	stream    bool
	withStar  bool // also carries allowEverything
	deployer  bool // the stack's deployer: CDK's default CloudFormation execution role
}

func (p principal) ours() bool { return p.logicalID != "" }

// A configuration synthesized for the proof: the template, and the principals
// in it.
type proofConfig struct {
	tmpl       cdktest.Template
	env        *iamsim.Env
	tableID    string
	principals []principal
}

func roleArn(name string) string { return "arn:aws:iam::" + iamsim.Account + ":role/" + name }

// deployerArn is CDK's default CloudFormation execution role in the test
// environment: the principal that deploys the stack.
var deployerArn = roleArn("cdk-hnb659fds-cfn-exec-role-" + iamsim.Account + "-" + iamsim.Region)

func userArn(name string) string { return "arn:aws:iam::" + iamsim.Account + ":user/" + name }

// buildProofConfig synthesizes a table named Ledger in the given mode with a
// user, and (in another stack) the same table with a role, and three grantee
// roles. The construct's principals, and an administrator with dynamodb:* and
// nothing else, are returned.
func buildProofConfig(t *testing.T, enforcement appendonly.Enforcement, edit func(*appendonly.Props)) []proofConfig {
	t.Helper()
	newProps := func() *appendonly.Props {
		p := &appendonly.Props{
			TableProps: &awsdynamodb.TableProps{
				TableName:    jsii.String(proofTable),
				PartitionKey: key("pk"),
				SortKey:      key("sk"),
				Stream:       awsdynamodb.StreamViewType_NEW_IMAGE,
			},
			Enforcement: enforcement,
		}
		if edit != nil {
			edit(p)
		}
		return p
	}
	grantee := func(stack awscdk.Stack, name string) awsiam.Role {
		return awsiam.NewRole(stack, jsii.String(name), &awsiam.RoleProps{
			RoleName:  jsii.String(name),
			AssumedBy: awsiam.NewAccountRootPrincipal(),
		})
	}

	// The user, and the grantees.
	app := cdktest.NewApp(t)
	userStack := awscdk.NewStack(app, jsii.String("UserStack"), nil)
	p := newProps()
	p.User = &appendonly.UserProps{UserName: "Appender"}
	table := mustNewTable(t, userStack, p)
	table.GrantAppend(grantee(userStack, "AppendGrantee"))
	table.GrantRead(grantee(userStack, "ReadGrantee"))
	if _, err := table.GrantStreamRead(grantee(userStack, "StreamGrantee")); err != nil {
		t.Fatal(err)
	}
	// The role.
	roleStack := awscdk.NewStack(app, jsii.String("RoleStack"), nil)
	p = newProps()
	p.Role = &appendonly.RoleProps{RoleName: "AppendRole", AssumedBy: awsiam.NewAccountRootPrincipal()}
	mustNewTable(t, roleStack, p)

	var configs []proofConfig
	for _, c := range []struct {
		stack      awscdk.Stack
		principals []principal
	}{
		{userStack, []principal{
			{column: "user", arn: userArn("Appender"), append: true, read: true},
			{column: "GrantAppend", arn: roleArn("AppendGrantee"), append: true},
			{column: "GrantRead", arn: roleArn("ReadGrantee"), read: true},
			{column: "GrantStreamRead", arn: roleArn("StreamGrantee"), stream: true},
		}},
		{roleStack, []principal{
			{column: "role", arn: roleArn("AppendRole"), append: true, read: true},
		}},
	} {
		tmpl := cdktest.Synth(t, c.stack)
		env := iamsim.NewEnv(tmpl)
		tableID, _ := tmpl.Only(t, "AWS::DynamoDB::Table")
		// Find each principal's logical id by its ARN.
		for i := range c.principals {
			for _, typ := range []string{"AWS::IAM::User", "AWS::IAM::Role"} {
				for id := range tmpl.Resources(typ) {
					if arn, err := env.Arn(id); err == nil && arn == c.principals[i].arn {
						c.principals[i].logicalID = id
					}
				}
			}
			if c.principals[i].logicalID == "" {
				t.Fatalf("no principal %s in the template", c.principals[i].arn)
			}
		}
		configs = append(configs, proofConfig{tmpl: tmpl, env: env, tableID: tableID, principals: c.principals})
	}
	return configs
}

// resourceArns returns the ARN to simulate each resource type against.
func resourceArns(t *testing.T, types []string) []string {
	t.Helper()
	table := iamsim.TableArn(proofTable)
	byType := map[string]string{
		"table":        table,
		"index":        table + "/index/ByTime",
		"stream":       table + "/stream/" + iamsim.StreamLabel,
		"backup":       table + "/backup/01767225600000-a1b2c3d4",
		"export":       table + "/export/01767225600000-a1b2c3d4",
		"import":       table + "/import/01767225600000-a1b2c3d4",
		"global-table": "arn:aws:dynamodb::" + iamsim.Account + ":global-table/" + proofTable,
	}
	var out []string
	for _, typ := range types {
		arn, ok := byType[typ]
		if !ok {
			t.Fatalf("iam-data names resource type %q, which the proof does not know: add an ARN for it", typ)
		}
		out = append(out, arn)
	}
	return out
}

// resourceType is the inverse of resourceArns, for the matrix's rows.
func resourceType(arn string) string {
	switch {
	case arn == "*":
		return "*"
	case strings.Contains(arn, ":global-table/"):
		return "global-table"
	}
	parts := strings.Split(arn, "/")
	if len(parts) >= 3 {
		return parts[2]
	}
	return "table"
}

// loadClasses reads the reviewed classification of every dynamodb action.
func loadClasses(t *testing.T) map[string]string {
	t.Helper()
	return loadClassFile(t, "dynamodb-actions.tsv", "append", "read", "stream", "deny-item", "deny-table-wide", "deny-control", "deny", "not-granted")
}

// loadClassFile reads a reviewed classification from testdata/name: an
// action, one of the given classes, and why, tab-separated.
func loadClassFile(t *testing.T, name string, validClasses ...string) map[string]string {
	t.Helper()
	f, err := os.Open(filepath.Join("testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	valid := map[string]bool{}
	for _, c := range validClasses {
		valid[c] = true
	}
	classes := map[string]string{}
	sc := bufio.NewScanner(f)
	for n := 1; sc.Scan(); n++ {
		line := sc.Text()
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		fields := strings.Split(line, "\t")
		if len(fields) != 3 || !valid[fields[1]] || fields[2] == "" {
			t.Fatalf("%s:%d: want action, a class, and why, tab-separated: %q", name, n, line)
		}
		if _, dup := classes[fields[0]]; dup {
			t.Fatalf("%s:%d: %s is classified twice", name, n, fields[0])
		}
		classes[fields[0]] = fields[1]
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	return classes
}

// expected is the decision the classification table promises.
func expected(class string, p principal, enforcement appendonly.Enforcement, resType string) string {
	tableWideApplies := enforcement == appendonly.EnforceTableWide && (resType == "table" || resType == "index")
	if !p.ours() { // the administrator and the deployer: dynamodb:* and nothing of ours
		switch {
		case tableWideApplies && (class == "deny-item" || class == "deny-table-wide"):
			return iamsim.ExplicitlyDenied
		case tableWideApplies && class == "deny-control" && !p.deployer:
			return iamsim.ExplicitlyDenied
		}
		return iamsim.Allowed
	}
	granted := false
	switch class {
	case "deny-item", "deny-table-wide", "deny-control", "deny":
		return iamsim.ExplicitlyDenied
	case "append":
		granted = p.append
	case "read":
		granted = p.read
	case "stream":
		granted = p.stream
	}
	if granted || p.withStar {
		return iamsim.Allowed
	}
	return iamsim.ImplicitlyDenied
}

type cell struct {
	action, resource, column string
	want                     string
	sim                      iamsim.Simulation
}

func TestActionMatrix(t *testing.T) {
	sim := simulator(t)
	actions, err := sim.Actions("dynamodb")
	if err != nil {
		t.Fatal(err)
	}
	classes := loadClasses(t)
	known := map[string]bool{}
	for _, a := range actions {
		known[a.Action] = true
		if _, ok := classes[a.Action]; !ok {
			t.Errorf("iam-data knows %s, which dynamodb-actions.tsv does not classify: classify it (and deny it in the construct if it can change data)", a.Action)
		}
	}
	for a := range classes {
		if !known[a] {
			t.Errorf("dynamodb-actions.tsv classifies %s, which iam-data does not know: a typo, or an action AWS removed", a)
		}
	}
	if t.Failed() {
		t.FailNow()
	}

	for _, mode := range []struct {
		enforcement appendonly.Enforcement
		golden      string
	}{
		{appendonly.EnforceTableWide, "matrix-table-wide.txt"},
		{appendonly.EnforceIdentityOnlyOthersCanModify, "matrix-identity-only.txt"},
	} {
		t.Run(mode.enforcement.String(), func(t *testing.T) {
			var cells []cell
			var columns []string
			configs := buildProofConfig(t, mode.enforcement, nil)
			for ci, cfg := range configs {
				resourcePolicy, err := cfg.env.ResourcePolicy(cfg.tableID)
				if err != nil {
					t.Fatal(err)
				}
				var principals []principal
				for _, p := range cfg.principals {
					star := p
					star.column, star.withStar = p.column+"+*", true
					principals = append(principals, p, star)
				}
				if ci == len(configs)-1 {
					principals = append(principals,
						principal{column: "admin", arn: roleArn("Administrator")},
						principal{column: "deployer", arn: deployerArn, deployer: true})
				}
				for _, p := range principals {
					columns = append(columns, p.column)
					var identity []iamsim.NamedPolicy
					if p.ours() {
						if identity, err = cfg.env.IdentityPolicies(p.logicalID); err != nil {
							t.Fatal(err)
						}
					}
					if p.withStar || !p.ours() {
						identity = append(identity, allowEverything)
					}
					for _, a := range actions {
						arns := []string{"*"}
						if !a.WildcardOnly {
							arns = resourceArns(t, a.ResourceTypes)
						}
						for _, arn := range arns {
							rt := resourceType(arn)
							s := iamsim.Simulation{
								Request:          iamsim.Request{Principal: p.arn, Action: a.Action, Resource: arn},
								IdentityPolicies: identity,
							}
							if rt == "table" || rt == "index" {
								s.ResourcePolicy = resourcePolicy
							}
							cells = append(cells, cell{a.Action, rt, p.column, expected(classes[a.Action], p, mode.enforcement, rt), s})
						}
					}
				}
			}
			sims := make([]iamsim.Simulation, len(cells))
			for i, c := range cells {
				sims[i] = c.sim
			}
			got, err := sim.Decide(sims)
			if err != nil {
				t.Fatal(err)
			}
			totals := map[string]int{}
			for i, c := range cells {
				totals[got[i]]++
				if got[i] != c.want {
					t.Errorf("%s %s on %s: got %s, want %s (class %s)", c.column, c.action, c.resource, got[i], c.want, classes[c.action])
				}
			}
			matrix := renderMatrix(cells, got, columns, len(actions), totals)
			t.Logf("%s: %d actions, %d principals, %d simulations: %d Allowed, %d ExplicitlyDenied, %d ImplicitlyDenied",
				mode.enforcement, len(actions), len(columns), len(cells), totals[iamsim.Allowed], totals[iamsim.ExplicitlyDenied], totals[iamsim.ImplicitlyDenied])
			if *printMatrix {
				fmt.Printf("\n== %s ==\n%s", mode.enforcement, matrix)
			}
			cdktest.Golden(t, mode.golden, []byte(matrix))
		})
	}
}

// renderMatrix lays the decisions out as one row per action and resource
// type, one column per principal.
func renderMatrix(cells []cell, got, columns []string, nActions int, totals map[string]int) string {
	short := map[string]string{iamsim.Allowed: "allow", iamsim.ExplicitlyDenied: "DENY", iamsim.ImplicitlyDenied: "-"}
	type rowKey struct{ action, resource string }
	rows := map[rowKey]map[string]string{}
	var keys []rowKey
	for i, c := range cells {
		k := rowKey{c.action, c.resource}
		if rows[k] == nil {
			rows[k] = map[string]string{}
			keys = append(keys, k)
		}
		rows[k][c.column] = short[got[i]]
	}
	sort.Slice(keys, func(i, j int) bool {
		if keys[i].action != keys[j].action {
			return keys[i].action < keys[j].action
		}
		return keys[i].resource < keys[j].resource
	})
	var b strings.Builder
	b.WriteString("# allow = Allowed, DENY = ExplicitlyDenied, - = ImplicitlyDenied.\n")
	b.WriteString("# A column ending in +* is the same principal also holding an identity policy that allows dynamodb:* on *.\n")
	b.WriteString("# admin holds only that policy.\n")
	w := tabwriter.NewWriter(&b, 0, 0, 1, ' ', 0)
	fmt.Fprintf(w, "action\tresource\t%s\n", strings.Join(columns, "\t"))
	for _, k := range keys {
		fmt.Fprintf(w, "%s\t%s", strings.TrimPrefix(k.action, "dynamodb:"), k.resource)
		for _, col := range columns {
			fmt.Fprintf(w, "\t%s", rows[k][col])
		}
		fmt.Fprintln(w)
	}
	w.Flush()
	fmt.Fprintf(&b, "# %d actions, %d rows, %d principals, %d simulations: %d Allowed, %d ExplicitlyDenied, %d ImplicitlyDenied\n",
		nActions, len(keys), len(columns), len(cells), totals[iamsim.Allowed], totals[iamsim.ExplicitlyDenied], totals[iamsim.ImplicitlyDenied])
	return b.String()
}

// decide runs sims and fails the test on any decision other than want.
func decide(t *testing.T, want []string, sims []iamsim.Simulation) {
	t.Helper()
	got, err := simulator(t).Decide(sims)
	if err != nil {
		t.Fatal(err)
	}
	for i := range sims {
		if got[i] != want[i] {
			r := sims[i].Request
			t.Errorf("%s %s on %s: got %s, want %s", r.Principal, r.Action, r.Resource, got[i], want[i])
		}
	}
}

func TestExemptPrincipalMayChangeItemsAndNobodyElse(t *testing.T) {
	breakGlass := roleArn("BreakGlass")
	configs := buildProofConfig(t, appendonly.EnforceTableWide, func(p *appendonly.Props) {
		p.ExemptPrincipalArns = []string{breakGlass}
	})
	cfg := configs[0]
	rp, err := cfg.env.ResourcePolicy(cfg.tableID)
	if err != nil {
		t.Fatal(err)
	}
	var sims []iamsim.Simulation
	var want []string
	type who struct {
		arn  string
		want string
	}
	items := []who{
		{breakGlass, iamsim.Allowed},
		{roleArn("Administrator"), iamsim.ExplicitlyDenied},
		{roleArn("BreakGlassImpostor"), iamsim.ExplicitlyDenied},
		{deployerArn, iamsim.ExplicitlyDenied},
	}
	control := []who{
		{breakGlass, iamsim.Allowed},
		{roleArn("Administrator"), iamsim.ExplicitlyDenied},
		{roleArn("BreakGlassImpostor"), iamsim.ExplicitlyDenied},
		{deployerArn, iamsim.Allowed},
	}
	for _, c := range []struct {
		actions []string
		who     []who
	}{
		{append(appendonly.TableWideDenyActions(), "dynamodb:DeleteTable"), items},
		{appendonly.TableProtectionActions(), control},
	} {
		for _, action := range c.actions {
			for _, c := range c.who {
				sims = append(sims, iamsim.Simulation{
					Request:          iamsim.Request{Principal: c.arn, Action: action, Resource: iamsim.TableArn(proofTable)},
					IdentityPolicies: []iamsim.NamedPolicy{allowEverything},
					ResourcePolicy:   rp,
				})
				want = append(want, c.want)
			}
		}
	}
	decide(t, want, sims)
}

// TestKeyActionMatrix simulates every kms action iam-data knows against the
// customer managed key of a table, for every principal of the proof, with
// and without another policy allowing kms:*, and checks each decision
// against the reviewed testdata/kms-actions.tsv: the actions that make the
// key unusable come back ExplicitlyDenied.
func TestKeyActionMatrix(t *testing.T) {
	sim := simulator(t)
	actions, err := sim.Actions("kms")
	if err != nil {
		t.Fatal(err)
	}
	classes := loadClassFile(t, "kms-actions.tsv", "key-deny", "key-grant-aws-only", "key-append", "key-read", "not-granted")
	for _, a := range actions {
		if _, ok := classes[a.Action]; !ok {
			t.Errorf("iam-data knows %s, which kms-actions.tsv does not classify", a.Action)
		}
	}
	if len(classes) != len(actions) {
		t.Errorf("kms-actions.tsv classifies %d actions, iam-data knows %d", len(classes), len(actions))
	}
	if t.Failed() {
		t.FailNow()
	}
	allowKMS := iamsim.AllowAll("kms")
	var sims []iamsim.Simulation
	var want []string
	totals := map[string]int{}
	configs := buildProofConfig(t, appendonly.EnforceTableWide, func(p *appendonly.Props) {
		p.TableProps.Encryption = awsdynamodb.TableEncryption_CUSTOMER_MANAGED
	})
	for ci, cfg := range configs {
		keyArn, keyPolicy := tableKey(t, cfg)
		principals := cfg.principals
		if ci == len(configs)-1 {
			// Neither holds a policy of the construct's: only the key policy
			// stands between them and the key.
			principals = append(slices.Clone(principals),
				principal{column: "admin", arn: roleArn("Administrator")},
				principal{column: "deployer", arn: deployerArn, deployer: true})
		}
		for _, p := range principals {
			var identity []iamsim.NamedPolicy
			if p.ours() {
				var err error
				if identity, err = cfg.env.IdentityPolicies(p.logicalID); err != nil {
					t.Fatal(err)
				}
			}
			for _, withStar := range []bool{false, true} {
				if !p.ours() && !withStar {
					continue // without kms:* they are not even allowed
				}
				policies := identity
				if withStar {
					policies = append(slices.Clone(identity), allowKMS)
				}
				for _, a := range actions {
					resource := keyArn
					if a.WildcardOnly {
						resource = "*"
					} else if !slices.Contains(a.ResourceTypes, "key") {
						t.Fatalf("%s applies to %v, not to a key: add its resource to the test", a.Action, a.ResourceTypes)
					}
					var granted bool
					switch classes[a.Action] {
					case "key-append":
						granted = p.append
					case "key-read":
						granted = p.append || p.read || p.stream
					}
					decision := iamsim.ImplicitlyDenied
					switch {
					case classes[a.Action] == "key-deny" && p.deployer:
						decision = iamsim.Allowed // the deployer may change the key's policy and state
					case classes[a.Action] == "key-grant-aws-only":
						decision = iamsim.ExplicitlyDenied
					case classes[a.Action] == "key-deny":
						decision = iamsim.ExplicitlyDenied
					case granted || withStar:
						decision = iamsim.Allowed
					}
					s := iamsim.Simulation{
						Request:          iamsim.Request{Principal: p.arn, Action: a.Action, Resource: resource},
						IdentityPolicies: policies,
					}
					if resource == keyArn {
						s.ResourcePolicy = keyPolicy
					}
					sims = append(sims, s)
					want = append(want, decision)
					totals[decision]++
				}
			}
		}
	}
	decide(t, want, sims)

	// DynamoDB's own grant still works: the deployer creates the table, and
	// DynamoDB creates a grant for it on the deployer's behalf.
	keyArn, keyPolicy := tableKey(t, configs[0])
	viaDynamoDB := map[string]string{"kms:GrantIsForAWSResource": "true", "kms:ViaService": "dynamodb." + iamsim.Region + ".amazonaws.com"}
	decide(t, []string{iamsim.Allowed, iamsim.ExplicitlyDenied}, []iamsim.Simulation{
		{Request: iamsim.Request{Principal: deployerArn, Action: "kms:CreateGrant", Resource: keyArn, Context: viaDynamoDB},
			IdentityPolicies: []iamsim.NamedPolicy{allowKMS}, ResourcePolicy: keyPolicy},
		{Request: iamsim.Request{Principal: deployerArn, Action: "kms:CreateGrant", Resource: keyArn},
			IdentityPolicies: []iamsim.NamedPolicy{allowKMS}, ResourcePolicy: keyPolicy},
	})
	t.Logf("%d kms actions, %d simulations: %d Allowed, %d ExplicitlyDenied, %d ImplicitlyDenied",
		len(actions), len(sims), totals[iamsim.Allowed], totals[iamsim.ExplicitlyDenied], totals[iamsim.ImplicitlyDenied])
}

// tableKey returns the ARN and the resolved key policy of the configuration's
// customer managed key.
func tableKey(t *testing.T, cfg proofConfig) (string, iamsim.Policy) {
	t.Helper()
	keyID, key := cfg.tmpl.Only(t, "AWS::KMS::Key")
	keyArn, err := cfg.env.Arn(keyID)
	if err != nil {
		t.Fatal(err)
	}
	keyPolicy, err := cfg.env.Resolve(props(key)["KeyPolicy"])
	if err != nil {
		t.Fatal(err)
	}
	return keyArn, keyPolicy.(map[string]any)
}

// TestAutoScalingRoleMayChangeCapacityAndNothingElse checks a PROVISIONED
// table with auto scaling: Application Auto Scaling's service-linked role,
// whose AWS managed policy allows dynamodb:DescribeTable and
// dynamodb:UpdateTable, may still call UpdateTable; the administrator may not,
// and the role can change no item.
func TestAutoScalingRoleMayChangeCapacityAndNothingElse(t *testing.T) {
	app := cdktest.NewApp(t)
	stack := awscdk.NewStack(app, jsii.String("Provisioned"), nil)
	p := &appendonly.Props{TableProps: &awsdynamodb.TableProps{
		TableName:     jsii.String(proofTable),
		PartitionKey:  key("pk"),
		BillingMode:   awsdynamodb.BillingMode_PROVISIONED,
		ReadCapacity:  jsii.Number(5),
		WriteCapacity: jsii.Number(5),
	}}
	table := mustNewTable(t, stack, p)
	enableAutoScaling(table)
	tmpl := cdktest.Synth(t, stack)
	env := iamsim.NewEnv(tmpl)
	tableID, _ := tmpl.Only(t, "AWS::DynamoDB::Table")
	rp, err := env.ResourcePolicy(tableID)
	if err != nil {
		t.Fatal(err)
	}
	slr := roleArn("aws-service-role/dynamodb.application-autoscaling.amazonaws.com/AWSServiceRoleForApplicationAutoScaling_DynamoDBTable")
	slrPolicy := iamsim.NamedPolicy{Name: "AWSApplicationAutoscalingDynamoDBTablePolicy", Policy: iamsim.Policy{
		"Version":   "2012-10-17",
		"Statement": []any{map[string]any{"Effect": "Allow", "Action": []any{"dynamodb:DescribeTable", "dynamodb:UpdateTable"}, "Resource": "*"}},
	}}
	var sims []iamsim.Simulation
	var want []string
	for _, c := range []struct {
		who    string
		policy iamsim.NamedPolicy
		action string
		want   string
	}{
		{slr, slrPolicy, "dynamodb:UpdateTable", iamsim.Allowed},
		{slr, slrPolicy, "dynamodb:DescribeTable", iamsim.Allowed},
		{slr, allowEverything, "dynamodb:PutItem", iamsim.ExplicitlyDenied},
		{slr, allowEverything, "dynamodb:UpdateTimeToLive", iamsim.ExplicitlyDenied},
		{roleArn("Administrator"), allowEverything, "dynamodb:UpdateTable", iamsim.ExplicitlyDenied},
		{deployerArn, allowEverything, "dynamodb:UpdateTable", iamsim.Allowed},
	} {
		sims = append(sims, iamsim.Simulation{
			Request:          iamsim.Request{Principal: c.who, Action: c.action, Resource: iamsim.TableArn(proofTable)},
			IdentityPolicies: []iamsim.NamedPolicy{c.policy},
			ResourcePolicy:   rp,
		})
		want = append(want, c.want)
	}
	decide(t, want, sims)
}
