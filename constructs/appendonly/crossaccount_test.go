package appendonly_test

import (
	"encoding/json"
	"errors"
	"regexp"
	"strings"
	"testing"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsdynamodb"
	"github.com/aws/jsii-runtime-go"

	"github.com/appendonly/appendonly/constructs/appendonly"
	"github.com/appendonly/appendonly/internal/cdktest"
	"github.com/appendonly/appendonly/internal/nagtest"
)

const (
	tableAccount   = "111122223333"
	journalAccount = "444455556666"
)

func env(account, region string) *awscdk.StackProps {
	return &awscdk.StackProps{Env: &awscdk.Environment{Account: jsii.String(account), Region: jsii.String(region)}}
}

func twoAccountProps(journalStack awscdk.Stack) *appendonly.Props {
	p := minimalProps()
	p.TableProps.TableName = jsii.String("Ledger")
	p.User = &appendonly.UserProps{}
	p.Journal = &appendonly.JournalProps{Stack: journalStack}
	return p
}

// TestTwoAccountJournal is the layout for production: the table in its
// account, the journal in another's (an audit or log-archive account).
// Both templates are golden, pass cdk-nag, cfn-lint, AWS Control Tower's
// proactive controls and the guard; the table's account grants the
// journal's only reading the stream and describing the table, and the
// journal's grants nothing to the table's account.
func TestTwoAccountJournal(t *testing.T) {
	app := nagtest.NewApp(t)
	tableStack := awscdk.NewStack(app, jsii.String("LedgerStack"), env(tableAccount, "eu-west-1"))
	journalStack := awscdk.NewStack(app, jsii.String("LedgerJournalStack"), env(journalAccount, "eu-west-1"))
	mustNewTable(t, tableStack, twoAccountProps(journalStack))
	templates := map[string][]byte{}
	parsed := map[string]cdktest.Template{}
	for name, stack := range map[string]awscdk.Stack{"TwoAccounts.table": tableStack, "TwoAccounts.journal": journalStack} {
		for _, f := range nagtest.Findings(t, stack) {
			t.Errorf("%s: %s", name, f)
		}
		tmpl := cdktest.Synth(t, stack)
		parsed[name] = tmpl
		data := tmpl.MaskAssetHashes().JSON(t)
		templates[name+".template.json"] = data
		cdktest.Golden(t, "configurations/"+name+".template.json", data)
		for _, e := range cdktest.Errors(stack) {
			t.Errorf("%s: the guard: %s", name, e)
		}
	}
	lintAndControls(t, templates)

	// The deploy order: the journal's stack after the table's.
	deps := journalStack.Dependencies()
	if deps == nil || len(*deps) != 1 || *(*deps)[0].StackName() != *tableStack.StackName() {
		t.Errorf("the journal's stack depends on %v, want the table's stack", deps)
	}

	// The table's account grants the journal's account three things, each
	// to one role by name: describing the table, reading its stream, and
	// reading its items by key.
	table := parsed["TwoAccounts.table"]
	_, tbl := table.Only(t, "AWS::DynamoDB::Table")
	streamPolicy, _ := json.Marshal(props(tbl)["StreamSpecification"].(map[string]any)["ResourcePolicy"])
	tablePolicy, _ := json.Marshal(props(tbl)["ResourcePolicy"])
	seqRole := regexp.MustCompile(`appendonly-sequencer-[0-9a-f]{12}`).FindString(string(streamPolicy))
	lookupRole := regexp.MustCompile(`appendonly-stream-lookup-[0-9a-f]{12}`).FindString(string(tablePolicy))
	if seqRole == "" || !strings.Contains(string(streamPolicy), appendonly.SidJournalReadsStream) || !strings.Contains(string(streamPolicy), journalAccount) {
		t.Errorf("the stream's resource policy does not let the journal's sequencer read it: %s", streamPolicy)
	}
	if lookupRole == "" || !strings.Contains(string(tablePolicy), appendonly.SidJournalDescribesTable) {
		t.Errorf("the table's resource policy does not let the journal's lookup describe it: %s", tablePolicy)
	}
	monitorRole := regexp.MustCompile(`appendonly-monitor-[0-9a-f]{12}`).FindString(string(tablePolicy))
	if monitorRole == "" || !strings.Contains(string(tablePolicy), appendonly.SidJournalMonitorReads) {
		t.Errorf("the table's resource policy does not let the journal's monitor read items: %s", tablePolicy)
	}
	if n := strings.Count(string(table.JSON(t)), journalAccount); n != 6 {
		t.Errorf("the table's template names the journal's account %d times, want 6 (three principals, three roles)", n)
	}

	// The journal's account: its roles are the ones named, its mapping and
	// its sequencer take the stream the lookup learns, and no policy in it
	// names a principal of the table's account.
	journal := parsed["TwoAccounts.journal"]
	roles, _ := json.Marshal(journal.Resources("AWS::IAM::Role"))
	for _, name := range []string{seqRole, lookupRole, monitorRole} {
		if !strings.Contains(string(roles), `"RoleName":"`+name+`"`) {
			t.Errorf("no role %s in the journal's account: %s", name, roles)
		}
	}
	// The stream lookup is watched like the sequencer: a change to its code
	// could point the journal at another stream on the next deploy.
	var lookupID string
	for id, fn := range journal.Resources("AWS::Lambda::Function") {
		if env, _ := json.Marshal(props(fn)["Environment"]); strings.Contains(string(env), `"APPENDONLY_FUNCTION":"stream-lookup"`) {
			lookupID = id
		}
	}
	watched := false
	for id, r := range journal.Resources("AWS::Events::Rule") {
		pattern, _ := json.Marshal(props(r)["EventPattern"])
		watched = watched || (strings.Contains(id, "SequencerChangedRule") && strings.Contains(string(pattern), `{"suffix":{"Ref":"`+lookupID+`"}}`))
	}
	if lookupID == "" || !watched {
		t.Errorf("the stream lookup %q is not in SequencerChangedRule", lookupID)
	}
	crID, _ := journal.Only(t, "Custom::AppendOnlyTableStream")
	streamRef := `{"Fn::GetAtt":["` + crID + `","StreamArn"]}`
	_, esm := journal.Only(t, "AWS::Lambda::EventSourceMapping")
	if src, _ := json.Marshal(props(esm)["EventSourceArn"]); string(src) != streamRef {
		t.Errorf("the mapping reads %s, want %s", src, streamRef)
	}
	for _, fn := range journal.Resources("AWS::Lambda::Function") {
		env, _ := json.Marshal(props(fn)["Environment"])
		if strings.Contains(string(env), "JOURNAL_STREAM") && !strings.Contains(string(env), `"JOURNAL_STREAM":`+streamRef) {
			t.Errorf("the sequencer is told another stream: %s", env)
		}
	}
	for typ, path := range map[string]string{"AWS::S3::BucketPolicy": "PolicyDocument", "AWS::KMS::Key": "KeyPolicy", "AWS::SNS::TopicPolicy": "PolicyDocument"} {
		for id, r := range journal.Resources(typ) {
			doc, _ := json.Marshal(props(r)[path])
			if strings.Contains(string(doc), tableAccount) {
				t.Errorf("%s %s names the table's account: %s", typ, id, doc)
			}
		}
	}
}

