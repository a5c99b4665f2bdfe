package main

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strings"
	"testing"

	"github.com/aws/aws-lambda-go/cfn"
	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	ddbtypes "github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	s3types "github.com/aws/aws-sdk-go-v2/service/s3/types"
	"golang.org/x/mod/sumdb/note"

	"github.com/appendonly/appendonly/internal/fakedynamo"
	"github.com/appendonly/appendonly/internal/versity"
	"github.com/appendonly/appendonly/journal"
	"github.com/appendonly/appendonly/ledger"
)

const (
	origin = "arn:aws:dynamodb:us-east-1:111122223333:table/Music"
	stream = origin + "/stream/2026-01-01T00:00:00.000"
)

// A stream event as Lambda delivers it, with every attribute type.
const event = `{"Records":[
 {"eventID":"1","eventName":"INSERT","eventSource":"aws:dynamodb","eventSourceARN":"` + stream + `","dynamodb":{"ApproximateCreationDateTime":1764547200,
  "Keys":{"Artist":{"S":"Acme Band"},"SongTitle":{"S":"PartiQL Rocks"}},
  "NewImage":{"Artist":{"S":"Acme Band"},"SongTitle":{"S":"PartiQL Rocks"},"n":{"N":"1.50"},"b":{"B":"AAE="},"t":{"BOOL":true},
   "z":{"NULL":true},"m":{"M":{"x":{"L":[{"S":"a"},{"N":"2"}]}}},"ss":{"SS":["b","a"]},"ns":{"NS":["2","1"]},"bs":{"BS":["AQ=="]}},
  "SequenceNumber":"111","SizeBytes":100,"StreamViewType":"NEW_AND_OLD_IMAGES"}},
 {"eventID":"2","eventName":"MODIFY","eventSource":"aws:dynamodb","eventSourceARN":"` + stream + `","dynamodb":{"ApproximateCreationDateTime":1764547201,
  "Keys":{"Artist":{"S":"Acme Band"},"SongTitle":{"S":"PartiQL Rocks"}},
  "NewImage":{"Artist":{"S":"Acme Band"},"SongTitle":{"S":"PartiQL Rocks"},"AwardsWon":{"N":"1"}},
  "OldImage":{"Artist":{"S":"Acme Band"},"SongTitle":{"S":"PartiQL Rocks"}},
  "SequenceNumber":"112","SizeBytes":100,"StreamViewType":"NEW_AND_OLD_IMAGES"}}]}`

func newTestHandler(t *testing.T) (*handler, *journal.MemStore, note.Verifier, *bytes.Buffer) {
	t.Helper()
	skey, vkey, _ := note.GenerateKey(rand.Reader, origin)
	signer, _ := note.NewSigner(skey)
	verifier, _ := note.NewVerifier(vkey)
	store := &journal.MemStore{}
	var metrics bytes.Buffer
	h := &handler{seq: &journal.Sequencer{Store: store, Signer: signer, Verifier: verifier, Origin: origin}, stream: stream,
		metrics: &metrics, logs: io.Discard}
	return h, store, verifier, &metrics
}

