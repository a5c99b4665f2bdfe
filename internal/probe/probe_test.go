package probe

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	s3types "github.com/aws/aws-sdk-go-v2/service/s3/types"

	"github.com/appendonly/appendonly/internal/cdktest"
	"github.com/appendonly/appendonly/internal/fakedynamo"
	"github.com/appendonly/appendonly/internal/versity"
)

// dynalite starts dynalite (npm, pinned in package-lock.json), a DynamoDB
// engine nobody here wrote, with faithful condition expressions and no IAM:
// every call is allowed.
func dynalite(t *testing.T) *dynamodb.Client {
	t.Helper()
	root, err := cdktest.RepoRoot()
	if err != nil {
		t.Fatal(err)
	}
	cli := filepath.Join(root, "node_modules", "dynalite", "cli.js")
	if _, err := os.Stat(cli); err != nil {
		t.Fatalf("dynalite is not installed (%v): run make deps", err)
	}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	port := l.Addr().(*net.TCPAddr).Port
	l.Close()
	node := filepath.Join(root, "node_modules", "node", "bin", "node")
	if _, err := os.Stat(node); err != nil {
		node = "node"
	}
	cmd := exec.Command(node, cli, "--port", fmt.Sprint(port), "--createTableMs", "0", "--deleteTableMs", "0", "--updateTableMs", "0")
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = cmd.Process.Kill(); _ = cmd.Wait() })
	for i := 0; ; i++ {
		c, err := net.Dial("tcp", fmt.Sprintf("127.0.0.1:%d", port))
		if err == nil {
			c.Close()
			break
		}
		if i > 100 {
			t.Fatalf("dynalite did not start: %s", stderr.String())
		}
		time.Sleep(50 * time.Millisecond)
	}
	return fakedynamo.NewClient(fmt.Sprintf("http://127.0.0.1:%d", port))
}

// snapshot is everything the probe must not change: every item and the
// table's description, as JSON.
func snapshot(t *testing.T, db *dynamodb.Client, table string) string {
	t.Helper()
	ctx := context.Background()
	out, err := db.Scan(ctx, &dynamodb.ScanInput{TableName: aws.String(table), ConsistentRead: aws.Bool(true)})
	if err != nil {
		t.Fatal(err)
	}
	var items []string
	for _, it := range out.Items {
		data, _ := json.Marshal(it)
		items = append(items, string(data))
	}
	sort.Strings(items)
	d, err := db.DescribeTable(ctx, &dynamodb.DescribeTableInput{TableName: aws.String(table)})
	if err != nil {
		t.Fatal(err)
	}
	desc, _ := json.Marshal(d.Table)
	return strings.Join(items, "\n") + "\n" + string(desc)
}

