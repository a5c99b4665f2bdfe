package appendonly_test

import (
	"encoding/json"
	"errors"
	"strings"
	"testing"

	"github.com/appendonly/appendonly/constructs/appendonly"
	"github.com/appendonly/appendonly/internal/cdktest"
)

func TestJournalResources(t *testing.T) {
	stack := newStack(t)
	p := minimalProps()
	p.Journal = &appendonly.JournalProps{}
	table := mustNewTable(t, stack, p)
	if table.JournalBucket() == nil || table.JournalKey() == nil || table.Sequencer() == nil || table.JournalAlarmTopic() == nil {
		t.Fatal("a journal resource is nil")
	}
	reader := newGrantee(stack)
	if _, err := table.GrantJournalRead(reader); err != nil {
		t.Fatal(err)
	}
	tmpl := cdktest.Synth(t, stack)
	_, tbl := tmpl.Only(t, "AWS::DynamoDB::Table")
	if got := props(tbl)["StreamSpecification"]; got.(map[string]any)["StreamViewType"] != "NEW_AND_OLD_IMAGES" {
		t.Errorf("stream %v, want NEW_AND_OLD_IMAGES", got)
	}
	_, bucket := tmpl.Only(t, "AWS::S3::Bucket")
	lock := props(bucket)["ObjectLockConfiguration"].(map[string]any)["Rule"].(map[string]any)["DefaultRetention"].(map[string]any)
	if lock["Mode"] != "GOVERNANCE" || lock["Days"] != float64(appendonly.DefaultJournalRetentionDays) {
		t.Errorf("default retention %v, want GOVERNANCE for %d days", lock, appendonly.DefaultJournalRetentionDays)
	}
	if bucket["DeletionPolicy"] != "Retain" || bucket["UpdateReplacePolicy"] != "Retain" {
		t.Errorf("bucket policies %v/%v, want Retain", bucket["DeletionPolicy"], bucket["UpdateReplacePolicy"])
	}
	_, key := tmpl.Only(t, "AWS::KMS::Key")
	if props(key)["KeySpec"] != "ECC_NIST_EDWARDS25519" || props(key)["KeyUsage"] != "SIGN_VERIFY" || key["DeletionPolicy"] != "Retain" {
		t.Errorf("key %v, want a retained Ed25519 signing key", props(key))
	}
	_, bp := tmpl.Only(t, "AWS::S3::BucketPolicy")
	doc, _ := json.Marshal(props(bp)["PolicyDocument"])
	for _, sid := range []string{appendonly.SidJournalWriteOnlyBySequencer, appendonly.SidJournalNoDelete, appendonly.SidJournalProtect} {
		if !strings.Contains(string(doc), sid) {
			t.Errorf("the bucket policy has no %s", sid)
		}
	}
	_, esm := tmpl.Only(t, "AWS::Lambda::EventSourceMapping")
	if e := props(esm); e["ParallelizationFactor"] != float64(1) || e["MaximumBatchingWindowInSeconds"] != float64(30) || e["MaximumRetryAttempts"] != float64(-1) {
		t.Errorf("event source mapping %v, want one batch per shard, a 30 s window, retries until success", e)
	}
	// The reader may read the journal, never write it.
	pols, _ := json.Marshal(tmpl.Resources("AWS::IAM::Policy"))
	if !strings.Contains(string(pols), "s3:List*") || !strings.Contains(string(pols), "kms:GetPublicKey") {
		t.Errorf("the reader's policy lacks the journal's reads: %s", pols)
	}
	if strings.Contains(string(pols), "s3:PutObject") || strings.Contains(string(pols), "kms:Sign") {
		t.Errorf("the reader may write or sign: %s", pols)
	}
}

func TestGrantJournalReadWithoutJournal(t *testing.T) {
	stack := newStack(t)
	table := mustNewTable(t, stack, minimalProps())
	if _, err := table.GrantJournalRead(newGrantee(stack)); !errors.Is(err, appendonly.ErrNoJournal) {
		t.Errorf("got %v, want ErrNoJournal", err)
	}
	if table.JournalBucket() != nil {
		t.Error("JournalBucket is not nil without a journal")
	}
}
