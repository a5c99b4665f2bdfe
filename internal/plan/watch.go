package plan

import (
	"fmt"
	"time"
)

// FeedCheckInterval is how often the sequencer checks its feed (package
// feed): the feed alarm fires after two checks in a row find it stopped or
// thinned, or none reports, within 15 minutes of the change.
const FeedCheckInterval = 3 * time.Minute

// The journal's alarms, by construct id under the table.
const (
	AlarmJournaledMutations = "JournaledMutationsAlarm"
	AlarmJournalLag         = "JournalLagAlarm"
	AlarmJournalTampering   = "JournalTamperingAlarm"
	AlarmJournalFeed        = "JournalFeedAlarm"
	AlarmSequencerErrors    = "SequencerErrorsAlarm"
	AlarmJournalMonitor     = "JournalMonitorAlarm"
)

// Alarm is one of the journal's alarms: on a metric the sequencer or the
// monitor writes (namespace appendonly, dimension Origin), or on one of the
// sequencer's Lambda metrics.
type Alarm struct {
	ID, Description string
	Metric          string
	Lambda          bool // a metric of the sequencer function (AWS/Lambda)
	Statistic       string
	Period          time.Duration
	Threshold       float64
	Evaluations     int
	Comparison      string // awscloudwatch.ComparisonOperator
	// MissingBreaches: no data is an alarm (a check that stopped
	// reporting); otherwise no data is fine.
	MissingBreaches bool
}

// JournalAlarms are the journal's alarms, for a checkpoint interval and a
// monitor's.
func JournalAlarms(interval, monitor time.Duration) []Alarm {
	const atLeast, above, below = "GREATER_THAN_OR_EQUAL_TO_THRESHOLD", "GREATER_THAN_THRESHOLD", "LESS_THAN_THRESHOLD"
	return []Alarm{
		{ID: AlarmJournaledMutations, Description: "An item of the append-only table was changed or deleted (a MODIFY or REMOVE stream record was journaled): someone lifted the table's deny.",
			Metric: "JournaledMutations", Statistic: "Sum", Period: time.Minute, Threshold: 1, Evaluations: 1, Comparison: atLeast},
		{ID: AlarmJournalLag, Description: fmt.Sprintf("The journal's sequencer is more than %v behind the table's stream: new items are not yet covered by a checkpoint.", interval),
			Metric: "IteratorAge", Lambda: true, Statistic: "Maximum", Period: time.Minute, Threshold: float64(interval.Milliseconds()), Evaluations: 1, Comparison: above},
		{ID: AlarmJournalTampering, Description: "The sequencer found the journal's objects tampered with (a delete marker, a version or claim its key did not sign) or records from another source: run appendonly verify.",
			Metric: "JournalTampering", Statistic: "Sum", Period: time.Minute, Threshold: 1, Evaluations: 1, Comparison: atLeast},
		{ID: AlarmJournalFeed, Description: "The journal's feed stopped or thinned (its mapping disabled, deleted or filtered, the sequencer's concurrency 0, the stream off or replaced, or the sequencer failing), or its check stopped reporting: the sequencer's logs say which.",
			Metric: "JournalFeedHealthy", Statistic: "Minimum", Period: FeedCheckInterval, Threshold: 1, Evaluations: 2, Comparison: below, MissingBreaches: true},
		{ID: AlarmJournalMonitor, Description: "The journal's monitor found a problem in what was appended since it last verified (a changed, deleted or modified item, a rewritten past), " +
			"or did not report, in two runs in a row: its logs say what; run appendonly verify.",
			Metric: "JournalVerified", Statistic: "Minimum", Period: monitor, Threshold: 1, Evaluations: 2, Comparison: below, MissingBreaches: true},
		{ID: AlarmSequencerErrors, Description: "The journal's sequencer failed in two 5-minute periods in a row: records wait in the stream, which keeps them 24 hours.",
			Metric: "Errors", Lambda: true, Statistic: "Sum", Period: 5 * time.Minute, Threshold: 1, Evaluations: 2, Comparison: atLeast},
	}
}

// Management events that change what the journal rests on: write calls
// only (the feed check's own reads match nothing), and not invocations,
// which are data events that the schedule and the mapping make all the
// time. They reach EventBridge only where a CloudTrail trail records
// management events, and IAM's only in us-east-1. A deployment that
// changes these raises them too. Each is an EventPattern's Detail.

// SequencerChanged matches a change of the journal's mapping (by its
// UUID) or of its functions (by their names).
func SequencerChanged(mappingID string, functionNames []string) map[string]any {
	changes := []any{map[string]any{"requestParameters": map[string]any{"uUID": []any{mappingID}}}}
	for _, name := range functionNames {
		changes = append(changes, map[string]any{"requestParameters": map[string]any{"functionName": []any{map[string]any{"suffix": name}}}})
	}
	return map[string]any{"readOnly": []any{false}, "eventName": []any{map[string]any{"anything-but": map[string]any{"prefix": "Invoke"}}},
		"$or": changes}
}

// RoleChanged matches a change of the sequencer's role.
func RoleChanged(roleName string) map[string]any {
	return map[string]any{"readOnly": []any{false}, "requestParameters": map[string]any{"roleName": []any{roleName}}}
}

// ProtectionChanged matches a change of the journal's bucket (every write
// but the sequencer's PutObject, a data event where a trail records them)
// or of its signing key's state or policy.
func ProtectionChanged(bucketName, keyArn string) map[string]any {
	return map[string]any{"readOnly": []any{false}, "$or": []any{
		map[string]any{"eventSource": []any{"s3.amazonaws.com"}, "eventName": []any{map[string]any{"anything-but": []any{"PutObject"}}},
			"requestParameters": map[string]any{"bucketName": []any{bucketName}}},
		map[string]any{"eventSource": []any{"kms.amazonaws.com"}, "eventName": []any{"CancelKeyDeletion", "DisableKey", "PutKeyPolicy", "ReplicateKey", "ScheduleKeyDeletion", "UpdatePrimaryRegion"},
			"resources": map[string]any{"ARN": []any{keyArn}}},
	}}
}