// Every probe against an engine that allows everything: the table's items
// and description are byte for byte what they were. dynalite does not know
// PartiQL, transactions, TTL, backups or resource policies: those paths
// must come out not probed, never denied.
func TestAllowAllChangesNothing(t *testing.T) {
	db := dynalite(t)
	ctx := context.Background()
	const table = "Music"
	_, err := db.CreateTable(ctx, &dynamodb.CreateTableInput{
		TableName:   aws.String(table),
		BillingMode: types.BillingModePayPerRequest,
		AttributeDefinitions: []types.AttributeDefinition{
			{AttributeName: aws.String("Artist"), AttributeType: types.ScalarAttributeTypeS},
			{AttributeName: aws.String("Year"), AttributeType: types.ScalarAttributeTypeN},
		},
		KeySchema: []types.KeySchemaElement{
			{AttributeName: aws.String("Artist"), KeyType: types.KeyTypeHash},
			{AttributeName: aws.String("Year"), KeyType: types.KeyTypeRange},
		},
	})
	if err != nil {
		t.Fatal(err)
	}
	for i := range 5 {
		if _, err := db.PutItem(ctx, &dynamodb.PutItemInput{TableName: aws.String(table), Item: map[string]types.AttributeValue{
			"Artist": &types.AttributeValueMemberS{Value: fmt.Sprintf("Artist %d", i)},
			"Year":   &types.AttributeValueMemberN{Value: fmt.Sprint(1990 + i)},
			"Title":  &types.AttributeValueMemberS{Value: "Song"},
		}}); err != nil {
			t.Fatal(err)
		}
	}
	before := snapshot(t, db, table)
	results, err := (&Prober{DB: db}).Run(ctx, Target{Table: table})
	if err != nil {
		t.Fatal(err)
	}
	if after := snapshot(t, db, table); after != before {
		t.Fatalf("the probe changed the table:\nbefore\n%s\nafter\n%s", before, after)
	}
	var out bytes.Buffer
	code := Print(&out, table, results, false)
	t.Logf("report against dynalite:\n%s", out.String())
	want := map[string]Outcome{
		"PutItem": Allowed, "UpdateItem": Allowed, "DeleteItem": Allowed, "BatchWriteItem": Allowed,
		"PartiQL UPDATE": NotProbed, "PartiQL transaction UPDATE": NotProbed, "UpdateTimeToLive": NotProbed,
		"DeleteTable": NotProbed, "PutResourcePolicy": NotProbed, "DeleteBackup": NotProbed,
	}
	for _, r := range results {
		if r.Outcome == Denied {
			t.Errorf("%s: denied by an engine with no IAM (%s)", r.Path, r.Detail)
		}
		if w, ok := want[r.Path]; ok && r.Outcome != w {
			t.Errorf("%s: got %s (%s), want %s", r.Path, r.Outcome, r.Detail, w)
		}
	}
	if code != 1 {
		t.Errorf("exit status %d, want 1: every write is allowed", code)
	}
}

// aws answers as DynamoDB does for a principal whose policies deny the
// listed operations (with the message form of the policy kind), and passes
// the rest to fakedynamo, which knows PartiQL INSERT, reads and
// DescribeTable; the describes fakedynamo lacks are answered here as AWS
// answers them for an append-only table.
type aws2 struct {
	next    http.Handler
	deny    map[string]string // operation (or PartiQL verb): policy kind
	allowed map[string]string // operation: the error DynamoDB gives after authorizing
}

func (a *aws2) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	op := strings.TrimPrefix(r.Header.Get("X-Amz-Target"), "DynamoDB_20120810.")
	body, _ := io.ReadAll(r.Body)
	var in map[string]any
	_ = json.Unmarshal(body, &in)
	action := op
	stmt, _ := in["Statement"].(string)
	for _, list := range []string{"Statements", "TransactStatements"} {
		if l, ok := in[list].([]any); ok && len(l) > 0 {
			stmt, _ = l[0].(map[string]any)["Statement"].(string)
		}
	}
	if stmt != "" {
		action = op + " " + strings.Fields(stmt)[0]
	}
	reply := func(status int, v any) {
		w.Header().Set("Content-Type", "application/x-amz-json-1.0")
		w.WriteHeader(status)
		_ = json.NewEncoder(w).Encode(v)
	}
	fail := func(typ, msg string) {
		reply(http.StatusBadRequest, map[string]any{"__type": "com.amazonaws.dynamodb.v20120810#" + typ, "message": msg})
	}
	if kind, ok := a.deny[action]; ok {
		fail("AccessDeniedException", "User: arn:aws:iam::111122223333:user/Probe is not authorized to perform: dynamodb:"+op+
			" on resource: arn:aws:dynamodb:us-east-1:111122223333:table/Music "+kind)
		return
	}
	if typ, ok := a.allowed[action]; ok {
		fail(typ, "refused after authorization")
		return
	}
	switch op {
	case "DescribeTimeToLive":
		reply(http.StatusOK, map[string]any{"TimeToLiveDescription": map[string]any{"TimeToLiveStatus": "DISABLED"}})
		return
	case "DescribeContinuousBackups":
		reply(http.StatusOK, map[string]any{"ContinuousBackupsDescription": map[string]any{"ContinuousBackupsStatus": "ENABLED",
			"PointInTimeRecoveryDescription": map[string]any{"PointInTimeRecoveryStatus": "ENABLED", "RecoveryPeriodInDays": 35}}})
		return
	case "GetResourcePolicy":
		reply(http.StatusOK, map[string]any{"Policy": `{"Version":"2012-10-17","Statement":[]}`, "RevisionId": "1764547200000"})
		return
	case "DescribeTable":
		rec := httptest.NewRecorder()
		r.Body = io.NopCloser(bytes.NewReader(body))
		a.next.ServeHTTP(rec, r)
		var out map[string]any
		_ = json.Unmarshal(rec.Body.Bytes(), &out)
		if tbl, ok := out["Table"].(map[string]any); ok {
			tbl["DeletionProtectionEnabled"] = true
			tbl["AttributeDefinitions"] = []any{map[string]any{"AttributeName": "Artist", "AttributeType": "S"}}
		}
		reply(rec.Code, out)
		return
	}
	r.Body = io.NopCloser(bytes.NewReader(body))
	a.next.ServeHTTP(w, r)
}

