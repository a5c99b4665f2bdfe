package appendonly_test

import (
	"errors"
	"fmt"
	"os"
	"slices"
	"strings"
	"testing"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/assertions"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsdynamodb"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsiam"
	"github.com/aws/aws-cdk-go/awscdk/v2/awskms"
	"github.com/aws/jsii-runtime-go"

	"github.com/appendonly/appendonly/constructs/appendonly"
	"github.com/appendonly/appendonly/internal/cdktest"
)

// TestMain keeps one jsii process for the whole test binary.
func TestMain(m *testing.M) {
	code := m.Run()
	jsii.Close()
	os.Exit(code)
}

func newStack(t *testing.T) awscdk.Stack {
	t.Helper()
	return awscdk.NewStack(cdktest.NewApp(t), jsii.String("Test"), nil)
}

func key(name string) *awsdynamodb.Attribute {
	return &awsdynamodb.Attribute{Name: jsii.String(name), Type: awsdynamodb.AttributeType_STRING}
}

func minimalProps() *appendonly.Props {
	return &appendonly.Props{TableProps: &awsdynamodb.TableProps{PartitionKey: key("id")}}
}

func mustNewTable(t *testing.T, stack awscdk.Stack, props *appendonly.Props) *appendonly.Table {
	t.Helper()
	table, err := appendonly.NewTable(stack, "Ledger", props)
	if err != nil {
		t.Fatalf("NewTable: %v", err)
	}
	return table
}

// synthWith creates a fresh stack, lets build add to it, and synthesizes it.
func synthWith(t *testing.T, build func(stack awscdk.Stack)) cdktest.Template {
	t.Helper()
	stack := newStack(t)
	build(stack)
	return cdktest.Synth(t, stack)
}

func props(r map[string]any) map[string]any {
	p, _ := r["Properties"].(map[string]any)
	return p
}

func statementsOf(t *testing.T, doc any) []map[string]any {
	t.Helper()
	d, ok := doc.(map[string]any)
	if !ok {
		t.Fatalf("got policy document %#v, want an object", doc)
	}
	var out []map[string]any
	for _, s := range d["Statement"].([]any) {
		out = append(out, s.(map[string]any))
	}
	return out
}

func bySid(t *testing.T, stmts []map[string]any, sid string) map[string]any {
	t.Helper()
	for _, s := range stmts {
		if s["Sid"] == sid {
			return s
		}
	}
	t.Fatalf("no statement with Sid %q in %v", sid, stmts)
	return nil
}

// actionsOf returns a statement's actions, sorted.
func actionsOf(s map[string]any) []string {
	var out []string
	switch a := s["Action"].(type) {
	case string:
		out = []string{a}
	case []any:
		for _, x := range a {
			out = append(out, x.(string))
		}
	}
	slices.Sort(out)
	return out
}

func sorted(lists ...[]string) []string {
	var out []string
	for _, l := range lists {
		out = append(out, l...)
	}
	slices.Sort(out)
	return slices.Compact(out)
}

func assertActions(t *testing.T, s map[string]any, want []string) {
	t.Helper()
	if got := actionsOf(s); !slices.Equal(got, sorted(want)) {
		t.Errorf("statement %v: got actions %v, want %v", s["Sid"], got, sorted(want))
	}
}

func TestDefaultConfigurationSnapshot(t *testing.T) {
	tmpl := synthWith(t, func(stack awscdk.Stack) { mustNewTable(t, stack, minimalProps()) })
	cdktest.Golden(t, "default.template.json", tmpl.JSON(t))
}

