package plan

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/appendonly/appendonly/check"
)

func same(s string) string { return s }

func TestBucketStatementsExemptOnlyFromDeletesAndProtection(t *testing.T) {
	refs := JournalRefs{Bucket: "B", Objects: "B/*", MonitorObjects: "B/appendonly/monitor/*", SequencerRole: "S", MonitorRole: "M"}
	p := Protection{Deployers: []string{"D"}, Exempt: []string{"X"}}
	want := map[string]string{
		check.SidJournalWriteOnlyBySequencer: `{"ArnNotEquals":{"aws:PrincipalArn":["S","M"]}}`,
		check.SidJournalMonitorOwnPrefix:     `{"ArnEquals":{"aws:PrincipalArn":"M"}}`,
		check.SidJournalNoDelete:             `{"ArnNotLike":{"aws:PrincipalArn":["X"]}}`,
		check.SidJournalProtect:              `{"ArnNotLike":{"aws:PrincipalArn":["D","X"]}}`,
		check.SidJournalNoReplicationIn:      `null`,
	}
	for _, exempt := range [][]string{nil, {"X"}} {
		p.Exempt = exempt
		stmts := p.BucketStatements(refs, same)
		if len(stmts) != len(want) {
			t.Fatalf("%d statements, want %d", len(stmts), len(want))
		}
		for _, s := range stmts {
			got, _ := json.Marshal(s.Condition)
			w := want[s.Sid]
			if exempt == nil {
				w = strings.ReplaceAll(strings.ReplaceAll(w, `{"ArnNotLike":{"aws:PrincipalArn":["X"]}}`, "null"), `"D","X"`, `"D"`)
			}
			if string(got) != w {
				t.Errorf("exempt %v: %s has condition %s, want %s", exempt, s.Sid, got, w)
			}
		}
	}
}

func TestTablePlan(t *testing.T) {
	yes, no := true, false
	days := 7.0
	for _, c := range []struct {
		name string
		in   TableInput
		want Table
	}{
		{"defaults", TableInput{}, Table{Billing: "PAY_PER_REQUEST", Encryption: "AWS_MANAGED", PITRDays: 35, Removal: "RETAIN", DeletionProtection: true}},
		{"a journal", TableInput{Journal: true}, Table{Billing: "PAY_PER_REQUEST", Encryption: "AWS_MANAGED", PITRDays: 35, Removal: "RETAIN", DeletionProtection: true, Stream: JournalStream}},
		{"destroy ignored without the unsafe prop", TableInput{Removal: "DESTROY", PITRDays: &days}, Table{Billing: "PAY_PER_REQUEST", Encryption: "AWS_MANAGED", PITRDays: 7, Removal: "RETAIN", DeletionProtection: true}},
		{"destroy", TableInput{Removal: "DESTROY", UnsafeRemoval: true}, Table{Billing: "PAY_PER_REQUEST", Encryption: "AWS_MANAGED", PITRDays: 35, Removal: "DESTROY"}},
		{"unsafe, protection kept", TableInput{UnsafeRemoval: true, DeletionProtection: &yes}, Table{Billing: "PAY_PER_REQUEST", Encryption: "AWS_MANAGED", PITRDays: 35, Removal: "RETAIN", DeletionProtection: true}},
		{"unsafe, protection off", TableInput{UnsafeRemoval: true, DeletionProtection: &no, Billing: "PROVISIONED", Encryption: "DEFAULT"}, Table{Billing: "PROVISIONED", Encryption: "DEFAULT", PITRDays: 35, Removal: "RETAIN"}},
	} {
		if got := c.in.Plan(); got != c.want {
			t.Errorf("%s: %+v, want %+v", c.name, got, c.want)
		}
	}
}

func TestTableInputValidate(t *testing.T) {
	no := false
	in := TableInput{PartitionKey: &Attribute{Name: "", Type: "MAP"}, TTL: true, DeletionProtection: &no, Journal: true, Stream: "KEYS_ONLY", Encryption: "NONE"}
	var got []string
	for _, err := range in.Validate() {
		got = append(got, err.Error())
	}
	for _, want := range []string{"TableProps.PartitionKey.Name: required", `TableProps.PartitionKey.Type: "MAP" is not allowed`,
		"TableProps.TimeToLiveAttribute", "TableProps.DeletionProtection: false", "TableProps.Stream: KEYS_ONLY with Journal", `TableProps.Encryption: "NONE"`} {
		found := false
		for _, g := range got {
			found = found || strings.HasPrefix(g, want)
		}
		if !found {
			t.Errorf("no error starting %q in %q", want, got)
		}
	}
	if errs := (TableInput{PartitionKey: &Attribute{Name: "id", Type: "STRING"}}).Validate(); len(errs) != 0 {
		t.Errorf("valid input: %v", errs)
	}
}

func TestVaultLock(t *testing.T) {
	for _, c := range []struct {
		b    Backup
		want string
	}{
		{Backup{}, `{"MinRetentionDays":35}`},
		{Backup{Lock: Compliance, RetentionDays: 90, MaxRetentionDays: 400}, `{"ChangeableForDays":3,"MaxRetentionDays":400,"MinRetentionDays":90}`},
		{Backup{Lock: Compliance, ChangeableForDays: 10}, `{"ChangeableForDays":10,"MinRetentionDays":35}`},
	} {
		v := c.b.Vault([]string{"X"})
		got, _ := json.Marshal(v.Wants()[0].Value)
		if string(got) != c.want {
			t.Errorf("%+v: lock %s, want %s", c.b, got, c.want)
		}
		if cond, _ := json.Marshal(v.Deny.Condition); string(cond) != `{"ArnNotLike":{"aws:PrincipalArn":["X"]}}` {
			t.Errorf("the vault's deny exempts %s", cond)
		}
	}
}

func TestBoundedSizeCountsTheLongestValue(t *testing.T) {
	for _, c := range []struct {
		v    any
		want int
	}{
		{"abc", 5},
		{"${AWS::Region}", 2 + len(longestRegion)},
		{map[string]any{"Ref": "AWS::AccountId"}, 2 + 12},
		{map[string]any{"Fn::Join": []any{":", []any{"a", map[string]any{"Ref": "AWS::Partition"}}}}, 2 + 1 + 1 + len(longestPartition)},
		{map[string]any{"Fn::GetAtt": []any{"R", "Arn"}}, 2 + MaxUnknownArn},
	} {
		if got := BoundedSize(c.v); got != c.want {
			t.Errorf("BoundedSize(%v) = %d, want %d", c.v, got, c.want)
		}
	}
}

func TestPrincipalArnProblem(t *testing.T) {
	for arn, want := range map[string]string{
		"arn:aws:iam::111122223333:role/BreakGlass":                 "",
		"arn:${AWS::Partition}:iam::${AWS::AccountId}:role/Deploy*": "",
		"arn:aws:iam::*:role/BreakGlass":                            "exempts principals of every account",
		"arn:aws:iam::111122223333:role/*":                          "exempts every role in the account",
		"arn:aws:sts::111122223333:assumed-role/Admin/session":      "is an assumed-role session",
		"arn:aws:iam::111122223333:role/service-role/*":             "exempts every role under the path /service-role/",
		"arn:aws:s3:::bucket":                                       "the service must be iam",
		"${Token[TOKEN.12]}":                                        "",
	} {
		got := PrincipalArnProblem(arn)
		if (want == "") != (got == "") || !strings.Contains(got, want) {
			t.Errorf("PrincipalArnProblem(%q) = %q, want %q", arn, got, want)
		}
	}
}
