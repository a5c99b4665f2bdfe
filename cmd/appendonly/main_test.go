package main

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"golang.org/x/mod/sumdb/note"

	"github.com/appendonly/appendonly/ddbexport"
	"github.com/appendonly/appendonly/internal/fakedynamo"
	"github.com/appendonly/appendonly/journal"
	"github.com/appendonly/appendonly/ledger"
)

const tableArn = "arn:aws:dynamodb:us-east-1:111122223333:table/Music"

type env struct {
	t      *testing.T
	fake   *fakedynamo.Server
	db     *deps
	dir    string
	vkey   string
	seq    *journal.Sequencer
	synced int
	// settled counts verify's waits for the journal to catch up; onSettle
	// runs in each.
	settled  int
	onSettle func()
}

func newEnv(t *testing.T) *env {
	f := fakedynamo.New(map[string]fakedynamo.Table{"Music": {PartitionKey: "Artist", SortKey: "SongTitle"}})
	db, _ := f.Start(t)
	skey, vkey, err := note.GenerateKey(rand.Reader, tableArn)
	if err != nil {
		t.Fatal(err)
	}
	signer, _ := note.NewSigner(skey)
	verifier, _ := note.NewVerifier(vkey)
	dir := t.TempDir()
	store := &journal.DirStore{Dir: dir}
	e := &env{t: t, fake: f, dir: dir, vkey: vkey,
		seq: &journal.Sequencer{Store: store, Signer: signer, Verifier: verifier, Origin: tableArn}}
	e.db = &deps{db: db, sleep: func(context.Context, time.Duration) error {
		e.settled++
		if e.onSettle != nil {
			e.onSettle()
		}
		return nil
	}}
	return e
}

// sequence delivers the fake's new stream records to the sequencer, as
// Lambda would.
func (e *env) sequence() {
	e.t.Helper()
	var ev events.DynamoDBEvent
	if err := json.Unmarshal(e.fake.StreamEvent(e.synced, 0), &ev); err != nil {
		e.t.Fatal(err)
	}
	e.synced = e.fake.StreamLen()
	records, err := journal.FromLambda(ev)
	if err != nil {
		e.t.Fatal(err)
	}
	if _, err := e.seq.Integrate(context.Background(), records); err != nil {
		e.t.Fatal(err)
	}
}

func (e *env) cli(stdin string, args ...string) (int, string, string) {
	e.t.Helper()
	var out, errOut bytes.Buffer
	d := *e.db
	code := run(context.Background(), args, strings.NewReader(stdin), &out, &errOut, &d)
	return code, out.String(), errOut.String()
}

