package appendonly

import (
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
const FeedCheckInterval = plan.FeedCheckInterval

// The journal's alarms, by construct id under the table.
const (
	AlarmJournaledMutations = plan.AlarmJournaledMutations
	AlarmJournalLag         = plan.AlarmJournalLag
	AlarmJournalTampering   = plan.AlarmJournalTampering
	AlarmJournalFeed        = plan.AlarmJournalFeed
	AlarmSequencerErrors    = plan.AlarmSequencerErrors
	AlarmJournalMonitor     = plan.AlarmJournalMonitor
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
	for _, a := range plan.JournalAlarms(interval, monitorInterval) {
		opts := &awscloudwatch.MetricOptions{Statistic: jsii.String(a.Statistic), Period: awscdk.Duration_Seconds(jsii.Number(a.Period.Seconds()))}
		metric := j.function.Metric(jsii.String(a.Metric), opts)
		if !a.Lambda {
			metric = awscloudwatch.NewMetric(&awscloudwatch.MetricProps{Namespace: jsii.String("appendonly"), MetricName: jsii.String(a.Metric),
				DimensionsMap: &origin, Statistic: opts.Statistic, Period: opts.Period})
		}
		missing := awscloudwatch.TreatMissingData_NOT_BREACHING
		if a.MissingBreaches {
			missing = awscloudwatch.TreatMissingData_BREACHING
		}
		alarm := awscloudwatch.NewAlarm(t, jsii.String(a.ID), &awscloudwatch.AlarmProps{
			AlarmDescription: jsii.String(a.Description), Metric: metric, Threshold: jsii.Number(a.Threshold),
			EvaluationPeriods: jsii.Number(float64(a.Evaluations)), ComparisonOperator: awscloudwatch.ComparisonOperator(a.Comparison),
			TreatMissingData: missing,
		})
		alarm.AddAlarmAction(awscloudwatchactions.NewSnsAction(j.topic))
	}

	// The feed check: the sequencer itself, on a schedule, so that a
	// sequencer that cannot run reports nothing, which the feed alarm
	// treats as a stopped feed.
	awsevents.NewRule(t, jsii.String("JournalFeedCheck"), &awsevents.RuleProps{
		Description: jsii.String("Asks the journal's sequencer to check its feed."),
		Schedule:    awsevents.Schedule_Rate(awscdk.Duration_Seconds(jsii.Number(FeedCheckInterval.Seconds()))),
		Targets:     &[]awsevents.IRuleTarget{awseventstargets.NewLambdaFunction(j.function, nil)},
	})

	// Management events that change what the journal rests on (package
	// plan says which).
	notify := &[]awsevents.IRuleTarget{awseventstargets.NewSnsTopic(j.topic, nil)}
	cloudTrail := jsii.Strings("AWS API Call via CloudTrail")
	var names []string
	for _, fn := range []awslambda.Function{j.function, j.monitor, j.lookup, j.remover} {
		if fn != nil {
			names = append(names, *fn.FunctionName())
		}
	}
	rule := func(id, description string, sources []string, detail map[string]any) {
		awsevents.NewRule(t, jsii.String(id), &awsevents.RuleProps{Description: jsii.String(description),
			EventPattern: &awsevents.EventPattern{Source: jsii.Strings(sources...), DetailType: cloudTrail, Detail: &detail}, Targets: notify})
	}
	changed := "The journal's sequencer, its event source mapping, its monitor or its stream lookup was changed."
	if j.remover != nil {
		changed = "The journal's sequencer, its event source mapping, its monitor or its removal function was changed."
	}
	rule("SequencerChangedRule", changed,
		[]string{"aws.lambda"}, plan.SequencerChanged(*j.mapping.EventSourceMappingId(), names))
	rule("SequencerRoleChangedRule", "The journal's sequencer role was changed (IAM's events reach EventBridge in us-east-1 only).",
		[]string{"aws.iam"}, plan.RoleChanged(*j.role.RoleName()))
	rule("JournalProtectionChangedRule", "The journal's bucket or signing key was changed: its policy, lock, versioning, lifecycle, replication or encryption, or the key's state.",
		[]string{"aws.s3", "aws.kms"}, plan.ProtectionChanged(*j.bucket.BucketName(), *j.key.KeyArn()))
}
