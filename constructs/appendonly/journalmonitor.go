package appendonly

import (
	"fmt"
	"github.com/appendonly/appendonly/internal/plan"
	"time"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsevents"
	"github.com/aws/aws-cdk-go/awscdk/v2/awseventstargets"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsiam"
	"github.com/aws/aws-cdk-go/awscdk/v2/awskms"
	"github.com/aws/aws-cdk-go/awscdk/v2/awslambda"
	"github.com/aws/aws-cdk-go/awscdk/v2/awss3"
	"github.com/aws/jsii-runtime-go"
)

// monitorPrefix is where the monitor keeps the checkpoints it verified,
// the one prefix of the bucket it may write (journal.MonitorCheckpointPath).
const monitorPrefix = "appendonly/monitor/"

// createMonitor makes the journal's monitor: the sequencer's binary with
// APPENDONLY_FUNCTION=monitor, run every MonitorInterval. It reads the
// journal and its key's public key, the table's items by key (across
// accounts through the table's resource policy), and writes its own
// prefix of the bucket only; it cannot sign.
func (s *journalSite) createMonitor(t *Table, j *JournalProps, dir string, role awsiam.Role, bucket awss3.Bucket, key awskms.Key) awslambda.Function {
	logs := s.logGroup("MonitorLogs", s.removal)
	allow := func(sid string, actions []string, resources ...string) plan.Statement {
		return plan.Statement{Sid: sid, Effect: "Allow", Actions: actions, Resources: resources}
	}
	table := t.refs.Table
	if s.cross != nil {
		table = t.registry.templateArn(s.cross.TableArn())
	}
	perms := []plan.Statement{
		allow("ReadJournal", []string{"s3:GetObject", "s3:GetObjectVersion", "s3:ListBucket", "s3:ListBucketVersions"},
			*bucket.ArnForObjects(jsii.String("*")), *bucket.BucketArn()),
		allow("KeepVerifiedCheckpoint", []string{"s3:PutObject"}, *bucket.ArnForObjects(jsii.String(monitorPrefix + "*"))),
		allow("ReadVerifierKey", []string{"kms:GetPublicKey"}, *key.KeyArn()),
		allow("ReadItems", []string{"dynamodb:GetItem"}, table),
		allow("WriteLogs", []string{"logs:CreateLogStream", "logs:PutLogEvents"}, *logs.LogGroupArn()),
	}
	if s.cross == nil {
		perms = append(perms, t.denyStatements()...) // the construct's principals carry the table's denies
	}
	policy := awsiam.NewManagedPolicy(s.scope, jsii.String("MonitorPolicy"), &awsiam.ManagedPolicyProps{
		Description: jsii.String("The journal's monitor: read the journal and the table's items, keep the checkpoints it verified."),
		Document:    policyDocument(perms),
		Roles:       &[]awsiam.IRole{role},
	})
	suppressNag(policy, plan.Suppression{ID: "AwsSolutions-IAM5", Reason: "The monitor reads the journal's own bucket (<bucket ARN>/*), writes its own prefix of it, and its own log group's streams.",
		AppliesTo: []any{
			map[string]any{"regex": `/^Resource::<[A-Za-z0-9]+JournalBucket[A-Za-z0-9]+\.Arn>\/\*$/`},
			map[string]any{"regex": `/^Resource::<[A-Za-z0-9]+JournalBucket[A-Za-z0-9]+\.Arn>\/appendonly\/monitor\/\*$/`},
			map[string]any{"regex": `/^Resource::<[A-Za-z0-9]+MonitorLogs[A-Za-z0-9]+\.Arn>$/`},
		}})
	fn := s.function("Monitor", dir, role, logs, policy, 512, 5*time.Minute,
		"Verifies what was appended to the journal since it last did, and the new items in the table.", map[string]*string{
			"APPENDONLY_FUNCTION": jsii.String("monitor"),
			"JOURNAL_BUCKET":      bucket.BucketName(),
			"JOURNAL_KEY":         key.KeyArn(),
			"JOURNAL_ORIGIN":      jsii.String(s.origin),
		})
	awsevents.NewRule(s.scope, jsii.String("MonitorSchedule"), &awsevents.RuleProps{
		Description: jsii.String(fmt.Sprintf("Runs the journal's monitor every %v.", j.plan(nil).Monitor())),
		Schedule:    awsevents.Schedule_Rate(awscdk.Duration_Minutes(jsii.Number(j.plan(nil).Monitor().Minutes()))),
		Targets:     &[]awsevents.IRuleTarget{awseventstargets.NewLambdaFunction(fn, nil)},
	})
	return fn
}
