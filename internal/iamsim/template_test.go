package iamsim

import (
	"encoding/json"
	"sort"
	"strings"
	"testing"
)

const testTemplate = `{
  "Resources": {
    "Tbl": {"Type": "AWS::DynamoDB::Table", "Properties": {"TableName": "Music"}},
    "Gen": {"Type": "AWS::DynamoDB::Table", "Properties": {}},
    "Pol": {"Type": "AWS::IAM::ManagedPolicy", "Properties": {
      "ManagedPolicyName": "AppendOnly",
      "PolicyDocument": {"Statement": [{"Effect": "Allow", "Action": "dynamodb:PartiQLInsert",
        "Resource": {"Fn::Join": ["", [{"Fn::GetAtt": ["Tbl", "Arn"]}, "/index/*"]]}}]}}},
    "Grp": {"Type": "AWS::IAM::Group", "Properties": {"ManagedPolicyArns": [{"Ref": "Pol"}]}},
    "Usr": {"Type": "AWS::IAM::User", "Properties": {"UserName": "AppendUser", "Groups": [{"Ref": "Grp"}]}},
    "Inl": {"Type": "AWS::IAM::Policy", "Properties": {"Users": [{"Ref": "Usr"}],
      "PolicyDocument": {"Statement": [{"Effect": "Deny", "Action": "dynamodb:PutItem", "Resource": {"Fn::GetAtt": ["Gen", "StreamArn"]}}]}}},
    "Other": {"Type": "AWS::IAM::Policy", "Properties": {"Users": [{"Ref": "Someone"}],
      "PolicyDocument": {"Statement": []}}}
  }
}`

func testEnv(t *testing.T) *Env {
	t.Helper()
	var tmpl Template
	if err := json.Unmarshal([]byte(testTemplate), &tmpl); err != nil {
		t.Fatal(err)
	}
	return NewEnv(tmpl)
}

func TestResolve(t *testing.T) {
	env := testEnv(t)
	for _, c := range []struct {
		in   string
		want string
	}{
		{`{"Ref": "AWS::Partition"}`, `"aws"`},
		{`{"Ref": "Tbl"}`, `"Music"`},
		{`{"Ref": "Gen"}`, `"Gen"`},
		{`{"Ref": "Pol"}`, `"arn:aws:iam::111122223333:policy/AppendOnly"`},
		{`{"Fn::GetAtt": ["Tbl", "Arn"]}`, `"arn:aws:dynamodb:us-east-1:111122223333:table/Music"`},
		{`{"Fn::GetAtt": ["Tbl", "StreamArn"]}`, `"arn:aws:dynamodb:us-east-1:111122223333:table/Music/stream/2026-01-01T00:00:00.000"`},
		{`{"Fn::Join": ["/", ["a", {"Ref": "AWS::AccountId"}, "b"]]}`, `"a/111122223333/b"`},
		{`{"Fn::GetAtt": ["Usr", "Arn"]}`, `"arn:aws:iam::111122223333:user/AppendUser"`},
		{`["x", {"Ref": "AWS::Region"}]`, `["x","us-east-1"]`},
		{`{"Fn::Sub": "arn:${AWS::Partition}:iam::${AWS::AccountId}:role/cdk-${AWS::Region}"}`, `"arn:aws:iam::111122223333:role/cdk-us-east-1"`},
		{`{"Fn::Sub": "${Tbl.Arn}/index/*"}`, `"arn:aws:dynamodb:us-east-1:111122223333:table/Music/index/*"`},
		{`{"Fn::Sub": "no placeholders"}`, `"no placeholders"`},
	} {
		var in any
		if err := json.Unmarshal([]byte(c.in), &in); err != nil {
			t.Fatal(err)
		}
		got, err := env.Resolve(in)
		if err != nil {
			t.Errorf("Resolve(%s): %v", c.in, err)
			continue
		}
		data, _ := json.Marshal(got)
		if string(data) != c.want {
			t.Errorf("Resolve(%s) = %s, want %s", c.in, data, c.want)
		}
	}
}

func TestResolveRefusesWhatItDoesNotKnow(t *testing.T) {
	env := testEnv(t)
	for _, in := range []string{
		`{"Fn::Sub": ["${X}", {"X": "y"}]}`,
		`{"Fn::Sub": "${Missing.Arn}"}`,
		`{"Fn::Select": [0, ["a"]]}`,
		`{"Ref": "Missing"}`,
		`{"Fn::GetAtt": ["Tbl", "TableId"]}`,
		`{"Fn::GetAtt": ["Grp", "Nope", "x"]}`,
	} {
		var v any
		if err := json.Unmarshal([]byte(in), &v); err != nil {
			t.Fatal(err)
		}
		if got, err := env.Resolve(v); err == nil {
			t.Errorf("Resolve(%s) = %v, want an error", in, got)
		}
	}
}

func TestIdentityPoliciesOfAUserIncludeItsGroups(t *testing.T) {
	policies, err := testEnv(t).IdentityPolicies("Usr")
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, p := range policies {
		names = append(names, p.Name)
	}
	sort.Strings(names)
	if got, want := strings.Join(names, ","), "Inl,Pol"; got != want {
		t.Errorf("got policies %s, want %s (the user's inline policy and its group's managed policy)", got, want)
	}
}

func TestIdentityPoliciesRefuseUnknownManagedPolicies(t *testing.T) {
	env := testEnv(t)
	env.resources["Grp"]["Properties"] = map[string]any{"ManagedPolicyArns": []any{"arn:aws:iam::aws:policy/AdministratorAccess"}}
	if _, err := env.IdentityPolicies("Usr"); err == nil {
		t.Error("got no error for an AWS managed policy whose content is unknown here")
	}
}
