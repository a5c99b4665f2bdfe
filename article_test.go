package main

import (
	"testing"

	"github.com/appendonly/appendonly/internal/iamsim"
)

// TestArticleScenarioAsIAMRequests evaluates the source article's four
// statements, and the write paths it never tried, as IAM requests against
// the policies of the app's synthesized template.
func TestArticleScenarioAsIAMRequests(t *testing.T) {
	sim, err := iamsim.NewRunner()
	if err != nil {
		t.Fatal(err)
	}
	tmpl := musicTemplate(t)
	env := iamsim.NewEnv(tmpl)
	tableID, _ := tmpl.Only(t, "AWS::DynamoDB::Table")
	userID, _ := tmpl.Only(t, "AWS::IAM::User")
	userArn, err := env.Arn(userID)
	if err != nil {
		t.Fatal(err)
	}
	if want := "arn:aws:iam::" + iamsim.Account + ":user/AppendUser"; userArn != want {
		t.Fatalf("got user %s, want %s", userArn, want)
	}
	userPolicies, err := env.IdentityPolicies(userID)
	if err != nil {
		t.Fatal(err)
	}
	resourcePolicy, err := env.ResourcePolicy(tableID)
	if err != nil {
		t.Fatal(err)
	}
	admin := "arn:aws:iam::" + iamsim.Account + ":role/Administrator"
	adminPolicies := []iamsim.NamedPolicy{iamsim.AllowAll("dynamodb")}
	music := iamsim.TableArn("Music")
	inTransaction := map[string]string{"dynamodb:EnclosingOperation": "TransactWriteItems"}

	cases := []struct {
		what      string
		principal string
		action    string
		context   map[string]string
		want      string
	}{
		// The article's four statements. IAM allows the duplicate INSERT as it
		// allows the first; DynamoDB itself answers DuplicateItemException.
		{"1. INSERT INTO Music VALUE {...}", userArn, "dynamodb:PartiQLInsert", nil, iamsim.Allowed},
		{"2. the same INSERT again (DuplicateItemException from DynamoDB)", userArn, "dynamodb:PartiQLInsert", nil, iamsim.Allowed},
		{"3. UPDATE Music SET AwardsWon=1 ...", userArn, "dynamodb:PartiQLUpdate", nil, iamsim.ExplicitlyDenied},
		{"4. DELETE FROM Music WHERE Artist='Acme Band'", userArn, "dynamodb:PartiQLDelete", nil, iamsim.ExplicitlyDenied},
		{"5. the same UPDATE as an administrator", admin, "dynamodb:PartiQLUpdate", nil, iamsim.ExplicitlyDenied},
		{"the same DELETE as an administrator", admin, "dynamodb:PartiQLDelete", nil, iamsim.ExplicitlyDenied},
		// The paths the article never tried.
		{"PutItem over an existing item", userArn, "dynamodb:PutItem", nil, iamsim.ExplicitlyDenied},
		{"BatchWriteItem", userArn, "dynamodb:BatchWriteItem", nil, iamsim.ExplicitlyDenied},
		{"TransactWriteItems Put", userArn, "dynamodb:PutItem", inTransaction, iamsim.ExplicitlyDenied},
		{"TransactWriteItems Update", userArn, "dynamodb:UpdateItem", inTransaction, iamsim.ExplicitlyDenied},
		{"TransactWriteItems Delete", userArn, "dynamodb:DeleteItem", inTransaction, iamsim.ExplicitlyDenied},
		{"UpdateItem", userArn, "dynamodb:UpdateItem", nil, iamsim.ExplicitlyDenied},
		{"DeleteItem", userArn, "dynamodb:DeleteItem", nil, iamsim.ExplicitlyDenied},
		{"UpdateTimeToLive", userArn, "dynamodb:UpdateTimeToLive", nil, iamsim.ExplicitlyDenied},
		{"DeleteTable", userArn, "dynamodb:DeleteTable", nil, iamsim.ExplicitlyDenied},
		{"administrator PutItem", admin, "dynamodb:PutItem", nil, iamsim.ExplicitlyDenied},
		{"administrator BatchWriteItem", admin, "dynamodb:BatchWriteItem", nil, iamsim.ExplicitlyDenied},
		{"administrator TransactWriteItems Update", admin, "dynamodb:UpdateItem", inTransaction, iamsim.ExplicitlyDenied},
		{"administrator UpdateTimeToLive", admin, "dynamodb:UpdateTimeToLive", nil, iamsim.ExplicitlyDenied},
		{"administrator DeleteTable", admin, "dynamodb:DeleteTable", nil, iamsim.ExplicitlyDenied},
		{"administrator INSERT", admin, "dynamodb:PartiQLInsert", nil, iamsim.Allowed},
		// Reads the article's user keeps.
		{"SELECT", userArn, "dynamodb:PartiQLSelect", nil, iamsim.Allowed},
		{"GetItem", userArn, "dynamodb:GetItem", nil, iamsim.Allowed},
	}
	sims := make([]iamsim.Simulation, len(cases))
	for i, c := range cases {
		identity := userPolicies
		if c.principal == admin {
			identity = adminPolicies
		}
		sims[i] = iamsim.Simulation{
			Request:          iamsim.Request{Principal: c.principal, Action: c.action, Resource: music, Context: c.context},
			IdentityPolicies: identity,
			ResourcePolicy:   resourcePolicy,
		}
	}
	got, err := sim.Decide(sims)
	if err != nil {
		t.Fatal(err)
	}
	for i, c := range cases {
		if got[i] != c.want {
			t.Errorf("%s (%s): got %s, want %s", c.what, c.action, got[i], c.want)
		}
	}
}