func TestTableIsHardenedByDefault(t *testing.T) {
	tmpl := synthWith(t, func(stack awscdk.Stack) { mustNewTable(t, stack, minimalProps()) })
	_, table := tmpl.Only(t, "AWS::DynamoDB::Table")
	for _, policy := range []string{"DeletionPolicy", "UpdateReplacePolicy"} {
		if got := table[policy]; got != "Retain" {
			t.Errorf("got %s %v, want Retain", policy, got)
		}
	}
	p := props(table)
	checks := []struct {
		name string
		got  any
		want any
	}{
		{"BillingMode", p["BillingMode"], "PAY_PER_REQUEST"},
		{"DeletionProtectionEnabled", p["DeletionProtectionEnabled"], true},
		{"PointInTimeRecoveryEnabled", p["PointInTimeRecoverySpecification"].(map[string]any)["PointInTimeRecoveryEnabled"], true},
		{"RecoveryPeriodInDays", p["PointInTimeRecoverySpecification"].(map[string]any)["RecoveryPeriodInDays"], float64(appendonly.DefaultRecoveryPeriodDays)},
		{"TimeToLiveSpecification", p["TimeToLiveSpecification"], nil},
		{"StreamSpecification", p["StreamSpecification"], nil},
	}
	for _, c := range checks {
		if c.got != c.want {
			t.Errorf("got %s %v, want %v", c.name, c.got, c.want)
		}
	}
	if n := len(tmpl.Resources("AWS::KMS::Key")); n != 0 {
		t.Errorf("got %d KMS keys, want 0 (DynamoDB encrypts at rest with an AWS owned key by default)", n)
	}
}

func TestSortKey(t *testing.T) {
	p := minimalProps()
	p.TableProps.SortKey = &awsdynamodb.Attribute{Name: jsii.String("at"), Type: awsdynamodb.AttributeType_NUMBER}
	tmpl := synthWith(t, func(stack awscdk.Stack) { mustNewTable(t, stack, p) })
	_, table := tmpl.Only(t, "AWS::DynamoDB::Table")
	schema := props(table)["KeySchema"].([]any)
	if len(schema) != 2 {
		t.Fatalf("got key schema %v, want partition and sort key", schema)
	}
	sk := schema[1].(map[string]any)
	if sk["AttributeName"] != "at" || sk["KeyType"] != "RANGE" {
		t.Errorf("got sort key %v, want at RANGE", sk)
	}
}

func TestTableWideResourcePolicyDeniesEveryone(t *testing.T) {
	tmpl := synthWith(t, func(stack awscdk.Stack) { mustNewTable(t, stack, minimalProps()) })
	_, table := tmpl.Only(t, "AWS::DynamoDB::Table")
	rp, ok := props(table)["ResourcePolicy"].(map[string]any)
	if !ok {
		t.Fatal("got no ResourcePolicy, want the table-wide deny")
	}
	s := bySid(t, statementsOf(t, rp["PolicyDocument"]), appendonly.SidTableWideDeny)
	if s["Effect"] != "Deny" || s["Principal"] != "*" || s["Resource"] != "*" {
		t.Errorf("got %v, want Effect Deny, Principal *, Resource *", s)
	}
	if s["Condition"] != nil {
		t.Errorf("got Condition %v, want none: nobody is exempt by default", s["Condition"])
	}
	assertActions(t, s, append(appendonly.TableWideDenyActions(), "dynamodb:DeleteTable"))

	protect := bySid(t, statementsOf(t, rp["PolicyDocument"]), appendonly.SidTableWideProtect)
	if protect["Effect"] != "Deny" || protect["Principal"] != "*" || protect["Resource"] != "*" {
		t.Errorf("got %v, want Effect Deny, Principal *, Resource *", protect)
	}
	assertActions(t, protect, appendonly.TableProtectionActions())
	if got, want := fmt.Sprint(protect["Condition"]), fmt.Sprint(map[string]any{"ArnNotLike": map[string]any{"aws:PrincipalArn": []any{map[string]any{
		"Fn::Sub": "arn:${AWS::Partition}:iam::${AWS::AccountId}:role/cdk-hnb659fds-cfn-exec-role-${AWS::AccountId}-${AWS::Region}",
	}}}}); got != want {
		t.Errorf("got Condition %s, want %s: only CDK's default execution role may change the protection", got, want)
	}
}