func TestAppendVerifyProve(t *testing.T) {
	e := newEnv(t)
	if code, out, _ := e.cli("", "verify", "--table", "Music", "--dir", e.dir, "--verifier-key", e.vkey); code != 0 || !strings.Contains(out, "nothing to verify") {
		t.Errorf("empty: exit %d, %q, want 0 and nothing to verify", code, out)
	}
	for _, item := range []string{
		`{"Artist": "Acme Band", "SongTitle": "PartiQL Rocks"}`,
		`{"Artist": "Acme Band", "SongTitle": "Second Song", "AwardsWon": 1.50}`,
	} {
		if code, out, errOut := e.cli("", "append", "--table", "Music", "--item", item); code != 0 {
			t.Fatalf("append: exit %d, %q, %q", code, out, errOut)
		}
	}
	if code, _, errOut := e.cli(`{"Artist": "Acme Band", "SongTitle": "PartiQL Rocks"}`, "append", "--table", "Music"); code != 2 || !strings.Contains(errOut, "exists") {
		t.Errorf("duplicate: exit %d, %q, want 2 and the duplicate named", code, errOut)
	}
	// Appended and not sequenced, after verify waited: named, not called
	// intact. Sequenced while verify waits: not yet covered.
	if code, out, errOut := e.cli("", "verify", "--table", "Music", "--dir", e.dir, "--verifier-key", e.vkey); code != 1 || !strings.Contains(out, "not journaled") || e.settled != 1 ||
		!strings.Contains(errOut, "verify: 2 items in the table are in no journal entry yet: looking again in 1m0s") {
		t.Errorf("before sequencing: exit %d, %q, %q, %d waits", code, out, errOut, e.settled)
	}
	e.onSettle = e.sequence
	if code, out, _ := e.cli("", "verify", "--table", "Music", "--dir", e.dir, "--verifier-key", e.vkey); code != 0 || !strings.Contains(out, "2 items are not yet covered") || e.settled != 2 {
		t.Errorf("sequenced while verify waits: exit %d, %q, %d waits", code, out, e.settled)
	}
	e.onSettle = nil
	code, out, errOut := e.cli("", "verify", "--table", "Music", "--dir", e.dir, "--verifier-key", e.vkey)
	if code != 0 || !strings.Contains(out, "intact") || !strings.Contains(out, "2 items") {
		t.Fatalf("verify: exit %d, %q, %q", code, out, errOut)
	}

	file := filepath.Join(t.TempDir(), "song.tlog-proof")
	code, out, errOut = e.cli("", "prove", "--table", "Music", "--dir", e.dir, "--verifier-key", e.vkey,
		"--key", `{"Artist": "Acme Band", "SongTitle": "Second Song"}`, "--out", file)
	if code != 0 || !strings.Contains(out, "wrote "+file+": entry 1, the INSERT of item") {
		t.Fatalf("prove: exit %d, %q, %q", code, out, errOut)
	}
	proof, _ := os.ReadFile(file)
	if !strings.HasPrefix(string(proof), "c2sp.org/tlog-proof@v1\nextra ") {
		t.Errorf("the proof is not a tlog-proof@v1 with its entry as extra data:\n%s", proof)
	}
	keyFile := filepath.Join(t.TempDir(), "key")
	_ = os.WriteFile(keyFile, []byte(e.vkey+"\n"), 0o644)
	code, out, _ = e.cli("", "check-proof", file, "--verifier-key", "@"+keyFile) // a flag after the file is read as one
	if code != 0 || !strings.Contains(out, "the proof holds: entry 1") || !strings.Contains(out, `"AwardsWon":15E-1`) {
		t.Errorf("check-proof: exit %d, %q", code, out)
	}
	if code, out, _ := e.cli(strings.Replace(string(proof), "index 1", "index 0", 1), "check-proof", "--verifier-key", e.vkey); code != 1 || !strings.Contains(out, "does not hold") {
		t.Errorf("check-proof of a changed proof: exit %d, %q, want 1", code, out)
	}

	// Tampering, past every policy: a changed item, a deleted one, and a
	// change the table reported on its stream.
	e.fake.Put("Music", fakedynamo.Item{"Artist": map[string]any{"S": "Acme Band"}, "SongTitle": map[string]any{"S": "PartiQL Rocks"}, "AwardsWon": map[string]any{"N": "3"}})
	e.fake.Modify("Music", fakedynamo.Item{"Artist": map[string]any{"S": "Acme Band"}, "SongTitle": map[string]any{"S": "Second Song"}})
	e.sequence()
	code, out, _ = e.cli("", "verify", "--table", "Music", "--dir", e.dir, "--verifier-key", e.vkey)
	if code != 1 || !strings.Contains(out, `changed: item {"Artist":"Acme Band","SongTitle":"PartiQL Rocks"} (journal entry 0)`) ||
		!strings.Contains(out, `modified: item {"Artist":"Acme Band","SongTitle":"Second Song"} (journal entry 2)`) {
		t.Errorf("after tampering: exit %d, %q", code, out)
	}

	// The modified song's proof carries its later entry, and checking the
	// two says the item changed.
	code, out, _ = e.cli("", "prove", "--table", "Music", "--dir", e.dir, "--verifier-key", e.vkey,
		"--key", `{"Artist": "Acme Band", "SongTitle": "Second Song"}`, "--out", file)
	later := strings.TrimSuffix(file, ".tlog-proof") + ".2.tlog-proof"
	if code != 1 || !strings.Contains(out, "wrote "+later+": entry 2, the MODIFY") || !strings.Contains(out, "the item changed after it was journaled") {
		t.Fatalf("prove after a MODIFY: exit %d, %q", code, out)
	}
	code, out, _ = e.cli("", "check-proof", "--verifier-key", e.vkey, later, file)
	if code != 1 || !strings.Contains(out, "the proof holds: entry 1 (the INSERT") || !strings.Contains(out, "entry 2 (the MODIFY") ||
		!strings.Contains(out, "the item changed after it was journaled") {
		t.Errorf("check-proof of the history: exit %d, %q", code, out)
	}
	if code, out, _ := e.cli("", "check-proof", "--verifier-key", e.vkey, later); code != 1 || !strings.Contains(out, "the item changed") {
		t.Errorf("check-proof of the MODIFY alone: exit %d, %q, want 1 and the change named", code, out)
	}
}

