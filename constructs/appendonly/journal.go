package appendonly

import (
	"errors"
	"fmt"
	"github.com/appendonly/appendonly/check"
	"github.com/appendonly/appendonly/internal/plan"
	"time"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsiam"
	"github.com/aws/aws-cdk-go/awscdk/v2/awskms"
	"github.com/aws/aws-cdk-go/awscdk/v2/awslambda"
	"github.com/aws/aws-cdk-go/awscdk/v2/awslogs"
	"github.com/aws/aws-cdk-go/awscdk/v2/awss3"
	"github.com/aws/aws-cdk-go/awscdk/v2/awssns"
	"github.com/aws/constructs-go/constructs/v10"
	"github.com/aws/jsii-runtime-go"
)

// controlWaiverKey is the Metadata key of the Control Tower controls waived
// on a resource, with the reason for each.
const controlWaiverKey = "appendonly:controlTowerWaivers"

// Statement ids of the journal's bucket and key policies.
const (
	SidJournalWriteOnlyBySequencer = check.SidJournalWriteOnlyBySequencer
	SidJournalNoDelete             = check.SidJournalNoDelete
	SidJournalProtect              = check.SidJournalProtect
	SidJournalSignOnlyBySequencer  = check.SidJournalSignOnlyBySequencer
	SidJournalNoReplicationIn      = check.SidJournalNoReplicationIn
	SidDenySequencerControl        = check.SidDenySequencerControl
	SidJournalMonitorOwnPrefix     = check.SidJournalMonitorOwnPrefix
)

// journalResources are what createJournal makes.
type journalResources struct {
	bucket   awss3.Bucket
	key      awskms.Key
	function awslambda.Function
	monitor  awslambda.Function
	lookup   awslambda.Function // nil beside the table
	remover  awslambda.Function // nil unless UnsafeRemoveWithStack
	role     awsiam.Role
	mapping  awslambda.EventSourceMapping
	topic    awssns.Topic
	// control denies the construct's principals control of the sequencer;
	// nil across accounts.
	control *plan.Statement
}

