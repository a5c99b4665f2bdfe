package appendonly

import (
	"errors"
	"fmt"

	"github.com/aws/aws-cdk-go/awscdk/v2"
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
	DefaultRecoveryPeriodDays = maxRecoveryPeriodDays

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
	SidAppend              = "AppendNewItemsWithPartiQLInsert"
	SidRead                = "ReadItems"
	SidReadStream          = "ReadChangeStream"
	SidUseKeyToAppend      = "UseTableKeyToAppend"
	SidUseKeyToRead        = "UseTableKeyToRead"
	SidDenyItemMutations   = "DenyOverwriteUpdateAndDeleteOfItems"
	SidDenyDataLoss        = "DenyTableChangesThatLoseData"
	SidDenyKeyLoss         = "DenyDisablingOrDeletingTableKey"
	SidTableWideDeny       = "DenyEveryoneOverwriteUpdateAndDeleteOfItems"
	managedPolicyPurpose   = "Append-only access to one DynamoDB table: PartiQL INSERT and reads allowed; overwrite, update, delete and data-losing table changes denied."
	existingTableWarningID = "appendonly:existingTableIdentityOnly"
)

// Table is an append-only DynamoDB table: the table, a customer managed
// policy that allows appending with PartiQL INSERT and reading while it
// explicitly denies every other way of changing data, and optionally an IAM
// user or role holding that policy.
type Table struct {
	scope       constructs.Construct
	table       awsdynamodb.ITable
	key         awskms.IKey
	policy      awsiam.ManagedPolicy
	user        awsiam.User
	group       awsiam.Group
	role        awsiam.Role
	enforcement Enforcement
}

// NewTable validates props and creates an append-only table under scope. It
// returns an error naming every invalid prop, before it creates anything.
func NewTable(scope constructs.Construct, id string, props *Props) (*Table, error) {
	if err := validate(props); err != nil {
		return nil, fmt.Errorf("appendonly.NewTable %q: invalid props:\n%w", id, err)
	}

	t := &Table{
		scope:       constructs.NewConstruct(scope, jsii.String(id)),
		enforcement: props.Enforcement,
	}
	if props.ExistingTable != nil {
		t.table = props.ExistingTable
		t.key = props.ExistingTable.EncryptionKey()
		awscdk.Annotations_Of(t.scope).AddWarningV2(jsii.String(existingTableWarningID), jsii.String(
			"ExistingTable: append-only is enforced only for the principals this construct creates or grants to. "+
				"The construct cannot add a resource policy to this table, so other principals with write access can still "+
				"update and delete items, and it cannot check deletion protection, point-in-time recovery or TTL on it."), nil)
	} else {
		t.createTable(props)
	}

	t.policy = awsiam.NewManagedPolicy(t.scope, jsii.String(policyID), &awsiam.ManagedPolicyProps{
		ManagedPolicyName: optional(props.ManagedPolicyName),
		Description:       jsii.String(managedPolicyPurpose),
		Statements:        t.statements(accessAppend | accessRead),
	})
	suppressNag(t.policy, indexWildcardSuppression)

	switch {
	case props.User != nil:
		t.group = awsiam.NewGroup(t.scope, jsii.String(groupID), &awsiam.GroupProps{
			GroupName: optional(props.User.GroupName),
		})
		t.group.AddManagedPolicy(t.policy)
		t.user = awsiam.NewUser(t.scope, jsii.String(userID), &awsiam.UserProps{
			UserName: optional(props.User.UserName),
			Groups:   &[]awsiam.IGroup{t.group},
		})
	case props.Role != nil:
		t.role = awsiam.NewRole(t.scope, jsii.String(roleID), &awsiam.RoleProps{
			AssumedBy:       props.Role.AssumedBy,
			RoleName:        optional(props.Role.RoleName),
			Description:     jsii.String("Appends to and reads one append-only DynamoDB table."),
			ManagedPolicies: &[]awsiam.IManagedPolicy{t.policy},
		})
	}
	return t, nil
}

