package main

import (
	"bytes"
	"context"
	"strings"
	"testing"

	"github.com/appendonly/appendonly/internal/fakedynamo"
)

// cli runs the command against the fake through the SDK's standard
// configuration: the endpoint from AWS_ENDPOINT_URL_DYNAMODB.
func cli(t *testing.T, stdin string, args ...string) (code int, stdout, stderr string) {
	t.Helper()
	var out, errOut bytes.Buffer
	code = run(context.Background(), args, strings.NewReader(stdin), &out, &errOut, nil)
	return code, out.String(), errOut.String()
}

func TestCommandEndToEnd(t *testing.T) {
	f := fakedynamo.New(map[string]fakedynamo.Table{"Ledger": {PartitionKey: "chain", SortKey: "seq"}})
	_, srv := f.Start(t)
	t.Setenv("AWS_ENDPOINT_URL_DYNAMODB", srv.URL)
	t.Setenv("AWS_REGION", "us-east-1")
	t.Setenv("AWS_ACCESS_KEY_ID", "AKIAFAKEDYNAMO")
	t.Setenv("AWS_SECRET_ACCESS_KEY", "fake")
	t.Setenv("AWS_CONFIG_FILE", "/dev/null")
	t.Setenv("AWS_SHARED_CREDENTIALS_FILE", "/dev/null")

	for i, item := range []string{`{"event": "opened", "amount": 1.50}`, `{"event": "paid", "amount": 100, "tags": ["a", "b"]}`} {
		code, out, errOut := cli(t, "", "append", "--table", "Ledger", "--chain", "orders", "--item", item)
		if code != 0 || !strings.HasPrefix(out, []string{"1 ", "2 "}[i]) {
			t.Fatalf("append %d: exit %d, %q, %q", i+1, code, out, errOut)
		}
	}
	if code, out, errOut := cli(t, `{"event": "shipped"}`, "append", "--table", "Ledger", "--chain", "orders"); code != 0 || !strings.HasPrefix(out, "3 ") {
		t.Fatalf("append from standard input: exit %d, %q, %q", code, out, errOut)
	}
	code, digest, errOut := cli(t, "", "digest", "--table", "Ledger", "--chain", "orders")
	if code != 0 || !strings.HasPrefix(digest, "v1.") {
		t.Fatalf("digest: exit %d, %q, %q", code, digest, errOut)
	}
	digest = strings.TrimSpace(digest)
	if code, out, _ := cli(t, "", "verify", "--table", "Ledger", "--digest", digest); code != 0 || !strings.Contains(out, "intact: 3 items") {
		t.Fatalf("verify: exit %d, %q", code, out)
	}
	if code, out, _ := cli(t, "", "verify", "--table", "Ledger"); code != 0 || !strings.Contains(out, `chain "orders" intact`) {
		t.Fatalf("verify every chain: exit %d, %q", code, out)
	}

	// Tamper: change item 2's amount behind the API's back.
	items := f.Items("Ledger")
	items[1]["amount"] = map[string]any{"N": "1000000"}
	f.Put("Ledger", items[1])
	code, out, _ := cli(t, "", "verify", "--table", "Ledger", "--digest", digest)
	if code != 1 || !strings.Contains(out, `chain "orders" breaks at item 2: its content changed`) {
		t.Errorf("verify after tampering: exit %d, %q; want 1 and the break at item 2", code, out)
	}
	if code, out, _ := cli(t, "", "verify", "--table", "Ledger"); code != 1 || !strings.Contains(out, "breaks at item 2") {
		t.Errorf("verify every chain after tampering: exit %d, %q", code, out)
	}
}

func TestCommandUsageErrors(t *testing.T) {
	for _, c := range []struct {
		args []string
		want string
	}{
		{nil, "usage:"},
		{[]string{"append", "--chain", "c"}, "appendonly: append: --table is required"},
		{[]string{"digest", "--table", "T"}, "appendonly: digest: --chain is required"},
		{[]string{"verify", "--table", "T", "--digest", "nope"}, `appendonly: ledger: digest "nope"`},
		{[]string{"rewrite", "--table", "T"}, `appendonly: unknown command "rewrite"`},
		{[]string{"append", "--table", "T", "--chain", "c", "--item", "[1]"}, "appendonly: append: the item is not a JSON object"},
	} {
		code, _, errOut := cli(t, "", c.args...)
		if code != 2 || !strings.Contains(errOut, c.want) {
			t.Errorf("%v: exit %d, %q; want 2 and %q", c.args, code, errOut, c.want)
		}
	}
	if code, _, errOut := cli(t, "", "--help"); code != 0 || !strings.Contains(errOut, "appendonly verify --table T [--chain C] [--digest D]") {
		t.Errorf("--help: exit %d, %q", code, errOut)
	}
}
