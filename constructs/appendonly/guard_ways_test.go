package appendonly_test

import (
	"strings"
	"testing"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsdynamodb"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsiam"
	"github.com/aws/aws-cdk-go/awscdk/v2/awslogs"
	"github.com/aws/aws-cdk-go/awscdk/v2/awssnssubscriptions"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsssm"
	"github.com/aws/aws-cdk-go/awscdk/v2/awssso"
	"github.com/aws/constructs-go/constructs/v10"
	"github.com/aws/jsii-runtime-go"

	"github.com/appendonly/appendonly/constructs/appendonly"
	"github.com/appendonly/appendonly/internal/cdktest"
)

// tableL1 is the table's CloudFormation resource.
func tableL1(l *appendonly.Table) awsdynamodb.CfnTable {
	return l.DynamoTable().Node().DefaultChild().(awsdynamodb.CfnTable)
}

// guardedTable creates the app, the stack Test and the table Ledger (named
// proofTable), in EnforceIdentityOnlyOthersCanModify mode if identity, with
// edit applied to its props.
func guardedTable(t *testing.T, identity bool, edit func(*appendonly.Props)) (awscdk.App, awscdk.Stack, *appendonly.Table) {
	t.Helper()
	app := cdktest.NewApp(t)
	stack := awscdk.NewStack(app, jsii.String("Test"), nil)
	p := minimalProps()
	p.TableProps.TableName = jsii.String(proofTable)
	if identity {
		p.Enforcement = appendonly.EnforceIdentityOnlyOthersCanModify
	}
	if edit != nil {
		edit(p)
	}
	return app, stack, mustNewTable(t, stack, p)
}

// destroyAspect applies RemovalPolicy DESTROY to every resource, as a
// development stack's aspect might.
type destroyAspect struct{}

func (*destroyAspect) Visit(node constructs.IConstruct) {
	if r, ok := node.(awscdk.CfnResource); ok {
		r.ApplyRemovalPolicy(awscdk.RemovalPolicy_DESTROY, nil)
	}
}