// createTable creates the hardened table: the user's TableProps merged over
// the construct's defaults, then the settings append-only requires.
func (t *Table) createTable(props *Props) {
	tp := *props.TableProps // a shallow copy: the caller's struct is not changed

	// Defaults the user may override.
	if tp.BillingMode == "" {
		tp.BillingMode = awsdynamodb.BillingMode_PAY_PER_REQUEST
	}
	pitrDays := float64(DefaultRecoveryPeriodDays)
	if s := tp.PointInTimeRecoverySpecification; s != nil && s.RecoveryPeriodInDays != nil {
		pitrDays = *s.RecoveryPeriodInDays
	}

	// What append-only requires; validation has rejected anything weaker.
	tp.TimeToLiveAttribute = nil
	//lint:ignore SA1019 the deprecated field is cleared so that only the specification below applies
	tp.PointInTimeRecovery = nil
	tp.PointInTimeRecoverySpecification = &awsdynamodb.PointInTimeRecoverySpecification{
		PointInTimeRecoveryEnabled: jsii.Bool(true),
		RecoveryPeriodInDays:       jsii.Number(pitrDays),
	}
	if !props.UnsafeAllowTableRemoval || tp.RemovalPolicy == "" {
		tp.RemovalPolicy = awscdk.RemovalPolicy_RETAIN
	}
	if !props.UnsafeAllowTableRemoval || tp.DeletionProtection == nil {
		tp.DeletionProtection = jsii.Bool(true)
	}
	if tp.Encryption == awsdynamodb.TableEncryption_CUSTOMER_MANAGED {
		if tp.EncryptionKey == nil {
			tp.EncryptionKey = awskms.NewKey(t.scope, jsii.String(keyID), &awskms.KeyProps{
				Description:       jsii.String("Encrypts an append-only DynamoDB table. Disabling or deleting it makes every item unreadable."),
				EnableKeyRotation: jsii.Bool(true),
				RemovalPolicy:     awscdk.RemovalPolicy_RETAIN,
			})
		} else if tp.EncryptionKey.Node().DefaultChild() != nil {
			tp.EncryptionKey.ApplyRemovalPolicy(awscdk.RemovalPolicy_RETAIN)
		}
	}
	if props.Enforcement == EnforceTableWide {
		if tp.ResourcePolicy == nil {
			tp.ResourcePolicy = awsiam.NewPolicyDocument(nil)
		}
		tp.ResourcePolicy.AddStatements(tableWideDeny(props))
	}

	table := awsdynamodb.NewTable(t.scope, jsii.String(tableID), &tp)
	suppressNag(table, tableNagSuppressions...)
	t.table = table
	t.key = table.EncryptionKey()
}

// tableWideDeny is the resource-policy statement that makes the table
// append-only for every principal but the exempt ones. Its Resource is "*",
// which in a table's resource policy means this table: naming the table's own
// ARN would make the table depend on itself.
func tableWideDeny(props *Props) awsiam.PolicyStatement {
	actions := tableWideDenyActions(props.UnsafeAllowTableRemoval)
	var conditions *map[string]any
	if len(props.ExemptPrincipalArns) > 0 {
		conditions = &map[string]any{
			"ArnNotLike": map[string]any{"aws:PrincipalArn": props.ExemptPrincipalArns},
		}
	}
	return awsiam.NewPolicyStatement(&awsiam.PolicyStatementProps{
		Sid:        jsii.String(SidTableWideDeny),
		Effect:     awsiam.Effect_DENY,
		Principals: &[]awsiam.IPrincipal{awsiam.NewStarPrincipal()},
		Actions:    jsii.Strings(actions...),
		Resources:  jsii.Strings("*"),
		Conditions: conditions,
	})
}

// tableWideDenyActions is TableWideDenyActions, plus DeleteTable unless the
// table may be removed.
func tableWideDenyActions(unsafeRemoval bool) []string {
	if unsafeRemoval {
		return TableWideDenyActions
	}
	return concat(TableWideDenyActions, []string{"dynamodb:DeleteTable"})
}

type access int

const (
	accessAppend access = 1 << iota
	accessRead
	accessStream
)

// statements returns the identity-policy statements for the access asked
// for, always followed by the deny statements.
func (t *Table) statements(a access) *[]awsiam.PolicyStatement {
	var out []awsiam.PolicyStatement
	for _, s := range t.allowStatements(a) {
		out = append(out, s.statement())
	}
	out = append(out, t.denyStatements()...)
	return &out
}

// allow describes one Allow statement, so that the managed policy and the
// grant methods build theirs from the same values.
type allow struct {
	sid       string
	actions   []string
	resources []*string
}

func (s allow) statement() awsiam.PolicyStatement {
	return awsiam.NewPolicyStatement(&awsiam.PolicyStatementProps{
		Sid:       jsii.String(s.sid),
		Effect:    awsiam.Effect_ALLOW,
		Actions:   jsii.Strings(s.actions...),
		Resources: &s.resources,
	})
}