// createJournal creates the journal: the locked bucket, the signing key,
// the sequencer on the table's stream and its alarms.
func (t *Table) createJournal(j *JournalProps, site *journalSite, sequencerDir string) {
	arn := t.registry.templateArn
	scope, prot := site.scope, site.prot
	jp := j.plan(nil)
	keep := !j.UnsafeRemoveWithStack
	if !keep {
		site.removal = awscdk.RemovalPolicy_DESTROY
	}
	retention := awscdk.Duration_Days(jsii.Number(float64(jp.Retention())))
	lock := awss3.ObjectLockRetention_Governance(retention)
	if j.Lock == ObjectLockCompliance {
		lock = awss3.ObjectLockRetention_Compliance(retention)
	}
	bucket := awss3.NewBucket(scope, jsii.String("JournalBucket"), &awss3.BucketProps{
		BucketName:                 optional(j.BucketName),
		ObjectLockEnabled:          jsii.Bool(true),
		ObjectLockDefaultRetention: lock,
		Versioned:                  jsii.Bool(true),
		BlockPublicAccess:          awss3.BlockPublicAccess_BLOCK_ALL(),
		Encryption:                 awss3.BucketEncryption_KMS_MANAGED,
		BucketKeyEnabled:           jsii.Bool(true),
		EnforceSSL:                 jsii.Bool(true),
		ObjectOwnership:            awss3.ObjectOwnership_BUCKET_OWNER_ENFORCED,
		RemovalPolicy:              site.removal,
		LifecycleRules: &[]*awss3.LifecycleRule{{
			Id:                                  jsii.String("AbortIncompleteUploads"),
			AbortIncompleteMultipartUploadAfter: awscdk.Duration_Days(jsii.Number(7)),
		}},
		ServerAccessLogsBucket: j.AccessLogsBucket,
		ServerAccessLogsPrefix: optional(jp.LogsPrefix()),
	})
	// S3 events to EventBridge (free, and what Control Tower's CT.S3.PR.4
	// asks for), set on the bucket itself: CDK's EventBridgeEnabled would add
	// a custom resource function for it.
	bucket.Node().DefaultChild().(awss3.CfnBucket).AddPropertyOverride(jsii.String("NotificationConfiguration.EventBridgeConfiguration.EventBridgeEnabled"), true)
	suppressNag(bucket, plan.BucketNag(j.AccessLogsBucket != nil)...)
	if j.AccessLogsBucket == nil {
		waiveControls(bucket, "s3_bucket_logging_enabled_check", "CT.S3.PR.2", plan.ReasonJournalAccessLogs)
	}

	role := awsiam.NewRole(scope, jsii.String("SequencerRole"), &awsiam.RoleProps{
		AssumedBy:   awsiam.NewServicePrincipal(jsii.String("lambda.amazonaws.com"), nil),
		Description: jsii.String("The journal's sequencer: reads the table's stream, writes the journal, signs its checkpoints."),
		// Across accounts, the stream's resource policy names it.
		RoleName: site.roleName(func(c *plan.CrossAccount) string { return c.SequencerRole }),
	})

	// The monitor's role, named in the bucket policy.
	monitorRole := awsiam.NewRole(scope, jsii.String("MonitorRole"), &awsiam.RoleProps{
		AssumedBy:   awsiam.NewServicePrincipal(jsii.String("lambda.amazonaws.com"), nil),
		Description: jsii.String("The journal's monitor: verifies what was appended since it last did, reads the new items, keeps its checkpoint."),
		RoleName:    site.roleName(func(c *plan.CrossAccount) string { return c.MonitorRole }),
	})
	monitorArn := *monitorRole.RoleArn()

	key := awskms.NewKey(scope, jsii.String("JournalKey"), &awskms.KeyProps{
		Description:   jsii.String("Signs the checkpoints of an append-only table's journal (Ed25519)."),
		KeySpec:       awskms.KeySpec_ECC_NIST_EDWARDS25519,
		KeyUsage:      awskms.KeyUsage_SIGN_VERIFY,
		RemovalPolicy: site.removal,
		PendingWindow: site.pendingWindow(),
	})
	roleArn := *role.RoleArn()
	keyStmts := prot.KeyStatements(roleArn, arn)
	for _, s := range keyStmts {
		key.AddToResourcePolicy(awsiam.PolicyStatement_FromJson(s.JSON()), jsii.Bool(false))
	}
	bucketArn, objects := *bucket.BucketArn(), *bucket.ArnForObjects(jsii.String("*"))
	refs := plan.JournalRefs{Bucket: bucketArn, Objects: objects,
		MonitorObjects: *bucket.ArnForObjects(jsii.String(monitorPrefix + "*")), SequencerRole: roleArn, MonitorRole: monitorArn}
	var remover awsiam.Role
	var removerFn awslambda.Function
	if !keep {
		remover = awsiam.NewRole(scope, jsii.String("JournalRemovalRole"), &awsiam.RoleProps{
			AssumedBy:   awsiam.NewServicePrincipal(jsii.String("lambda.amazonaws.com"), nil),
			Description: jsii.String("Empties the journal's bucket when its stack is deleted (UnsafeRemoveWithStack)."),
		})
		refs.Remover = *remover.RoleArn()
	}
	policy := prot.BucketStatements(refs, arn)
	for _, s := range policy {
		bucket.AddToResourcePolicy(awsiam.PolicyStatement_FromJson(s.JSON()))
	}
	if remover != nil {
		// Made before the functions that write the journal, which depend on
		// it, so deleted after them: nothing writes once the bucket is
		// emptied.
		cr, fn := site.emptyOnDelete(remover, bucket, sequencerDir)
		site.writersAfter = cr.Node().DefaultChild().(awscdk.CfnElement)
		removerFn = fn
	}
	t.protected = append(t.protected,
		protected{what: "journal bucket", stack: site.stack, el: bucket.Node().DefaultChild().(awscdk.CfnElement), retain: keep, props: jp.BucketWants()},
		protected{what: "journal bucket policy", stack: site.stack, el: bucket.Policy().Node().DefaultChild().(awscdk.CfnElement), stmts: policy},
		protected{what: "journal key", stack: site.stack, el: key.Node().DefaultChild().(awscdk.CfnElement), retain: keep, props: plan.KeyWants(), stmts: keyStmts},
	)

	logs := site.logGroup("SequencerLogs", site.removal)
	// The alarm topic's key: CloudWatch and EventBridge publish only to a
	// topic whose key policy lets them (an AWS managed key's cannot).
	topicKey, topic := site.alarmTopic(arn)
	var lookup awslambda.Function // across accounts
	if site.cross != nil {
		lookup = site.lookupStream(arn, sequencerDir)
	}

	// The sequencer's permissions, in a customer managed policy: the
	// journal's objects, signing, its log group, the table's stream, the
	// alarm topic (the mapping's on-failure destination), and what its feed
	// check reads, with the append-only denies every principal of the
	// construct carries.
	allow := func(sid string, actions []string, resources ...string) plan.Statement {
		return plan.Statement{Sid: sid, Effect: "Allow", Actions: actions, Resources: resources}
	}
	perms := []plan.Statement{
		allow("WriteAndReadJournal", []string{"s3:GetObject", "s3:GetObjectVersion", "s3:ListBucket", "s3:ListBucketVersions", "s3:PutObject"}, objects, bucketArn),
		allow("SignCheckpoints", []string{"kms:GetPublicKey", "kms:Sign"}, *key.KeyArn()),
		allow("WriteLogs", []string{"logs:CreateLogStream", "logs:PutLogEvents"}, *logs.LogGroupArn()),
		allow("ReportDiscardedBatches", []string{"sns:Publish"}, *topic.TopicArn()),
		allow("EncryptReports", []string{"kms:Decrypt", "kms:GenerateDataKey*"}, *topicKey.KeyArn()),
		allow("CheckFeed", []string{"lambda:GetFunctionConcurrency", "lambda:ListEventSourceMappings"}, "*"),
	}
	if site.cross == nil {
		perms = append(perms, t.statements(plan.Stream)...)
	} else {
		// The stream, through its resource policy. The table's denies name
		// the table account's resources, beyond this account's reach.
		perms = append(perms, plan.Refs{Stream: site.stream}.Allow(plan.Stream)[0])
	}
	seqPolicy := awsiam.NewManagedPolicy(scope, jsii.String("SequencerPolicy"), &awsiam.ManagedPolicyProps{
		Description: jsii.String("The journal's sequencer: read the table's stream, write the journal, sign its checkpoints."),
		Document:    policyDocument(perms),
		Roles:       &[]awsiam.IRole{role},
	})
	suppressNag(seqPolicy, plan.Suppression{ID: "AwsSolutions-IAM5", Reason: plan.ReasonSequencerWildcards,
		AppliesTo: []any{
			map[string]any{"regex": `/^Resource::<[A-Za-z0-9]+JournalBucket[A-Za-z0-9]+\.Arn>\/\*$/`},
			map[string]any{"regex": `/^Resource::<[A-Za-z0-9]+SequencerLogs[A-Za-z0-9]+\.Arn>$/`},
			"Action::kms:GenerateDataKey*",
			"Resource::*",
		}})

	fn := site.function("Sequencer", sequencerDir, role, logs, seqPolicy, 1024, 5*time.Minute,
		"Puts every item appended to the table into its signed, locked journal.", map[string]*string{
			"JOURNAL_BUCKET": bucket.BucketName(),
			"JOURNAL_KEY":    key.KeyArn(),
			"JOURNAL_ORIGIN": jsii.String(site.origin),
			"JOURNAL_STREAM": jsii.String(site.stream),
		})
	interval := jp.Interval()
	// Retries without end (a record is never dropped while it can still
	// be journaled), bisecting a failing batch; when the stream's 24 hours
	// pass anyway, the discarded batch's shard and sequence numbers go to
	// the alarm topic. The feed check alarms long before that.
	mapping := awslambda.NewEventSourceMapping(scope, jsii.String("SequencerStream"), &awslambda.EventSourceMappingProps{
		Target:                fn,
		EventSourceArn:        jsii.String(site.stream),
		StartingPosition:      awslambda.StartingPosition_TRIM_HORIZON,
		BatchSize:             jsii.Number(float64(jp.Batch())),
		MaxBatchingWindow:     awscdk.Duration_Seconds(jsii.Number(float64(interval.Seconds() / 2))),
		ParallelizationFactor: jsii.Number(1),
		RetryAttempts:         jsii.Number(-1),
		BisectBatchOnError:    jsii.Bool(true),
	})
	// Set on the mapping itself: CDK's SnsDlq would put the publish
	// permission into an inline policy on the role.
	mapping.Node().DefaultChild().(awslambda.CfnEventSourceMapping).AddPropertyOverride(
		jsii.String("DestinationConfig.OnFailure.Destination"), topic.TopicArn())

	monitor := site.createMonitor(t, j, sequencerDir, monitorRole, bucket, key)

	// The feed: what package check's journal rules read (the mapping feeds
	// the sequencer alone, unfiltered and unbounded; the sequencer runs the
	// monitor's code, with no layer, no invocation but the schedule's, and
	// a role only Lambda assumes).
	l1 := func(c constructs.IConstruct) awscdk.CfnElement { return c.Node().DefaultChild().(awscdk.CfnElement) }
	t.protected = append(t.protected,
		protected{what: "journal mapping", stack: site.stack, el: l1(mapping)},
		protected{what: "journal sequencer", stack: site.stack, el: l1(fn)},
		protected{what: "journal sequencer role", stack: site.stack, el: l1(role)},
		protected{what: "journal monitor", stack: site.stack, el: l1(monitor)},
	)
	res := &journalResources{bucket: bucket, key: key, function: fn, role: role, mapping: mapping, topic: topic, monitor: monitor, lookup: lookup, remover: removerFn}
	if site.cross == nil {
		// Across accounts the table account's principals have no way to
		// the sequencer at all.
		t.refs.sequencer, t.refs.sequencerMapping, t.refs.sequencerRole = *fn.FunctionArn(), *mapping.EventSourceMappingArn(), roleArn
		t.refs.monitor, t.refs.monitorRole = *monitor.FunctionArn(), monitorArn
		controlled := []string{t.refs.sequencer, t.refs.sequencerMapping, t.refs.sequencerRole, t.refs.monitor, t.refs.monitorRole}
		if removerFn != nil {
			// Invoked with a hand-made Delete, it would empty the bucket.
			t.refs.remover, t.refs.removerRole = *removerFn.FunctionArn(), refs.Remover
			controlled = append(controlled, t.refs.remover, t.refs.removerRole)
		}
		res.control = &plan.Statement{Sid: SidDenySequencerControl, Effect: "Deny", Actions: check.SequencerControlActions(), Resources: controlled}
	}
	site.watch(res, interval, jp.Monitor())
	t.journal = res
}