func TestManagedPolicyAllowsAppendAndReadAndDeniesTheRest(t *testing.T) {
	tmpl := synthWith(t, func(stack awscdk.Stack) { mustNewTable(t, stack, minimalProps()) })
	_, policy := tmpl.Only(t, "AWS::IAM::ManagedPolicy")
	stmts := statementsOf(t, props(policy)["PolicyDocument"])
	if len(stmts) != 4 {
		t.Errorf("got %d statements, want 4 (append, read, two denies)", len(stmts))
	}
	for _, c := range []struct {
		sid    string
		effect string
		want   []string
	}{
		{appendonly.SidAppend, "Allow", appendonly.AppendActions()},
		{appendonly.SidRead, "Allow", appendonly.ReadActions()},
		{appendonly.SidDenyItemMutations, "Deny", appendonly.ItemMutationActions()},
		{appendonly.SidDenyDataLoss, "Deny", appendonly.DataLossControlActions()},
	} {
		s := bySid(t, stmts, c.sid)
		if s["Effect"] != c.effect {
			t.Errorf("%s: got Effect %v, want %s", c.sid, s["Effect"], c.effect)
		}
		assertActions(t, s, c.want)
		if s["Resource"] == "*" {
			t.Errorf("%s: got Resource *, want this table's ARNs", c.sid)
		}
	}
}

func TestDenyListCoversTheArticlesMisses(t *testing.T) {
	// The paths the source article never tried must be on the deny list.
	for _, action := range []string{
		"dynamodb:PartiQLUpdate", "dynamodb:PartiQLDelete", "dynamodb:UpdateItem", "dynamodb:DeleteItem",
		"dynamodb:PutItem", "dynamodb:BatchWriteItem", "dynamodb:UpdateTimeToLive", "dynamodb:DeleteTable",
		"dynamodb:UpdateTable", "dynamodb:UpdateContinuousBackups", "dynamodb:DeleteBackup",
		"dynamodb:PutResourcePolicy", "dynamodb:DeleteResourcePolicy",
	} {
		if !slices.Contains(appendonly.DenyActions(), action) {
			t.Errorf("DenyActions lacks %s", action)
		}
	}
	for _, action := range appendonly.AppendActions() {
		if slices.Contains(appendonly.DenyActions(), action) {
			t.Errorf("%s is both appended with and denied", action)
		}
	}
}

func TestUserGetsPolicyThroughGroupAndNoAccessKey(t *testing.T) {
	p := minimalProps()
	p.User = &appendonly.UserProps{UserName: "AppendUser", GroupName: "Appenders"}
	var table *appendonly.Table
	tmpl := synthWith(t, func(stack awscdk.Stack) { table = mustNewTable(t, stack, p) })
	if table.User() == nil || table.Group() == nil || table.Role() != nil {
		t.Errorf("got User %v, Group %v, Role %v; want a user and a group, no role", table.User(), table.Group(), table.Role())
	}
	policyID, _ := tmpl.Only(t, "AWS::IAM::ManagedPolicy")
	groupID, group := tmpl.Only(t, "AWS::IAM::Group")
	_, user := tmpl.Only(t, "AWS::IAM::User")
	if got := props(group)["ManagedPolicyArns"].([]any); len(got) != 1 || got[0].(map[string]any)["Ref"] != policyID {
		t.Errorf("got group ManagedPolicyArns %v, want [Ref %s]", got, policyID)
	}
	if got := props(group)["GroupName"]; got != "Appenders" {
		t.Errorf("got GroupName %v, want Appenders", got)
	}
	up := props(user)
	if up["UserName"] != "AppendUser" {
		t.Errorf("got UserName %v, want AppendUser", up["UserName"])
	}
	if got := up["Groups"].([]any); len(got) != 1 || got[0].(map[string]any)["Ref"] != groupID {
		t.Errorf("got Groups %v, want [Ref %s]", got, groupID)
	}
	if up["ManagedPolicyArns"] != nil || up["Policies"] != nil {
		t.Errorf("got policies attached straight to the user (%v, %v), want them through the group", up["ManagedPolicyArns"], up["Policies"])
	}
	if n := len(tmpl.Resources("AWS::IAM::AccessKey")); n != 0 {
		t.Errorf("got %d access keys, want 0: no secret may appear in the template", n)
	}
	if _, ok := up["LoginProfile"]; ok {
		t.Error("got a LoginProfile, want none")
	}
}