// Each way a careless teammate breaks append-only after NewTable, with
// ordinary CDK code, fails synthesis naming what is wrong.
func TestGuardFailsEveryWayAround(t *testing.T) {
	type build func(t *testing.T, app awscdk.App, stack awscdk.Stack, l *appendonly.Table)
	for _, c := range []struct {
		name     string
		identity bool // EnforceIdentityOnlyOthersCanModify
		journal  bool
		backup   bool
		props    func(*appendonly.Props)
		build    build
		want     []string
	}{
		// The table's own protection, changed after NewTable.
		{name: "the description removed", build: func(t *testing.T, app awscdk.App, stack awscdk.Stack, l *appendonly.Table) {
			tableL1(l).AddDeletionOverride(jsii.String("Metadata.appendonly"))
		}, want: []string{"append-only table Test/Ledger has lost the description of what protects it"}},
		{name: "the description rewritten", build: func(t *testing.T, app awscdk.App, stack awscdk.Stack, l *appendonly.Table) {
			tableL1(l).AddOverride(jsii.String("Metadata.appendonly.mode"), "EnforceIdentityOnlyOthersCanModify")
		}, want: []string{"the description of what protects the append-only table Test/Ledger"}},
		{name: "the resource policy deleted", build: func(t *testing.T, app awscdk.App, stack awscdk.Stack, l *appendonly.Table) {
			tableL1(l).AddDeletionOverride(jsii.String("Properties.ResourcePolicy"))
		}, want: []string{"appendonly-protection-unchanged", "append-only table Test/Ledger", "lost the statement DenyEveryoneOverwriteUpdateAndDeleteOfItems"}},
		{name: "the resource policy replaced", build: func(t *testing.T, app awscdk.App, stack awscdk.Stack, l *appendonly.Table) {
			tableL1(l).AddPropertyOverride(jsii.String("ResourcePolicy.PolicyDocument"), map[string]any{"Version": "2012-10-17", "Statement": []any{}})
		}, want: []string{"lost the statement DenyEveryoneButDeployerChangingTableProtection", "ExemptPrincipalArns"}},
		{name: "the deny turned into an allow", build: func(t *testing.T, app awscdk.App, stack awscdk.Stack, l *appendonly.Table) {
			tableL1(l).AddPropertyOverride(jsii.String("ResourcePolicy.PolicyDocument.Statement.0.Effect"), "Allow")
		}, want: []string{"statement DenyEveryoneOverwriteUpdateAndDeleteOfItems is not as the construct wrote it", `"Effect":"Allow"`}},
		{name: "deletion protection off", build: func(t *testing.T, app awscdk.App, stack awscdk.Stack, l *appendonly.Table) {
			tableL1(l).AddPropertyOverride(jsii.String("DeletionProtectionEnabled"), false)
		}, want: []string{"DeletionProtectionEnabled is false, should be true", "UnsafeAllowTableRemoval"}},
		{name: "point-in-time recovery off", build: func(t *testing.T, app awscdk.App, stack awscdk.Stack, l *appendonly.Table) {
			tableL1(l).AddPropertyOverride(jsii.String("PointInTimeRecoverySpecification.PointInTimeRecoveryEnabled"), false)
		}, want: []string{"PointInTimeRecoverySpecification is", `"PointInTimeRecoveryEnabled":false`}},
		{name: "a shorter recovery window", build: func(t *testing.T, app awscdk.App, stack awscdk.Stack, l *appendonly.Table) {
			tableL1(l).AddPropertyOverride(jsii.String("PointInTimeRecoverySpecification.RecoveryPeriodInDays"), 1)
		}, want: []string{`"RecoveryPeriodInDays":1`, "TableProps.PointInTimeRecoverySpecification.RecoveryPeriodInDays"}},
		{name: "a TTL added", build: func(t *testing.T, app awscdk.App, stack awscdk.Stack, l *appendonly.Table) {
			tableL1(l).AddPropertyOverride(jsii.String("TimeToLiveSpecification"), map[string]any{"AttributeName": "expires", "Enabled": true})
		}, want: []string{"TimeToLiveSpecification is set", "TTL deletes items"}},
		{name: "ApplyRemovalPolicy DESTROY", build: func(t *testing.T, app awscdk.App, stack awscdk.Stack, l *appendonly.Table) {
			l.DynamoTable().ApplyRemovalPolicy(awscdk.RemovalPolicy_DESTROY)
		}, want: []string{`DeletionPolicy is "Delete", should be "Retain"`, `UpdateReplacePolicy is "Delete"`}},
		{name: "RemovalPolicies.of(app).destroy()", build: func(t *testing.T, app awscdk.App, stack awscdk.Stack, l *appendonly.Table) {
			awscdk.RemovalPolicies_Of(app).Destroy(nil)
		}, want: []string{`append-only table Test/Ledger: DeletionPolicy is "Delete"`, `UnsafeAllowTableRemoval with RemovalPolicy DESTROY`}},
		{name: "an aspect applying DESTROY", build: func(t *testing.T, app awscdk.App, stack awscdk.Stack, l *appendonly.Table) {
			awscdk.Aspects_Of(stack).Add(&destroyAspect{}, nil)
		}, want: []string{`append-only table Test/Ledger: DeletionPolicy is "Delete"`}},
		{name: "the deny gone and a write grant beside it", build: func(t *testing.T, app awscdk.App, stack awscdk.Stack, l *appendonly.Table) {
			tableL1(l).AddDeletionOverride(jsii.String("Properties.ResourcePolicy"))
			l.DynamoTable().GrantReadWriteData(writer(stack, "W"))
		}, want: []string{"lost the statement", "Policy Test/W/DefaultPolicy/Resource, statement #1, allows dynamodb:BatchWriteItem"}},
		{name: "the managed policy's deny deleted", build: func(t *testing.T, app awscdk.App, stack awscdk.Stack, l *appendonly.Table) {
			l.ManagedPolicy().Node().DefaultChild().(awscdk.CfnResource).AddDeletionOverride(jsii.String("Properties.PolicyDocument.Statement.2"))
		}, want: []string{"managed policy of the append-only table Test/Ledger", "lost the statement DenyOverwriteUpdateAndDeleteOfItems"}},
		{name: "the journal's lock lifted", journal: true, build: func(t *testing.T, app awscdk.App, stack awscdk.Stack, l *appendonly.Table) {
			l.JournalBucket().Node().DefaultChild().(awscdk.CfnResource).AddDeletionOverride(jsii.String("Properties.ObjectLockConfiguration"))
		}, want: []string{"journal bucket of the append-only table Test/Ledger", "ObjectLockConfiguration is absent"}},
		{name: "the journal's bucket policy emptied", journal: true, build: func(t *testing.T, app awscdk.App, stack awscdk.Stack, l *appendonly.Table) {
			l.JournalBucket().Policy().Node().DefaultChild().(awscdk.CfnResource).AddPropertyOverride(jsii.String("PolicyDocument.Statement"), []any{})
		}, want: []string{"journal bucket policy", "lost the statement DenyEveryoneDeletingOrUnlockingJournal"}},
		{name: "the journal key's policy replaced", journal: true, build: func(t *testing.T, app awscdk.App, stack awscdk.Stack, l *appendonly.Table) {
			l.JournalKey().Node().DefaultChild().(awscdk.CfnResource).AddPropertyOverride(jsii.String("KeyPolicy.Statement"), []any{})
		}, want: []string{"journal key", "lost the statement DenyEveryoneButSequencerSigning"}},
		{name: "the vault lock removed", backup: true, build: func(t *testing.T, app awscdk.App, stack awscdk.Stack, l *appendonly.Table) {
			l.BackupVault().Node().DefaultChild().(awscdk.CfnResource).AddDeletionOverride(jsii.String("Properties.LockConfiguration"))
		}, want: []string{"backup vault", "LockConfiguration is absent"}},

		// CDK's own acknowledgement does not silence the guard.
		{name: "Validations.of(app).acknowledge", build: func(t *testing.T, app awscdk.App, stack awscdk.Stack, l *appendonly.Table) {
			w := writer(stack, "W")
			l.DynamoTable().GrantReadWriteData(w)
			for _, scope := range []constructs.IConstruct{app, w} {
				for _, id := range []string{"appendonly-no-write-grant", "appendonly-write-grant-guard::appendonly-no-write-grant", "appendonly-write-grant-guard:appendonly-no-write-grant"} {
					awscdk.Validations_Of(scope).Acknowledge(&awscdk.Acknowledgment{Id: jsii.String(id), Reason: jsii.String("try to silence it")})
				}
			}
		}, want: []string{"fatal appendonly-no-write-grant", "Test/W/DefaultPolicy/Resource", "UnsafeAcknowledgeWriteGrant on Test/W"}},

		// Nested stacks.
		{name: "a role in a nested stack", build: func(t *testing.T, app awscdk.App, stack awscdk.Stack, l *appendonly.Table) {
			nested := awscdk.NewNestedStack(stack, jsii.String("Inner"), nil)
			l.DynamoTable().GrantReadWriteData(writer(nested, "W"))
		}, want: []string{"Policy Test/Inner/W/DefaultPolicy/Resource", "append-only table Test/Ledger "}},

		// Resource expressions.
		{name: "Fn::Sub with variables", build: func(t *testing.T, app awscdk.App, stack awscdk.Stack, l *appendonly.Table) {
			writer(stack, "W").AddToPolicy(statementOn([]string{"dynamodb:DeleteItem"},
				*awscdk.Fn_Sub(jsii.String("${T}"), &map[string]*string{"T": l.DynamoTable().TableArn()})))
		}, want: []string{"allows dynamodb:DeleteItem on the append-only table Test/Ledger"}},
		{name: "Fn::Select of Fn::Split", build: func(t *testing.T, app awscdk.App, stack awscdk.Stack, l *appendonly.Table) {
			arn := "arn:aws:dynamodb:us-east-1:111122223333:table/" + proofTable
			name := awscdk.Fn_Select(jsii.Number(1), awscdk.Fn_Split(jsii.String("/"), jsii.String(arn), nil))
			writer(stack, "W").AddToPolicy(statementOn([]string{"dynamodb:UpdateItem"}, "arn:aws:dynamodb:us-east-1:111122223333:table/"+*name))
		}, want: []string{"allows dynamodb:UpdateItem on the append-only table Test/Ledger"}},
		{name: "an ARN read from SSM", build: func(t *testing.T, app awscdk.App, stack awscdk.Stack, l *appendonly.Table) {
			arn := awsssm.StringParameter_ValueForStringParameter(stack, jsii.String("/tables/ledger/arn"), nil)
			writer(stack, "W").AddToPolicy(statementOn([]string{"dynamodb:PutItem"}, *arn))
		}, want: []string{"a resource the guard cannot resolve (<unresolved>)", "may be the append-only table Test/Ledger", "If the resource is another table"}},
		{name: "a template parameter", build: func(t *testing.T, app awscdk.App, stack awscdk.Stack, l *appendonly.Table) {
			p := awscdk.NewCfnParameter(stack, jsii.String("TableArn"), nil)
			writer(stack, "W").AddToPolicy(statementOn([]string{"dynamodb:PutItem"}, *p.ValueAsString()))
		}, want: []string{"cannot resolve"}},
		{name: "arn:aws:dynamodb:*", build: func(t *testing.T, app awscdk.App, stack awscdk.Stack, l *appendonly.Table) {
			writer(stack, "W").AddToPolicy(statementOn([]string{"dynamodb:DeleteItem"}, "arn:aws:dynamodb:*"))
		}, want: []string{"on the append-only table Test/Ledger (resource arn:aws:dynamodb:*)"}},
		{name: "arn:*", build: func(t *testing.T, app awscdk.App, stack awscdk.Stack, l *appendonly.Table) {
			writer(stack, "W").AddToPolicy(statementOn([]string{"dynamodb:DeleteItem"}, "arn:*"))
		}, want: []string{"(resource arn:*)"}},
		{name: "NotResource", build: func(t *testing.T, app awscdk.App, stack awscdk.Stack, l *appendonly.Table) {
			writer(stack, "W").AddToPolicy(awsiam.NewPolicyStatement(&awsiam.PolicyStatementProps{
				Actions: jsii.Strings("dynamodb:PutItem"), NotResources: jsii.Strings("arn:aws:s3:::bucket/*"),
			}))
		}, want: []string{"allows dynamodb:PutItem on the append-only table Test/Ledger (resource every resource but arn:aws:s3:::bucket/*)"}},

		// Identity-only mode: writes outside the statements read before.
		{name: "an AWS managed policy", identity: true, build: func(t *testing.T, app awscdk.App, stack awscdk.Stack, l *appendonly.Table) {
			writer(stack, "W").AddManagedPolicy(awsiam.ManagedPolicy_FromAwsManagedPolicyName(jsii.String("AmazonDynamoDBFullAccess")))
		}, want: []string{"the AWS managed policy AmazonDynamoDBFullAccess attached to Test/W", "nothing else stops it"}},
		{name: "a grant to another account", identity: true, build: func(t *testing.T, app awscdk.App, stack awscdk.Stack, l *appendonly.Table) {
			l.DynamoTable().GrantReadWriteData(awsiam.NewAccountPrincipal(jsii.String("444455556666")))
		}, want: []string{"the resource policy of the table Test/Ledger", "allows dynamodb:BatchWriteItem"}},
		{name: "TableProps.ResourcePolicy", identity: true, props: func(p *appendonly.Props) {
			p.TableProps.ResourcePolicy = awsiam.NewPolicyDocument(&awsiam.PolicyDocumentProps{Statements: &[]awsiam.PolicyStatement{
				awsiam.NewPolicyStatement(&awsiam.PolicyStatementProps{
					Actions: jsii.Strings("dynamodb:PutItem"), Resources: jsii.Strings("*"),
					Principals: &[]awsiam.IPrincipal{awsiam.NewAccountPrincipal(jsii.String("444455556666"))},
				})}})
		}, build: func(t *testing.T, app awscdk.App, stack awscdk.Stack, l *appendonly.Table) {},
			want: []string{"the resource policy of the table Test/Ledger", "allows dynamodb:PutItem"}},
		{name: "a permission set", identity: true, build: func(t *testing.T, app awscdk.App, stack awscdk.Stack, l *appendonly.Table) {
			awssso.NewCfnPermissionSet(stack, jsii.String("Editors"), &awssso.CfnPermissionSetProps{
				InstanceArn: jsii.String("arn:aws:sso:::instance/ssoins-1111111111111111"), Name: jsii.String("Editors"),
				InlinePolicy: map[string]any{"Version": "2012-10-17", "Statement": []any{map[string]any{
					"Effect": "Allow", "Action": "dynamodb:UpdateItem", "Resource": "arn:aws:dynamodb:*:*:table/" + proofTable}}},
			})
		}, want: []string{"inline policy of the permission set Test/Editors", "dynamodb:UpdateItem"}},
		{name: "a permission set's AWS managed policy", identity: true, build: func(t *testing.T, app awscdk.App, stack awscdk.Stack, l *appendonly.Table) {
			awssso.NewCfnPermissionSet(stack, jsii.String("Admins"), &awssso.CfnPermissionSetProps{
				InstanceArn: jsii.String("arn:aws:sso:::instance/ssoins-1111111111111111"), Name: jsii.String("Admins"),
				ManagedPolicies: jsii.Strings("arn:aws:iam::aws:policy/AdministratorAccess"),
			})
		}, want: []string{"the AWS managed policy AdministratorAccess attached to Test/Admins"}},
		{name: "a policy document as a JSON string", identity: true, build: func(t *testing.T, app awscdk.App, stack awscdk.Stack, l *appendonly.Table) {
			raw := awsiam.NewCfnPolicy(stack, jsii.String("Raw"), &awsiam.CfnPolicyProps{
				PolicyName:     jsii.String("raw"),
				Roles:          jsii.Strings(*writer(stack, "W").RoleName()),
				PolicyDocument: map[string]any{"Version": "2012-10-17", "Statement": []any{}},
			})
			// CloudFormation takes the document as a JSON string too.
			raw.AddPropertyOverride(jsii.String("PolicyDocument"),
				`{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"dynamodb:PartiQLDelete","Resource":"arn:aws:dynamodb:us-east-1:111122223333:table/`+proofTable+`"}]}`)
		}, want: []string{"Policy Test/Raw", "dynamodb:PartiQLDelete"}},
		{name: "a managed policy on an acknowledged role and another", identity: true, build: func(t *testing.T, app awscdk.App, stack awscdk.Stack, l *appendonly.Table) {
			mp := awsiam.NewManagedPolicy(stack, jsii.String("Writes"), &awsiam.ManagedPolicyProps{
				Statements: &[]awsiam.PolicyStatement{statementOn([]string{"dynamodb:PutItem"}, *l.DynamoTable().TableArn())},
			})
			acked, other := writer(stack, "Migration"), writer(stack, "Other")
			acked.AddManagedPolicy(mp)
			other.AddManagedPolicy(mp)
			if err := appendonly.UnsafeAcknowledgeWriteGrant(acked, "one-off migration"); err != nil {
				t.Fatal(err)
			}
		}, want: []string{"ManagedPolicy Test/Writes/Resource", "UnsafeAcknowledgeWriteGrant on Test/Migration and Test/Other"}},
	} {
		t.Run(c.name, func(t *testing.T) {
			app, stack, ledger := guardedTable(t, c.identity, func(p *appendonly.Props) {
				if c.journal {
					p.Journal = &appendonly.JournalProps{}
				}
				if c.backup {
					p.Backup = &appendonly.BackupProps{}
				}
				if c.props != nil {
					c.props(p)
				}
			})
			c.build(t, app, stack, ledger)
			msg := synthError(t, stack)
			if msg == "" {
				t.Fatal("synthesis succeeded, want it to fail")
			}
			for _, want := range c.want {
				if !strings.Contains(msg, want) {
					t.Errorf("got synthesis error\n%s\nwant it to contain %q", msg, want)
				}
			}
		})
	}
}