func (t *Table) allowStatements(a access) []allow {
	arn := t.table.TableArn()
	var out []allow
	if a&accessAppend != 0 {
		out = append(out, allow{SidAppend, AppendActions, []*string{arn}})
	}
	if a&accessRead != 0 {
		out = append(out, allow{SidRead, ReadActions, []*string{arn, jsii.String(*arn + "/index/*")}})
	}
	if a&accessStream != 0 {
		out = append(out, allow{SidReadStream, StreamReadActions, []*string{t.table.TableStreamArn()}})
	}
	if t.key != nil {
		if a&accessAppend != 0 {
			out = append(out, allow{SidUseKeyToAppend, KeyAppendActions, []*string{t.key.KeyArn()}})
		} else {
			out = append(out, allow{SidUseKeyToRead, KeyReadActions, []*string{t.key.KeyArn()}})
		}
	}
	return out
}

func (t *Table) denyStatements() []awsiam.PolicyStatement {
	arn := t.table.TableArn()
	tableAndBelow := jsii.Strings(*arn, *arn+"/*") // indexes, streams, backups, exports
	globalTable := awscdk.Stack_Of(t.scope).FormatArn(&awscdk.ArnComponents{
		Service:      jsii.String("dynamodb"),
		Region:       jsii.String(""),
		Resource:     jsii.String("global-table"),
		ResourceName: t.table.TableName(),
	})
	out := []awsiam.PolicyStatement{
		awsiam.NewPolicyStatement(&awsiam.PolicyStatementProps{
			Sid:       jsii.String(SidDenyItemMutations),
			Effect:    awsiam.Effect_DENY,
			Actions:   jsii.Strings(ItemMutationActions...),
			Resources: tableAndBelow,
		}),
		awsiam.NewPolicyStatement(&awsiam.PolicyStatementProps{
			Sid:       jsii.String(SidDenyDataLoss),
			Effect:    awsiam.Effect_DENY,
			Actions:   jsii.Strings(DataLossControlActions...),
			Resources: jsii.Strings(*arn, *arn+"/*", *globalTable),
		}),
	}
	if t.key != nil {
		out = append(out, awsiam.NewPolicyStatement(&awsiam.PolicyStatementProps{
			Sid:       jsii.String(SidDenyKeyLoss),
			Effect:    awsiam.Effect_DENY,
			Actions:   jsii.Strings(KeyDenyActions...),
			Resources: jsii.Strings(*t.key.KeyArn()),
		}))
	}
	return out
}

// GrantAppend lets grantee append items with PartiQL INSERT, and adds to its
// policy the same explicit denies the managed policy carries. It does not
// let grantee read.
func (t *Table) GrantAppend(grantee awsiam.IGrantable) awsiam.Grant {
	return t.grant(grantee, accessAppend)
}

// GrantRead lets grantee read items, and adds to its policy the same explicit
// denies the managed policy carries.
func (t *Table) GrantRead(grantee awsiam.IGrantable) awsiam.Grant {
	return t.grant(grantee, accessRead)
}

// ErrNoStream is returned by GrantStreamRead for a table without a stream.
var ErrNoStream = errors.New("appendonly: the table has no stream: set TableProps.Stream to a StreamViewType such as awsdynamodb.StreamViewType_NEW_IMAGE")

// GrantStreamRead lets grantee read the table's change feed (DynamoDB
// Streams), and adds the explicit denies. dynamodb:ListStreams is not
// granted: it cannot be scoped to one table. It returns ErrNoStream if the
// table has no stream.
func (t *Table) GrantStreamRead(grantee awsiam.IGrantable) (awsiam.Grant, error) {
	if t.table.TableStreamArn() == nil {
		return nil, ErrNoStream
	}
	return t.grant(grantee, accessStream), nil
}

func (t *Table) grant(grantee awsiam.IGrantable, a access) awsiam.Grant {
	var grant awsiam.Grant
	for _, s := range t.allowStatements(a) {
		g := awsiam.Grant_AddToPrincipal(&awsiam.GrantOnPrincipalOptions{
			Grantee:      grantee,
			Actions:      jsii.Strings(s.actions...),
			ResourceArns: &s.resources,
		})
		if grant == nil {
			grant = g
		} else {
			grant = grant.Combine(g)
		}
	}
	principal := grantee.GrantPrincipal()
	for _, s := range t.denyStatements() {
		principal.AddToPrincipalPolicy(s)
	}
	return grant
}

// Construct is the construct that holds every resource NewTable created, with
// the id given to NewTable: use it as a scope, or to add dependencies.
func (t *Table) Construct() constructs.Construct { return t.scope }

// DynamoTable is the table, created or brought with Props.ExistingTable.
func (t *Table) DynamoTable() awsdynamodb.ITable { return t.table }

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

// Enforcement is the mode the table was created with.
func (t *Table) Enforcement() Enforcement { return t.enforcement }

func optional(s string) *string {
	if s == "" {
		return nil
	}
	return jsii.String(s)
}
