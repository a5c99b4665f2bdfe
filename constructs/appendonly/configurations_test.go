package appendonly_test

import (
	"testing"
	"time"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsdynamodb"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsec2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsiam"
	"github.com/aws/aws-cdk-go/awscdk/v2/awss3"
	"github.com/aws/jsii-runtime-go"
	"github.com/cdklabs/cdk-nag-go/cdknag/v2"

	"github.com/appendonly/appendonly/constructs/appendonly"
	"github.com/appendonly/appendonly/internal/cdktest"
	"github.com/appendonly/appendonly/internal/cfnguard"
	"github.com/appendonly/appendonly/internal/cfnlint"
	"github.com/appendonly/appendonly/internal/nagtest"
)

// suppressGrantee writes on a grantee role, which a user's stack would own,
// the suppressions its owner writes for what CDK grants always produce: an
// inline policy (every CDK grant is one), and for reads the table's /index/*.
// It runs after the grants, so that it reaches the role's default policy.
func suppressGrantee(role awsiam.Role) {
	cdknag.NagSuppressions_AddResourceSuppressions(role, &[]*cdknag.NagPackSuppression{
		{Id: jsii.String("NIST.800.53.R5-IAMNoInlinePolicy"), Reason: jsii.String("CDK grants are inline policies on the grantee's role; the grantee belongs to the application stack.")},
		{Id: jsii.String("HIPAA.Security-IAMNoInlinePolicy"), Reason: jsii.String("CDK grants are inline policies on the grantee's role; the grantee belongs to the application stack.")},
		{Id: jsii.String("PCI.DSS.321-IAMNoInlinePolicy"), Reason: jsii.String("CDK grants are inline policies on the grantee's role; the grantee belongs to the application stack.")},
		{Id: jsii.String("AwsSolutions-IAM5"), Reason: jsii.String("Reads need the table's indexes, which are its ARN followed by /index/*."),
			AppliesTo: &[]interface{}{cdknag.RegexAppliesTo{Regex: jsii.String(`/^Resource::<.*\.Arn>\/index\/\*$/`)}}},
	}, jsii.Bool(true))
}

func grantee(stack awscdk.Stack, id string) awsiam.Role {
	return awsiam.NewRole(stack, jsii.String(id), &awsiam.RoleProps{AssumedBy: awsiam.NewAccountRootPrincipal()})
}