func TestRoleHoldsManagedPolicy(t *testing.T) {
	p := minimalProps()
	p.Role = &appendonly.RoleProps{AssumedBy: awsiam.NewServicePrincipal(jsii.String("lambda.amazonaws.com"), nil), RoleName: "Appender"}
	tmpl := synthWith(t, func(stack awscdk.Stack) { mustNewTable(t, stack, p) })
	policyID, _ := tmpl.Only(t, "AWS::IAM::ManagedPolicy")
	_, role := tmpl.Only(t, "AWS::IAM::Role")
	rp := props(role)
	if rp["RoleName"] != "Appender" {
		t.Errorf("got RoleName %v, want Appender", rp["RoleName"])
	}
	arns := rp["ManagedPolicyArns"].([]any)
	if len(arns) != 1 || arns[0].(map[string]any)["Ref"] != policyID {
		t.Errorf("got ManagedPolicyArns %v, want [Ref %s]", arns, policyID)
	}
	trust := statementsOf(t, rp["AssumeRolePolicyDocument"])
	if got := trust[0]["Principal"].(map[string]any)["Service"]; got != "lambda.amazonaws.com" {
		t.Errorf("got trusted principal %v, want lambda.amazonaws.com", got)
	}
	if n := len(tmpl.Resources("AWS::IAM::User")); n != 0 {
		t.Errorf("got %d users, want 0", n)
	}
}

// granteePolicy returns the statements a grant gave the grantee: its inline
// policy (the allows) and the deny policies the construct attached to it.
func granteePolicy(t *testing.T, tmpl cdktest.Template) []map[string]any {
	t.Helper()
	_, policy := tmpl.Only(t, "AWS::IAM::Policy")
	stmts := statementsOf(t, props(policy)["PolicyDocument"])
	_, deny := denyPolicy(t, tmpl)
	return append(stmts, statementsOf(t, props(deny)["PolicyDocument"])...)
}

// denyPolicy returns the one deny policy the construct attached to a grantee.
func denyPolicy(t *testing.T, tmpl cdktest.Template) (string, map[string]any) {
	t.Helper()
	var id string
	var found map[string]any
	for mid, mp := range tmpl.Resources("AWS::IAM::ManagedPolicy") {
		if strings.Contains(mid, "AppendOnlyDeny") {
			if found != nil {
				t.Fatalf("got deny policies %s and %s, want one", id, mid)
			}
			id, found = mid, mp
		}
	}
	if found == nil {
		t.Fatal("no deny policy attached to the grantee")
	}
	return id, found
}

// constructPolicy returns the construct's own managed policy.
func constructPolicy(t *testing.T, tmpl cdktest.Template) (string, map[string]any) {
	t.Helper()
	for id, mp := range tmpl.Resources("AWS::IAM::ManagedPolicy") {
		if strings.HasPrefix(id, "LedgerPolicy") {
			return id, mp
		}
	}
	t.Fatal("no managed policy LedgerPolicy")
	return "", nil
}

func newGrantee(stack awscdk.Stack) awsiam.Role {
	return awsiam.NewRole(stack, jsii.String("Grantee"), &awsiam.RoleProps{
		AssumedBy: awsiam.NewServicePrincipal(jsii.String("lambda.amazonaws.com"), nil),
	})
}

// allowedActions returns every action the statements allow.
func allowedActions(stmts []map[string]any) []string {
	var out []string
	for _, s := range stmts {
		if s["Effect"] == "Allow" {
			out = append(out, actionsOf(s)...)
		}
	}
	return sorted(out)
}

func TestGrants(t *testing.T) {
	for _, c := range []struct {
		name  string
		grant func(*appendonly.Table, awsiam.IGrantable)
		want  []string
	}{
		{"GrantAppend allows PartiQL INSERT only", func(tb *appendonly.Table, g awsiam.IGrantable) { tb.GrantAppend(g) }, appendonly.AppendActions()},
		{"GrantRead allows reads only", func(tb *appendonly.Table, g awsiam.IGrantable) { tb.GrantRead(g) }, appendonly.ReadActions()},
		{"GrantAppend and GrantRead together", func(tb *appendonly.Table, g awsiam.IGrantable) { tb.GrantAppend(g); tb.GrantRead(g) }, sorted(appendonly.AppendActions(), appendonly.ReadActions())},
	} {
		t.Run(c.name, func(t *testing.T) {
			tmpl := synthWith(t, func(stack awscdk.Stack) {
				table := mustNewTable(t, stack, minimalProps())
				c.grant(table, newGrantee(stack))
			})
			stmts := granteePolicy(t, tmpl)
			if got := allowedActions(stmts); !slices.Equal(got, sorted(c.want)) {
				t.Errorf("got allowed %v, want %v", got, sorted(c.want))
			}
			assertActions(t, bySid(t, stmts, appendonly.SidDenyItemMutations), appendonly.ItemMutationActions())
			assertActions(t, bySid(t, stmts, appendonly.SidDenyDataLoss), appendonly.DataLossControlActions())
		})
	}
}