const (
	resourceDeny = "with an explicit deny in a resource-based policy"
	identityDeny = "with an explicit deny in an identity-based policy"
	implicitDeny = "because no identity-based policy allows the dynamodb action"
)

// Every write path denied, as EnforceTableWide denies them to the
// application's principal.
func tableWide() map[string]string {
	deny := map[string]string{}
	for _, op := range []string{"PutItem", "UpdateItem", "DeleteItem", "BatchWriteItem", "TransactWriteItems",
		"ExecuteStatement UPDATE", "ExecuteStatement DELETE", "BatchExecuteStatement UPDATE", "ExecuteTransaction UPDATE",
		"UpdateTimeToLive", "DeleteTable", "UpdateTable", "PutResourcePolicy", "DeleteResourcePolicy",
		"UpdateContinuousBackups", "DeleteBackup"} {
		deny[op] = resourceDeny
	}
	return deny
}

func start(t *testing.T, a *aws2) *dynamodb.Client {
	fake := fakedynamo.New(map[string]fakedynamo.Table{"Music": {PartitionKey: "Artist"}})
	a.next = fake
	srv := httptest.NewServer(a)
	t.Cleanup(srv.Close)
	return fakedynamo.NewClient(srv.URL)
}

func TestEveryPathDenied(t *testing.T) {
	db := start(t, &aws2{deny: tableWide()})
	results, err := (&Prober{DB: db}).Run(context.Background(), Target{Table: "Music", Insert: true})
	if err != nil {
		t.Fatal(err)
	}
	var out bytes.Buffer
	if code := Print(&out, "Music", results, false); code != 0 {
		t.Errorf("exit status %d, want 0:\n%s", code, out.String())
	}
	for _, r := range results {
		switch {
		case r.Want == Denied && r.Path != "KMS DisableKey and ScheduleKeyDeletion" && (r.Outcome != Denied || r.Detail != "explicitly, by a resource-based policy"):
			t.Errorf("%s: got %s (%s), want denied explicitly by a resource-based policy", r.Path, r.Outcome, r.Detail)
		case r.Path == "INSERT of a fresh item" && r.Outcome != Allowed:
			t.Errorf("INSERT: got %s (%s), want allowed", r.Outcome, r.Detail)
		case r.Path == "duplicate INSERT" && r.Detail != "refused with DuplicateItemException, as it must be":
			t.Errorf("duplicate INSERT: got %s (%s)", r.Outcome, r.Detail)
		}
	}
	if !strings.Contains(out.String(), "  denied     PutItem ") || !strings.Contains(out.String(), "every path that must be denied is denied") {
		t.Errorf("report:\n%s", out.String())
	}
}