// The construct's main configurations, both enforcement modes among them:
// cdk-nag, cfn-lint and AWS Control Tower's proactive controls must pass
// each, and each has a golden snapshot.
var configurations = []struct {
	name  string
	build func(t *testing.T, stack awscdk.Stack)
}{
	{"Default", func(t *testing.T, stack awscdk.Stack) { mustNewTable(t, stack, minimalProps()) }},
	{"User", func(t *testing.T, stack awscdk.Stack) {
		p := minimalProps()
		p.User = &appendonly.UserProps{UserName: "Appender"}
		mustNewTable(t, stack, p)
	}},
	{"Role", func(t *testing.T, stack awscdk.Stack) {
		p := minimalProps()
		p.Role = &appendonly.RoleProps{AssumedBy: awsiam.NewServicePrincipal(jsii.String("lambda.amazonaws.com"), nil)}
		mustNewTable(t, stack, p)
	}},
	{"IdentityOnly", func(t *testing.T, stack awscdk.Stack) {
		p := minimalProps()
		p.Enforcement = appendonly.EnforceIdentityOnlyOthersCanModify
		p.User = &appendonly.UserProps{}
		mustNewTable(t, stack, p)
	}},
	{"Exemptions", func(t *testing.T, stack awscdk.Stack) {
		p := minimalProps()
		p.ExemptPrincipalArns = []string{"arn:aws:iam::111122223333:role/BreakGlass"}
		mustNewTable(t, stack, p)
	}},
	{"CustomerManagedKey", func(t *testing.T, stack awscdk.Stack) {
		p := minimalProps()
		p.TableProps.Encryption = awsdynamodb.TableEncryption_CUSTOMER_MANAGED
		p.User = &appendonly.UserProps{}
		mustNewTable(t, stack, p)
	}},
	{"StreamAndGrants", func(t *testing.T, stack awscdk.Stack) {
		p := minimalProps()
		p.TableProps.Stream = awsdynamodb.StreamViewType_NEW_AND_OLD_IMAGES
		p.TableProps.SortKey = key("at")
		table := mustNewTable(t, stack, p)
		writer, reader, consumer := grantee(stack, "Writer"), grantee(stack, "Reader"), grantee(stack, "Consumer")
		table.GrantAppend(writer)
		table.GrantRead(reader)
		if _, err := table.GrantStreamRead(consumer); err != nil {
			t.Fatal(err)
		}
		for _, r := range []awsiam.Role{writer, reader, consumer} {
			suppressGrantee(r)
		}
	}},
	{"ProvisionedAutoScaling", func(t *testing.T, stack awscdk.Stack) {
		p := minimalProps()
		p.TableProps.BillingMode = awsdynamodb.BillingMode_PROVISIONED
		p.TableProps.ReadCapacity = jsii.Number(5)
		p.TableProps.WriteCapacity = jsii.Number(5)
		enableAutoScaling(mustNewTable(t, stack, p))
	}},
	{"UnsafeRemoval", func(t *testing.T, stack awscdk.Stack) {
		p := minimalProps()
		p.UnsafeAllowTableRemoval = true
		p.TableProps.RemovalPolicy = awscdk.RemovalPolicy_DESTROY
		mustNewTable(t, stack, p)
	}},
	{"BackupGovernance", func(t *testing.T, stack awscdk.Stack) {
		mustNewTable(t, stack, withBackup(&appendonly.BackupProps{}))
	}},
	{"BackupCompliance", func(t *testing.T, stack awscdk.Stack) {
		mustNewTable(t, stack, withBackup(&appendonly.BackupProps{Lock: appendonly.VaultLockCompliance, ChangeableForDays: 7, RetentionDays: 365, MaxRetentionDays: 3650}))
	}},
	{"BackupCopy", func(t *testing.T, stack awscdk.Stack) {
		mustNewTable(t, stack, withBackup(&appendonly.BackupProps{
			RetentionDays: 180, ColdStorageAfterDays: 30, CopyToVaultArn: centralVault, CopyRetentionDays: 365,
		}))
	}},
	{"Journal", func(t *testing.T, stack awscdk.Stack) {
		p := minimalProps()
		p.Journal = &appendonly.JournalProps{}
		mustNewTable(t, stack, p)
	}},
	{"JournalCompliance", func(t *testing.T, stack awscdk.Stack) {
		p := minimalProps()
		p.ExemptPrincipalArns = []string{"arn:aws:iam::111122223333:role/BreakGlass"}
		p.Journal = &appendonly.JournalProps{Lock: appendonly.ObjectLockCompliance, RetentionDays: 3650, CheckpointInterval: 30 * time.Second, BatchSize: 1000}
		mustNewTable(t, stack, p)
	}},
	{"JournalSandbox", func(t *testing.T, stack awscdk.Stack) {
		p := minimalProps()
		p.Journal = &appendonly.JournalProps{RetentionDays: 1, UnsafeRemoveWithStack: true}
		mustNewTable(t, stack, p)
	}},
	{"JournalUnderControlTower", func(t *testing.T, stack awscdk.Stack) {
		p := minimalProps()
		vpc := awsec2.Vpc_FromVpcAttributes(stack, jsii.String("Vpc"), &awsec2.VpcAttributes{VpcId: jsii.String("vpc-0123456789abcdef0"),
			AvailabilityZones: jsii.Strings("us-east-1a", "us-east-1b"), PrivateSubnetIds: jsii.Strings("subnet-0a", "subnet-0b")})
		logs := awss3.Bucket_FromBucketName(stack, jsii.String("AccessLogs"), jsii.String("example-access-logs"))
		p.Journal = &appendonly.JournalProps{Vpc: vpc, AccessLogsBucket: logs}
		mustNewTable(t, stack, p)
	}},
	{"ExistingTable", func(t *testing.T, stack awscdk.Stack) {
		existing := awsdynamodb.Table_FromTableName(stack, jsii.String("Existing"), jsii.String("Orders"))
		mustNewTable(t, stack, &appendonly.Props{ExistingTable: existing, Enforcement: appendonly.EnforceIdentityOnlyOthersCanModify, User: &appendonly.UserProps{}})
	}},
}

// lintAndControls runs cfn-lint and AWS Control Tower's proactive controls
// on templates, by file name: every control a template fails must be
// waived in it, with a reason.
func lintAndControls(t *testing.T, templates map[string][]byte) {
	t.Helper()
	if err := cfnlint.Run(templates); err != nil {
		t.Error(err)
	}
	failures, err := cfnguard.Failures(templates)
	if err != nil {
		t.Fatal(err)
	}
	for name, rules := range failures {
		waived := cfnguard.Waivers(templates[name])
		var failed []string
		for _, r := range rules {
			if waived[r] == "" {
				failed = append(failed, r)
			}
		}
		if len(failed) > 0 {
			t.Errorf("%s fails AWS Control Tower's proactive controls %v", name, failed)
		}
	}
}

func TestConfigurationsPassCdkNagCfnLintAndControlTower(t *testing.T) {
	templates := map[string][]byte{}
	for _, c := range configurations {
		t.Run(c.name, func(t *testing.T) {
			stack := awscdk.NewStack(nagtest.NewApp(t), jsii.String(c.name), nil)
			c.build(t, stack)
			for _, f := range nagtest.Findings(t, stack) {
				t.Error(f)
			}
			tmpl := cdktest.Synth(t, stack).MaskAssetHashes().JSON(t)
			templates[c.name+".template.json"] = tmpl
			cdktest.Golden(t, "configurations/"+c.name+".template.json", tmpl)
		})
	}
	lintAndControls(t, templates)
	if len(templates) != len(configurations) {
		t.Errorf("linted %d templates, want %d", len(templates), len(configurations))
	}
}