// TestTypedKeys proves items whose keys are numbers and binary, given as
// JSON or DynamoDB JSON; a value of the wrong type is a usage error naming
// the attribute and its type, never "not in the journal".
func TestTypedKeys(t *testing.T) {
	f := fakedynamo.New(map[string]fakedynamo.Table{"Ledger": {PartitionKey: "account", SortKey: "seq", KeyTypes: map[string]string{"account": "B", "seq": "N"}}})
	db, _ := f.Start(t)
	origin := "arn:aws:dynamodb:us-east-1:111122223333:table/Ledger"
	skey, vkey, _ := note.GenerateKey(rand.Reader, origin)
	signer, _ := note.NewSigner(skey)
	verifier, _ := note.NewVerifier(vkey)
	dir := t.TempDir()
	e := &env{t: t, fake: f, db: &deps{db: db}, dir: dir, vkey: vkey,
		seq: &journal.Sequencer{Store: &journal.DirStore{Dir: dir}, Signer: signer, Verifier: verifier, Origin: origin}}
	item := map[string]types.AttributeValue{"account": &types.AttributeValueMemberB{Value: []byte{0, 1, 2}},
		"seq": &types.AttributeValueMemberN{Value: "42"}, "amount": &types.AttributeValueMemberN{Value: "100"}}
	if err := ledger.Append(context.Background(), db, "Ledger", item); err != nil {
		t.Fatal(err)
	}
	e.sequence()
	file := filepath.Join(t.TempDir(), "p.tlog-proof")
	for _, key := range []string{`{"account": {"B": "AAEC"}, "seq": 42}`, `{"account": {"B": "AAEC"}, "seq": {"N": "42.0"}}`} {
		if code, out, errOut := e.cli("", "prove", "--table", "Ledger", "--dir", dir, "--verifier-key", vkey, "--key", key, "--out", file); code != 0 {
			t.Errorf("prove %s: exit %d, %q, %q", key, code, out, errOut)
		}
	}
	for key, want := range map[string]string{
		`{"account": "AAEC", "seq": 42}`:                    `"account" is binary (B) in the table, given a string: give it as {"B": "<base64>"}`,
		`{"account": {"B": "AAEC"}, "seq": "42"}`:           `"seq" is a number (N) in the table, given a string`,
		`{"account": {"S": "AAEC"}, "seq": 42}`:             `"account" is binary (B) in the table, given a string (S)`,
		`{"account": {"B": "not base64!"}, "seq": 42}`:      `"account": "not base64!" is not base64`,
		`{"account": {"B": "AAEC"}, "seq": {"N": "forty"}}`: `"seq": "forty" is not a DynamoDB number`,
		`{"account": {"B": "AAEC"}, "seq": true}`:           `"seq" is a number (N) in the table, given a boolean`,
	} {
		if code, _, errOut := e.cli("", "prove", "--table", "Ledger", "--dir", dir, "--verifier-key", vkey, "--key", key, "--out", file); code != 2 || !strings.Contains(errOut, want) {
			t.Errorf("prove %s: exit %d, %q, want 2 and %q", key, code, errOut, want)
		}
	}
}

