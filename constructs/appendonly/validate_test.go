package appendonly_test

import (
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsdynamodb"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsec2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsiam"
	"github.com/aws/aws-cdk-go/awscdk/v2/awskms"
	"github.com/aws/jsii-runtime-go"

	"github.com/appendonly/appendonly/constructs/appendonly"
)

// withTable returns minimal valid props changed by edit.
func withTable(edit func(p *appendonly.Props)) *appendonly.Props {
	p := minimalProps()
	edit(p)
	return p
}

func TestValidationErrors(t *testing.T) {
	// NewTable validates before its first jsii call, so a nil scope is never
	// reached: these cases run without a stack.
	tests := []struct {
		name  string
		props *appendonly.Props
		want  string // the start of the message: the prop's name
	}{
		{"nil props", nil, "props: required"},
		{"no table", &appendonly.Props{}, "TableProps: required unless ExistingTable"},
		{"no partition key", &appendonly.Props{TableProps: &awsdynamodb.TableProps{}}, "TableProps.PartitionKey: required"},
		{"empty partition key name", withTable(func(p *appendonly.Props) {
			p.TableProps.PartitionKey = &awsdynamodb.Attribute{Name: jsii.String(""), Type: awsdynamodb.AttributeType_STRING}
		}), "TableProps.PartitionKey.Name: required"},
		{"partition key without type", withTable(func(p *appendonly.Props) {
			p.TableProps.PartitionKey = &awsdynamodb.Attribute{Name: jsii.String("id")}
		}), "TableProps.PartitionKey.Type: required"},
		{"partition key of unknown type", withTable(func(p *appendonly.Props) {
			p.TableProps.PartitionKey = &awsdynamodb.Attribute{Name: jsii.String("id"), Type: "TEXT"}
		}), `TableProps.PartitionKey.Type: "TEXT" is not allowed`},
		{"partition key name too long", withTable(func(p *appendonly.Props) {
			p.TableProps.PartitionKey = key(strings.Repeat("k", 256))
		}), "TableProps.PartitionKey.Name: 256 bytes is too long"},
		{"empty sort key name", withTable(func(p *appendonly.Props) {
			p.TableProps.SortKey = &awsdynamodb.Attribute{Type: awsdynamodb.AttributeType_STRING}
		}), "TableProps.SortKey.Name: required"},
		{"table name too short", withTable(func(p *appendonly.Props) { p.TableProps.TableName = jsii.String("ab") }),
			`TableProps.TableName: "ab" is not a valid table name`},
		{"table name with a space", withTable(func(p *appendonly.Props) { p.TableProps.TableName = jsii.String("my table") }),
			`TableProps.TableName: "my table" is not a valid table name`},
		{"TTL", withTable(func(p *appendonly.Props) { p.TableProps.TimeToLiveAttribute = jsii.String("expires") }),
			"TableProps.TimeToLiveAttribute: not allowed"},
		{"replicas", withTable(func(p *appendonly.Props) { p.TableProps.ReplicationRegions = jsii.Strings("eu-west-1") }),
			"TableProps.ReplicationRegions: not supported"},
		{"removal policy destroy", withTable(func(p *appendonly.Props) { p.TableProps.RemovalPolicy = awscdk.RemovalPolicy_DESTROY }),
			"TableProps.RemovalPolicy: DESTROY would delete the table"},
		{"removal policy snapshot", withTable(func(p *appendonly.Props) { p.TableProps.RemovalPolicy = awscdk.RemovalPolicy_SNAPSHOT }),
			"TableProps.RemovalPolicy: SNAPSHOT is not supported for DynamoDB tables"},
		{"deletion protection off", withTable(func(p *appendonly.Props) { p.TableProps.DeletionProtection = jsii.Bool(false) }),
			"TableProps.DeletionProtection: false"},
		//lint:ignore SA1019 the deprecated field must still be validated
		{"PITR off", withTable(func(p *appendonly.Props) { p.TableProps.PointInTimeRecovery = jsii.Bool(false) }),
			"TableProps.PointInTimeRecovery: false is not allowed"},
		{"PITR specification off", withTable(func(p *appendonly.Props) {
			p.TableProps.PointInTimeRecoverySpecification = &awsdynamodb.PointInTimeRecoverySpecification{PointInTimeRecoveryEnabled: jsii.Bool(false)}
		}), "TableProps.PointInTimeRecoverySpecification.PointInTimeRecoveryEnabled: must be true"},
		{"PITR period too long", withTable(func(p *appendonly.Props) {
			p.TableProps.PointInTimeRecoverySpecification = &awsdynamodb.PointInTimeRecoverySpecification{PointInTimeRecoveryEnabled: jsii.Bool(true), RecoveryPeriodInDays: jsii.Number(36)}
		}), "TableProps.PointInTimeRecoverySpecification.RecoveryPeriodInDays: 36 is out of range"},
		{"key without customer managed encryption", withTable(func(p *appendonly.Props) {
			p.TableProps.Encryption = awsdynamodb.TableEncryption_AWS_MANAGED
			p.TableProps.EncryptionKey = nilKeyStandIn()
		}), "TableProps.EncryptionKey: only with Encryption CUSTOMER_MANAGED"},
		{"unknown encryption", withTable(func(p *appendonly.Props) { p.TableProps.Encryption = "NONE" }),
			`TableProps.Encryption: "NONE" is not allowed`},
		{"unknown billing mode", withTable(func(p *appendonly.Props) { p.TableProps.BillingMode = "FREE" }),
			`TableProps.BillingMode: "FREE" is not allowed`},
		{"user and role", withTable(func(p *appendonly.Props) {
			p.User = &appendonly.UserProps{}
			p.Role = &appendonly.RoleProps{AssumedBy: nilPrincipalStandIn()}
		}), "User and Role: set one, not both"},
		{"role without trusted principal", withTable(func(p *appendonly.Props) { p.Role = &appendonly.RoleProps{} }),
			"Role.AssumedBy: required"},
		{"invalid user name", withTable(func(p *appendonly.Props) { p.User = &appendonly.UserProps{UserName: "append user"} }),
			`User.UserName: "append user" is not a valid IAM name`},
		{"group name too long", withTable(func(p *appendonly.Props) { p.User = &appendonly.UserProps{GroupName: strings.Repeat("g", 129)} }),
			"User.GroupName:"},
		{"invalid role name", withTable(func(p *appendonly.Props) {
			p.Role = &appendonly.RoleProps{AssumedBy: nilPrincipalStandIn(), RoleName: "role/x"}
		}), `Role.RoleName: "role/x" is not a valid IAM name`},
		{"invalid policy name", withTable(func(p *appendonly.Props) { p.ManagedPolicyName = "a:b" }),
			`ManagedPolicyName: "a:b" is not a valid IAM name`},
		{"unknown enforcement", withTable(func(p *appendonly.Props) { p.Enforcement = 7 }),
			"Enforcement: 7 is not a mode"},
		{"exemptions in identity-only mode", withTable(func(p *appendonly.Props) {
			p.Enforcement = appendonly.EnforceIdentityOnlyOthersCanModify
			p.ExemptPrincipalArns = []string{"arn:aws:iam::111122223333:role/BreakGlass"}
		}), "ExemptPrincipalArns: only with Enforcement EnforceTableWide"},
		{"exempting everyone", withTable(func(p *appendonly.Props) { p.ExemptPrincipalArns = []string{"*"} }),
			`ExemptPrincipalArns[0]: "*" is not an IAM principal ARN`},
		{"exempting every partition", withTable(func(p *appendonly.Props) { p.ExemptPrincipalArns = []string{"arn:*:iam::111122223333:role/BreakGlass"} }),
			`ExemptPrincipalArns[0]: "arn:*:iam::111122223333:role/BreakGlass" has a wildcard or empty partition`},
		{"exempting every account", withTable(func(p *appendonly.Props) { p.ExemptPrincipalArns = []string{"arn:aws:iam::*:role/BreakGlass"} }),
			`ExemptPrincipalArns[0]: "arn:aws:iam::*:role/BreakGlass" exempts principals of every account`},
		{"exempting a malformed account", withTable(func(p *appendonly.Props) { p.ExemptPrincipalArns = []string{"arn:aws:iam::1111:role/BreakGlass"} }),
			`ExemptPrincipalArns[0]: "arn:aws:iam::1111:role/BreakGlass" has account "1111"`},
		{"exempting every role", withTable(func(p *appendonly.Props) { p.ExemptPrincipalArns = []string{"arn:aws:iam::111122223333:role/*"} }),
			`ExemptPrincipalArns[0]: "arn:aws:iam::111122223333:role/*" exempts every role in the account`},
		{"exempting a whole path", withTable(func(p *appendonly.Props) {
			p.ExemptPrincipalArns = []string{"arn:aws:iam::111122223333:role/service-role/*"}
		}),
			`ExemptPrincipalArns[0]: "arn:aws:iam::111122223333:role/service-role/*" exempts every role under the path /service-role/: give a name or a name prefix after the path, such as role/service-role/BreakGlass*`},
		{"exempting under every path", withTable(func(p *appendonly.Props) {
			p.ExemptPrincipalArns = []string{"arn:aws:iam::111122223333:role/legal/*/BreakGlass"}
		}),
			`ExemptPrincipalArns[0]: "arn:aws:iam::111122223333:role/legal/*/BreakGlass" has a wildcard or an empty part in its path`},
		{"exempting every user", withTable(func(p *appendonly.Props) { p.ExemptPrincipalArns = []string{"arn:aws:iam::111122223333:user/?*"} }),
			`ExemptPrincipalArns[0]: "arn:aws:iam::111122223333:user/?*" exempts every user in the account`},
		{"exempting every resource", withTable(func(p *appendonly.Props) { p.ExemptPrincipalArns = []string{"arn:aws:iam::111122223333:*"} }),
			`ExemptPrincipalArns[0]: "arn:aws:iam::111122223333:*" is not a role or user`},
		{"exempting the root user", withTable(func(p *appendonly.Props) { p.ExemptPrincipalArns = []string{"arn:aws:iam::111122223333:root"} }),
			`ExemptPrincipalArns[0]: "arn:aws:iam::111122223333:root" is not a role or user`},
		{"exempting with a Region", withTable(func(p *appendonly.Props) {
			p.ExemptPrincipalArns = []string{"arn:aws:iam:us-east-1:111122223333:role/BreakGlass"}
		}),
			`ExemptPrincipalArns[0]: "arn:aws:iam:us-east-1:111122223333:role/BreakGlass" has a Region`},
		{"exempting an assumed-role session", withTable(func(p *appendonly.Props) {
			p.ExemptPrincipalArns = []string{"arn:aws:sts::111122223333:assumed-role/BreakGlass/*"}
		}), `ExemptPrincipalArns[0]: "arn:aws:sts::111122223333:assumed-role/BreakGlass/*" is an assumed-role session, which aws:PrincipalArn never holds (it holds the role's ARN): give arn:aws:iam::111122223333:role/BreakGlass`},
		{"exempting a federated user", withTable(func(p *appendonly.Props) {
			p.ExemptPrincipalArns = []string{"arn:aws:sts::111122223333:federated-user/Bob"}
		}), `ExemptPrincipalArns[0]: "arn:aws:sts::111122223333:federated-user/Bob" is an STS session`},
		{"deployer that is every role", withTable(func(p *appendonly.Props) { p.DeployerPrincipalArns = []string{"arn:aws:iam::111122223333:role/*"} }),
			`DeployerPrincipalArns[0]: "arn:aws:iam::111122223333:role/*" exempts every role in the account`},
		{"deployer in identity-only mode", withTable(func(p *appendonly.Props) {
			p.Enforcement = appendonly.EnforceIdentityOnlyOthersCanModify
			p.DeployerPrincipalArns = []string{"arn:aws:iam::111122223333:role/Deployer"}
		}), "DeployerPrincipalArns: only with Enforcement EnforceTableWide"},
		{"removal with protection", withTable(func(p *appendonly.Props) {
			p.UnsafeAllowTableRemoval = true
			p.TableProps.RemovalPolicy = awscdk.RemovalPolicy_DESTROY
			p.TableProps.DeletionProtection = jsii.Bool(true)
		}), "TableProps.DeletionProtection: true contradicts RemovalPolicy DESTROY"},
		{"snapshot with opt-out", withTable(func(p *appendonly.Props) {
			p.UnsafeAllowTableRemoval = true
			p.TableProps.RemovalPolicy = awscdk.RemovalPolicy_SNAPSHOT
		}), "TableProps.RemovalPolicy: SNAPSHOT is not supported for DynamoDB tables"},
		{"empty exemption", withTable(func(p *appendonly.Props) { p.ExemptPrincipalArns = []string{" "} }),
			"ExemptPrincipalArns[0]: empty"},
		{"exempting a table", withTable(func(p *appendonly.Props) {
			p.ExemptPrincipalArns = []string{"arn:aws:iam::111122223333:role/Ok", "arn:aws:dynamodb:us-east-1:111122223333:table/T"}
		}), `ExemptPrincipalArns[1]: "arn:aws:dynamodb:us-east-1:111122223333:table/T" is not an IAM principal ARN`},
		{"journal in identity-only mode", withTable(func(p *appendonly.Props) {
			p.Enforcement = appendonly.EnforceIdentityOnlyOthersCanModify
			p.Journal = &appendonly.JournalProps{}
		}), "Journal: needs Enforcement EnforceTableWide"},
		{"journal with another stream view", withTable(func(p *appendonly.Props) {
			p.TableProps.Stream = awsdynamodb.StreamViewType_KEYS_ONLY
			p.Journal = &appendonly.JournalProps{}
		}), "TableProps.Stream: KEYS_ONLY with Journal: the journal needs NEW_AND_OLD_IMAGES"},
		{"journal lock", withTable(func(p *appendonly.Props) { p.Journal = &appendonly.JournalProps{Lock: 7} }),
			"Journal.Lock: 7 is not a mode"},
		{"journal retention", withTable(func(p *appendonly.Props) { p.Journal = &appendonly.JournalProps{RetentionDays: -1} }),
			"Journal.RetentionDays: -1 is out of range"},
		{"journal subnets without a VPC", withTable(func(p *appendonly.Props) {
			p.Journal = &appendonly.JournalProps{VpcSubnets: &awsec2.SubnetSelection{SubnetType: awsec2.SubnetType_PRIVATE_WITH_EGRESS}}
		}), "Journal.VpcSubnets: set without Journal.Vpc"},
		{"journal access-log prefix without a bucket", withTable(func(p *appendonly.Props) {
			p.Journal = &appendonly.JournalProps{AccessLogsPrefix: "logs/"}
		}), "Journal.AccessLogsPrefix: set without Journal.AccessLogsBucket"},
		{"journal interval too short", withTable(func(p *appendonly.Props) {
			p.Journal = &appendonly.JournalProps{CheckpointInterval: 5 * time.Second}
		}), "Journal.CheckpointInterval: 5s is out of range: 10s to 10m"},
		{"journal interval not whole seconds", withTable(func(p *appendonly.Props) {
			p.Journal = &appendonly.JournalProps{CheckpointInterval: 10500 * time.Millisecond}
		}), "Journal.CheckpointInterval: 10.5s is out of range"},
		{"journal monitor too often", withTable(func(p *appendonly.Props) { p.Journal = &appendonly.JournalProps{MonitorInterval: time.Minute} }),
			"Journal.MonitorInterval: 1m0s is out of range: 5m to 24h, in whole minutes"},
		{"journal monitor not whole minutes", withTable(func(p *appendonly.Props) {
			p.Journal = &appendonly.JournalProps{MonitorInterval: 10*time.Minute + time.Second}
		}), "Journal.MonitorInterval: 10m1s is out of range"},
		{"journal batch", withTable(func(p *appendonly.Props) { p.Journal = &appendonly.JournalProps{BatchSize: 10001} }),
			"Journal.BatchSize: 10001 is out of range: 1 to 10000"},
		{"journal bucket name", withTable(func(p *appendonly.Props) { p.Journal = &appendonly.JournalProps{BucketName: "My_Bucket"} }),
			`Journal.BucketName: "My_Bucket" is not a valid bucket name`},
		{"journal removal under compliance", withTable(func(p *appendonly.Props) {
			p.Journal = &appendonly.JournalProps{Lock: appendonly.ObjectLockCompliance, UnsafeRemoveWithStack: true}
		}), "Journal.UnsafeRemoveWithStack: only with Lock ObjectLockGovernance"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			table, err := appendonly.NewTable(nil, "Ledger", tt.props)
			if err == nil {
				t.Fatalf("got table %v and no error, want an error starting %q", table, tt.want)
			}
			if !hasLine(err.Error(), tt.want) {
				t.Errorf("got error:\n%v\nwant a line starting %q", err, tt.want)
			}
			if !strings.HasPrefix(err.Error(), `appendonly.NewTable "Ledger": invalid props:`) {
				t.Errorf("got error %q, want it to name the construct", err)
			}
		})
	}
}