func TestGrantReturnsGrantForPrincipal(t *testing.T) {
	stack := newStack(t)
	table := mustNewTable(t, stack, minimalProps())
	grant := table.GrantAppend(newGrantee(stack))
	if grant == nil || !*grant.Success() {
		t.Errorf("got grant %v, want a successful grant", grant)
	}
}

func TestGrantStreamRead(t *testing.T) {
	p := minimalProps()
	p.TableProps.Stream = awsdynamodb.StreamViewType_NEW_IMAGE
	tmpl := synthWith(t, func(stack awscdk.Stack) {
		table := mustNewTable(t, stack, p)
		if _, err := table.GrantStreamRead(newGrantee(stack)); err != nil {
			t.Fatalf("GrantStreamRead: %v", err)
		}
	})
	stmts := granteePolicy(t, tmpl)
	if got := allowedActions(stmts); !slices.Equal(got, sorted(appendonly.StreamReadActions())) {
		t.Errorf("got allowed %v, want %v", got, sorted(appendonly.StreamReadActions()))
	}
	bySid(t, stmts, appendonly.SidDenyItemMutations)
	_, table := tmpl.Only(t, "AWS::DynamoDB::Table")
	if got := props(table)["StreamSpecification"].(map[string]any)["StreamViewType"]; got != "NEW_IMAGE" {
		t.Errorf("got StreamViewType %v, want NEW_IMAGE", got)
	}
}

func TestGrantStreamReadWithoutStream(t *testing.T) {
	stack := newStack(t)
	table := mustNewTable(t, stack, minimalProps())
	if _, err := table.GrantStreamRead(newGrantee(stack)); !errors.Is(err, appendonly.ErrNoStream) {
		t.Errorf("got error %v, want ErrNoStream", err)
	}
}

func TestIdentityOnlyHasNoResourcePolicy(t *testing.T) {
	p := minimalProps()
	p.Enforcement = appendonly.EnforceIdentityOnlyOthersCanModify
	tmpl := synthWith(t, func(stack awscdk.Stack) { mustNewTable(t, stack, p) })
	_, table := tmpl.Only(t, "AWS::DynamoDB::Table")
	if rp := props(table)["ResourcePolicy"]; rp != nil {
		t.Errorf("got ResourcePolicy %v, want none", rp)
	}
	_, policy := tmpl.Only(t, "AWS::IAM::ManagedPolicy")
	bySid(t, statementsOf(t, props(policy)["PolicyDocument"]), appendonly.SidDenyItemMutations)
}

func TestExemptPrincipalsAreAConditionOnPrincipalArn(t *testing.T) {
	exempt := []string{"arn:aws:iam::111122223333:role/BreakGlass", "arn:aws:iam::111122223333:role/Erasure*"}
	p := minimalProps()
	p.ExemptPrincipalArns = exempt
	tmpl := synthWith(t, func(stack awscdk.Stack) { mustNewTable(t, stack, p) })
	_, table := tmpl.Only(t, "AWS::DynamoDB::Table")
	rp := props(table)["ResourcePolicy"].(map[string]any)
	s := bySid(t, statementsOf(t, rp["PolicyDocument"]), appendonly.SidTableWideDeny)
	cond, _ := s["Condition"].(map[string]any)
	arnNotLike, _ := cond["ArnNotLike"].(map[string]any)
	var got []string
	for _, a := range arnNotLike["aws:PrincipalArn"].([]any) {
		got = append(got, a.(string))
	}
	if !slices.Equal(got, exempt) {
		t.Errorf("got exempt %v, want %v", got, exempt)
	}
}