// A principal of a table in identity-only mode that another policy lets
// update: the line says so, and the exit status is 1.
func TestAnOpenPath(t *testing.T) {
	deny := tableWide()
	for op := range deny {
		deny[op] = identityDeny
	}
	delete(deny, "UpdateItem")
	deny["DeleteBackup"] = implicitDeny
	db := start(t, &aws2{deny: deny, allowed: map[string]string{"UpdateItem": "ConditionalCheckFailedException"}})
	results, err := (&Prober{DB: db}).Run(context.Background(), Target{Table: "Music"})
	if err != nil {
		t.Fatal(err)
	}
	var out bytes.Buffer
	if code := Print(&out, "Music", results, true); code != 1 {
		t.Errorf("exit status %d, want 1", code)
	}
	var report struct {
		AppendOnly bool
		Results    []Result
	}
	if err := json.Unmarshal(out.Bytes(), &report); err != nil {
		t.Fatalf("--json: %v\n%s", err, out.String())
	}
	if report.AppendOnly {
		t.Error("appendOnly: true, want false")
	}
	got := map[string]Result{}
	for _, r := range report.Results {
		got[r.Path] = r
	}
	if r := got["UpdateItem"]; r.Outcome != Allowed || !r.Problem || !strings.Contains(r.Detail, "ConditionalCheckFailedException") {
		t.Errorf("UpdateItem: %+v, want allowed, a problem", r)
	}
	if r := got["PutItem"]; r.Outcome != Denied || r.Detail != "explicitly, by an identity-based policy" {
		t.Errorf("PutItem: %+v", r)
	}
	if r := got["DeleteBackup"]; r.Outcome != Denied || r.Detail != "no identity-based policy allows it (implicit deny)" {
		t.Errorf("DeleteBackup: %+v", r)
	}
	if r := got["INSERT of a fresh item"]; r.Outcome != NotProbed || !strings.Contains(r.Detail, "--insert") {
		t.Errorf("INSERT without --insert: %+v", r)
	}
	var text bytes.Buffer
	Print(&text, "Music", results, false)
	if !strings.Contains(text.String(), "! allowed    UpdateItem") || !strings.Contains(text.String(), "NOT append-only for this caller: UpdateItem") {
		t.Errorf("report:\n%s", text.String())
	}
}

func TestATableThatDoesNotExist(t *testing.T) {
	db := start(t, &aws2{})
	_, err := (&Prober{DB: db}).Run(context.Background(), Target{Table: "Nosuch"})
	if !errors.Is(err, ErrAccess) || !strings.Contains(err.Error(), "table Nosuch not found") {
		t.Errorf("got %v, want an access error naming the table", err)
	}
}

// The denial kinds, from the message forms AWS documents.
func TestDenialKind(t *testing.T) {
	for msg, want := range map[string]string{
		"... with an explicit deny in a resource-based policy":           "explicitly, by a resource-based policy",
		"... with an explicit deny in a service control policy":          "explicitly, by a service control policy",
		"... because no identity-based policy allows the dynamodb:X":     "no identity-based policy allows it (implicit deny)",
		"... with an explicit deny in a permissions boundary":            "explicitly, by a permissions boundary",
		"User: x is not authorized to perform: dynamodb:PutItem":         "access denied (the message does not say by what)",
		"... because no resource-based policy allows the dynamodb:X ...": "no resource-based policy allows it (implicit deny)",
	} {
		if got := denialKind(msg); got != want {
			t.Errorf("denialKind(%q) = %q, want %q", msg, got, want)
		}
	}
}

