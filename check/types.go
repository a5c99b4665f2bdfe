package check

// Rule names in a report.
const (
	RuleWriteGrant       = "appendonly-no-write-grant"
	RuleWriteGrantOnStar = "appendonly-no-write-grant-on-every-table"
	RuleInvariant        = "appendonly-protection-unchanged"
	// Fatal is the severity of an error, Warning of a warning.
	Fatal   = "fatal"
	Warning = "warning"
	// AcknowledgedKey marks, in a resource's Metadata, a policy or principal
	// whose write grant was acknowledged (UnsafeAcknowledgeWriteGrant).
	AcknowledgedKey = "appendonly_write_grant_acknowledged"
	// Unresolved stands for a table's name nobody knows at synth (from a
	// parameter, an import, another table of the app): any name.
	Unresolved = generated
)

const (
	ruleWriteGrant       = RuleWriteGrant
	ruleWriteGrantOnStar = RuleWriteGrantOnStar
	ruleInvariant        = RuleInvariant
	fatal                = Fatal
	acknowledgedKey      = AcknowledgedKey
)

// Table is an append-only table the construct created, and what it and each
// resource that protects it must look like, as the template holds them:
// logical ids and statements resolved.
type Table struct {
	// StackPath is the construct path of the table's stack.
	StackPath string `json:"stack"`
	// IdentityOnly is set in EnforceIdentityOnlyOthersCanModify mode.
	IdentityOnly bool     `json:"identityOnly,omitempty"`
	Exempt       []string `json:"exempt,omitempty"`
	// Name is the table's literal name, or "" for a generated one.
	Name string `json:"name,omitempty"`
	// Protected are the table (first) and the resources that protect it.
	Protected []Protected `json:"protected"`
}

// Protected is what one resource the construct protects must look like in
// the final template.
type Protected struct {
	What string `json:"what"` // how messages name it: "table", "key", ...
	// StackPath is its stack's path when it is not the table's: a journal
	// in another account.
	StackPath string `json:"stack,omitempty"`
	ID        string `json:"id"`
	// Type is its CloudFormation type (TypeOf(What)).
	Type   string `json:"type"`
	Retain bool   `json:"retain,omitempty"` // DeletionPolicy and UpdateReplacePolicy Retain
	Props  []Want `json:"props,omitempty"`
	// Statements must be in its policy (at DocPath(What)) as written; or,
	// read from a template's description, Digest is their digest.
	Statements []any  `json:"statements,omitempty"`
	Digest     string `json:"digest,omitempty"`
}

// Want is one property a protected resource must have.
type Want struct {
	Path  []string `json:"path"`           // under Properties
	Value any      `json:"value"`          // what it must be, as JSON; nil: absent, or not enabled
	Prop  string   `json:"prop,omitempty"` // the prop that legitimately changes it
	Why   string   `json:"why,omitempty"`  // what breaks if it changes
}

// Existing is an append-only table the app does not create
// (ExistingTable): known by its name or ARN.
type Existing struct {
	Label                            string
	Name, Partition, Region, Account string
	IdentityOnly                     bool
	Exempt                           []string
}

// Finding is one thing the check found wrong.
type Finding struct {
	Rule, Severity, Message, Fix string
	// File is the template, LogicalID the resource, Location the
	// property or statement.
	File, LogicalID, Location string
}

// PathOf stands, in a finding's message, for the construct path of
// resource id in the stack at stackPath, until a Namer replaces it.
func PathOf(stackPath, id string) string { return "\x02" + stackPath + "\x03" + id + "\x02" }

// OwnerOf stands for the path of the construct that owns resource id, the
// one to pass to UnsafeAcknowledgeWriteGrant: an L2 for its L1 named
// Resource.
func OwnerOf(stackPath, id string) string { return "\x02" + stackPath + "\x03" + id + "\x03\x02" }

func pathOf(stackPath, id string) string  { return PathOf(stackPath, id) }
func ownerOf(stackPath, id string) string { return OwnerOf(stackPath, id) }

// SidTableWideDeny is the Sid of the statement of a table's resource policy
// that denies every principal but the exempt ones the item mutations: its
// condition names the exempt principals.
const SidTableWideDeny = "DenyEveryoneOverwriteUpdateAndDeleteOfItems"
