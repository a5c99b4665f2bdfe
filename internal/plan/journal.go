package plan

import (
	"time"

	"github.com/appendonly/appendonly/check"
)

// Defaults of the journal.
const (
	DefaultJournalRetentionDays = 2555
	DefaultCheckpointInterval   = 60 * time.Second
	DefaultJournalBatchSize     = 1000
	DefaultMonitorInterval      = 15 * time.Minute
	DefaultAccessLogsPrefix     = "appendonly-journal/"
)

// Journal is JournalProps as plain values (0 or "" for a field left unset;
// Lock is Governance or Compliance), with what of the construct's other
// props it depends on.
type Journal struct {
	Lock               int
	RetentionDays      int
	CheckpointInterval time.Duration
	BatchSize          int
	BucketName         string
	MonitorInterval    time.Duration
	OtherStack         bool // Stack set
	Vpc, VpcSubnets    bool // set
	AccessLogsBucket   bool // set
	AccessLogsPrefix   string
	RemoveWithStack    bool // UnsafeRemoveWithStack
	// From the construct's props.
	ExistingTable bool
	TableWide     bool
	TableName     bool // TableProps.TableName set, and not a token
}

// Retention is RetentionDays, or its default.
func (j Journal) Retention() int { return orInt(j.RetentionDays, DefaultJournalRetentionDays) }

// Interval is CheckpointInterval, or its default.
func (j Journal) Interval() time.Duration {
	return orDuration(j.CheckpointInterval, DefaultCheckpointInterval)
}

// Monitor is MonitorInterval, or its default.
func (j Journal) Monitor() time.Duration {
	return orDuration(j.MonitorInterval, DefaultMonitorInterval)
}

// Batch is BatchSize, or its default.
func (j Journal) Batch() int { return orInt(j.BatchSize, DefaultJournalBatchSize) }

// LogsPrefix is where the bucket's server access logs go in
// AccessLogsBucket, or "" without one.
func (j Journal) LogsPrefix() string {
	if !j.AccessLogsBucket {
		return ""
	}
	if j.AccessLogsPrefix != "" {
		return j.AccessLogsPrefix
	}
	return DefaultAccessLogsPrefix
}

// Validate reports every problem with j, each naming its prop as
// Journal.<field>.
func (j Journal) Validate() Errors {
	var e Errors
	if j.ExistingTable {
		e.Add("Journal: needs a table the construct creates: it sets the table's stream; ExistingTable is not supported")
	}
	if !j.TableWide {
		e.Add("Journal: needs Enforcement EnforceTableWide: the journal's bucket and key let only the deployer change their protection")
	}
	if j.Lock != Governance && j.Lock != Compliance {
		e.Add("Journal.Lock: %d is not a mode: ObjectLockGovernance (the default) or ObjectLockCompliance", j.Lock)
	}
	if d := j.Retention(); d < 1 || d > MaxDays {
		e.Add("Journal.RetentionDays: %d is out of range: 1 to %d days", j.RetentionDays, MaxDays)
	}
	if j.AccessLogsPrefix != "" && !j.AccessLogsBucket {
		e.Add("Journal.AccessLogsPrefix: set without Journal.AccessLogsBucket: give the bucket the access logs go to")
	}
	if j.VpcSubnets && !j.Vpc {
		e.Add("Journal.VpcSubnets: set without Journal.Vpc: give the VPC whose subnets the journal's functions use")
	}
	if i := j.Interval(); i < 10*time.Second || i > 10*time.Minute || i%time.Second != 0 {
		e.Add("Journal.CheckpointInterval: %v is out of range: 10s to 10m, in whole seconds", j.CheckpointInterval)
	}
	if i := j.Monitor(); i < 5*time.Minute || i > 24*time.Hour || i%time.Minute != 0 {
		e.Add("Journal.MonitorInterval: %v is out of range: 5m to 24h, in whole minutes", j.MonitorInterval)
	}
	if b := j.Batch(); b < 1 || b > 10000 {
		e.Add("Journal.BatchSize: %d is out of range: 1 to 10000", j.BatchSize)
	}
	if j.OtherStack && !j.TableName {
		e.Add("Journal.Stack: a journal in another account needs TableProps.TableName: its account names the table before it exists " +
			"(never add a name to a deployed table: that replaces it)")
	}
	e.BucketName("Journal.BucketName", j.BucketName)
	if j.RemoveWithStack && j.Lock == Compliance {
		e.Add("Journal.UnsafeRemoveWithStack: only with Lock ObjectLockGovernance: nobody, the root user included, can delete a compliance-locked version before its retention ends, so the bucket could never go with the stack")
	}
	return e
}

