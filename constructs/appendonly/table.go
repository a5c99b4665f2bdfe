package appendonly

import (
	"errors"
	"fmt"
	"github.com/appendonly/appendonly/check"
	"github.com/appendonly/appendonly/internal/plan"
	"github.com/appendonly/appendonly/internal/seqbuild"
	"slices"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsbackup"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsdynamodb"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsiam"
	"github.com/aws/aws-cdk-go/awscdk/v2/awskms"
	"github.com/aws/constructs-go/constructs/v10"
	"github.com/aws/jsii-runtime-go"
)

// Defaults the construct applies to a new table, and the construct ids that
// fix the logical ids of what it creates. A changed id replaces the resource.
const (
	// DefaultRecoveryPeriodDays is the point-in-time recovery window.
	DefaultRecoveryPeriodDays = plan.DefaultRecoveryPeriodDays

	// DefaultEncryption encrypts a new table with the AWS managed key for
	// DynamoDB (alias/aws/dynamodb), which nobody in the account can
	// disable, schedule for deletion or re-policy, and whose use CloudTrail
	// records. TableEncryption_DEFAULT (the AWS owned key) is the explicit
	// alternative.
	DefaultEncryption = awsdynamodb.TableEncryption_AWS_MANAGED

	tableID  = "Resource"
	keyID    = "Key"
	policyID = "Policy"
	userID   = "User"
	groupID  = "Group"
	roleID   = "Role"
)

// Statement ids, written so that a reviewer of `cdk synth` output understands
// each statement at a glance.
const (
	SidAppend              = check.SidAppend
	SidRead                = check.SidRead
	SidReadStream          = check.SidReadStream
	SidUseKeyToAppend      = check.SidUseKeyToAppend
	SidUseKeyToRead        = check.SidUseKeyToRead
	SidDenyItemMutations   = check.SidDenyItemMutations
	SidDenyDataLoss        = check.SidDenyDataLoss
	SidDenyKeyLoss         = check.SidDenyKeyLoss
	SidTableWideDeny       = check.SidTableWideDeny
	SidTableWideProtect    = check.SidTableWideProtect
	SidKeyProtect          = check.SidKeyProtect
	SidKeyGrantsForAWS     = check.SidKeyGrantsForAWS
	managedPolicyPurpose   = "Append-only access to one DynamoDB table: PartiQL INSERT and reads allowed; overwrite, update, delete and data-losing table changes denied."
	existingTableWarningID = "appendonly:existingTableIdentityOnly"
	importedKeyWarningID   = "appendonly:keyPolicyNotChanged"
)

// Table is an append-only DynamoDB table: the table, a customer managed
// policy that allows appending with PartiQL INSERT and reading while it
// explicitly denies every other way of changing data, and optionally an IAM
// user or role holding that policy.
//
// Table is a construct: tag it (awscdk.Tags_Of), depend on it
// (Node().AddDependency), apply aspects to it and find it in the tree by the
// id given to NewTable. The resources it creates are its children.
type Table struct {
	constructs.Construct
	table       awsdynamodb.ITable
	created     awsdynamodb.Table // the table NewTable created; nil for ExistingTable
	key         awskms.IKey
	policy      awsiam.ManagedPolicy
	user        awsiam.User
	group       awsiam.Group
	role        awsiam.Role
	enforcement Enforcement
	registry    *registry    // the app's
	stack       awscdk.Stack // the stack that holds it
	exempt      []string     // Props.ExemptPrincipalArns, copied
	refs        refs
	bounds      bounds
	cfnTable    awscdk.CfnElement // nil for ExistingTable
	backupVault awsbackup.IBackupVault
	backupPlan  awsbackup.BackupPlan
	literalName string // TableProps.TableName when it is not a token
	journal     *journalResources
	cross       *plan.CrossAccount // a journal in another account, or nil
	// protected are the resources the guard checks in the final template,
	// the table first.
	protected []protected
}

// bounds are the longest the refs can be once deployed, worked out on the
// first grant.
type bounds struct {
	table, globalTable, stream, key int
}

