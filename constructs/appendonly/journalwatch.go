package appendonly

import (
	"fmt"
	"github.com/appendonly/appendonly/internal/plan"
	"time"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awscloudwatch"
	"github.com/aws/aws-cdk-go/awscdk/v2/awscloudwatchactions"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsevents"
	"github.com/aws/aws-cdk-go/awscdk/v2/awseventstargets"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsiam"
	"github.com/aws/aws-cdk-go/awscdk/v2/awskms"
	"github.com/aws/aws-cdk-go/awscdk/v2/awslambda"
	"github.com/aws/aws-cdk-go/awscdk/v2/awssns"
	"github.com/aws/jsii-runtime-go"
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

// alarmTopic makes the SNS topic the journal's alarms and rules notify,
// encrypted with a key of its own whose policy lets CloudWatch and
// EventBridge publish: neither can use an AWS managed key, whose policy
// nobody can change, so a topic under alias/aws/sns receives no alarm.
func (s *journalSite) alarmTopic(arn func(string) string) (awskms.Key, awssns.Topic) {
	key := awskms.NewKey(s.scope, jsii.String("JournalAlarmsKey"), &awskms.KeyProps{
		Description:       jsii.String("Encrypts the alarms of an append-only table's journal."),
		EnableKeyRotation: jsii.Bool(true),
		// Nothing is kept under it for long: its deletion loses no record.
		RemovalPolicy: awscdk.RemovalPolicy_DESTROY,
	})
	for _, service := range []string{"cloudwatch.amazonaws.com", "events.amazonaws.com"} {
		key.AddToResourcePolicy(awsiam.NewPolicyStatement(&awsiam.PolicyStatementProps{
			Sid:        jsii.String("Publish" + map[string]string{"cloudwatch.amazonaws.com": "Alarms", "events.amazonaws.com": "Events"}[service]),
			Principals: &[]awsiam.IPrincipal{awsiam.NewServicePrincipal(jsii.String(service), nil)},
			Actions:    jsii.Strings("kms:Decrypt", "kms:GenerateDataKey*"),
			Resources:  jsii.Strings("*"),
		}), jsii.Bool(false))
	}
	key.AddToResourcePolicy(awsiam.PolicyStatement_FromJson(s.prot.KeyStatement(arn).JSON()), jsii.Bool(false))
	key.AddToResourcePolicy(awsiam.PolicyStatement_FromJson(plan.CreateGrantForAWSOnly().JSON()), jsii.Bool(false))
	topic := awssns.NewTopic(s.scope, jsii.String("JournalAlarms"), &awssns.TopicProps{
		DisplayName: jsii.String("appendonly journal alarms"),
		MasterKey:   key,
		EnforceSSL:  jsii.Bool(true),
	})
	topic.AddToResourcePolicy(awsiam.NewPolicyStatement(&awsiam.PolicyStatementProps{
		Sid:        jsii.String("CloudWatchAlarmsPublish"),
		Principals: &[]awsiam.IPrincipal{awsiam.NewServicePrincipal(jsii.String("cloudwatch.amazonaws.com"), nil)},
		Actions:    jsii.Strings("sns:Publish"),
		Resources:  &[]*string{topic.TopicArn()},
		Conditions: &map[string]any{"StringEquals": map[string]any{"aws:SourceAccount": s.stack.Account()}},
	}))
	return key, topic
}

// watchJournal makes the journal's alarms, each notifying its topic: a
// journaled change; the sequencer behind the stream; tampering it found;
// a feed that stops or thins (the scheduled feed check, or no report from
// it); the sequencer failing; and any change of the sequencer, its
// mapping or role, or the journal's bucket or key (management events,
// from CloudTrail through EventBridge).
func (s *journalSite) watch(j *journalResources, interval, monitorInterval time.Duration) {
	t := s.scope
	origin := map[string]*string{"Origin": jsii.String(s.origin)}
	metric := func(name, statistic string, period time.Duration) awscloudwatch.Metric {
		return awscloudwatch.NewMetric(&awscloudwatch.MetricProps{
			Namespace: jsii.String("appendonly"), MetricName: jsii.String(name), DimensionsMap: &origin,
			Statistic: jsii.String(statistic), Period: awscdk.Duration_Seconds(jsii.Number(period.Seconds())),
		})
	}
	alarm := func(id, description string, props *awscloudwatch.AlarmProps) {
		props.AlarmDescription = jsii.String(description)
		a := awscloudwatch.NewAlarm(t, jsii.String(id), props)
		a.AddAlarmAction(awscloudwatchactions.NewSnsAction(j.topic))
	}
	alarm(AlarmJournaledMutations, "An item of the append-only table was changed or deleted (a MODIFY or REMOVE stream record was journaled): someone lifted the table's deny.",
		&awscloudwatch.AlarmProps{
			Metric: metric("JournaledMutations", "Sum", time.Minute), Threshold: jsii.Number(1), EvaluationPeriods: jsii.Number(1),
			ComparisonOperator: awscloudwatch.ComparisonOperator_GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
			TreatMissingData:   awscloudwatch.TreatMissingData_NOT_BREACHING,
		})
	alarm(AlarmJournalLag, fmt.Sprintf("The journal's sequencer is more than %v behind the table's stream: new items are not yet covered by a checkpoint.", interval),
		&awscloudwatch.AlarmProps{
			Metric: j.function.Metric(jsii.String("IteratorAge"), &awscloudwatch.MetricOptions{
				Statistic: jsii.String("Maximum"), Period: awscdk.Duration_Minutes(jsii.Number(1)),
			}),
			Threshold: jsii.Number(float64(interval.Milliseconds())), EvaluationPeriods: jsii.Number(1),
			ComparisonOperator: awscloudwatch.ComparisonOperator_GREATER_THAN_THRESHOLD,
			TreatMissingData:   awscloudwatch.TreatMissingData_NOT_BREACHING,
		})
	alarm(AlarmJournalTampering, "The sequencer found the journal's objects tampered with (a delete marker, a version or claim its key did not sign) or records from another source: run appendonly verify.",
		&awscloudwatch.AlarmProps{
			Metric: metric("JournalTampering", "Sum", time.Minute), Threshold: jsii.Number(1), EvaluationPeriods: jsii.Number(1),
			ComparisonOperator: awscloudwatch.ComparisonOperator_GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
			TreatMissingData:   awscloudwatch.TreatMissingData_NOT_BREACHING,
		})
	alarm(AlarmJournalFeed, "The journal's feed stopped or thinned (its mapping disabled, deleted or filtered, the sequencer's concurrency 0, the stream off or replaced, or the sequencer failing), or its check stopped reporting: the sequencer's logs say which.",
		&awscloudwatch.AlarmProps{
			Metric: metric("JournalFeedHealthy", "Minimum", FeedCheckInterval), Threshold: jsii.Number(1), EvaluationPeriods: jsii.Number(2),
			ComparisonOperator: awscloudwatch.ComparisonOperator_LESS_THAN_THRESHOLD,
			TreatMissingData:   awscloudwatch.TreatMissingData_BREACHING,
		})
	alarm(AlarmJournalMonitor, "The journal's monitor found a problem in what was appended since it last verified (a changed, deleted or modified item, a rewritten past), "+
		"or did not report, in two runs in a row: its logs say what; run appendonly verify.",
		&awscloudwatch.AlarmProps{
			Metric: metric("JournalVerified", "Minimum", monitorInterval), Threshold: jsii.Number(1), EvaluationPeriods: jsii.Number(2),
			ComparisonOperator: awscloudwatch.ComparisonOperator_LESS_THAN_THRESHOLD,
			TreatMissingData:   awscloudwatch.TreatMissingData_BREACHING,
		})
	alarm(AlarmSequencerErrors, "The journal's sequencer failed in two 5-minute periods in a row: records wait in the stream, which keeps them 24 hours.",
		&awscloudwatch.AlarmProps{
			Metric: j.function.MetricErrors(&awscloudwatch.MetricOptions{
				Statistic: jsii.String("Sum"), Period: awscdk.Duration_Minutes(jsii.Number(5)),
			}),
			Threshold: jsii.Number(1), EvaluationPeriods: jsii.Number(2),
			ComparisonOperator: awscloudwatch.ComparisonOperator_GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
			TreatMissingData:   awscloudwatch.TreatMissingData_NOT_BREACHING,
		})

	// The feed check: the sequencer itself, on a schedule, so that a
	// sequencer that cannot run reports nothing, which the feed alarm
	// treats as a stopped feed.
	awsevents.NewRule(t, jsii.String("JournalFeedCheck"), &awsevents.RuleProps{
		Description: jsii.String("Asks the journal's sequencer to check its feed."),
		Schedule:    awsevents.Schedule_Rate(awscdk.Duration_Seconds(jsii.Number(FeedCheckInterval.Seconds()))),
		Targets:     &[]awsevents.IRuleTarget{awseventstargets.NewLambdaFunction(j.function, nil)},
	})

	// Management events that change what the journal rests on: write
	// calls only (the feed check's own reads match nothing), and not
	// invocations, which are data events that the schedule and the mapping
	// make all the time. They reach EventBridge only where a CloudTrail
	// trail records management events, and IAM's only in us-east-1. A
	// deployment that changes these raises it too.
	notify := &[]awsevents.IRuleTarget{awseventstargets.NewSnsTopic(j.topic, nil)}
	cloudTrail := jsii.Strings("AWS API Call via CloudTrail")
	writes := []any{false}
	changes := []any{map[string]any{"requestParameters": map[string]any{"uUID": []any{*j.mapping.EventSourceMappingId()}}}}
	for _, fn := range []awslambda.Function{j.function, j.monitor, j.lookup} {
		if fn != nil {
			changes = append(changes, map[string]any{"requestParameters": map[string]any{"functionName": []any{map[string]any{"suffix": *fn.FunctionName()}}}})
		}
	}
	awsevents.NewRule(t, jsii.String("SequencerChangedRule"), &awsevents.RuleProps{
		Description: jsii.String("The journal's sequencer, its event source mapping, its monitor or its stream lookup was changed."),
		EventPattern: &awsevents.EventPattern{Source: jsii.Strings("aws.lambda"), DetailType: cloudTrail,
			Detail: &map[string]any{"readOnly": writes, "eventName": []any{map[string]any{"anything-but": map[string]any{"prefix": "Invoke"}}},
				"$or": changes}},
		Targets: notify,
	})
	awsevents.NewRule(t, jsii.String("SequencerRoleChangedRule"), &awsevents.RuleProps{
		Description: jsii.String("The journal's sequencer role was changed (IAM's events reach EventBridge in us-east-1 only)."),
		EventPattern: &awsevents.EventPattern{Source: jsii.Strings("aws.iam"), DetailType: cloudTrail,
			Detail: &map[string]any{"readOnly": writes, "requestParameters": map[string]any{"roleName": []any{*j.role.RoleName()}}}},
		Targets: notify,
	})
	awsevents.NewRule(t, jsii.String("JournalProtectionChangedRule"), &awsevents.RuleProps{
		Description: jsii.String("The journal's bucket or signing key was changed: its policy, lock, versioning, lifecycle, replication or encryption, or the key's state."),
		EventPattern: &awsevents.EventPattern{Source: jsii.Strings("aws.s3", "aws.kms"), DetailType: cloudTrail,
			Detail: &map[string]any{"readOnly": writes, "$or": []any{
				// Every write but the sequencer's PutObject (a data event,
				// where a trail records them).
				map[string]any{"eventSource": []any{"s3.amazonaws.com"}, "eventName": []any{map[string]any{"anything-but": []any{"PutObject"}}},
					"requestParameters": map[string]any{"bucketName": []any{*j.bucket.BucketName()}}},
				map[string]any{"eventSource": []any{"kms.amazonaws.com"}, "eventName": []any{"CancelKeyDeletion", "DisableKey", "PutKeyPolicy", "ReplicateKey", "ScheduleKeyDeletion", "UpdatePrimaryRegion"},
					"resources": map[string]any{"ARN": []any{*j.key.KeyArn()}}},
			}}},
		Targets: notify,
	})
}