// function makes one of the journal's functions from the sequencer's
// binary in dir, started only once its policy exists, with the controls
// and cdk-nag rules it does not meet recorded on it.
func (s *journalSite) function(id, dir string, role awsiam.Role, logs awslogs.LogGroup, policy awsiam.ManagedPolicy,
	memoryMB int, timeout time.Duration, description string, env map[string]*string) awslambda.Function {
	fn := awslambda.NewFunction(s.scope, jsii.String(id), &awslambda.FunctionProps{
		Runtime:      awslambda.Runtime_PROVIDED_AL2023(),
		Architecture: awslambda.Architecture_ARM_64(),
		Handler:      jsii.String("bootstrap"),
		Code:         awslambda.Code_FromAsset(jsii.String(dir), nil),
		Role:         role,
		MemorySize:   jsii.Number(float64(memoryMB)),
		Timeout:      awscdk.Duration_Seconds(jsii.Number(timeout.Seconds())),
		LogGroup:     logs,
		Description:  jsii.String(description),
		Environment:  &env,
		Vpc:          s.vpc,
		VpcSubnets:   s.subnets,
	})
	waiveFunction(fn, s.vpc != nil)
	if s.vpc != nil {
		// Lambda creates the function's network interfaces with its role:
		// the policy AWS maintains for it (ec2 network-interface calls).
		role.AddManagedPolicy(awsiam.ManagedPolicy_FromAwsManagedPolicyName(jsii.String("service-role/AWSLambdaVPCAccessExecutionRole")))
		suppressNag(role, plan.VPCRoleNag())
	}
	deps := []any{s.stack.GetLogicalId(policy.Node().DefaultChild().(awscdk.CfnElement))}
	if s.writersAfter != nil {
		deps = append(deps, s.stack.GetLogicalId(s.writersAfter))
	}
	// The function waits for its policy: it must not start before. CDK
	// makes it depend on its role too, which its Role attribute already
	// implies (cfn-lint W3005): name the policy alone.
	fn.Node().DefaultChild().(awslambda.CfnFunction).AddOverride(jsii.String("DependsOn"), deps)
	return fn
}