func orInt(v, d int) int {
	if v == 0 {
		return d
	}
	return v
}

func orDuration(v, d time.Duration) time.Duration {
	if v == 0 {
		return d
	}
	return v
}

// JournalRefs are the ARNs the journal's policies name, as the template
// holds them.
type JournalRefs struct {
	Bucket         string // the bucket's ARN
	Objects        string // every object in it: <bucket ARN>/*
	MonitorObjects string // the monitor's own prefix: <bucket ARN>/<prefix>*
	SequencerRole  string
	MonitorRole    string
	// Remover is the role of the custom resource that empties the bucket
	// when the stack is deleted (UnsafeRemoveWithStack), or "".
	Remover string
}

// BucketStatements are the journal bucket policy's statements: only the
// sequencer and the monitor write, the monitor only under its prefix;
// nobody but the exempt principals deletes or unlocks; nobody but the
// deployer and the exempt principals changes the bucket's protection;
// nobody replicates into it.
func (p Protection) BucketStatements(r JournalRefs, arn func(string) string) []Statement {
	everyone := map[string]any{"AWS": "*"}
	noDelete := Statement{Sid: check.SidJournalNoDelete, Effect: "Deny", Principal: everyone,
		Actions: check.JournalDeleteActions(), Resources: []string{r.Objects}}
	deleters := Map(p.Exempt, arn)
	if r.Remover != "" {
		deleters = append(deleters, r.Remover)
	}
	if len(deleters) > 0 {
		noDelete.Condition = ArnNotLike(deleters)
	}
	return []Statement{
		{Sid: check.SidJournalWriteOnlyBySequencer, Effect: "Deny", Principal: everyone,
			Actions: []string{"s3:PutObject"}, Resources: []string{r.Objects},
			Condition: map[string]any{"ArnNotEquals": map[string]any{"aws:PrincipalArn": []any{r.SequencerRole, r.MonitorRole}}}},
		{Sid: check.SidJournalMonitorOwnPrefix, Effect: "Deny", Principal: everyone,
			Actions: []string{"s3:PutObject"}, NotResources: []string{r.MonitorObjects},
			Condition: map[string]any{"ArnEquals": map[string]any{"aws:PrincipalArn": r.MonitorRole}}},
		noDelete,
		{Sid: check.SidJournalProtect, Effect: "Deny", Principal: everyone,
			Actions: check.JournalProtectionActions(), Resources: []string{r.Bucket},
			Condition: ArnNotLike(Map(Concat(p.Deployers, p.Exempt), arn))},
		{Sid: check.SidJournalNoReplicationIn, Effect: "Deny", Principal: everyone,
			Actions: check.JournalReplicationActions(), Resources: []string{r.Objects}},
	}
}

// KeyStatements are the signing key policy's statements: nobody but the
// sequencer signs, and the key is protected as the table's own key is.
func (p Protection) KeyStatements(sequencerRole string, arn func(string) string) []Statement {
	signOnly := Statement{
		Sid: check.SidJournalSignOnlyBySequencer, Effect: "Deny", Principal: "*",
		Actions: []string{"kms:Sign"}, Resources: []string{"*"},
		Condition: map[string]any{"ArnNotEquals": map[string]any{"aws:PrincipalArn": sequencerRole}},
	}
	return []Statement{signOnly, p.KeyStatement(arn), CreateGrantForAWSOnly()}
}

// LockMode is the bucket's Object Lock mode as S3 names it.
func (j Journal) LockMode() string {
	if j.Lock == Compliance {
		return "COMPLIANCE"
	}
	return "GOVERNANCE"
}

// BucketWants are what the check finds of the journal's bucket in the
// final template.
func (j Journal) BucketWants() []check.Want {
	return []check.Want{
		{Path: []string{"ObjectLockEnabled"}, Value: true},
		{Path: []string{"ObjectLockConfiguration"}, Value: map[string]any{"ObjectLockEnabled": "Enabled",
			"Rule": map[string]any{"DefaultRetention": map[string]any{"Days": j.Retention(), "Mode": j.LockMode()}}}},
		{Path: []string{"VersioningConfiguration"}, Value: map[string]any{"Status": "Enabled"}},
	}
}

// KeyWants are what the check finds of the journal's signing key.
func KeyWants() []check.Want {
	return []check.Want{{Path: []string{"KeySpec"}, Value: "ECC_NIST_EDWARDS25519"}}
}