func TestUsageErrors(t *testing.T) {
	e := newEnv(t)
	_, other, _ := note.GenerateKey(rand.Reader, "arn:aws:dynamodb:us-east-1:111122223333:table/Other")
	for _, c := range []struct {
		args []string
		want string
	}{
		{[]string{"frobnicate"}, `unknown command "frobnicate"`},
		{[]string{"nosuch", "--help"}, `unknown command "nosuch"`},
		{[]string{"verify"}, "--table is required"},
		{[]string{"verify", "--tabel", "Music"}, "flag provided but not defined: -tabel"},
		{[]string{"verify", "--table", "Musik", "--dir", e.dir, "--verifier-key", e.vkey}, "table Musik not found"},
		{[]string{"verify", "--table", "Music", "--dir", e.dir}, "--verifier-key is required"},
		{[]string{"verify", "--table", "Music", "--dir", e.dir, "--verifier-key", "garbage"}, "want name+hash+key"},
		{[]string{"verify", "--table", "Music", "--dir", e.dir, "--verifier-key", other}, "not table Music's"},
		{[]string{"verify", "--table", "Music", "--dir", filepath.Join(e.dir, "nosuch"), "--verifier-key", e.vkey}, "is not a directory"},
		{[]string{"prove", "--table", "Music", "--dir", e.dir, "--verifier-key", e.vkey, "--key", `{"Artsit": "x", "SongTitle": "y"}`}, `no "Artist"`},
		{[]string{"prove", "--table", "Music", "--dir", e.dir, "--verifier-key", e.vkey, "--key", `{"Artist": "x", "SongTitle": "y", "z": 1}`}, `"z" is not a key attribute`},
		{[]string{"check-proof", "--verifier-key", e.vkey, "/nonexistent"}, "no such file"},
		{[]string{"prove", "--table", "Music", "--dir", e.dir, "--verifier-key", e.vkey, "--key", `{"Artist": "x", "SongTitle": "y"}`, "--out", "p.txt"}, "ends in .tlog-proof"},
		{[]string{"prove", "--table", "Music", "--dir", e.dir, "--verifier-key", e.vkey, "--key", `{"Artist": "x", "SongTitle": "y"}`, "--checkpoint", "main_test.go"}, "is not a checkpoint signed with --verifier-key"},
		{[]string{"probe"}, "--table is required"},
		{[]string{"probe", "--table", "Musik"}, "table Musik not found"},
		{[]string{"probe", "--table", "Music", "--insret"}, "flag provided but not defined: -insret"},
		{[]string{"probe", "--table", "Music", "--as", "root"}, "--as root: want user (a principal the construct grants to), administrator or deployer"},
		{[]string{"append", "--table", "Music", "--insert"}, "--insert: not a flag of append, whose flags are --table, --item"},
		{[]string{"verify", "--table", "Music", "extra"}, `unexpected argument "extra": verify takes flags only`},
		{[]string{"check-proof", "--verifier-key", "main_test.go"}, "that is a file: give it as --verifier-key @main_test.go"},
	} {
		code, out, errOut := e.cli("", c.args...)
		if code != 2 || !strings.Contains(errOut, c.want) || strings.Contains(out, "intact") {
			t.Errorf("%v: exit %d, stdout %q, stderr %q; want 2 and %q", c.args, code, out, errOut, c.want)
		}
	}
	// Each command's help and mistakes print its own usage, not the six.
	for _, args := range [][]string{{"probe", "--help"}, {"verify", "--tabel", "Music"}} {
		code, _, errOut := e.cli("", args...)
		if !strings.Contains(errOut, "appendonly "+args[0]+" ") || strings.Contains(errOut, "appendonly append --table") || (code != 0) != (args[1] != "--help") {
			t.Errorf("%v: exit %d, %q: want the usage of %s alone", args, code, errOut, args[0])
		}
	}
	if code, _, errOut := e.cli("", "--help"); code != 0 || !strings.Contains(errOut, "check-proof") || !strings.Contains(errOut, "--segments") || !strings.Contains(errOut, "probe --table") {
		t.Errorf("--help: exit %d, %q", code, errOut)
	}
}