// A table in a nested stack, granted from the parent.
func TestGuardFailsAGrantToATableInANestedStack(t *testing.T) {
	stack := newStack(t)
	nested := awscdk.NewNestedStack(stack, jsii.String("Data"), nil)
	p := minimalProps()
	p.DeployerPrincipalArns = []string{"arn:aws:iam::111122223333:role/Deployer"}
	ledger := mustNewTable(t, nested, p)
	ledger.DynamoTable().GrantWriteData(writer(stack, "W"))
	msg := synthError(t, stack)
	for _, want := range []string{"Policy Test/W/DefaultPolicy/Resource", "append-only table Test/Data/Ledger "} {
		if !strings.Contains(msg, want) {
			t.Errorf("got synthesis error\n%s\nwant it to contain %q", msg, want)
		}
	}
}

// A grant across Regions reaches the policy through Fn::GetStackOutput of
// the table's stack, which the guard follows to the table.
func TestGuardFailsAGrantAcrossRegions(t *testing.T) {
	app := cdktest.NewApp(t)
	env := func(region string) *awscdk.Environment {
		return &awscdk.Environment{Account: jsii.String("111122223333"), Region: jsii.String(region)}
	}
	tables := awscdk.NewStack(app, jsii.String("Tables"), &awscdk.StackProps{Env: env("us-east-1")})
	p := minimalProps()
	p.TableProps.TableName = jsii.String(proofTable)
	p.TableProps.Stream = awsdynamodb.StreamViewType_NEW_IMAGE
	ledger := mustNewTable(t, tables, p)
	other := awscdk.NewStack(app, jsii.String("Elsewhere"), &awscdk.StackProps{Env: env("eu-west-1"), CrossRegionReferences: jsii.Bool(true)})
	w := awsiam.NewRole(other, jsii.String("W"), &awsiam.RoleProps{AssumedBy: awsiam.NewAccountRootPrincipal()})
	// The table's ARN is known from its name; its stream's is not.
	w.AddToPolicy(statementOn([]string{"dynamodb:*"}, *ledger.DynamoTable().TableStreamArn()))
	msg := synthError(t, tables)
	for _, want := range []string{"Policy Elsewhere/W/DefaultPolicy/Resource", "on the append-only table Tables/Ledger (resource arn:*:dynamodb:*:*:table/Ledger/stream/*)"} {
		if !strings.Contains(msg, want) {
			t.Errorf("got synthesis error\n%s\nwant it to contain %q", msg, want)
		}
	}
}