// The journal bucket's probes against Versity Gateway as its root user,
// whom nothing denies: every object version, its retention and the bucket's
// lock configuration are what they were.
func TestAllowAllChangesNothingInTheJournalBucket(t *testing.T) {
	s3c, bucket := versity.Start(t, s3types.ObjectLockRetentionModeGovernance)
	ctx := context.Background()
	if _, err := s3c.PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String(bucket), Key: aws.String("tile/0/000"),
		Body: strings.NewReader("a journal tile"), ObjectLockMode: s3types.ObjectLockModeGovernance,
		ObjectLockRetainUntilDate: aws.Time(time.Now().Add(24 * time.Hour).Truncate(time.Second))}); err != nil {
		t.Fatal(err)
	}
	snap := func() string {
		v, err := s3c.ListObjectVersions(ctx, &s3.ListObjectVersionsInput{Bucket: aws.String(bucket)})
		if err != nil {
			t.Fatal(err)
		}
		lock, err := s3c.GetObjectLockConfiguration(ctx, &s3.GetObjectLockConfigurationInput{Bucket: aws.String(bucket)})
		if err != nil {
			t.Fatal(err)
		}
		var b strings.Builder
		for _, o := range v.Versions {
			r, err := s3c.GetObjectRetention(ctx, &s3.GetObjectRetentionInput{Bucket: aws.String(bucket), Key: o.Key, VersionId: o.VersionId})
			if err != nil {
				t.Fatal(err)
			}
			fmt.Fprintf(&b, "%s %s %s %s %v\n", aws.ToString(o.Key), aws.ToString(o.VersionId), aws.ToString(o.ETag), r.Retention.Mode, r.Retention.RetainUntilDate)
		}
		fmt.Fprintf(&b, "delete markers %d\n", len(v.DeleteMarkers))
		data, _ := json.Marshal(lock.ObjectLockConfiguration)
		return b.String() + string(data)
	}
	before := snap()
	db := start(t, &aws2{deny: tableWide()})
	results, err := (&Prober{DB: db, S3: s3c}).Run(ctx, Target{Table: "Music", Bucket: bucket})
	if err != nil {
		t.Fatal(err)
	}
	if after := snap(); after != before {
		t.Fatalf("the probe changed the bucket:\nbefore\n%s\nafter\n%s", before, after)
	}
	var out bytes.Buffer
	Print(&out, "Music", results, false)
	t.Logf("report:\n%s", out.String())
	n := 0
	for _, r := range results {
		if !strings.HasPrefix(r.Path, "S3 ") {
			continue
		}
		n++
		if r.Outcome == Denied {
			t.Errorf("%s: denied to the root user (%s)", r.Path, r.Detail)
		}
	}
	if n != 4 {
		t.Errorf("%d S3 paths probed, want 4", n)
	}
}

// readmeRow is a path's row in the README's table of no-change forms.
func readmeRow(p Path) string {
	return "| " + p.Name + " | " + p.Form + " | " + p.Source + " |"
}

// docs/deploy.md lists every path with its no-change form and its source, as
// Paths has them.
func TestDocsListEveryPath(t *testing.T) {
	readme := cdktest.Doc(t, "docs/deploy.md")
	for _, p := range Paths {
		if !strings.Contains(readme, readmeRow(p)+"\n") {
			t.Errorf("docs/deploy.md lacks the row\n%s", readmeRow(p))
		}
	}
}

// TestProbeAsTheAdministrator: an administrator may delete on-demand
// backups (the table's resource policy does not cover them): expected with
// --as administrator (exit 0), a problem for a user (exit 1).
func TestProbeAsTheAdministrator(t *testing.T) {
	deny := tableWide()
	delete(deny, "DeleteBackup")
	db := start(t, &aws2{deny: deny, allowed: map[string]string{"DeleteBackup": "BackupNotFoundException"}})
	for as, want := range map[string]int{"": 1, "user": 1, "administrator": 0, "deployer": 0} {
		results, err := (&Prober{DB: db}).Run(context.Background(), Target{Table: "Music", As: as})
		if err != nil {
			t.Fatal(err)
		}
		var out bytes.Buffer
		if code := Print(&out, "Music", results, false); code != want {
			t.Errorf("--as %q: exit %d, want %d:\n%s", as, code, want, out.String())
		}
		if as == "administrator" && !strings.Contains(out.String(), "(expected for this caller)") {
			t.Errorf("--as administrator: the allowed DeleteBackup is not marked expected:\n%s", out.String())
		}
	}
}