func TestVerifierKey(t *testing.T) {
	e := newEnv(t)
	der := []byte{0x30, 0x2a, 0x30, 0x05, 0x06, 0x03, 0x2b, 0x65, 0x70, 0x03, 0x21, 0x00}
	der = append(der, bytes.Repeat([]byte{7}, 32)...)
	e.db.kms = func(context.Context, string) ([]byte, error) { return der, nil }
	code, out, errOut := e.cli("", "verifier-key", "--table", "Music", "--kms-key", "alias/journal")
	if code != 0 || !strings.HasPrefix(out, tableArn+"+") {
		t.Fatalf("exit %d, %q, %q", code, out, errOut)
	}
	if _, err := note.NewVerifier(strings.TrimSpace(out)); err != nil {
		t.Errorf("the printed key does not parse: %v", err)
	}
}

// The probe through the command line, against the fake, which knows none
// of the write operations: each is reported as not probed, never as denied,
// and a table without deletion protection is reported as not append-only.
func TestProbe(t *testing.T) {
	e := newEnv(t)
	code, out, errOut := e.cli("", "probe", "--table", "Music", "--json")
	if code != 1 {
		t.Fatalf("exit %d, want 1; stderr %q", code, errOut)
	}
	var report struct {
		Table      string
		AppendOnly bool
		Results    []struct{ Path, Outcome, Detail string }
	}
	if err := json.Unmarshal([]byte(out), &report); err != nil {
		t.Fatalf("--json: %v\n%s", err, out)
	}
	if report.Table != "Music" || report.AppendOnly || len(report.Results) == 0 {
		t.Errorf("report %+v", report)
	}
	for _, r := range report.Results {
		if r.Outcome == "denied" {
			t.Errorf("%s: denied by a fake with no IAM: %s", r.Path, r.Detail)
		}
	}
}

