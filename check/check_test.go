package check

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// fixture copies the cloud assembly in testdata/assembly (what the
// construct synthesizes: a table, its user, a reader, a backup vault and a
// journal in another account; TestCheckReadsTheAssemblyAlone in the
// construct package keeps it current) into a temporary directory, applying
// edit to each template by name.
func fixture(t *testing.T, edit func(name string, tmpl map[string]any)) string {
	t.Helper()
	dir := t.TempDir()
	files, err := filepath.Glob("testdata/assembly/*.json")
	if err != nil || len(files) == 0 {
		t.Fatalf("no fixture: %v", err)
	}
	for _, f := range files {
		data, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		name := filepath.Base(f)
		if strings.HasSuffix(name, ".template.json") && edit != nil {
			var tmpl map[string]any
			if err := json.Unmarshal(data, &tmpl); err != nil {
				t.Fatal(err)
			}
			edit(strings.TrimSuffix(name, ".template.json"), tmpl)
			if data, err = json.MarshalIndent(tmpl, "", " "); err != nil {
				t.Fatal(err)
			}
		}
		if err := os.WriteFile(filepath.Join(dir, name), data, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

func resource(tmpl map[string]any, id string) map[string]any {
	return tmpl["Resources"].(map[string]any)[id].(map[string]any)
}

func props(tmpl map[string]any, id string) map[string]any {
	return resource(tmpl, id)["Properties"].(map[string]any)
}

// wantFinding runs the check on dir and wants one fatal finding whose
// message holds each of want, and nothing else.
func wantFinding(t *testing.T, dir string, want ...string) {
	t.Helper()
	findings, _, err := CheckAssembly(dir)
	if err != nil {
		t.Fatal(err)
	}
	var fatal []Finding
	for _, f := range findings {
		if f.Severity == Fatal {
			fatal = append(fatal, f)
		}
	}
	if len(fatal) != 1 {
		t.Fatalf("got %d fatal findings, want 1:\n%v", len(fatal), fatal)
	}
	for _, w := range want {
		if !strings.Contains(fatal[0].Message+" "+fatal[0].Fix, w) {
			t.Errorf("the finding does not say %q:\n%s\n%s", w, fatal[0].Message, fatal[0].Fix)
		}
	}
}

func TestTheAssemblyAsSynthesizedPasses(t *testing.T) {
	findings, tables, err := CheckAssembly(fixture(t, nil))
	if err != nil {
		t.Fatal(err)
	}
	if len(findings) != 0 || tables != 1 {
		t.Errorf("%d tables, findings %v: want the one table and none", tables, findings)
	}
}

// TestWhatIsChangedAfterSynthIsFound: each change a careless teammate (or
// a hand on the template) makes after synthesis is found from the assembly
// alone, and named by its construct path.
func TestWhatIsChangedAfterSynthIsFound(t *testing.T) {
	for _, tc := range []struct {
		name string
		edit func(name string, tmpl map[string]any)
		want []string
	}{
		{"a write grant added by hand", func(name string, tmpl map[string]any) {
			if name != "LedgerStack" {
				return
			}
			tmpl["Resources"].(map[string]any)["Backdoor"] = map[string]any{"Type": "AWS::IAM::Policy", "Properties": map[string]any{
				"PolicyName": "backdoor", "Roles": []any{map[string]any{"Ref": "ReaderF7BF189D"}},
				"PolicyDocument": map[string]any{"Version": "2012-10-17", "Statement": []any{map[string]any{
					"Effect": "Allow", "Action": "dynamodb:UpdateItem", "Resource": map[string]any{"Fn::GetAtt": []any{"Ledger0B0DA0A5", "Arn"}}}}}}}
		}, []string{"dynamodb:UpdateItem", "LedgerStack/Ledger"}},
		{"deletion protection off", func(name string, tmpl map[string]any) {
			if name == "LedgerStack" {
				props(tmpl, "Ledger0B0DA0A5")["DeletionProtectionEnabled"] = false
			}
		}, []string{"DeletionProtectionEnabled is false, should be true", "UnsafeAllowTableRemoval"}},
		{"the table's deny loosened", func(name string, tmpl map[string]any) {
			if name != "LedgerStack" {
				return
			}
			doc := props(tmpl, "Ledger0B0DA0A5")["ResourcePolicy"].(map[string]any)["PolicyDocument"].(map[string]any)
			st := doc["Statement"].([]any)[0].(map[string]any)
			st["Action"] = "dynamodb:DeleteTable"
		}, []string{"the statements the construct wrote in its policy are not as it wrote them", "DenyEveryoneOverwriteUpdateAndDeleteOfItems"}},
		{"the journal bucket's lock shortened", func(name string, tmpl map[string]any) {
			if name != "LedgerJournalStack" {
				return
			}
			for id, r := range tmpl["Resources"].(map[string]any) {
				if r.(map[string]any)["Type"] == "AWS::S3::Bucket" && strings.HasPrefix(id, "LedgerJournalBucket") {
					cfg := props(tmpl, id)["ObjectLockConfiguration"].(map[string]any)
					cfg["Rule"].(map[string]any)["DefaultRetention"].(map[string]any)["Days"] = 1
				}
			}
		}, []string{"ObjectLockConfiguration", "Journal.Lock and Journal.RetentionDays"}},
		{"the journal key's policy rewritten", func(name string, tmpl map[string]any) {
			if name != "LedgerJournalStack" {
				return
			}
			for id, r := range tmpl["Resources"].(map[string]any) {
				if r.(map[string]any)["Type"] == "AWS::KMS::Key" && strings.HasPrefix(id, "LedgerJournalKey") {
					doc := props(tmpl, id)["KeyPolicy"].(map[string]any)
					var kept []any
					for _, st := range doc["Statement"].([]any) {
						if st.(map[string]any)["Sid"] != "DenyEveryoneButSequencerSigning" {
							kept = append(kept, st)
						}
					}
					doc["Statement"] = kept
				}
			}
		}, []string{"journal key", "not as it wrote them"}},
		{"the vault retained no more", func(name string, tmpl map[string]any) {
			if name == "LedgerStack" {
				resource(tmpl, "LedgerBackupVault2CF478A4")["DeletionPolicy"] = "Delete"
			}
		}, []string{"DeletionPolicy is \"Delete\", should be \"Retain\""}},
		{"a protected resource removed", func(name string, tmpl map[string]any) {
			if name == "LedgerStack" {
				delete(tmpl["Resources"].(map[string]any), "LedgerPolicyFBF64D2C")
			}
		}, []string{"LedgerPolicyFBF64D2C", "missing from the template"}},
		{"a protected resource's description removed", func(name string, tmpl map[string]any) {
			if name == "LedgerStack" {
				delete(resource(tmpl, "LedgerPolicyFBF64D2C")["Metadata"].(map[string]any), ProtectedKey)
			}
		}, []string{"lost the description"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			wantFinding(t, fixture(t, tc.edit), tc.want...)
		})
	}
}

// TestNoDescriptionNothingChecked: an assembly whose templates hold no
// description of an append-only table is checked for nothing, and says so.
func TestNoDescriptionNothingChecked(t *testing.T) {
	dir := fixture(t, func(name string, tmpl map[string]any) {
		if name == "LedgerStack" {
			delete(resource(tmpl, "Ledger0B0DA0A5")["Metadata"].(map[string]any), TableKey)
		}
	})
	findings, tables, err := CheckAssembly(dir)
	if err != nil || tables != 0 || len(findings) != 0 {
		t.Errorf("tables %d, findings %v, %v: want none found", tables, findings, err)
	}
	if _, _, err := CheckAssembly(t.TempDir()); err == nil || !strings.Contains(err.Error(), "not a cloud assembly") {
		t.Errorf("an empty directory: %v, want not a cloud assembly", err)
	}
}
