package appendonly_test

import (
	"encoding/json"
	"errors"
	"fmt"
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
	var signing, alarms, logs map[string]any
	for id, k := range tmpl.Resources("AWS::KMS::Key") {
		switch {
		case props(k)["KeySpec"] == "ECC_NIST_EDWARDS25519":
			signing = k
		case strings.Contains(id, "JournalLogsKey"):
			logs = k
		default:
			alarms = k
		}
	}
	// The log groups are encrypted with the logs key, which CloudWatch Logs
	// of this account alone may use (AWS Control Tower's CT.CLOUDWATCH.PR.3).
	logsPolicy, _ := json.Marshal(props(logs)["KeyPolicy"])
	if !strings.Contains(string(logsPolicy), `"kms:EncryptionContext:aws:logs:arn"`) || props(logs)["EnableKeyRotation"] != true {
		t.Errorf("the logs key %s: want rotation on, and CloudWatch Logs of this account alone", logsPolicy)
	}
	// Who else may use or manage it: the account (IAM decides, as for any
	// key CDK makes), and grants only for AWS services; nobody outside.
	var logsDoc struct{ Statement []map[string]any }
	_ = json.Unmarshal(logsPolicy, &logsDoc)
	var sids []string
	for _, st := range logsDoc.Statement {
		sid, _ := st["Sid"].(string)
		sids = append(sids, fmt.Sprint(st["Effect"], " ", sid))
		if p, _ := json.Marshal(st["Principal"]); st["Effect"] == "Allow" && !strings.Contains(string(p), ":root") && !strings.Contains(string(p), "logs.") {
			t.Errorf("the logs key allows %s", p)
		}
	}
	if len(logsDoc.Statement) != 3 {
		t.Errorf("the logs key's statements %v: want the account's, CloudWatch Logs' and the deny of grants but for AWS services", sids)
	}
	for id, g := range tmpl.Resources("AWS::Logs::LogGroup") {
		if props(g)["KmsKeyId"] == nil {
			t.Errorf("the log group %s is not encrypted with the logs key", id)
		}
	}
	if signing == nil || props(signing)["KeyUsage"] != "SIGN_VERIFY" || signing["DeletionPolicy"] != "Retain" {
		t.Errorf("key %v, want a retained Ed25519 signing key", signing)
	}
	// The alarm topic's key lets CloudWatch and EventBridge publish.
	alarmsPolicy, _ := json.Marshal(props(alarms)["KeyPolicy"])
	for _, service := range []string{"cloudwatch.amazonaws.com", "events.amazonaws.com"} {
		if !strings.Contains(string(alarmsPolicy), service) {
			t.Errorf("the alarm topic's key policy does not let %s publish: %s", service, alarmsPolicy)
		}
	}
	_, topic := tmpl.Only(t, "AWS::SNS::Topic")
	if ref, _ := json.Marshal(props(topic)["KmsMasterKeyId"]); strings.Contains(string(ref), "alias/aws/sns") {
		t.Errorf("the alarm topic uses the AWS managed key, which CloudWatch and EventBridge cannot publish with: %s", ref)
	}
	_, bp := tmpl.Only(t, "AWS::S3::BucketPolicy")
	doc, _ := json.Marshal(props(bp)["PolicyDocument"])
	for _, sid := range []string{appendonly.SidJournalWriteOnlyBySequencer, appendonly.SidJournalMonitorOwnPrefix, appendonly.SidJournalNoDelete, appendonly.SidJournalProtect, appendonly.SidJournalNoReplicationIn} {
		if !strings.Contains(string(doc), sid) {
			t.Errorf("the bucket policy has no %s", sid)
		}
	}
	esmID, esm := tmpl.Only(t, "AWS::Lambda::EventSourceMapping")
	if e := props(esm); e["ParallelizationFactor"] != float64(1) || e["MaximumBatchingWindowInSeconds"] != float64(30) || e["MaximumRetryAttempts"] != float64(-1) ||
		e["BisectBatchOnFunctionError"] != true || e["DestinationConfig"] == nil {
		t.Errorf("event source mapping %v, want one batch per shard, a 30 s window, retries until success, bisected, discarded batches reported", e)
	}
	fnID := sequencerID(t, tmpl)
	fn := tmpl.Resources("AWS::Lambda::Function")[fnID]
	tableID, _ := tmpl.Only(t, "AWS::DynamoDB::Table")
	if env, _ := json.Marshal(props(fn)["Environment"]); !strings.Contains(string(env), `"JOURNAL_STREAM":{"Fn::GetAtt":["`+tableID+`","StreamArn"]}`) {
		t.Errorf("the sequencer is not told the table's stream: %s", env)
	}
	// The construct's principals may not control the sequencer: its
	// managed policy denies it on the function, the mapping and the role.
	var control string
	for _, mp := range tmpl.Resources("AWS::IAM::ManagedPolicy") {
		if doc, _ := json.Marshal(props(mp)); strings.Contains(string(doc), appendonly.SidDenySequencerControl) {
			control = string(doc)
		}
	}
	for _, want := range []string{`"lambda:InvokeFunction"`, `"lambda:UpdateFunctionCode"`, `"iam:PassRole"`, `"` + fnID + `"`, `"` + esmID + `"`} {
		if !strings.Contains(control, want) {
			t.Errorf("the construct's deny of the sequencer's controls lacks %s: %s", want, control)
		}
	}
	// An alarm on each way the journal can be changed or stop, each
	// notifying the topic; the feed check on a schedule; the management
	// events on the sequencer, its role and the journal's protection.
	alarmsJSON, _ := json.Marshal(tmpl.Resources("AWS::CloudWatch::Alarm"))
	for _, metric := range []string{"JournaledMutations", "IteratorAge", "JournalTampering", "JournalFeedHealthy", "Errors", "JournalVerified"} {
		if !strings.Contains(string(alarmsJSON), `"MetricName":"`+metric+`"`) {
			t.Errorf("no alarm on %s", metric)
		}
	}
	if n := len(tmpl.Resources("AWS::CloudWatch::Alarm")); n != 6 {
		t.Errorf("%d alarms, want 6", n)
	}
	// The monitor: the sequencer's binary on a schedule, writing its own
	// prefix of the bucket and nothing else, unable to sign.
	var monitor map[string]any
	for _, f := range tmpl.Resources("AWS::Lambda::Function") {
		if env, _ := json.Marshal(props(f)["Environment"]); strings.Contains(string(env), `"APPENDONLY_FUNCTION":"monitor"`) {
			monitor = f
		}
	}
	if monitor == nil {
		t.Error("no monitor function")
	}
	rules, _ := json.Marshal(tmpl.Resources("AWS::Events::Rule"))
	for _, want := range []string{`"ScheduleExpression":"rate(3 minutes)"`, `"ScheduleExpression":"rate(15 minutes)"`, `"aws.lambda"`, `"aws.iam"`, `"aws.s3"`, `"aws.kms"`} {
		if !strings.Contains(string(rules), want) {
			t.Errorf("the rules lack %s: %s", want, rules)
		}
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