// TestDamageExitsOne: a garbage sequence claim, or a claim nobody signed,
// is damage to the journal, named with exit status 1, never an access
// error.
func TestDamageExitsOne(t *testing.T) {
	e := newEnv(t)
	if code, _, errOut := e.cli("", "append", "--table", "Music", "--item", `{"Artist": "Acme Band", "SongTitle": "One"}`); code != 0 {
		t.Fatal(errOut)
	}
	e.sequence()
	if err := os.MkdirAll(filepath.Join(e.dir, "appendonly", "sequence"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(e.dir, "appendonly", "sequence", "1"), []byte("garbage"), 0o444); err != nil {
		t.Fatal(err)
	}
	code, out, errOut := e.cli("", "verify", "--table", "Music", "--dir", e.dir, "--verifier-key", e.vkey)
	if code != 1 || !strings.Contains(out, "forged claim") || !strings.Contains(out, "appendonly/sequence/1") {
		t.Errorf("exit %d, %q, %q: want 1 and the claim named", code, out, errOut)
	}
}

// TestVerifySince keeps the checkpoint a full verify checked, then checks
// only what was appended since, reading the new items by key.
func TestVerifySince(t *testing.T) {
	e := newEnv(t)
	appendSong := func(title string) {
		t.Helper()
		if code, _, errOut := e.cli("", "append", "--table", "Music", "--item", `{"Artist": "Acme Band", "SongTitle": "`+title+`"}`); code != 0 {
			t.Fatal(errOut)
		}
	}
	appendSong("One")
	appendSong("Two")
	e.sequence()
	kept := filepath.Join(t.TempDir(), "checkpoint")
	if code, out, errOut := e.cli("", "verify", "--table", "Music", "--dir", e.dir, "--verifier-key", e.vkey, "--checkpoint-out", kept); code != 0 || !strings.Contains(out, "wrote the newest checkpoint to "+kept) {
		t.Fatalf("full verify: exit %d, %q, %q", code, out, errOut)
	}
	appendSong("Three")
	e.sequence()
	appendSong("Four") // appended, not yet journaled: not yet covered, never a problem
	code, out, errOut := e.cli("", "verify", "--table", "Music", "--dir", e.dir, "--verifier-key", e.vkey, "--since", kept)
	if code != 0 || !strings.Contains(out, "1 entries appended since the checkpoint of 2, up to the newest checkpoint of 3") || !strings.Contains(out, "intact since") {
		t.Errorf("since: exit %d, %q, %q", code, out, errOut)
	}
	e.fake.Put("Music", fakedynamo.Item{"Artist": map[string]any{"S": "Acme Band"}, "SongTitle": map[string]any{"S": "Three"}, "Year": map[string]any{"N": "1999"}})
	code, out, _ = e.cli("", "verify", "--table", "Music", "--dir", e.dir, "--verifier-key", e.vkey, "--since", kept)
	if code != 1 || !strings.Contains(out, `changed: item {"Artist":"Acme Band","SongTitle":"Three"} (journal entry 2)`) {
		t.Errorf("since, after a change: exit %d, %q", code, out)
	}
	for _, c := range []struct {
		args []string
		want string
	}{
		{[]string{"--since", "main_test.go"}, "--since main_test.go: journal: not a checkpoint signed with the journal's key"},
		{[]string{"--since", "/nonexistent"}, "--since: open /nonexistent"},
		{[]string{"--segments", "-3"}, "--segments -3: want 1 or more"},
		{[]string{"--checkpoint-out", "/nonexistent/dir/file"}, "--checkpoint-out: open /nonexistent/dir/file"},
	} {
		args := append([]string{"verify", "--table", "Music", "--dir", e.dir, "--verifier-key", e.vkey}, c.args...)
		if code, _, errOut := e.cli("", args...); code != 2 || !strings.Contains(errOut, c.want) {
			t.Errorf("%v: exit %d, %q, want 2 and %q", c.args, code, errOut, c.want)
		}
	}
}

// export writes the fake table as a DynamoDB export at time at.
func (e *env) export(at time.Time) string {
	e.t.Helper()
	dir := e.t.TempDir()
	w, err := ddbexport.NewWriter(dir, tableArn, at)
	if err != nil {
		e.t.Fatal(err)
	}
	for _, it := range e.fake.Items("Music") {
		data, _ := json.Marshal(it)
		av, err := ddbexport.DecodeItem(data)
		if err != nil {
			e.t.Fatal(err)
		}
		if err := w.Add(av); err != nil {
			e.t.Fatal(err)
		}
	}
	if err := w.Close(); err != nil {
		e.t.Fatal(err)
	}
	return dir
}

// TestVerifyAndProveOffline verifies a journal copied to a directory
// against an export of its table, and proves an item, with no AWS at all
// (no DynamoDB client: a call would fail the test), the table's key
// attributes read from the journal.
func TestVerifyAndProveOffline(t *testing.T) {
	e := newEnv(t)
	for _, title := range []string{"One", "Two", "Three"} {
		if code, _, errOut := e.cli("", "append", "--table", "Music", "--item", `{"Artist": "Acme Band", "SongTitle": "`+title+`", "Year": 2001}`); code != 0 {
			t.Fatal(errOut)
		}
	}
	e.sequence()
	exported := e.export(time.Now())
	e.db.db = nil
	code, out, errOut := e.cli("", "verify", "--dir", e.dir, "--verifier-key", e.vkey, "--export", exported)
	if code != 0 || !strings.Contains(out, "the export of "+tableArn+" at ") || !strings.Contains(out, ": 3 items") || !strings.Contains(out, "intact") {
		t.Errorf("verify an export: exit %d, %q, %q", code, out, errOut)
	}
	file := filepath.Join(t.TempDir(), "two.tlog-proof")
	code, out, errOut = e.cli("", "prove", "--dir", e.dir, "--verifier-key", e.vkey, "--key", `{"Artist": "Acme Band", "SongTitle": "Two"}`, "--out", file)
	if code != 0 || !strings.Contains(out, "wrote "+file+": entry 1") {
		t.Errorf("prove offline: exit %d, %q, %q", code, out, errOut)
	}
	if code, _, errOut := e.cli("", "prove", "--dir", e.dir, "--verifier-key", e.vkey, "--key", `{"Artist": "Acme Band", "SongTitle": 2}`); code != 2 || !strings.Contains(errOut, `"SongTitle" is a string (S) in the table, given a number`) {
		t.Errorf("a key of the wrong type, offline: exit %d, %q", code, errOut)
	}

	// Changed behind the journal's back, then exported: named. An item
	// journaled after the export's time and not in it: counted.
	e.fake.Put("Music", fakedynamo.Item{"Artist": map[string]any{"S": "Acme Band"}, "SongTitle": map[string]any{"S": "One"}, "Year": map[string]any{"N": "1999"}})
	changed := e.export(time.Now())
	code, out, _ = e.cli("", "verify", "--dir", e.dir, "--verifier-key", e.vkey, "--export", changed)
	if code != 1 || !strings.Contains(out, `changed: item {"Artist":"Acme Band","SongTitle":"One"} (journal entry 0)`) {
		t.Errorf("a changed item in the export: exit %d, %q", code, out)
	}
	code, out, _ = e.cli("", "verify", "--dir", e.dir, "--verifier-key", e.vkey, "--export", e.emptyExport(time.Unix(1000, 0)))
	if code != 0 || !strings.Contains(out, "3 items journaled after the table was read are not in it") {
		t.Errorf("an export older than the journal: exit %d, %q", code, out)
	}

	_, other, _ := note.GenerateKey(rand.Reader, "arn:aws:dynamodb:us-east-1:111122223333:table/Other")
	for _, c := range []struct {
		args []string
		want string
	}{
		{[]string{"verify", "--dir", e.dir, "--verifier-key", e.vkey}, "--table is required (or --export"},
		{[]string{"verify", "--dir", e.dir, "--verifier-key", other, "--export", exported}, "an export of " + tableArn + ", not of the journal's table"},
		{[]string{"verify", "--dir", e.dir, "--verifier-key", e.vkey, "--export", "/nonexistent"}, "--export /nonexistent: not a directory"},
		{[]string{"verify", "--dir", e.dir, "--verifier-key", e.vkey, "--export", e.dir}, "no manifest-summary.json"},
		{[]string{"verify", "--dir", e.dir, "--verifier-key", e.vkey, "--export", exported, "--since", "main_test.go"}, "--table is required with --since"},
		{[]string{"verify", "--dir", t.TempDir(), "--verifier-key", e.vkey, "--export", exported}, "the journal has no entry yet"},
		{[]string{"verify", "--dir", e.dir, "--verifier-key", e.vkey, "--export", exported, "--settle", "-1s"}, "--settle -1s: want 0 or more"},
	} {
		if code, _, errOut := e.cli("", c.args...); code != 2 || !strings.Contains(errOut, c.want) {
			t.Errorf("%v: exit %d, %q, want 2 and %q", c.args, code, errOut, c.want)
		}
	}
}

// emptyExport writes an export of no items at time at.
func (e *env) emptyExport(at time.Time) string {
	dir := e.t.TempDir()
	w, _ := ddbexport.NewWriter(dir, tableArn, at)
	if err := w.Close(); err != nil {
		e.t.Fatal(err)
	}
	return dir
}

// TestProgress: a long verify says on stderr what it has read, how fast,
// and how long its phase has left; a short one says nothing.
func TestProgress(t *testing.T) {
	clock := time.Unix(0, 0)
	var buf bytes.Buffer
	pp := &progressPrinter{w: &buf, now: func() time.Time { return clock }, start: clock, last: clock, items: 1000000}
	step := func(d time.Duration, p journal.Progress) {
		clock = clock.Add(d)
		pp.print(p)
	}
	step(time.Second, journal.Progress{Phase: "table", Items: 100000})
	step(time.Second, journal.Progress{Phase: "table", Items: 200000})
	if buf.Len() != 0 {
		t.Fatalf("printed within the first seconds: %q", buf.String())
	}
	step(3*time.Second, journal.Progress{Phase: "table", Items: 500000})
	step(5*time.Second, journal.Progress{Phase: "table", Items: 1000000, Done: true})
	step(10*time.Second, journal.Progress{Phase: "journal", Items: 1000000, Entries: 400000, EntriesTotal: 1000000})
	want := "verify: table: 500000 items read of about 1000000 after 5s, 100000 a second, about 5s left in this phase\n" +
		"verify: table: 1000000 items read of about 1000000 after 10s: done\n" +
		"verify: journal: 400000 entries read of about 1000000 after 20s, 40000 a second, about 15s left in this phase\n"
	if buf.String() != want {
		t.Errorf("got\n%s\nwant\n%s", buf.String(), want)
	}
}

// TestCheckCommand: appendonly check over the construct's own cloud
// assembly (check's fixture): 0 as synthesized; 1 with one line naming a
// write grant added by hand; 2 for what is not an assembly or too many
// arguments.
func TestCheckCommand(t *testing.T) {
	dir := t.TempDir()
	files, _ := filepath.Glob("../../check/testdata/assembly/*.json")
	for _, f := range files {
		data, _ := os.ReadFile(f)
		if filepath.Base(f) == "LedgerStack.template.json" {
			data = []byte(strings.Replace(string(data), `"Resources": {`, `"Resources": {
  "Backdoor": {"Type": "AWS::IAM::Policy", "Properties": {"PolicyName": "b", "Roles": [{"Ref": "ReaderF7BF189D"}],
    "PolicyDocument": {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "dynamodb:*", "Resource": {"Fn::GetAtt": ["Ledger0B0DA0A5", "Arn"]}}]}}},`, 1))
		}
		_ = os.WriteFile(filepath.Join(dir, filepath.Base(f)), data, 0o644)
	}
	var out, errOut bytes.Buffer
	if code := run(context.Background(), []string{"check", "../../check/testdata/assembly"}, nil, &out, &errOut, nil); code != 0 || !strings.Contains(out.String(), "1 append-only tables") {
		t.Errorf("as synthesized: exit %d, %q, %q", code, out.String(), errOut.String())
	}
	out.Reset()
	if code := run(context.Background(), []string{"check", dir}, nil, &out, &errOut, nil); code != 1 ||
		!strings.Contains(out.String(), "fatal: LedgerStack.template.json Backdoor Properties/PolicyDocument") || !strings.Contains(out.String(), "1 findings in "+dir) {
		t.Errorf("a grant added by hand: exit %d, %q", code, out.String())
	}
	for _, args := range [][]string{{"check", t.TempDir()}, {"check", "a", "b"}, {"check", "--nosuch"}} {
		errOut.Reset()
		if code := run(context.Background(), args, nil, &out, &errOut, nil); code != 2 || errOut.Len() == 0 {
			t.Errorf("%v: exit %d, %q, want 2 and a message", args, code, errOut.String())
		}
	}
}
