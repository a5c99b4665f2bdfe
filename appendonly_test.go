package main

import (
	"os"
	"slices"
	"sync"
	"testing"

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

// The app is synthesized once; every test reads the same template.
var (
	appOnce     sync.Once
	appTemplate cdktest.Template
)

func musicTemplate(t *testing.T) cdktest.Template {
	t.Helper()
	appOnce.Do(func() {
		stack, err := NewMusicStack(cdktest.NewApp(t), StackName, musicStackProps())
		if err != nil {
			t.Fatalf("NewMusicStack: %v", err)
		}
		appTemplate = cdktest.Synth(t, stack)
	})
	if appTemplate == nil {
		t.Fatal("the app did not synthesize")
	}
	return appTemplate
}

func TestAppSnapshot(t *testing.T) {
	cdktest.Golden(t, StackName+".template.json", musicTemplate(t).JSON(t))
}

// The logical ids of what holds data, or grants access to it, must never
// change: CloudFormation would create a new resource and (for the table)
// orphan the old one with every item in it.
func TestStatefulLogicalIDsAreStable(t *testing.T) {
	tmpl := musicTemplate(t)
	for typ, want := range map[string]string{
		"AWS::DynamoDB::Table":    "MusicF23AEFF8",
		"AWS::IAM::ManagedPolicy": "MusicPolicy8912309A",
		"AWS::IAM::User":          "MusicUserF853D85C",
		"AWS::IAM::Group":         "MusicGroup92DC2DEC",
	} {
		if id, _ := tmpl.Only(t, typ); id != want {
			t.Errorf("got %s logical id %s, want %s", typ, id, want)
		}
	}
}

func TestAppReproducesTheArticle(t *testing.T) {
	tmpl := musicTemplate(t)
	_, table := tmpl.Only(t, "AWS::DynamoDB::Table")
	p := table["Properties"].(map[string]any)
	if p["TableName"] != "Music" {
		t.Errorf("got TableName %v, want Music", p["TableName"])
	}
	var keys []string
	for _, k := range p["KeySchema"].([]any) {
		k := k.(map[string]any)
		keys = append(keys, k["AttributeName"].(string)+" "+k["KeyType"].(string))
	}
	if want := []string{"Artist HASH", "SongTitle RANGE"}; !slices.Equal(keys, want) {
		t.Errorf("got key schema %v, want %v", keys, want)
	}
	_, policy := tmpl.Only(t, "AWS::IAM::ManagedPolicy")
	if got := policy["Properties"].(map[string]any)["ManagedPolicyName"]; got != "AppendOnlyDynamoDB" {
		t.Errorf("got ManagedPolicyName %v, want AppendOnlyDynamoDB", got)
	}
	_, user := tmpl.Only(t, "AWS::IAM::User")
	if got := user["Properties"].(map[string]any)["UserName"]; got != "AppendUser" {
		t.Errorf("got UserName %v, want AppendUser", got)
	}
	outputs, _ := tmpl["Outputs"].(map[string]any)
	for _, name := range []string{"TableName", "PolicyArn", "UserName"} {
		if _, ok := outputs[name]; !ok {
			t.Errorf("no output %s", name)
		}
	}
	for name, o := range outputs {
		if v, ok := o.(map[string]any)["Value"].(map[string]any); ok {
			if _, secret := v["Fn::GetAtt"]; secret {
				t.Errorf("output %s reads an attribute (%v); want no secret or key in outputs", name, v)
			}
		}
	}
	if n := len(tmpl.Resources("AWS::IAM::AccessKey")); n != 0 {
		t.Errorf("got %d access keys, want 0", n)
	}
}

// statement returns the statement of the managed policy with the given Sid.
func statement(t *testing.T, tmpl cdktest.Template, sid string) map[string]any {
	t.Helper()
	_, policy := tmpl.Only(t, "AWS::IAM::ManagedPolicy")
	doc := policy["Properties"].(map[string]any)["PolicyDocument"].(map[string]any)
	for _, s := range doc["Statement"].([]any) {
		if s := s.(map[string]any); s["Sid"] == sid {
			return s
		}
	}
	t.Fatalf("the managed policy has no statement %s", sid)
	return nil
}

func actions(s map[string]any) []string {
	switch a := s["Action"].(type) {
	case string:
		return []string{a}
	case []any:
		var out []string
		for _, x := range a {
			out = append(out, x.(string))
		}
		return out
	}
	return nil
}

// refersToTable reports whether a Resource value names the table, through
// Fn::GetAtt or Ref (a Fn::Join that contains either counts).
func refersToTable(v any, tableID string) bool {
	switch v := v.(type) {
	case map[string]any:
		if ga, ok := v["Fn::GetAtt"].([]any); ok && ga[0] == tableID {
			return true
		}
		if v["Ref"] == tableID {
			return true
		}
		for _, x := range v {
			if refersToTable(x, tableID) {
				return true
			}
		}
	case []any:
		for _, x := range v {
			if refersToTable(x, tableID) {
				return true
			}
		}
	}
	return false
}

func TestManagedPolicyDeniesUpdateAndDeleteOnTheTable(t *testing.T) {
	tmpl := musicTemplate(t)
	tableID, _ := tmpl.Only(t, "AWS::DynamoDB::Table")
	var denied []string
	for _, sid := range []string{appendonly.SidDenyItemMutations, appendonly.SidDenyDataLoss} {
		s := statement(t, tmpl, sid)
		if s["Effect"] != "Deny" {
			t.Errorf("%s: got Effect %v, want Deny", sid, s["Effect"])
		}
		resources, _ := s["Resource"].([]any)
		if len(resources) == 0 || !refersToTable(resources[0], tableID) {
			t.Errorf("%s: got Resource %v, want the table's ARN first", sid, s["Resource"])
		}
		denied = append(denied, actions(s)...)
	}
	for _, action := range appendonly.DenyActions() {
		if !slices.Contains(denied, action) {
			t.Errorf("the managed policy does not deny %s", action)
		}
	}
	for _, action := range []string{"dynamodb:PartiQLUpdate", "dynamodb:PartiQLDelete", "dynamodb:UpdateItem", "dynamodb:DeleteItem"} {
		if !slices.Contains(denied, action) {
			t.Errorf("the managed policy does not deny %s", action)
		}
	}
	appendStmt := statement(t, tmpl, appendonly.SidAppend)
	if appendStmt["Effect"] != "Allow" || !slices.Equal(actions(appendStmt), []string{"dynamodb:PartiQLInsert"}) {
		t.Errorf("got append statement %v, want Allow dynamodb:PartiQLInsert", appendStmt)
	}
	if !refersToTable(appendStmt["Resource"], tableID) {
		t.Errorf("got append Resource %v, want the table", appendStmt["Resource"])
	}
}