func TestTwoAccountJournalRefusals(t *testing.T) {
	for _, c := range []struct {
		name                 string
		tableEnv, journalEnv *awscdk.StackProps
		noName               bool
		want                 string
	}{
		{"no table name", env(tableAccount, "eu-west-1"), env(journalAccount, "eu-west-1"), true, "Journal.Stack: a journal in another account needs TableProps.TableName"},
		{"one account", env(tableAccount, "eu-west-1"), env(tableAccount, "eu-west-1"), false, "the journal's stack is in the table's account 111122223333"},
		{"two Regions", env(tableAccount, "eu-west-1"), env(journalAccount, "us-east-1"), false, "the journal's stack is in us-east-1, the table's in eu-west-1"},
		{"no env", nil, env(journalAccount, "eu-west-1"), false, "both need an explicit env"},
	} {
		t.Run(c.name, func(t *testing.T) {
			app := cdktest.NewApp(t)
			tableStack := awscdk.NewStack(app, jsii.String("T"), c.tableEnv)
			journalStack := awscdk.NewStack(app, jsii.String("J"), c.journalEnv)
			p := twoAccountProps(journalStack)
			if c.noName {
				p.TableProps = &awsdynamodb.TableProps{PartitionKey: key("id")}
			}
			_, err := appendonly.NewTable(tableStack, "Ledger", p)
			if err == nil || !strings.Contains(err.Error(), c.want) {
				t.Errorf("got %v, want an error saying %q", err, c.want)
			}
			if n := len(*tableStack.Node().Children()); n != 0 {
				t.Errorf("the refused table left %d constructs", n)
			}
		})
	}
}

// TestTwoAccountGrantJournalRead: the journal's reads go to a principal of
// the journal's account; one of the table's account is refused, so that
// nothing of that account is named on the journal.
func TestTwoAccountGrantJournalRead(t *testing.T) {
	app := cdktest.NewApp(t)
	tableStack := awscdk.NewStack(app, jsii.String("T"), env(tableAccount, "eu-west-1"))
	journalStack := awscdk.NewStack(app, jsii.String("J"), env(journalAccount, "eu-west-1"))
	table := mustNewTable(t, tableStack, twoAccountProps(journalStack))
	if _, err := table.GrantJournalRead(newGrantee(tableStack)); !errors.Is(err, appendonly.ErrJournalElsewhere) || !strings.Contains(err.Error(), journalAccount) {
		t.Errorf("a reader in the table's account: got %v, want ErrJournalElsewhere naming %s", err, journalAccount)
	}
	if _, err := table.GrantJournalRead(newGrantee(journalStack)); err != nil {
		t.Fatal(err)
	}
	// The README's way to make the stream lookup run again.
	journalStack.Node().FindChild(jsii.String("Ledger")).Node().FindChild(jsii.String("TableStream")).
		Node().DefaultChild().(awscdk.CfnResource).AddPropertyOverride(jsii.String("Generation"), 2)
	tmpl := cdktest.Synth(t, journalStack)
	if _, cr := tmpl.Only(t, "Custom::AppendOnlyTableStream"); props(cr)["Generation"] != float64(2) {
		t.Errorf("the stream lookup's properties %v, want Generation 2", props(cr))
	}
	pols, _ := json.Marshal(tmpl.Resources("AWS::IAM::Policy"))
	if !strings.Contains(string(pols), "s3:List*") || !strings.Contains(string(pols), "kms:GetPublicKey") || strings.Contains(string(pols), "dynamodb:") {
		t.Errorf("the reader's policy: %s, want the journal's reads and nothing of the table", pols)
	}
	if data := tmpl.JSON(t); strings.Contains(string(data), tableAccount+":root") || strings.Contains(string(data), "iam::"+tableAccount) {
		t.Error("the journal's template names a principal of the table's account")
	}
}