func hasLine(msg, prefix string) bool {
	for _, line := range strings.Split(msg, "\n") {
		if strings.HasPrefix(line, prefix) {
			return true
		}
	}
	return false
}

func TestValidationReportsEveryProblemAtOnce(t *testing.T) {
	_, err := appendonly.NewTable(nil, "Ledger", &appendonly.Props{
		TableProps: &awsdynamodb.TableProps{
			PartitionKey:        &awsdynamodb.Attribute{Name: jsii.String("")},
			TimeToLiveAttribute: jsii.String("expires"),
			RemovalPolicy:       awscdk.RemovalPolicy_DESTROY,
		},
		User: &appendonly.UserProps{},
		Role: &appendonly.RoleProps{},
	})
	if err == nil {
		t.Fatal("got no error")
	}
	for _, want := range []string{
		"TableProps.PartitionKey.Name: required",
		"TableProps.PartitionKey.Type: required",
		"TableProps.TimeToLiveAttribute: not allowed",
		"TableProps.RemovalPolicy:",
		"User and Role:",
		"Role.AssumedBy: required",
	} {
		if !hasLine(err.Error(), want) {
			t.Errorf("error lacks a line starting %q:\n%v", want, err)
		}
	}
}

func TestValidationAcceptsTokensAndOptOut(t *testing.T) {
	for _, tt := range []struct {
		name  string
		props *appendonly.Props
	}{
		{"removal policy with opt-out", withTable(func(p *appendonly.Props) {
			p.UnsafeAllowTableRemoval = true
			p.TableProps.RemovalPolicy = awscdk.RemovalPolicy_DESTROY
			p.TableProps.DeletionProtection = jsii.Bool(false)
		})},
		{"RETAIN spelled out", withTable(func(p *appendonly.Props) { p.TableProps.RemovalPolicy = awscdk.RemovalPolicy_RETAIN })},
		{"PITR of 7 days", withTable(func(p *appendonly.Props) {
			p.TableProps.PointInTimeRecoverySpecification = &awsdynamodb.PointInTimeRecoverySpecification{PointInTimeRecoveryEnabled: jsii.Bool(true), RecoveryPeriodInDays: jsii.Number(7)}
		})},
		{"token table name", withTable(func(p *appendonly.Props) { p.TableProps.TableName = awscdk.Aws_STACK_NAME() })},
		{"removal with protection following it", withTable(func(p *appendonly.Props) {
			p.UnsafeAllowTableRemoval = true
			p.TableProps.RemovalPolicy = awscdk.RemovalPolicy_DESTROY
		})},
		{"narrow exemptions", withTable(func(p *appendonly.Props) {
			p.ExemptPrincipalArns = []string{
				"arn:aws:iam::111122223333:role/BreakGlass*",
				"arn:aws:iam::111122223333:role/legal/BreakGlass*",
				"arn:${AWS::Partition}:iam::${AWS::AccountId}:user/Auditor",
				"arn:aws-us-gov:iam::111122223333:role/Erasure?",
			}
		})},
		{"token exemption", withTable(func(p *appendonly.Props) { p.ExemptPrincipalArns = []string{*awscdk.Aws_STACK_ID()} })},
		{"deployers given", withTable(func(p *appendonly.Props) {
			p.DeployerPrincipalArns = []string{"arn:aws:iam::111122223333:role/Deployer"}
		})},
	} {
		t.Run(tt.name, func(t *testing.T) {
			stack := newStack(t)
			if _, err := appendonly.NewTable(stack, "Ledger", tt.props); err != nil {
				t.Errorf("got error %v, want none", err)
			}
		})
	}
}