// NewTable validates props and creates an append-only table under scope. It
// returns an error naming every invalid prop, before it creates anything.
func NewTable(scope constructs.Construct, id string, props *Props) (*Table, error) {
	if err := validate(props); err != nil {
		return nil, fmt.Errorf("appendonly.NewTable %q: invalid props:\n%w", id, err)
	}
	var sequencerDir string
	if props.Journal != nil {
		dir, err := seqbuild.Build()
		if err != nil {
			return nil, fmt.Errorf("appendonly.NewTable %q: Journal: building the sequencer function: %w", id, err)
		}
		sequencerDir = dir
	}
	reg := registryOf(scope)
	// The stack, asked of the kernel once for everything NewTable does.
	stack := awscdk.Stack_Of(scope)
	var prot plan.Protection
	var callerDoc any
	if props.Enforcement == EnforceTableWide {
		deployers, err := reg.deployersOf(stack, props)
		if err == nil {
			prot = newProtection(props, deployers)
			if rp := props.TableProps.ResourcePolicy; rp != nil {
				callerDoc = stack.Resolve(rp)
			}
			err = checkResourcePolicySize(props, prot, callerDoc)
		}
		if err != nil {
			return nil, fmt.Errorf("appendonly.NewTable %q: invalid props:\n%w", id, err)
		}
	}

	t := &Table{enforcement: props.Enforcement, registry: reg, stack: stack, exempt: slices.Clone(props.ExemptPrincipalArns)}
	var site *journalSite
	if props.Journal != nil {
		var err error
		if site, err = t.newJournalSite(id, props, prot); err != nil {
			return nil, fmt.Errorf("appendonly.NewTable %q: invalid props:\n%w", id, err)
		}
		t.cross = site.cross
	}
	constructs.NewConstruct_Override(t, scope, jsii.String(id))
	if props.ExistingTable != nil {
		t.table = props.ExistingTable
		t.key = props.ExistingTable.EncryptionKey()
		t.readRefs(true)
		t.registry.existing = append(t.registry.existing, existingTable(t))
		awscdk.Annotations_Of(t).AddWarningV2(jsii.String(existingTableWarningID), jsii.String(
			"ExistingTable: append-only is enforced only for the principals this construct creates or grants to. "+
				"The construct cannot add a resource policy to this table, so other principals with write access can still "+
				"update and delete items, and it cannot check deletion protection, point-in-time recovery or TTL on it."), nil)
	} else {
		t.createTable(props, prot)
	}

	if props.Backup != nil {
		t.createBackup(props.Backup, props.ExemptPrincipalArns)
	}
	if props.Journal != nil {
		site.place(t, id)
		t.createJournal(props.Journal, site, sequencerDir)
	}

	t.policy = awsiam.NewManagedPolicy(t, jsii.String(policyID), &awsiam.ManagedPolicyProps{
		ManagedPolicyName: optional(props.ManagedPolicyName),
		Description:       jsii.String(managedPolicyPurpose),
		Document:          policyDocument(t.statements(plan.Append | plan.Read)),
	})
	policyL1 := t.policy.Node().DefaultChild().(awscdk.CfnResource)
	suppressNagOn(policyL1, plan.IndexWildcardNag())
	if props.ExistingTable != nil {
		md := map[string]any{"label": *t.Node().Path(), "arn": t.table.TableArn(), "name": t.table.TableName(), "mode": props.Enforcement.String()}
		if len(t.exempt) > 0 {
			md["exempt"] = t.exempt
		}
		policyL1.AddMetadata(jsii.String(check.ExistingKey), md)
	}
	if t.cfnTable != nil {
		t.protected = append(t.protected, protected{what: "managed policy", el: policyL1, stmts: t.denyStatements()})
		rec := &tableRecord{stack: stack, stackPath: t.registry.stackPath(stack),
			mode: props.Enforcement, exempt: t.exempt, literalName: t.literalName, protected: t.protected}
		t.registry.describe(rec)
		t.registry.tables = append(t.registry.tables, *rec)
	}

	switch {
	case props.User != nil:
		t.group = awsiam.NewGroup(t, jsii.String(groupID), &awsiam.GroupProps{
			GroupName:       optional(props.User.GroupName),
			ManagedPolicies: &[]awsiam.IManagedPolicy{t.policy},
		})
		t.user = awsiam.NewUser(t, jsii.String(userID), &awsiam.UserProps{
			UserName: optional(props.User.UserName),
			Groups:   &[]awsiam.IGroup{t.group},
		})
		t.registry.countAttached(t.group, 1)
	case props.Role != nil:
		t.role = awsiam.NewRole(t, jsii.String(roleID), &awsiam.RoleProps{
			AssumedBy:       props.Role.AssumedBy,
			RoleName:        optional(props.Role.RoleName),
			Description:     jsii.String("Appends to and reads one append-only DynamoDB table."),
			ManagedPolicies: &[]awsiam.IManagedPolicy{t.policy},
		})
		t.registry.countAttached(t.role, 1)
	}
	return t, nil
}