// logGroup makes the log group of one of the journal's functions,
// encrypted with the journal's logs key (AWS Control Tower's
// CT.CLOUDWATCH.PR.3; one key a journal, about $1 a month).
func (s *journalSite) logGroup(id string, removal awscdk.RemovalPolicy) awslogs.LogGroup {
	if s.logsKey == nil {
		s.logsKey = awskms.NewKey(s.scope, jsii.String("JournalLogsKey"), &awskms.KeyProps{
			Description:       jsii.String("Encrypts the logs of an append-only table's journal."),
			EnableKeyRotation: jsii.Bool(true),
			RemovalPolicy:     s.removal,
			PendingWindow:     s.pendingWindow(),
		})
		// CloudWatch Logs of this account and Region may use it for its log
		// groups, and nothing else (the CloudWatch Logs User Guide's key
		// policy for encrypting log data).
		region, account, partition := *s.stack.Region(), *s.stack.Account(), *s.stack.Partition()
		s.logsKey.AddToResourcePolicy(awsiam.NewPolicyStatement(&awsiam.PolicyStatementProps{
			Sid:        jsii.String("AllowCloudWatchLogsOfThisAccount"),
			Principals: &[]awsiam.IPrincipal{awsiam.NewServicePrincipal(jsii.String("logs."+region+".amazonaws.com"), nil)},
			Actions:    jsii.Strings("kms:Encrypt*", "kms:Decrypt*", "kms:ReEncrypt*", "kms:GenerateDataKey*", "kms:Describe*"),
			Resources:  jsii.Strings("*"),
			Conditions: &map[string]any{"ArnLike": map[string]any{
				"kms:EncryptionContext:aws:logs:arn": "arn:" + partition + ":logs:" + region + ":" + account + ":log-group:*"}},
		}), jsii.Bool(false))
		s.logsKey.AddToResourcePolicy(awsiam.PolicyStatement_FromJson(plan.CreateGrantForAWSOnly().JSON()), jsii.Bool(false))
	}
	return awslogs.NewLogGroup(s.scope, jsii.String(id), &awslogs.LogGroupProps{
		Retention:     awslogs.RetentionDays_ONE_YEAR,
		RemovalPolicy: removal,
		EncryptionKey: s.logsKey,
	})
}