func TestCustomerManagedKey(t *testing.T) {
	p := minimalProps()
	p.TableProps.Encryption = awsdynamodb.TableEncryption_CUSTOMER_MANAGED
	var table *appendonly.Table
	tmpl := synthWith(t, func(stack awscdk.Stack) {
		table = mustNewTable(t, stack, p)
		table.GrantRead(newGrantee(stack))
	})
	if table.EncryptionKey() == nil {
		t.Fatal("got EncryptionKey nil, want the created key")
	}
	keyID, key := tmpl.Only(t, "AWS::KMS::Key")
	for _, policy := range []string{"DeletionPolicy", "UpdateReplacePolicy"} {
		if key[policy] != "Retain" {
			t.Errorf("got key %s %v, want Retain", policy, key[policy])
		}
	}
	if props(key)["EnableKeyRotation"] != true {
		t.Error("got key rotation off, want on")
	}
	_, managed := constructPolicy(t, tmpl)
	for name, stmts := range map[string][]map[string]any{
		"managed policy": statementsOf(t, props(managed)["PolicyDocument"]),
		"grantee":        granteePolicy(t, tmpl),
	} {
		deny := bySid(t, stmts, appendonly.SidDenyKeyLoss)
		assertActions(t, deny, appendonly.KeyDenyActions())
		if got := deny["Resource"].(map[string]any)["Fn::GetAtt"].([]any)[0]; got != keyID {
			t.Errorf("%s: got key deny on %v, want %s", name, got, keyID)
		}
	}
	assertActions(t, bySid(t, statementsOf(t, props(managed)["PolicyDocument"]), appendonly.SidUseKeyToAppend), appendonly.KeyAppendActions())
	if got, want := allowedActions(granteePolicy(t, tmpl)), sorted(appendonly.ReadActions(), appendonly.KeyReadActions()); !slices.Equal(got, want) {
		t.Errorf("grantee: got allowed %v, want %v", got, want)
	}
}

func TestCustomerManagedKeyBroughtByUserIsRetained(t *testing.T) {
	tmpl := synthWith(t, func(stack awscdk.Stack) {
		p := minimalProps()
		p.TableProps.Encryption = awsdynamodb.TableEncryption_CUSTOMER_MANAGED
		p.TableProps.EncryptionKey = awskms.NewKey(stack, jsii.String("MyKey"), &awskms.KeyProps{RemovalPolicy: awscdk.RemovalPolicy_DESTROY})
		mustNewTable(t, stack, p)
	})
	_, key := tmpl.Only(t, "AWS::KMS::Key")
	if key["DeletionPolicy"] != "Retain" {
		t.Errorf("got DeletionPolicy %v, want Retain", key["DeletionPolicy"])
	}
}

func TestExistingTable(t *testing.T) {
	stack := newStack(t)
	existing := awsdynamodb.Table_FromTableArn(stack, jsii.String("Existing"), jsii.String("arn:aws:dynamodb:us-east-1:111122223333:table/Orders"))
	table := mustNewTable(t, stack, &appendonly.Props{
		ExistingTable: existing,
		Enforcement:   appendonly.EnforceIdentityOnlyOthersCanModify,
	})
	tmpl := cdktest.Synth(t, stack)
	if n := len(tmpl.Resources("AWS::DynamoDB::Table")); n != 0 {
		t.Errorf("got %d tables, want 0", n)
	}
	if table.DynamoTable() != existing {
		t.Error("DynamoTable is not the existing table")
	}
	_, policy := tmpl.Only(t, "AWS::IAM::ManagedPolicy")
	s := bySid(t, statementsOf(t, props(policy)["PolicyDocument"]), appendonly.SidAppend)
	if s["Resource"] != "arn:aws:dynamodb:us-east-1:111122223333:table/Orders" {
		t.Errorf("got Resource %v, want the existing table's ARN", s["Resource"])
	}
	warnings := assertions.Annotations_FromStack(stack).FindWarning(jsii.String("*"),
		assertions.Match_StringLikeRegexp(jsii.String("ExistingTable: append-only is enforced only")))
	if warnings == nil || len(*warnings) != 1 {
		t.Errorf("got warnings %v, want one about the existing table", warnings)
	}
}