// tableInput is what of props decides the new table, as plain values.
func tableInput(props *Props) plan.TableInput {
	tp := props.TableProps
	in := plan.TableInput{Name: tp.TableName, TTL: tp.TimeToLiveAttribute != nil, Removal: string(tp.RemovalPolicy),
		//lint:ignore SA1019 users may still set the deprecated field; false must be rejected
		DeletionProtection: tp.DeletionProtection, PITR: tp.PointInTimeRecovery,
		KeyGiven: tp.EncryptionKey != nil, Encryption: string(tp.Encryption), Billing: string(tp.BillingMode), Stream: string(tp.Stream),
		UnsafeRemoval: props.UnsafeAllowTableRemoval, Journal: props.Journal != nil}
	if tp.ReplicationRegions != nil {
		in.Replicas = len(*tp.ReplicationRegions)
	}
	for _, k := range []struct {
		a   *awsdynamodb.Attribute
		dst **plan.Attribute
	}{{tp.PartitionKey, &in.PartitionKey}, {tp.SortKey, &in.SortKey}} {
		if k.a != nil {
			*k.dst = &plan.Attribute{Name: deref(k.a.Name), Type: string(k.a.Type)}
		}
	}
	if s := tp.PointInTimeRecoverySpecification; s != nil {
		in.PITRSpec, in.PITREnabled, in.PITRDays = true, s.PointInTimeRecoveryEnabled, s.RecoveryPeriodInDays
	}
	return in
}

// tableProps are the user's TableProps with the plan applied: a shallow
// copy, so that the caller's struct is not changed.
func tableProps(p plan.Table, user *awsdynamodb.TableProps) awsdynamodb.TableProps {
	tp := *user
	tp.BillingMode, tp.Encryption, tp.RemovalPolicy = awsdynamodb.BillingMode(p.Billing), awsdynamodb.TableEncryption(p.Encryption), awscdk.RemovalPolicy(p.Removal)
	if p.Stream != "" {
		tp.Stream = awsdynamodb.StreamViewType(p.Stream)
	}
	tp.TimeToLiveAttribute = nil
	//lint:ignore SA1019 the deprecated field is cleared so that only the specification below applies
	tp.PointInTimeRecovery = nil
	tp.PointInTimeRecoverySpecification = &awsdynamodb.PointInTimeRecoverySpecification{
		PointInTimeRecoveryEnabled: jsii.Bool(true),
		RecoveryPeriodInDays:       jsii.Number(p.PITRDays),
	}
	tp.DeletionProtection = jsii.Bool(p.DeletionProtection)
	return tp
}

