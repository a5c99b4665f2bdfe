package plan

import (
	"github.com/appendonly/appendonly/check"
)

// Defaults the construct applies to a new table.
const (
	DefaultRecoveryPeriodDays = 35
	DefaultEncryption         = "AWS_MANAGED"
	DefaultBilling            = "PAY_PER_REQUEST"
	// JournalStream is the stream view a journal needs: the old image of a
	// changed item is what shows the change.
	JournalStream = "NEW_AND_OLD_IMAGES"
)

// Attribute is a key attribute: its name and its type as
// awsdynamodb.AttributeType spells it (STRING, NUMBER, BINARY).
type Attribute struct{ Name, Type string }

// TableInput is what of awsdynamodb.TableProps and the construct's props
// decides what a new table must be, as plain values: CDK's enums as their
// strings, and nil for a prop left unset.
type TableInput struct {
	PartitionKey, SortKey *Attribute
	Name                  *string
	TTL                   bool // TimeToLiveAttribute set
	Replicas              int  // ReplicationRegions
	Removal               string
	DeletionProtection    *bool
	PITR                  *bool // the deprecated PointInTimeRecovery
	PITRSpec              bool  // PointInTimeRecoverySpecification set
	PITREnabled           *bool
	PITRDays              *float64
	KeyGiven              bool // EncryptionKey set
	Encryption            string
	Billing               string
	Stream                string
	// From the construct's props.
	UnsafeRemoval bool
	Journal       bool
}

// Validate reports every problem with in, each naming its prop under
// TableProps and what is allowed.
func (in TableInput) Validate() Errors {
	var e Errors
	if in.PartitionKey == nil {
		e.Add("TableProps.PartitionKey: required: the name and type of the partition key attribute")
	} else {
		e.KeyAttribute("TableProps.PartitionKey", in.PartitionKey.Name, in.PartitionKey.Type)
	}
	if in.SortKey != nil {
		e.KeyAttribute("TableProps.SortKey", in.SortKey.Name, in.SortKey.Type)
	}
	if in.Name != nil {
		e.TableName("TableProps.TableName", *in.Name)
	}
	if in.TTL {
		e.Add("TableProps.TimeToLiveAttribute: not allowed: DynamoDB deletes expired items itself, whatever the IAM policies say; leave it unset")
	}
	if in.Replicas > 0 {
		e.Add("TableProps.ReplicationRegions: not supported: a write to any replica replicates to every Region, and a table-wide deny would stop the replication role; leave it unset")
	}
	switch {
	case in.Removal == "SNAPSHOT":
		e.Add("TableProps.RemovalPolicy: SNAPSHOT is not supported for DynamoDB tables: leave it unset or RETAIN, or set DESTROY with UnsafeAllowTableRemoval for a throw-away stack")
	case in.Removal != "" && in.Removal != "RETAIN" && !in.UnsafeRemoval:
		e.Add("TableProps.RemovalPolicy: %s would delete the table and its items with the stack: leave it unset or RETAIN, or set UnsafeAllowTableRemoval for a throw-away stack", in.Removal)
	case in.Removal == "DESTROY" && in.DeletionProtection != nil && *in.DeletionProtection:
		e.Add("TableProps.DeletionProtection: true contradicts RemovalPolicy DESTROY: `cdk destroy` would fail on the protected table; leave DeletionProtection unset (it follows the removal policy), or keep RETAIN")
	}
	if in.DeletionProtection != nil && !*in.DeletionProtection && !in.UnsafeRemoval {
		e.Add("TableProps.DeletionProtection: false lets anyone with UpdateTable switch it off and delete the table: leave it unset or true, or set UnsafeAllowTableRemoval for a throw-away stack")
	}
	if in.PITR != nil && !*in.PITR {
		e.Add("TableProps.PointInTimeRecovery: false is not allowed: point-in-time recovery is the way back from a mistake; leave it unset")
	}
	if in.PITRSpec {
		if in.PITREnabled == nil || !*in.PITREnabled {
			e.Add("TableProps.PointInTimeRecoverySpecification.PointInTimeRecoveryEnabled: must be true: leave the specification unset for the default of %d days", DefaultRecoveryPeriodDays)
		}
		if d := in.PITRDays; d != nil && (*d < 1 || *d > MaxRecoveryPeriodDays || *d != float64(int(*d))) {
			e.Add("TableProps.PointInTimeRecoverySpecification.RecoveryPeriodInDays: %v is out of range: a whole number from 1 to %d", *d, MaxRecoveryPeriodDays)
		}
	}
	if in.KeyGiven && in.Encryption != "CUSTOMER_MANAGED" {
		e.Add("TableProps.EncryptionKey: only with Encryption CUSTOMER_MANAGED (Encryption is %q)", in.Encryption)
	}
	switch in.Encryption {
	case "", "DEFAULT", "AWS_MANAGED", "CUSTOMER_MANAGED":
	default:
		e.Add("TableProps.Encryption: %q is not allowed: DEFAULT, AWS_MANAGED or CUSTOMER_MANAGED", in.Encryption)
	}
	switch in.Billing {
	case "", "PAY_PER_REQUEST", "PROVISIONED":
	default:
		e.Add("TableProps.BillingMode: %q is not allowed: PAY_PER_REQUEST or PROVISIONED", in.Billing)
	}
	if in.Journal && in.Stream != "" && in.Stream != JournalStream {
		e.Add("TableProps.Stream: %s with Journal: the journal needs %s (to keep the old image of a changed item); leave it unset", in.Stream, JournalStream)
	}
	return e
}