func TestUnsafeAllowTableRemoval(t *testing.T) {
	p := minimalProps()
	p.UnsafeAllowTableRemoval = true
	p.TableProps.RemovalPolicy = awscdk.RemovalPolicy_DESTROY
	tmpl := synthWith(t, func(stack awscdk.Stack) { mustNewTable(t, stack, p) })
	_, table := tmpl.Only(t, "AWS::DynamoDB::Table")
	if table["DeletionPolicy"] != "Delete" {
		t.Errorf("got DeletionPolicy %v, want Delete", table["DeletionPolicy"])
	}
	if got := props(table)["DeletionProtectionEnabled"]; got != false {
		t.Errorf("got DeletionProtectionEnabled %v, want false: it follows RemovalPolicy DESTROY, or `cdk destroy` fails", got)
	}
	stmts := statementsOf(t, props(table)["ResourcePolicy"].(map[string]any)["PolicyDocument"])
	// Only the deployer may delete the table: DeleteTable moves from the
	// statement that binds everyone to the one the deployer passes.
	assertActions(t, bySid(t, stmts, appendonly.SidTableWideDeny), appendonly.TableWideDenyActions())
	assertActions(t, bySid(t, stmts, appendonly.SidTableWideProtect), append(appendonly.TableProtectionActions(), "dynamodb:DeleteTable"))
}

func TestUnsafeAllowTableRemovalKeepsSafeDefaults(t *testing.T) {
	p := minimalProps()
	p.UnsafeAllowTableRemoval = true
	tmpl := synthWith(t, func(stack awscdk.Stack) { mustNewTable(t, stack, p) })
	_, table := tmpl.Only(t, "AWS::DynamoDB::Table")
	if table["DeletionPolicy"] != "Retain" || props(table)["DeletionProtectionEnabled"] != true {
		t.Errorf("got DeletionPolicy %v, DeletionProtectionEnabled %v; want Retain and true unless the props say otherwise",
			table["DeletionPolicy"], props(table)["DeletionProtectionEnabled"])
	}
}

func TestCallersPropsAreNotChanged(t *testing.T) {
	p := minimalProps()
	synthWith(t, func(stack awscdk.Stack) { mustNewTable(t, stack, p) })
	tp := p.TableProps
	if tp.RemovalPolicy != "" || tp.DeletionProtection != nil || tp.PointInTimeRecoverySpecification != nil || tp.BillingMode != "" || tp.ResourcePolicy != nil {
		t.Errorf("NewTable changed the caller's TableProps: %+v", *tp)
	}
}

func TestConstructIDs(t *testing.T) {
	// Construct ids are part of the public contract: they fix logical ids, and
	// a changed logical id replaces the table.
	stack := newStack(t)
	p := minimalProps()
	p.User = &appendonly.UserProps{}
	table := mustNewTable(t, stack, p)
	for _, c := range []struct {
		name string
		path string
		want string
	}{
		{"construct", *table.Node().Path(), "Test/Ledger"},
		{"table", *table.DynamoTable().Node().Path(), "Test/Ledger/Resource"},
		{"policy", *table.ManagedPolicy().Node().Path(), "Test/Ledger/Policy"},
		{"group", *table.Group().Node().Path(), "Test/Ledger/Group"},
		{"user", *table.User().Node().Path(), "Test/Ledger/User"},
	} {
		if c.path != c.want {
			t.Errorf("%s: got path %s, want %s", c.name, c.path, c.want)
		}
	}
	tmpl := cdktest.Synth(t, stack)
	if id, _ := tmpl.Only(t, "AWS::DynamoDB::Table"); !strings.HasPrefix(id, "Ledger") {
		t.Errorf("got table logical id %s, want it to start with Ledger", id)
	}
}

// enableAutoScaling scales a PROVISIONED table's capacity between 5 and 50
// units, as a user would through DynamoTable.
func enableAutoScaling(table *appendonly.Table) {
	dt := table.DynamoTable().(awsdynamodb.Table)
	scaling := &awsdynamodb.EnableScalingProps{MinCapacity: jsii.Number(5), MaxCapacity: jsii.Number(50)}
	target := &awsdynamodb.UtilizationScalingProps{TargetUtilizationPercent: jsii.Number(70)}
	dt.AutoScaleReadCapacity(scaling).ScaleOnUtilization(target)
	dt.AutoScaleWriteCapacity(scaling).ScaleOnUtilization(target)
}
