package appendonly

import (
	"fmt"
	"github.com/appendonly/appendonly/check"
	"github.com/appendonly/appendonly/internal/plan"
	"time"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsec2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsiam"
	"github.com/aws/aws-cdk-go/awscdk/v2/awskms"
	"github.com/aws/aws-cdk-go/awscdk/v2/awslambda"
	"github.com/aws/aws-cdk-go/awscdk/v2/awss3"
	"github.com/aws/constructs-go/constructs/v10"
	"github.com/aws/jsii-runtime-go"
)

// Statement ids of what the table's account grants a journal in another
// account.
const (
	SidJournalDescribesTable = check.SidJournalDescribesTable
	SidJournalReadsStream    = check.SidJournalReadsStream
	SidJournalMonitorReads   = check.SidJournalMonitorReads
)

// journalSite is where the journal's resources go, and how they name the
// table: under the table in its own stack, or under a construct of their
// own in Journal.Stack, in another account.
type journalSite struct {
	scope constructs.Construct
	stack awscdk.Stack
	// prot is the journal stack's: its deployer, and the table's exempt
	// principals only when it is the table's stack.
	prot plan.Protection
	// origin is the table's ARN (the log's origin) and stream its stream's,
	// as the journal's template writes them.
	origin, stream string
	cross          *plan.CrossAccount
	// logsKey encrypts the journal's log groups, made with the first.
	logsKey awskms.Key
	// vpc and subnets place the journal's functions (JournalProps.Vpc).
	vpc     awsec2.IVpc
	subnets *awsec2.SubnetSelection
	// removal is the bucket's, the keys' and the log groups': RETAIN, or
	// DESTROY with UnsafeRemoveWithStack.
	removal awscdk.RemovalPolicy
	// writersAfter is what the functions made from then on depend on: the
	// custom resource that empties the bucket (UnsafeRemoveWithStack), or
	// nil.
	writersAfter awscdk.CfnElement
}

// pendingWindow is the keys' deletion window: the shortest KMS allows when
// the journal goes with its stack, KMS's default otherwise.
func (s *journalSite) pendingWindow() awscdk.Duration {
	if s.removal == awscdk.RemovalPolicy_DESTROY {
		return awscdk.Duration_Days(jsii.Number(7))
	}
	return nil
}

// emptyOnDelete makes the custom resource that empties the journal's bucket when
// its stack is deleted (UnsafeRemoveWithStack), served by the sequencer's
// binary with APPENDONLY_FUNCTION=empty-journal.
func (s *journalSite) emptyOnDelete(role awsiam.Role, bucket awss3.Bucket, sequencerDir string) (awscdk.CustomResource, awslambda.Function) {
	logs := s.logGroup("JournalRemovalLogs", awscdk.RemovalPolicy_DESTROY)
	policy := awsiam.NewManagedPolicy(s.scope, jsii.String("JournalRemovalPolicy"), &awsiam.ManagedPolicyProps{
		Description: jsii.String("Delete every object version of the journal's bucket, past its governance lock, and write the removal's logs."),
		Document: policyDocument([]plan.Statement{
			{Sid: "ListVersions", Effect: "Allow", Actions: []string{"s3:ListBucketVersions"}, Resources: []string{*bucket.BucketArn()}},
			{Sid: "DeleteVersions", Effect: "Allow", Actions: []string{"s3:BypassGovernanceRetention", "s3:DeleteObject", "s3:DeleteObjectVersion"},
				Resources: []string{*bucket.ArnForObjects(jsii.String("*"))}},
			{Sid: "WriteLogs", Effect: "Allow", Actions: []string{"logs:CreateLogStream", "logs:PutLogEvents"}, Resources: []string{*logs.LogGroupArn()}},
		}),
		Roles: &[]awsiam.IRole{role},
	})
	suppressNag(policy, plan.Suppression{ID: "AwsSolutions-IAM5", Reason: "The removal deletes the journal bucket's own objects (<bucket ARN>/*) and writes its own log group's streams only.",
		AppliesTo: []any{map[string]any{"regex": `/^Resource::<[A-Za-z0-9]+JournalBucket[A-Za-z0-9]+\.Arn>\/\*$/`},
			map[string]any{"regex": `/^Resource::<[A-Za-z0-9]+JournalRemovalLogs[A-Za-z0-9]+\.Arn>$/`}}})
	fn := s.function("JournalRemovalFunction", sequencerDir, role, logs, policy, 256, 15*time.Minute,
		"Empties the append-only table's journal bucket when its stack is deleted (UnsafeRemoveWithStack).",
		map[string]*string{"APPENDONLY_FUNCTION": jsii.String("empty-journal")})
	return awscdk.NewCustomResource(s.scope, jsii.String("JournalRemoval"), &awscdk.CustomResourceProps{
		ServiceToken: fn.FunctionArn(),
		ResourceType: jsii.String("Custom::AppendOnlyJournalRemoval"),
		Properties:   &map[string]any{"Bucket": bucket.BucketName()},
	}), fn
}