// The legitimate changes still pass.
func TestGuardPassesLegitimateChanges(t *testing.T) {
	for _, c := range []struct {
		name     string
		identity bool
		build    func(t *testing.T, app awscdk.App, stack awscdk.Stack, l *appendonly.Table)
	}{
		{name: "tags", build: func(t *testing.T, app awscdk.App, stack awscdk.Stack, l *appendonly.Table) {
			awscdk.Tags_Of(app).Add(jsii.String("team"), jsii.String("ledger"), nil)
		}},
		{name: "an override of contributor insights", build: func(t *testing.T, app awscdk.App, stack awscdk.Stack, l *appendonly.Table) {
			tableL1(l).AddPropertyOverride(jsii.String("ContributorInsightsSpecification.Enabled"), true)
		}},
		{name: "a read grant through an imported table", build: func(t *testing.T, app awscdk.App, stack awscdk.Stack, l *appendonly.Table) {
			imported := awsdynamodb.Table_FromTableArn(stack, jsii.String("Imported"), jsii.String("arn:aws:dynamodb:us-east-1:111122223333:table/"+proofTable))
			imported.GrantReadData(writer(stack, "R"))
		}},
		{name: "RemovalPolicies.of(app).retain()", build: func(t *testing.T, app awscdk.App, stack awscdk.Stack, l *appendonly.Table) {
			awscdk.RemovalPolicies_Of(app).Retain(nil)
		}},
		{name: "the caller's own resource policy statement", build: func(t *testing.T, app awscdk.App, stack awscdk.Stack, l *appendonly.Table) {
			l.DynamoTable().GrantReadData(awsiam.NewAccountPrincipal(jsii.String("444455556666")))
		}},
		{name: "a read-only AWS managed policy", identity: true, build: func(t *testing.T, app awscdk.App, stack awscdk.Stack, l *appendonly.Table) {
			writer(stack, "W").AddManagedPolicy(awsiam.ManagedPolicy_FromAwsManagedPolicyName(jsii.String("AmazonDynamoDBReadOnlyAccess")))
		}},
		{name: "a managed policy on acknowledged roles only", identity: true, build: func(t *testing.T, app awscdk.App, stack awscdk.Stack, l *appendonly.Table) {
			mp := awsiam.NewManagedPolicy(stack, jsii.String("Writes"), &awsiam.ManagedPolicyProps{
				Statements: &[]awsiam.PolicyStatement{statementOn([]string{"dynamodb:PutItem"}, *l.DynamoTable().TableArn())},
			})
			w := writer(stack, "Migration")
			w.AddManagedPolicy(mp)
			if err := appendonly.UnsafeAcknowledgeWriteGrant(w, "one-off migration"); err != nil {
				t.Fatal(err)
			}
		}},
		{name: "an acknowledged function", identity: true, build: func(t *testing.T, app awscdk.App, stack awscdk.Stack, l *appendonly.Table) {
			fn := newFunction(stack, "Fn")
			l.DynamoTable().GrantReadWriteData(fn)
			if err := appendonly.UnsafeAcknowledgeWriteGrant(fn, "one-off migration"); err != nil {
				t.Fatal(err)
			}
		}},
		{name: "a write to another table by a template parameter's name", build: func(t *testing.T, app awscdk.App, stack awscdk.Stack, l *appendonly.Table) {
			p := awscdk.NewCfnParameter(stack, jsii.String("Scratch"), nil)
			writer(stack, "W").AddToPolicy(statementOn([]string{"dynamodb:PutItem"}, "arn:aws:dynamodb:*:*:table/Scratch-"+*p.ValueAsString()))
		}},
	} {
		t.Run(c.name, func(t *testing.T) {
			app, stack, ledger := guardedTable(t, c.identity, nil)
			c.build(t, app, stack, ledger)
			if msg := synthError(t, stack); msg != "" {
				t.Errorf("got synthesis error\n%s\nwant none", msg)
			}
		})
	}
}