// waiveFunction records on one of the journal's functions the controls and
// cdk-nag rules it does not meet, with the reasons: outside a VPC, the
// VPC rules.
func waiveFunction(fn awslambda.Function, inVPC bool) {
	if !inVPC {
		waiveControls(fn, "lambda_inside_vpc_check", "CT.LAMBDA.PR.3", plan.ReasonNoVPC)
	}
	suppressNag(fn, plan.FunctionNag(inVPC)...)
}

// waiveControls records, in the resource's Metadata, the AWS Control Tower
// controls the construct does not meet on it and why; the tests allow
// exactly these and nothing else.
func waiveControls(c constructs.IConstruct, rule, control, reason string) {
	if r, ok := c.Node().DefaultChild().(awscdk.CfnResource); ok {
		r.AddMetadata(jsii.String(controlWaiverKey), map[string]any{rule: control + ": " + reason})
	}
}

// JournalBucket is the journal's S3 bucket, or nil without Props.Journal.
func (t *Table) JournalBucket() awss3.IBucket {
	if t.journal == nil {
		return nil
	}
	return t.journal.bucket
}

// JournalKey is the KMS key that signs the journal's checkpoints, or nil
// without Props.Journal. Its public key (kms get-public-key) is what
// `appendonly verifier-key` turns into the journal's verifier key.
func (t *Table) JournalKey() awskms.IKey {
	if t.journal == nil {
		return nil
	}
	return t.journal.key
}