// createTable creates the hardened table: the user's TableProps merged over
// the construct's defaults, then the settings append-only requires.
func (t *Table) createTable(props *Props, prot plan.Protection) {
	pl := tableInput(props).Plan()
	tp := tableProps(pl, props.TableProps)

	arn := t.registry.templateArn
	var keyProt *protected
	var rpStmts []plan.Statement
	if tp.Encryption == awsdynamodb.TableEncryption_CUSTOMER_MANAGED {
		if tp.EncryptionKey == nil {
			tp.EncryptionKey = awskms.NewKey(t, jsii.String(keyID), &awskms.KeyProps{
				Description:       jsii.String("Encrypts an append-only DynamoDB table. Disabling or deleting it makes every item unreadable."),
				EnableKeyRotation: jsii.Bool(true),
				RemovalPolicy:     awscdk.RemovalPolicy_RETAIN,
			})
			tp.EncryptionKey.AddToResourcePolicy(awsiam.PolicyStatement_FromJson(plan.CreateGrantForAWSOnly().JSON()), jsii.Bool(false))
			keyProt = &protected{what: "key", retain: true,
				stmts: []plan.Statement{plan.CreateGrantForAWSOnly()}}
		} else if tp.EncryptionKey.Node().DefaultChild() != nil {
			tp.EncryptionKey.ApplyRemovalPolicy(awscdk.RemovalPolicy_RETAIN)
			keyProt = &protected{what: "key", retain: true}
		}
		if props.Enforcement == EnforceTableWide {
			ks := prot.KeyStatement(arn)
			added := tp.EncryptionKey.AddToResourcePolicy(awsiam.PolicyStatement_FromJson(ks.JSON()), jsii.Bool(true))
			if added != nil && added.StatementAdded != nil && *added.StatementAdded && keyProt != nil {
				keyProt.stmts = append(keyProt.stmts, ks)
			}
			if added == nil || added.StatementAdded == nil || !*added.StatementAdded {
				awscdk.Annotations_Of(t).AddWarningV2(jsii.String(importedKeyWarningID), jsii.String(
					"TableProps.EncryptionKey: the key is not defined in this app, so the construct cannot add its deny to the key policy: "+
						"only the construct's own principals are denied disabling or deleting it. Add the statement "+SidKeyProtect+
						" to the key policy yourself (see the README)."), nil)
			}
		}
	}
	if props.Enforcement == EnforceTableWide {
		stmts := prot.ResourceStatements(arn)
		if t.cross != nil {
			stmts = append(stmts, t.cross.TableStatement(arn), t.cross.MonitorStatement(arn))
		}
		rpStmts = stmts
		if tp.ResourcePolicy == nil {
			tp.ResourcePolicy = policyDocument(stmts)
		} else {
			// A copy: the caller's document, which may serve other tables too,
			// is not changed.
			doc := awsiam.PolicyDocument_FromJson(tp.ResourcePolicy.ToJSON())
			for _, s := range stmts {
				doc.AddStatements(awsiam.PolicyStatement_FromJson(s.JSON()))
			}
			tp.ResourcePolicy = doc
		}
	}

	table := awsdynamodb.NewTable(t, jsii.String(tableID), &tp)
	cfn := table.Node().DefaultChild().(awscdk.CfnResource)
	if props.Backup == nil {
		suppressNagOn(cfn, plan.TableNag()...)
	}
	if t.cross != nil {
		cfn.AddPropertyOverride(jsii.String("StreamSpecification.ResourcePolicy"), map[string]any{
			"PolicyDocument": map[string]any{"Version": "2012-10-17", "Statement": []any{t.cross.StreamStatement(arn).JSON()}}})
	}
	t.cfnTable = cfn
	if name := deref(tp.TableName); !plan.IsToken(name) {
		t.literalName = name
	}
	t.table, t.created = table, table
	t.protected = append(t.protected, protected{what: "table", el: cfn,
		retain: pl.Removal == "RETAIN", props: pl.Wants(t.cross != nil), stmts: rpStmts})
	if tp.Encryption == awsdynamodb.TableEncryption_CUSTOMER_MANAGED {
		t.key = tp.EncryptionKey
		if keyProt != nil {
			keyProt.el = tp.EncryptionKey.Node().DefaultChild().(awscdk.CfnElement)
			t.protected = append(t.protected, *keyProt)
		}
	}
	t.readRefs(tp.Stream != "")
}

func policyDocument(stmts []plan.Statement) awsiam.PolicyDocument {
	return awsiam.PolicyDocument_FromJson(plan.Document(stmts))
}

// refs are the ARNs the statements name, as token strings, read from the
// jsii kernel once per table.
type refs struct {
	plan.Refs
	// The journal's sequencer, its mapping and its role: empty without a
	// journal.
	sequencer, sequencerMapping, sequencerRole, monitor, monitorRole string
	// The journal's removal and its role (UnsafeRemoveWithStack), or "".
	remover, removerRole string
}

func (t *Table) readRefs(hasStream bool) {
	t.refs.Table = *t.table.TableArn()
	t.refs.GlobalTable = *t.stack.FormatArn(&awscdk.ArnComponents{
		Service:      jsii.String("dynamodb"),
		Region:       jsii.String(""),
		Resource:     jsii.String("global-table"),
		ResourceName: t.table.TableName(),
	})
	if hasStream {
		if arn := t.table.TableStreamArn(); arn != nil {
			t.refs.Stream = *arn
		}
	}
	if t.key != nil {
		t.refs.Key = *t.key.KeyArn()
	}
}

// statements returns the identity-policy statements for the access asked
// for, always followed by the deny statements.
func (t *Table) statements(a plan.Access) []plan.Statement {
	return append(t.refs.Allow(a), t.denyStatements()...)
}