// The legitimate changes around a journal still pass: tags on its bucket,
// GrantJournalRead, a subscription to its alarm topic, a longer retention
// of its log groups, and a deployment role that may update another
// function's code.
func TestGuardPassesLegitimateJournalChanges(t *testing.T) {
	_, stack, ledger := guardedTable(t, false, func(p *appendonly.Props) { p.Journal = &appendonly.JournalProps{} })
	awscdk.Tags_Of(ledger.JournalBucket()).Add(jsii.String("data-class"), jsii.String("ledger"), nil)
	if _, err := ledger.GrantJournalRead(writer(stack, "Auditor")); err != nil {
		t.Fatal(err)
	}
	ledger.JournalAlarmTopic().AddSubscription(awssnssubscriptions.NewEmailSubscription(jsii.String("oncall@example.com"), nil))
	groups := 0
	for _, c := range *ledger.Node().FindAll(constructs.ConstructOrder_PREORDER) {
		if lg, ok := c.(awslogs.CfnLogGroup); ok {
			lg.AddPropertyOverride(jsii.String("RetentionInDays"), 3653)
			groups++
		}
	}
	if groups < 2 {
		t.Fatalf("%d log groups found, want the sequencer's and the monitor's", groups)
	}
	other := newFunction(stack, "Other")
	writer(stack, "Deploy").AddToPolicy(statementOn([]string{"lambda:UpdateFunctionCode", "lambda:InvokeFunction"}, *other.FunctionArn()))
	if msg := synthError(t, stack); msg != "" {
		t.Errorf("got synthesis error\n%s\nwant none", msg)
	}
}