// Table is what a new table must be: the construct builds it so, and the
// check finds it so in the final template.
type Table struct {
	Billing            string
	Encryption         string
	PITRDays           float64
	Removal            string
	DeletionProtection bool
	Stream             string // what the journal needs, or ""
}

// Plan applies the construct's defaults and what append-only requires to a
// valid in.
func (in TableInput) Plan() Table {
	p := Table{Billing: in.Billing, Encryption: in.Encryption, PITRDays: DefaultRecoveryPeriodDays, Removal: in.Removal}
	// Defaults the user may override.
	if p.Billing == "" {
		p.Billing = DefaultBilling
	}
	if p.Encryption == "" {
		p.Encryption = DefaultEncryption
	}
	if in.PITRDays != nil {
		p.PITRDays = *in.PITRDays
	}
	// What append-only requires; validation has rejected anything weaker.
	if in.Journal {
		p.Stream = JournalStream
	}
	if !in.UnsafeRemoval || p.Removal == "" {
		p.Removal = "RETAIN"
	}
	// Deletion protection follows the removal policy unless set: a table
	// that `cdk destroy` is meant to delete must not be protected from it.
	p.DeletionProtection = p.Removal != "DESTROY"
	if in.UnsafeRemoval && in.DeletionProtection != nil {
		p.DeletionProtection = *in.DeletionProtection
	}
	return p
}

// Wants are what the check finds of the table in the final template;
// streamPolicy is set when the stream has a resource policy beside it (a
// journal in another account reads it).
func (p Table) Wants(streamPolicy bool) []check.Want {
	out := []check.Want{
		{Path: []string{"PointInTimeRecoverySpecification"},
			Value: map[string]any{"PointInTimeRecoveryEnabled": true, "RecoveryPeriodInDays": p.PITRDays}},
		{Path: []string{"TimeToLiveSpecification"}},
	}
	if p.DeletionProtection {
		out = append(out, check.Want{Path: []string{"DeletionProtectionEnabled"}, Value: true})
	}
	if p.Encryption == "AWS_MANAGED" {
		// A customer managed key is checked as a part of its own (the
		// table's key must be it).
		out = append(out, check.Want{Path: []string{"SSESpecification"}, Value: map[string]any{"SSEEnabled": true}})
	}
	switch {
	case p.Stream != "" && streamPolicy:
		// The stream's resource policy, which lets a journal in another
		// account read it, is beside it; the feed check reports it removed.
		out = append(out, check.Want{Path: []string{"StreamSpecification", "StreamViewType"}, Value: p.Stream})
	case p.Stream != "":
		out = append(out, check.Want{Path: []string{"StreamSpecification"}, Value: map[string]any{"StreamViewType": p.Stream}})
	}
	return out
}