func TestExistingTableValidation(t *testing.T) {
	stack := newStack(t)
	existing := awsdynamodb.Table_FromTableName(stack, jsii.String("Existing"), jsii.String("Orders"))
	for _, tt := range []struct {
		name  string
		props *appendonly.Props
		want  string
	}{
		{"with table props", &appendonly.Props{ExistingTable: existing, TableProps: &awsdynamodb.TableProps{PartitionKey: key("id")}, Enforcement: appendonly.EnforceIdentityOnlyOthersCanModify},
			"TableProps and ExistingTable: set one, not both"},
		{"in table-wide mode", &appendonly.Props{ExistingTable: existing},
			"Enforcement: EnforceTableWide needs a table the construct creates"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			_, err := appendonly.NewTable(stack, "Ledger", tt.props)
			if err == nil || !hasLine(err.Error(), tt.want) {
				t.Errorf("got error %v, want a line starting %q", err, tt.want)
			}
		})
	}
	if n := len(*stack.Node().Children()); n != 1 {
		t.Errorf("got %d children of the stack, want 1: a rejected NewTable must create nothing", n)
	}
}

// nilKeyStandIn and nilPrincipalStandIn return non-nil interface values
// that validation only compares with nil; they are never passed to jsii.
type keyStandIn struct{ awskms.IKey }
type principalStandIn struct{ awsiam.IPrincipal }

func nilKeyStandIn() awskms.IKey             { return keyStandIn{} }
func nilPrincipalStandIn() awsiam.IPrincipal { return principalStandIn{} }