// Sequencer is the journal's sequencer function, or nil without
// Props.Journal.
func (t *Table) Sequencer() awslambda.IFunction {
	if t.journal == nil {
		return nil
	}
	return t.journal.function
}

// JournalAlarmTopic is the SNS topic the journal's alarms and rules notify
// (a changed or deleted item; tampering the sequencer found; a
// feed that stopped or thinned; the sequencer failing or falling behind; a
// change of the sequencer, its mapping or role, or the journal's bucket or
// key), and where the mapping reports a batch the stream expired, or nil
// without Props.Journal. It lives in the journal's stack. Subscribe to it.
func (t *Table) JournalAlarmTopic() awssns.ITopic {
	if t.journal == nil {
		return nil
	}
	return t.journal.topic
}

// ErrNoJournal is returned by GrantJournalRead for a table without
// Props.Journal.
var ErrNoJournal = errors.New("appendonly: the table has no journal: set Props.Journal")

// GrantJournalRead lets grantee run `appendonly verify` and `prove`: read
// the journal's objects and their versions, the signing key's public key,
// and the table (GrantRead, with its denies). It never lets grantee write
// the journal or sign: the bucket and key policies deny that to all but the
// sequencer.
//
// With the journal in another account (JournalProps.Stack), it grants the
// journal's reads only, to a principal of the journal's stack: a principal
// of the table's account would have to be named in the journal's bucket
// and key policies, which name nothing of that account. Grant the table's
// reads there with GrantRead.
func (t *Table) GrantJournalRead(grantee awsiam.IGrantable) (awsiam.Grant, error) {
	if t.journal == nil {
		return nil, ErrNoJournal
	}
	if t.cross != nil {
		c, ok := grantee.(constructs.IConstruct)
		if !ok || *awscdk.Stack_Of(c).Account() != t.cross.JournalAccount {
			return nil, fmt.Errorf("%w: the journal of %s is in account %s: grant a principal of that account's stack, "+
				"and the table's reads in the table's account with GrantRead", ErrJournalElsewhere, *t.Node().Path(), t.cross.JournalAccount)
		}
		g := t.journal.bucket.GrantRead(grantee, nil)
		return g.Combine(t.journal.key.Grant(grantee, jsii.String("kms:GetPublicKey"))), nil
	}
	t.journal.bucket.GrantRead(grantee, nil)
	t.journal.key.Grant(grantee, jsii.String("kms:GetPublicKey"))
	return t.GrantRead(grantee), nil
}

// ErrJournalElsewhere is wrapped by GrantJournalRead's error for a grantee
// outside the account of a journal in another account.
var ErrJournalElsewhere = errors.New("appendonly: the journal is in another account")