func TestHandleJournalsTheEventAndCountsMutations(t *testing.T) {
	h, store, verifier, metrics := newTestHandler(t)
	for i := 0; i < 2; i++ { // delivered twice
		if err := h.handle(context.Background(), json.RawMessage(event)); err != nil {
			t.Fatal(err)
		}
	}
	l, err := (&journal.Verifier{Store: store, Key: verifier}).Verify(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if l.Size != 2 || len(l.Problems) != 0 {
		t.Fatalf("got size %d, problems %v, want 2 entries and none", l.Size, l.Problems)
	}
	item, err := ledger.Decode(l.Entries[0].NewImage.Inline)
	if err != nil || len(item) != 10 {
		t.Errorf("the insert's image has %d attributes (%v), want 10", len(item), err)
	}
	if l.Entries[1].Kind != journal.Modify || !l.Entries[1].OldImage.Present {
		t.Errorf("the modify entry is %+v", l.Entries[1])
	}
	if got := strings.Count(metrics.String(), `"JournaledMutations":1`); got != 1 {
		t.Errorf("got %d metric lines counting 1 mutation, want 1: the second delivery journals nothing: %s", got, metrics.String())
	}
}

// TestRecordsFromAnotherStreamAreRefused: a second mapping from another
// table's stream, or a stale one after the stream was replaced, speaks for
// no one.
func TestRecordsFromAnotherStreamAreRefused(t *testing.T) {
	h, store, _, metrics := newTestHandler(t)
	other := strings.ReplaceAll(event, stream, origin+"/stream/2026-02-02T00:00:00.000")
	err := h.handle(context.Background(), json.RawMessage(other))
	if err == nil || !strings.Contains(err.Error(), "not the table's stream") {
		t.Errorf("got %v, want the record refused", err)
	}
	if len(store.Paths()) != 0 {
		t.Errorf("the refused batch wrote %v", store.Paths())
	}
	if !strings.Contains(metrics.String(), `"JournalTampering":1`) {
		t.Errorf("no tampering metric: %s", metrics)
	}
}

// TestTamperingFoundIsAMetric: a delete marker over the checkpoint is gone
// around, and counted.
func TestTamperingFoundIsAMetric(t *testing.T) {
	h, store, _, metrics := newTestHandler(t)
	if err := h.handle(context.Background(), json.RawMessage(event)); err != nil {
		t.Fatal(err)
	}
	store.DeleteMarker(journal.CheckpointPath)
	next := strings.NewReplacer(`"eventID":"1"`, `"eventID":"3"`, `"eventID":"2"`, `"eventID":"4"`).Replace(event)
	if err := h.handle(context.Background(), json.RawMessage(next)); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(metrics.String(), `"JournalTampering":1`) {
		t.Errorf("no tampering metric: %s", metrics)
	}
}

type feedResult []string

func (f feedResult) Check(context.Context) []string { return f }

func TestScheduleChecksTheFeed(t *testing.T) {
	schedule := json.RawMessage(`{"version":"0","id":"x","detail-type":"Scheduled Event","source":"aws.events","detail":{}}`)
	for _, c := range []struct {
		findings feedResult
		want     string
	}{
		{nil, `"JournalFeedHealthy":1`},
		{feedResult{"the event source mapping x is Disabled"}, `"JournalFeedHealthy":0`},
	} {
		h, store, _, metrics := newTestHandler(t)
		h.feed = c.findings
		if err := h.handle(context.Background(), schedule); err != nil {
			t.Fatal(err)
		}
		if !strings.Contains(metrics.String(), c.want) || len(store.Paths()) != 0 {
			t.Errorf("findings %v: metrics %s, objects %v; want %s and nothing journaled", c.findings, metrics, store.Paths(), c.want)
		}
	}
	h, _, _, _ := newTestHandler(t)
	if err := h.handle(context.Background(), json.RawMessage(`{"hello":"world"}`)); err == nil {
		t.Error("an event of neither kind was accepted")
	}
}

func TestUnknownEventName(t *testing.T) {
	_, err := journal.FromLambda(events.DynamoDBEvent{Records: []events.DynamoDBEventRecord{{EventName: "TRUNCATE"}}})
	if err == nil {
		t.Error("an unknown event name was accepted")
	}
}

type describer struct {
	out *dynamodb.DescribeTableOutput
	err error
	got string
}

func (d *describer) DescribeTable(_ context.Context, in *dynamodb.DescribeTableInput, _ ...func(*dynamodb.Options)) (*dynamodb.DescribeTableOutput, error) {
	d.got = aws.ToString(in.TableName)
	return d.out, d.err
}

// TestLookupStream: the custom resource of a journal in another account
// answers the table's stream ARN, describing the table by its ARN; a table
// without a stream, or one it may not describe, fails the deployment with a
// message saying why.
func TestLookupStream(t *testing.T) {
	ctx := context.Background()
	ev := cfn.Event{RequestType: cfn.RequestCreate, ResourceProperties: map[string]any{"TableArn": origin}}
	d := &describer{out: &dynamodb.DescribeTableOutput{Table: &ddbtypes.TableDescription{LatestStreamArn: aws.String(stream),
		StreamSpecification: &ddbtypes.StreamSpecification{StreamEnabled: aws.Bool(true)}}}}
	id, data, err := lookupStream(ctx, d, ev)
	if err != nil || id != stream || data["StreamArn"] != stream || d.got != origin {
		t.Errorf("got %q, %v, %v (described %q), want the stream's ARN from describing %s", id, data, err, d.got, origin)
	}
	d.out.Table.StreamSpecification.StreamEnabled = aws.Bool(false)
	if _, _, err := lookupStream(ctx, d, ev); err == nil || !strings.Contains(err.Error(), "has no stream enabled") {
		t.Errorf("a table without a stream: %v", err)
	}
	d.err = errors.New("AccessDeniedException")
	if _, _, err := lookupStream(ctx, d, ev); err == nil || !strings.Contains(err.Error(), "deploy the table's stack first") {
		t.Errorf("a table it may not describe: %v", err)
	}
	del := cfn.Event{RequestType: cfn.RequestDelete, PhysicalResourceID: stream}
	if id, _, err := lookupStream(ctx, d, del); err != nil || id != stream {
		t.Errorf("delete: %q %v, want nothing done", id, err)
	}
}

// TestMonitor runs the monitor against a journal and a fake table: quiet on
// an honest table being written (items appended but not yet journaled are
// not read), going on from the checkpoint it kept, and alarming on an item
// changed behind the journal's back, run after run.
func TestMonitor(t *testing.T) {
	f := fakedynamo.New(map[string]fakedynamo.Table{"Music": {PartitionKey: "Artist", SortKey: "SongTitle"}})
	db, _ := f.Start(t)
	h, store, verifier, _ := newTestHandler(t)
	synced := 0
	appendAndJournal := func(titles ...string) {
		t.Helper()
		for _, title := range titles {
			item := map[string]ddbtypes.AttributeValue{"Artist": &ddbtypes.AttributeValueMemberS{Value: "Acme Band"}, "SongTitle": &ddbtypes.AttributeValueMemberS{Value: title}}
			if err := ledger.Append(context.Background(), db, "Music", item); err != nil {
				t.Fatal(err)
			}
		}
		var ev events.DynamoDBEvent
		if err := json.Unmarshal(f.StreamEvent(synced, 0), &ev); err != nil {
			t.Fatal(err)
		}
		synced = f.StreamLen()
		for i := range ev.Records {
			ev.Records[i].EventSourceArn = stream
		}
		if err := h.journal(context.Background(), ev); err != nil {
			t.Fatal(err)
		}
	}
	var metrics, logs bytes.Buffer
	m := &monitor{store: store, verifier: verifier, table: "Music", db: db, metrics: &metrics, logs: &logs}
	run := func() string {
		t.Helper()
		metrics.Reset()
		if err := m.run(context.Background()); err != nil {
			t.Fatal(err)
		}
		return metrics.String()
	}
	if got := run(); !strings.Contains(got, `"JournalVerified":1`) {
		t.Fatalf("a journal not yet written: %s %s", got, logs.String())
	}
	appendAndJournal("One", "Two")
	if got := run(); !strings.Contains(got, `"JournalVerified":1`) {
		t.Fatalf("first run: %s %s", got, logs.String())
	}
	kept, err := store.Versions(context.Background(), journal.MonitorCheckpointPath)
	if err != nil || len(kept) != 1 {
		t.Fatalf("kept checkpoints %v, %v: want one", kept, err)
	}
	// Busy and honest: one more journaled, one appended and not yet.
	appendAndJournal("Three")
	if err := ledger.Append(context.Background(), db, "Music", map[string]ddbtypes.AttributeValue{
		"Artist": &ddbtypes.AttributeValueMemberS{Value: "Acme Band"}, "SongTitle": &ddbtypes.AttributeValueMemberS{Value: "Four"}}); err != nil {
		t.Fatal(err)
	}
	store.Calls = nil
	if got := run(); !strings.Contains(got, `"JournalVerified":1`) {
		t.Errorf("a busy honest table: %s %s", got, logs.String())
	}
	if !strings.Contains(logs.String(), "1 entries appended since the checkpoint of 2 verified, up to 3") {
		t.Errorf("the monitor did not go on from its kept checkpoint: %s", logs.String())
	}
	// Changed behind the journal's back, past every policy.
	appendAndJournal("Five")
	f.Put("Music", fakedynamo.Item{"Artist": map[string]any{"S": "Acme Band"}, "SongTitle": map[string]any{"S": "Five"}, "Year": map[string]any{"N": "1999"}})
	for range 2 { // and again: the kept checkpoint does not move past a problem
		logs.Reset()
		if got := run(); !strings.Contains(got, `"JournalVerified":0`) || !strings.Contains(logs.String(), `changed: item {"Artist":"Acme Band","SongTitle":"Five"}`) {
			t.Errorf("a changed item: %s %s", got, logs.String())
		}
	}
	// A kept checkpoint nobody signed (written past the bucket policy) is a
	// problem, never a starting point.
	if err := store.AddVersion(context.Background(), journal.MonitorCheckpointPath, []byte("forged")); err != nil {
		t.Fatal(err)
	}
	logs.Reset()
	if got := run(); !strings.Contains(got, `"JournalVerified":0`) || !strings.Contains(logs.String(), "the checkpoint the monitor kept") {
		t.Errorf("a forged kept checkpoint: %s %s", got, logs.String())
	}
}

// TestEmptyJournal empties a bucket under Object Lock, as the custom resource
// does when a journal made with UnsafeRemoveWithStack goes with its stack,
// against Versity Gateway: in governance mode every version and delete
// marker goes, so that the bucket can be deleted; in compliance mode the
// removal fails, naming what stayed (the construct refuses the prop there).
func TestEmptyJournal(t *testing.T) {
	ctx := context.Background()
	for _, mode := range []s3types.ObjectLockRetentionMode{s3types.ObjectLockRetentionModeGovernance, s3types.ObjectLockRetentionModeCompliance} {
		t.Run(string(mode), func(t *testing.T) {
			client, bucket := versity.Start(t, mode)
			for i := 0; i < 3; i++ {
				for _, key := range []string{"checkpoint", fmt.Sprintf("tile/0/%03d", i)} {
					if _, err := client.PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String(bucket), Key: aws.String(key), Body: strings.NewReader(key)}); err != nil {
						t.Fatal(err)
					}
				}
			}
			if _, err := client.DeleteObject(ctx, &s3.DeleteObjectInput{Bucket: aws.String(bucket), Key: aws.String("tile/0/000")}); err != nil {
				t.Fatal(err) // a delete marker
			}
			create := cfn.Event{RequestType: cfn.RequestCreate, ResourceProperties: map[string]any{"Bucket": bucket}}
			id, _, err := emptyJournal(ctx, client, create)
			if err != nil || id != bucket {
				t.Fatalf("create: %q, %v", id, err)
			}
			if left := versionsIn(t, client, bucket); left != 7 {
				t.Fatalf("create deleted something: %d versions and markers left, want 7", left)
			}
			_, _, err = emptyJournal(ctx, client, cfn.Event{RequestType: cfn.RequestDelete, PhysicalResourceID: id, ResourceProperties: map[string]any{"Bucket": bucket}})
			left := versionsIn(t, client, bucket)
			switch mode {
			case s3types.ObjectLockRetentionModeGovernance:
				if err != nil || left != 0 {
					t.Fatalf("delete: %v, %d left, want none", err, left)
				}
				if _, err := client.DeleteBucket(ctx, &s3.DeleteBucketInput{Bucket: aws.String(bucket)}); err != nil {
					t.Errorf("the emptied bucket cannot be deleted: %v", err)
				}
			default:
				if err == nil || !strings.Contains(err.Error(), "not deleted") || left == 0 {
					t.Errorf("delete under compliance: %v, %d left; want an error naming what stayed", err, left)
				}
			}
		})
	}
	if _, _, err := emptyJournal(ctx, nil, cfn.Event{RequestType: cfn.RequestDelete}); err == nil || !strings.Contains(err.Error(), "no Bucket property") {
		t.Errorf("no bucket: %v", err)
	}
}

func versionsIn(t *testing.T, client *s3.Client, bucket string) int {
	t.Helper()
	out, err := client.ListObjectVersions(context.Background(), &s3.ListObjectVersionsInput{Bucket: aws.String(bucket)})
	if err != nil {
		t.Fatal(err)
	}
	return len(out.Versions) + len(out.DeleteMarkers)
}