func (t *Table) denyStatements() []plan.Statement {
	out := t.refs.Deny()
	if t.journal != nil && t.journal.control != nil {
		out = append(out, *t.journal.control)
	}
	return out
}

// GrantAppend lets grantee append items with PartiQL INSERT, and gives it
// the same explicit denies the managed policy carries. It does not let
// grantee read.
//
// The allow goes into the grantee's inline policy, as with every CDK grant.
// For an IAM role, user or group the denies go into customer managed
// policies created beside it (AppendOnlyDeny1, 2, ...), shared by every table
// granted to it. A grant that would take the grantee past an IAM limit
// (MaxRoleInlineChars, MaxUserInlineChars, MaxGroupInlineChars,
// MaxManagedPolicyChars, MaxManagedPoliciesPerPrincipal) is not written: an
// error on the grantee, naming the limit, fails synthesis instead.
func (t *Table) GrantAppend(grantee awsiam.IGrantable) awsiam.Grant {
	return t.grant(grantee, plan.Append)
}

// GrantRead lets grantee read items, and gives it the same explicit denies
// the managed policy carries, as GrantAppend does.
func (t *Table) GrantRead(grantee awsiam.IGrantable) awsiam.Grant {
	return t.grant(grantee, plan.Read)
}

// ErrNoStream is returned by GrantStreamRead for a table without a stream.
var ErrNoStream = errors.New("appendonly: the table has no stream: set TableProps.Stream to a StreamViewType such as awsdynamodb.StreamViewType_NEW_IMAGE")

// GrantStreamRead lets grantee read the table's change feed (DynamoDB
// Streams), and adds the explicit denies. dynamodb:ListStreams is not
// granted: it cannot be scoped to one table. It returns ErrNoStream if the
// table has no stream.
func (t *Table) GrantStreamRead(grantee awsiam.IGrantable) (awsiam.Grant, error) {
	if t.refs.Stream == "" {
		return nil, ErrNoStream
	}
	return t.grant(grantee, plan.Stream), nil
}

// DynamoTable is the table, created or brought with Props.ExistingTable.
func (t *Table) DynamoTable() awsdynamodb.ITable { return t.table }

// CreatedTable is the table NewTable created, as aws-cdk's own
// awsdynamodb.Table, for what CDK users do with one: global and local
// secondary indexes (AddGlobalSecondaryIndex), metrics (MetricConsumedWriteCapacityUnits,
// MetricThrottledRequestsForOperations, ...). It is nil for
// Props.ExistingTable. The guard still checks what the table must keep:
// an index is covered by the denies (<table ARN>/index/*); a change to
// deletion protection, point-in-time recovery, TTL or the resource policy
// fails synthesis.
func (t *Table) CreatedTable() awsdynamodb.Table { return t.created }

// GrantReadData is GrantRead, by the name aws-cdk's awsdynamodb.Table
// gives it: grantee reads items, with the explicit denies.
func (t *Table) GrantReadData(grantee awsiam.IGrantable) awsiam.Grant { return t.GrantRead(grantee) }

// EncryptionKey is the table's customer managed KMS key, or nil when the
// table uses a key that AWS manages.
func (t *Table) EncryptionKey() awskms.IKey { return t.key }

// ManagedPolicy is the append-only customer managed policy: append and read
// allowed, every other way of changing data explicitly denied.
func (t *Table) ManagedPolicy() awsiam.ManagedPolicy { return t.policy }

// User is the IAM user created from Props.User, or nil.
func (t *Table) User() awsiam.User { return t.user }

// Group is the IAM group that holds the managed policy for User, or nil.
func (t *Table) Group() awsiam.Group { return t.group }

// Role is the IAM role created from Props.Role, or nil.
func (t *Table) Role() awsiam.Role { return t.role }

// BackupVault is the vault the table's recovery points are saved to, or nil
// without Props.Backup.
func (t *Table) BackupVault() awsbackup.IBackupVault { return t.backupVault }

// BackupPlan is the AWS Backup plan that backs the table up, or nil without
// Props.Backup.
func (t *Table) BackupPlan() awsbackup.BackupPlan { return t.backupPlan }

// Enforcement is the mode the table was created with.
func (t *Table) Enforcement() Enforcement { return t.enforcement }

func optional(s string) *string {
	if s == "" {
		return nil
	}
	return jsii.String(s)
}
