package appendonly_test

import (
	"encoding/json"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsdynamodb"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsiam"
	"github.com/aws/jsii-runtime-go"

	"github.com/appendonly/appendonly/check"
	"github.com/appendonly/appendonly/constructs/appendonly"
	"github.com/appendonly/appendonly/internal/cdktest"
)

// TestCheckReadsTheAssemblyAlone synthesizes an app (a table with its user,
// a backup vault, and its journal in another account), then checks the
// cloud assembly with package check alone, as `appendonly check` does (a
// break-glass role exempt from the table's denies): no
// finding, the one table found. The assembly's JSON files are the check
// package's fixtures (check/testdata/assembly, rewritten with -update), so
// that its tests, in milliseconds, read what the construct writes today.
func TestCheckReadsTheAssemblyAlone(t *testing.T) {
	out := t.TempDir()
	app := cdktest.NewAppIn(t, out)
	tableStack := awscdk.NewStack(app, jsii.String("LedgerStack"), env(tableAccount, "eu-west-1"))
	journalStack := awscdk.NewStack(app, jsii.String("LedgerJournalStack"), env(journalAccount, "eu-west-1"))
	p := twoAccountProps(journalStack)
	p.Backup = &appendonly.BackupProps{}
	p.ExemptPrincipalArns = []string{"arn:aws:iam::111122223333:role/BreakGlass"}
	table := mustNewTable(t, tableStack, p)
	reader := awsiam.NewRole(tableStack, jsii.String("Reader"), &awsiam.RoleProps{AssumedBy: awsiam.NewAccountRootPrincipal()})
	table.GrantRead(reader)
	app.Synth(nil)

	findings, tables, err := check.CheckAssembly(out)
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range findings {
		t.Errorf("%s: %s", f.Rule, f.Message)
	}
	if tables != 1 {
		t.Errorf("found %d tables, want 1", tables)
	}

	// The fixtures: the manifest, the templates and the asset manifests,
	// the sequencer's hash (which changes with the Go toolchain) masked.
	files, _ := filepath.Glob(filepath.Join(out, "*.json"))
	hashes, templates := map[string]bool{}, map[string]bool{}
	data := map[string]string{}
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		data[filepath.Base(f)] = string(b)
		for _, m := range zipKey.FindAllStringSubmatch(string(b), -1) {
			hashes[m[1]] = true
		}
		for _, m := range templateHash.FindAllStringSubmatch(string(b), -1) {
			templates[m[1]] = true
		}
	}
	for name, s := range data {
		for h := range hashes {
			s = strings.ReplaceAll(s, h, "0000000000000000000000000000000000000000000000000000000000000000")
		}
		// The templates' own hashes, and the asset destinations' ids made
		// of them, change with the sequencer's: masked too.
		for h := range templates {
			s = strings.ReplaceAll(s, h, "1111111111111111111111111111111111111111111111111111111111111111")
		}
		s = destinationID.ReplaceAllString(s, `${1}00000000"`)
		if name == "tree.json" || name == "validation-report.json" {
			continue
		}
		cdktest.Golden(t, "../../../check/testdata/assembly/"+name, []byte(s))
	}
}

var (
	zipKey        = regexp.MustCompile(`"([0-9a-f]{64})\.zip"`)
	templateHash  = regexp.MustCompile(`([0-9a-f]{64})\.json`)
	destinationID = regexp.MustCompile(`("[0-9]{12}-[a-z0-9-]+-)[0-9a-f]{8}"`)
)

// TestWhatCDKUsersDoWithATable: a global secondary index added through
// CreatedTable, a metric of it, and GrantReadData synthesize and pass the
// guard; an existing table has no CreatedTable.
func TestWhatCDKUsersDoWithATable(t *testing.T) {
	tmpl := synthWith(t, func(stack awscdk.Stack) {
		ledger := mustNewTable(t, stack, minimalProps())
		ledger.CreatedTable().AddGlobalSecondaryIndex(&awsdynamodb.GlobalSecondaryIndexProps{
			IndexName:    jsii.String("ByAmount"),
			PartitionKey: &awsdynamodb.Attribute{Name: jsii.String("amount"), Type: awsdynamodb.AttributeType_NUMBER},
		})
		ledger.CreatedTable().MetricConsumedWriteCapacityUnits(nil)
		ledger.GrantReadData(awsiam.NewRole(stack, jsii.String("Reader"), &awsiam.RoleProps{AssumedBy: awsiam.NewAccountRootPrincipal()}))
	})
	_, table := tmpl.Only(t, "AWS::DynamoDB::Table")
	if gsi := mapGetAll(table, "Properties", "GlobalSecondaryIndexes"); gsi == nil {
		t.Errorf("no index in the table: %v", table["Properties"])
	}
}

func mapGetAll(v any, keys ...string) any {
	for _, k := range keys {
		m, ok := v.(map[string]any)
		if !ok {
			return nil
		}
		v = m[k]
	}
	return v
}

// TestSandboxCleanUpNamesEveryRetainedResource: the README's sandbox
// clean-up table has a row for every resource type a configuration
// retains when its stack is deleted.
func TestSandboxCleanUpNamesEveryRetainedResource(t *testing.T) {
	readme := cdktest.Doc(t, "docs/journal.md")
	_, section, ok := strings.Cut(readme, "<!-- sandbox clean-up -->")
	if !ok {
		t.Fatal("docs/journal.md has no sandbox clean-up table")
	}
	section, _, _ = strings.Cut(section, "\n\n")
	rows := map[string]bool{}
	for _, m := range regexp.MustCompile("(?m)^\\| `(AWS::[A-Za-z0-9:]+)`").FindAllStringSubmatch(section, -1) {
		rows[m[1]] = true
	}
	files, _ := filepath.Glob("testdata/configurations/*.template.json")
	retained := map[string]string{}
	for _, f := range files {
		data, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		var tmpl struct{ Resources map[string]map[string]any }
		if err := json.Unmarshal(data, &tmpl); err != nil {
			t.Fatal(err)
		}
		for _, r := range tmpl.Resources {
			if p, _ := r["DeletionPolicy"].(string); strings.HasPrefix(p, "Retain") {
				retained[r["Type"].(string)] = filepath.Base(f)
			}
		}
	}
	if len(retained) < 4 {
		t.Fatalf("only %v retained: the configurations are not read", retained)
	}
	for typ, f := range retained {
		if !rows[typ] {
			t.Errorf("%s retains %s, which docs/journal.md's sandbox clean-up does not say how to remove", f, typ)
		}
	}
}