// newJournalSite decides where the journal goes. It creates nothing.
func (t *Table) newJournalSite(id string, props *Props, prot plan.Protection) (*journalSite, error) {
	j := props.Journal
	if j.Stack == nil {
		return &journalSite{scope: t, stack: t.stack, prot: prot, vpc: j.Vpc, subnets: j.VpcSubnets, removal: awscdk.RemovalPolicy_RETAIN}, nil
	}
	cross, err := plan.NewCrossAccount(*t.stack.Account(), *t.stack.Region(), *j.Stack.Account(), *j.Stack.Region(), *props.TableProps.TableName)
	if err != nil {
		return nil, err
	}
	// The journal account's deployer; the table account's exempt
	// principals get nothing there.
	deployers, err := t.registry.deployersOf(j.Stack, &Props{})
	if err != nil {
		return nil, fmt.Errorf("Journal.Stack: %w", err)
	}
	return &journalSite{stack: j.Stack, prot: plan.Protection{Deployers: deployers}, cross: cross,
		origin: t.registry.templateArn(cross.TableArn()), vpc: j.Vpc, subnets: j.VpcSubnets, removal: awscdk.RemovalPolicy_RETAIN}, nil
}

// place creates the site's scope: the table itself, or a construct of the
// table's id in the journal's stack, which depends on the table's stack.
func (s *journalSite) place(t *Table, id string) {
	if s.cross == nil {
		s.origin, s.stream = *t.table.TableArn(), t.refs.Stream
		return
	}
	s.scope = constructs.NewConstruct(s.stack, jsii.String(id))
	s.stack.AddStackDependency(t.stack, jsii.String("the journal reads the table's stream, which exists once the table does"))
}

// roleName is the name a role of the journal must have across accounts,
// where the table's account names it; nil (generated) otherwise.
func (s *journalSite) roleName(name func(*plan.CrossAccount) string) *string {
	if s.cross == nil {
		return nil
	}
	return jsii.String(name(s.cross))
}

// lookupStream learns the table's stream ARN at deploy, in the journal's
// account: the stream's name holds its creation time, so it exists only
// once the table does. A custom resource asks a function built from the
// sequencer's own binary (cmd/sequencer, APPENDONLY_FUNCTION=stream-lookup)
// to describe the table across accounts, which the table's resource policy
// lets its role, and nothing else, do. Deploying the stacks again reads it
// again only if the custom resource's properties change.
func (s *journalSite) lookupStream(arn func(string) string, sequencerDir string) awslambda.Function {
	role := awsiam.NewRole(s.scope, jsii.String("StreamLookupRole"), &awsiam.RoleProps{
		AssumedBy:   awsiam.NewServicePrincipal(jsii.String("lambda.amazonaws.com"), nil),
		Description: jsii.String("Describes the append-only table, in its account, to learn its stream's ARN."),
		RoleName:    jsii.String(s.cross.LookupRole),
	})
	logs := s.logGroup("StreamLookupLogs", awscdk.RemovalPolicy_DESTROY)
	policy := awsiam.NewManagedPolicy(s.scope, jsii.String("StreamLookupPolicy"), &awsiam.ManagedPolicyProps{
		Description: jsii.String("Describe the append-only table across accounts, and write the lookup's logs."),
		Document: policyDocument([]plan.Statement{
			{Sid: "DescribeTable", Effect: "Allow", Actions: []string{"dynamodb:DescribeTable"}, Resources: []string{arn(s.cross.TableArn())}},
			{Sid: "WriteLogs", Effect: "Allow", Actions: []string{"logs:CreateLogStream", "logs:PutLogEvents"}, Resources: []string{*logs.LogGroupArn()}},
		}),
		Roles: &[]awsiam.IRole{role},
	})
	suppressNag(policy, plan.Suppression{ID: "AwsSolutions-IAM5", Reason: "The lookup writes its own log group's streams only.",
		AppliesTo: []any{map[string]any{"regex": `/^Resource::<[A-Za-z0-9]+StreamLookupLogs[A-Za-z0-9]+\.Arn>$/`}}})
	fn := s.function("StreamLookup", sequencerDir, role, logs, policy, 128, time.Minute,
		"Tells CloudFormation the append-only table's stream ARN, from the table's account.",
		map[string]*string{"APPENDONLY_FUNCTION": jsii.String("stream-lookup")})
	cr := awscdk.NewCustomResource(s.scope, jsii.String("TableStream"), &awscdk.CustomResourceProps{
		ServiceToken: fn.FunctionArn(),
		ResourceType: jsii.String("Custom::AppendOnlyTableStream"),
		Properties:   &map[string]any{"TableArn": s.origin},
	})
	s.stream = *cr.GetAttString(jsii.String("StreamArn"))
	return fn
}
