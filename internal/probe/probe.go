// Package probe asks AWS, as the caller, which ways of changing an
// append-only table's data or protection are open: it tries each one in a
// form that changes nothing even when it is allowed (a condition that can
// never hold, a key that cannot exist, a revision that is wrong, a setting
// that is already in force) and reports, path by path, denied (and by what
// kind of policy, where the error says), allowed, or not probed and why.
//
// The forms, and the documentation each rests on, are in Paths. Where no
// form is safe (disabling or deleting a KMS key), the path is not probed.
package probe

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"slices"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	s3types "github.com/aws/aws-sdk-go-v2/service/s3/types"
	"github.com/aws/smithy-go"
)

// Outcome is what the service answered.
type Outcome string

const (
	Denied    Outcome = "denied"
	Allowed   Outcome = "allowed"
	NotProbed Outcome = "not probed"
)

// Result is one path's line of the report.
type Result struct {
	Path    string  `json:"path"`
	Want    Outcome `json:"want"` // what append-only needs: denied, or allowed for the positive paths
	Outcome Outcome `json:"outcome"`
	Detail  string  `json:"detail"` // the kind of policy that denied it, the service's answer, or why not probed
	// Problem is set when the outcome breaks the promise (a must-deny path
	// allowed, a duplicate INSERT accepted) or a protection is off.
	Problem bool `json:"problem"`
}

// Target is what to probe.
type Target struct {
	Table  string
	Bucket string // the journal's bucket, or ""
	// Insert lets the probe INSERT a fresh item, which stays forever.
	Insert bool
	// As is who the caller is: "" or "user" (a principal the construct
	// grants to: every path denied), "administrator" (identity policies
	// allow everything), or "deployer" (the stack's CloudFormation
	// execution role, or one in DeployerPrincipalArns). The paths the
	// README says such a caller may take are expected allowed for it.
	As string
}

// Callers are the callers a probe knows what to expect of, and the paths
// each may take under EnforceTableWide (the README's "What holds").
var Callers = map[string][]string{
	"user":          nil,
	"administrator": {"DeleteBackup"},
	"deployer":      {"UpdateTable", "PutResourcePolicy", "DeleteResourcePolicy", "UpdateContinuousBackups", "DeleteBackup", "S3 PutObjectLockConfiguration"},
}

// Prober holds the clients, made from the caller's credentials.
type Prober struct {
	DB *dynamodb.Client
	S3 *s3.Client // nil without a bucket
}

// ErrAccess is an error that stops the probe: the table cannot be
// described, or the credentials are refused.
var ErrAccess = errors.New("probe")

// Run probes every path. It returns an error wrapping ErrAccess when it
// cannot start (the table does not exist, the caller cannot describe it).
func (p *Prober) Run(ctx context.Context, t Target) ([]Result, error) {
	d, err := p.DB.DescribeTable(ctx, &dynamodb.DescribeTableInput{TableName: aws.String(t.Table)})
	if err != nil {
		var nf *types.ResourceNotFoundException
		if errors.As(err, &nf) {
			return nil, fmt.Errorf("%w: --table: table %s not found (check the name and the Region)", ErrAccess, t.Table)
		}
		return nil, fmt.Errorf("%w: describing table %s: %v", ErrAccess, t.Table, err)
	}
	s := &session{p: p, t: t, desc: d.Table}
	if err := s.keys(); err != nil {
		return nil, fmt.Errorf("%w: %v", ErrAccess, err)
	}
	for _, path := range Paths {
		if path.S3 && t.Bucket == "" {
			continue
		}
		r := Result{Path: path.Name, Want: Denied}
		if path.Positive || slices.Contains(Callers[t.As], path.Name) {
			r.Want = Allowed
		}
		outcome, detail, problem := path.probe(ctx, s)
		r.Outcome, r.Detail, r.Problem = outcome, detail, problem
		if r.Outcome == Allowed && r.Want == Denied {
			r.Problem = true
		}
		s.results = append(s.results, r)
	}
	return s.results, nil
}

// Path is one way of changing data or protection, and its no-change form.
type Path struct {
	Name string
	// Form is how the probe makes the call change nothing, and Source the
	// documentation that says it does.
	Form, Source string
	S3           bool // a journal bucket path
	Positive     bool // append-only needs it allowed (or refused as a duplicate)
	probe        func(ctx context.Context, s *session) (Outcome, string, bool)
}

// session is one run's state.
type session struct {
	p       *Prober
	t       Target
	desc    *types.TableDescription
	pk, sk  string // key attribute names
	types   map[string]types.ScalarAttributeType
	absent  map[string]types.AttributeValue // a key the probe checked is absent
	inserts map[string]types.AttributeValue // the fresh item --insert wrote
	results []Result
}

func (s *session) keys() error {
	s.types = map[string]types.ScalarAttributeType{}
	for _, a := range s.desc.AttributeDefinitions {
		s.types[aws.ToString(a.AttributeName)] = a.AttributeType
	}
	for _, k := range s.desc.KeySchema {
		switch k.KeyType {
		case types.KeyTypeHash:
			s.pk = aws.ToString(k.AttributeName)
		case types.KeyTypeRange:
			s.sk = aws.ToString(k.AttributeName)
		}
	}
	if s.pk == "" {
		return fmt.Errorf("table %s: DescribeTable gave no partition key", s.t.Table)
	}
	return nil
}

// freshKey returns a random key of the table's key schema: 128 random bits
// in each string or binary attribute and 96 in a number, which no item has
// unless someone guessed them.
func (s *session) freshKey() map[string]types.AttributeValue {
	key := map[string]types.AttributeValue{}
	for _, name := range []string{s.pk, s.sk} {
		if name == "" {
			continue
		}
		b := make([]byte, 16)
		_, _ = rand.Read(b)
		switch s.types[name] {
		case types.ScalarAttributeTypeN:
			// DynamoDB keeps 38 significant digits: 96 random bits in 36.
			var digits strings.Builder
			for _, c := range b[:12] {
				fmt.Fprintf(&digits, "%03d", c)
			}
			key[name] = &types.AttributeValueMemberN{Value: "-0." + digits.String()}
		case types.ScalarAttributeTypeB:
			key[name] = &types.AttributeValueMemberB{Value: append([]byte("appendonly-probe-"), b...)}
		default:
			key[name] = &types.AttributeValueMemberS{Value: "appendonly-probe-" + hex.EncodeToString(b)}
		}
	}
	return key
}

// absentKey returns a fresh key that a consistent GetItem confirmed no item
// has, or why there is none.
func (s *session) absentKey(ctx context.Context) (map[string]types.AttributeValue, error) {
	if s.absent != nil {
		return s.absent, nil
	}
	key := s.freshKey()
	out, err := s.p.DB.GetItem(ctx, &dynamodb.GetItemInput{TableName: aws.String(s.t.Table), Key: key, ConsistentRead: aws.Bool(true)})
	if err != nil {
		return nil, fmt.Errorf("GetItem, to confirm the probe's key is absent, failed: %s", short(err))
	}
	if out.Item != nil {
		return nil, errors.New("the probe's random key exists")
	}
	s.absent = key
	return key, nil
}

// never is a condition no item can meet: the partition key both present
// and absent.
const never = "attribute_exists(#k) AND attribute_not_exists(#k)"

func (s *session) neverNames() map[string]string { return map[string]string{"#k": s.pk} }

// classify turns the service's answer into an outcome. ok lists the
// errors that mean the call was authorized and then refused by the
// service's own check (the condition, the revision, the missing backup).
func classify(err error, ok ...string) (Outcome, string) {
	if err == nil {
		return Allowed, "the call succeeded (and changed nothing)"
	}
	var api smithy.APIError
	if !errors.As(err, &api) {
		return NotProbed, "the call failed before the service answered: " + short(err)
	}
	code := api.ErrorCode()
	switch {
	case code == "AccessDeniedException" || code == "AccessDenied":
		return Denied, denialKind(api.ErrorMessage())
	case code == "UnknownOperationException" || code == "InvalidAction" || code == "NotImplemented" || code == "UnsupportedOperation":
		return NotProbed, "the endpoint does not know this operation (" + code + ")"
	}
	for _, c := range ok {
		if code == c {
			return Allowed, "authorized, then refused by the service's own check (" + code + "): nothing changed"
		}
	}
	return NotProbed, "unexpected answer " + code + ": " + api.ErrorMessage()
}

// denialKind reads which kind of policy denied the call from the message
// forms AWS documents ("... with an explicit deny in a resource-based
// policy", "... because no identity-based policy allows ...").
func denialKind(msg string) string {
	for _, k := range []struct{ in, say string }{
		{"explicit deny in a resource-based policy", "explicitly, by a resource-based policy"},
		{"explicit deny in an identity-based policy", "explicitly, by an identity-based policy"},
		{"explicit deny in a service control policy", "explicitly, by a service control policy"},
		{"explicit deny in a resource control policy", "explicitly, by a resource control policy"},
		{"explicit deny in a permissions boundary", "explicitly, by a permissions boundary"},
		{"explicit deny in a session policy", "explicitly, by a session policy"},
		{"no identity-based policy allows", "no identity-based policy allows it (implicit deny)"},
		{"no resource-based policy allows", "no resource-based policy allows it (implicit deny)"},
		{"no permissions boundary allows", "no permissions boundary allows it (implicit deny)"},
		{"no session policy allows", "no session policy allows it (implicit deny)"},
	} {
		if strings.Contains(msg, k.in) {
			return k.say
		}
	}
	return "access denied (the message does not say by what)"
}

func short(err error) string {
	msg := err.Error()
	if len(msg) > 300 {
		msg = msg[:300] + "..."
	}
	return msg
}

// Paths are the probes, in the order they run and print.
var Paths = []Path{
	{Name: "PutItem", Form: "a fresh random key, ConditionExpression " + never,
		Source: "DynamoDB API Reference, PutItem: ConditionExpression; a failed condition writes nothing (ConditionalCheckFailedException)",
		probe: func(ctx context.Context, s *session) (Outcome, string, bool) {
			item := s.freshKey()
			_, err := s.p.DB.PutItem(ctx, &dynamodb.PutItemInput{TableName: aws.String(s.t.Table), Item: item,
				ConditionExpression: aws.String(never), ExpressionAttributeNames: s.neverNames()})
			o, d := classify(err, "ConditionalCheckFailedException")
			return o, d, false
		}},
	{Name: "UpdateItem", Form: "a fresh random key, ConditionExpression " + never,
		Source: "DynamoDB API Reference, UpdateItem: ConditionExpression",
		probe: func(ctx context.Context, s *session) (Outcome, string, bool) {
			_, err := s.p.DB.UpdateItem(ctx, &dynamodb.UpdateItemInput{TableName: aws.String(s.t.Table), Key: s.freshKey(),
				UpdateExpression: aws.String("SET #p = :v"), ConditionExpression: aws.String(never),
				ExpressionAttributeNames:  map[string]string{"#k": s.pk, "#p": "appendonly_probe"},
				ExpressionAttributeValues: map[string]types.AttributeValue{":v": &types.AttributeValueMemberS{Value: "probe"}}})
			o, d := classify(err, "ConditionalCheckFailedException")
			return o, d, false
		}},
	{Name: "DeleteItem", Form: "a fresh random key, ConditionExpression " + never,
		Source: "DynamoDB API Reference, DeleteItem: ConditionExpression",
		probe: func(ctx context.Context, s *session) (Outcome, string, bool) {
			_, err := s.p.DB.DeleteItem(ctx, &dynamodb.DeleteItemInput{TableName: aws.String(s.t.Table), Key: s.freshKey(),
				ConditionExpression: aws.String(never), ExpressionAttributeNames: s.neverNames()})
			o, d := classify(err, "ConditionalCheckFailedException")
			return o, d, false
		}},
	{Name: "BatchWriteItem", Form: "a DeleteRequest of a random key a consistent GetItem found absent (BatchWriteItem takes no condition; deleting an absent item is a no-op)",
		Source: "DynamoDB API Reference, BatchWriteItem and DeleteItem: deleting an item that does not exist succeeds and changes nothing",
		probe: func(ctx context.Context, s *session) (Outcome, string, bool) {
			key, err := s.absentKey(ctx)
			if err != nil {
				return NotProbed, err.Error(), false
			}
			out, err := s.p.DB.BatchWriteItem(ctx, &dynamodb.BatchWriteItemInput{RequestItems: map[string][]types.WriteRequest{
				s.t.Table: {{DeleteRequest: &types.DeleteRequest{Key: key}}}}})
			if err == nil && len(out.UnprocessedItems) > 0 {
				return NotProbed, "the request came back unprocessed (throttled): try again", false
			}
			o, d := classify(err)
			return o, d, false
		}},
	{Name: "TransactWriteItems Put", Form: "a fresh random key, ConditionExpression " + never,
		Source: "DynamoDB API Reference, TransactWriteItems: a failed condition cancels the whole transaction (TransactionCanceledException)",
		probe: func(ctx context.Context, s *session) (Outcome, string, bool) {
			return s.transact(ctx, types.TransactWriteItem{Put: &types.Put{TableName: aws.String(s.t.Table), Item: s.freshKey(),
				ConditionExpression: aws.String(never), ExpressionAttributeNames: s.neverNames()}})
		}},
	{Name: "TransactWriteItems Update", Form: "a fresh random key, ConditionExpression " + never,
		Source: "DynamoDB API Reference, TransactWriteItems",
		probe: func(ctx context.Context, s *session) (Outcome, string, bool) {
			return s.transact(ctx, types.TransactWriteItem{Update: &types.Update{TableName: aws.String(s.t.Table), Key: s.freshKey(),
				UpdateExpression: aws.String("SET #p = :v"), ConditionExpression: aws.String(never),
				ExpressionAttributeNames:  map[string]string{"#k": s.pk, "#p": "appendonly_probe"},
				ExpressionAttributeValues: map[string]types.AttributeValue{":v": &types.AttributeValueMemberS{Value: "probe"}}}})
		}},
	{Name: "TransactWriteItems Delete", Form: "a fresh random key, ConditionExpression " + never,
		Source: "DynamoDB API Reference, TransactWriteItems",
		probe: func(ctx context.Context, s *session) (Outcome, string, bool) {
			return s.transact(ctx, types.TransactWriteItem{Delete: &types.Delete{TableName: aws.String(s.t.Table), Key: s.freshKey(),
				ConditionExpression: aws.String(never), ExpressionAttributeNames: s.neverNames()}})
		}},
	{Name: "PartiQL UPDATE", Form: `UPDATE with a fresh random key and WHERE ... AND "<partition key>" IS MISSING, which no item meets`,
		Source: "DynamoDB Developer Guide, PartiQL UPDATE: a WHERE condition that does not hold fails with ConditionalCheckFailedException",
		probe: func(ctx context.Context, s *session) (Outcome, string, bool) {
			stmt, params := s.partiql("UPDATE", "SET appendonly_probe = 'probe'")
			_, err := s.p.DB.ExecuteStatement(ctx, &dynamodb.ExecuteStatementInput{Statement: aws.String(stmt), Parameters: params})
			o, d := classify(err, "ConditionalCheckFailedException")
			return o, d, false
		}},
	{Name: "PartiQL DELETE", Form: `DELETE with a fresh random key and WHERE ... AND "<partition key>" IS MISSING`,
		Source: "DynamoDB Developer Guide, PartiQL DELETE",
		probe: func(ctx context.Context, s *session) (Outcome, string, bool) {
			stmt, params := s.partiql("DELETE", "")
			_, err := s.p.DB.ExecuteStatement(ctx, &dynamodb.ExecuteStatementInput{Statement: aws.String(stmt), Parameters: params})
			o, d := classify(err, "ConditionalCheckFailedException")
			return o, d, false
		}},
	{Name: "PartiQL batch UPDATE and DELETE", Form: "BatchExecuteStatement of the two statements above",
		Source: "DynamoDB API Reference, BatchExecuteStatement: each statement's error is reported in its response",
		probe: func(ctx context.Context, s *session) (Outcome, string, bool) {
			u, up := s.partiql("UPDATE", "SET appendonly_probe = 'probe'")
			d, dp := s.partiql("DELETE", "")
			out, err := s.p.DB.BatchExecuteStatement(ctx, &dynamodb.BatchExecuteStatementInput{Statements: []types.BatchStatementRequest{
				{Statement: aws.String(u), Parameters: up}, {Statement: aws.String(d), Parameters: dp}}})
			if err != nil {
				o, detail := classify(err)
				return o, detail, false
			}
			return batchOutcome(out.Responses)
		}},
	{Name: "PartiQL transaction UPDATE", Form: "ExecuteTransaction of the UPDATE above",
		Source: "DynamoDB API Reference, ExecuteTransaction: a failed condition cancels it (TransactionCanceledException)",
		probe: func(ctx context.Context, s *session) (Outcome, string, bool) {
			stmt, params := s.partiql("UPDATE", "SET appendonly_probe = 'probe'")
			_, err := s.p.DB.ExecuteTransaction(ctx, &dynamodb.ExecuteTransactionInput{TransactStatements: []types.ParameterizedStatement{
				{Statement: aws.String(stmt), Parameters: params}}})
			o, d := classify(err, "TransactionCanceledException")
			return o, d, false
		}},
	{Name: "UpdateTimeToLive", Form: "Enabled false, on a table whose TTL DescribeTimeToLive shows disabled: a setting already in force",
		Source: "DynamoDB API Reference, UpdateTimeToLive: disabling TTL that is not enabled fails with ValidationException",
		probe: func(ctx context.Context, s *session) (Outcome, string, bool) {
			d, err := s.p.DB.DescribeTimeToLive(ctx, &dynamodb.DescribeTimeToLiveInput{TableName: aws.String(s.t.Table)})
			if err != nil {
				_, detail := classify(err)
				return NotProbed, "DescribeTimeToLive failed: " + detail, false
			}
			if st := d.TimeToLiveDescription; st == nil || st.TimeToLiveStatus != types.TimeToLiveStatusDisabled {
				status := "unknown"
				if st != nil {
					status = string(st.TimeToLiveStatus)
				}
				return NotProbed, "TTL is " + status + ", not DISABLED: an append-only table must have none, and disabling it would change the table", true
			}
			_, err = s.p.DB.UpdateTimeToLive(ctx, &dynamodb.UpdateTimeToLiveInput{TableName: aws.String(s.t.Table),
				TimeToLiveSpecification: &types.TimeToLiveSpecification{AttributeName: aws.String("appendonly_probe"), Enabled: aws.Bool(false)}})
			o, detail := classify(err, "ValidationException")
			return o, detail, false
		}},
	{Name: "DeleteTable", Form: "only while DescribeTable shows deletion protection on, which makes an allowed DeleteTable fail",
		Source: "DynamoDB Developer Guide, deletion protection: a protected table cannot be deleted (ValidationException)",
		probe: func(ctx context.Context, s *session) (Outcome, string, bool) {
			if !s.protectedNow(ctx) {
				return NotProbed, "deletion protection is off: an allowed DeleteTable would delete the table", true
			}
			_, err := s.p.DB.DeleteTable(ctx, &dynamodb.DeleteTableInput{TableName: aws.String(s.t.Table)})
			o, d := classify(err, "ValidationException")
			return o, d, false
		}},
	{Name: "UpdateTable", Form: "DeletionProtectionEnabled true while it is on: a setting already in force",
		Source: "DynamoDB API Reference, UpdateTable: DeletionProtectionEnabled",
		probe: func(ctx context.Context, s *session) (Outcome, string, bool) {
			if !s.protectedNow(ctx) {
				return NotProbed, "deletion protection is off: setting it would change the table", true
			}
			_, err := s.p.DB.UpdateTable(ctx, &dynamodb.UpdateTableInput{TableName: aws.String(s.t.Table), DeletionProtectionEnabled: aws.Bool(true)})
			o, d := classify(err, "ValidationException")
			return o, d, false
		}},
	{Name: "PutResourcePolicy", Form: "the table's current policy, with an ExpectedRevisionId that is not its revision",
		Source: "DynamoDB API Reference, PutResourcePolicy: a wrong ExpectedRevisionId fails with PolicyNotFoundException",
		probe: func(ctx context.Context, s *session) (Outcome, string, bool) {
			policy, rev, why := s.policy(ctx)
			if why != "" {
				return NotProbed, why, false
			}
			_, err := s.p.DB.PutResourcePolicy(ctx, &dynamodb.PutResourcePolicyInput{ResourceArn: s.desc.TableArn,
				Policy: aws.String(policy), ExpectedRevisionId: aws.String(wrongRevision(rev))})
			o, d := classify(err, "PolicyNotFoundException")
			return o, d, false
		}},
	{Name: "DeleteResourcePolicy", Form: "an ExpectedRevisionId that is not the policy's revision",
		Source: "DynamoDB API Reference, DeleteResourcePolicy: a wrong ExpectedRevisionId fails with PolicyNotFoundException",
		probe: func(ctx context.Context, s *session) (Outcome, string, bool) {
			_, rev, why := s.policy(ctx)
			if why != "" {
				return NotProbed, why, false
			}
			_, err := s.p.DB.DeleteResourcePolicy(ctx, &dynamodb.DeleteResourcePolicyInput{ResourceArn: s.desc.TableArn,
				ExpectedRevisionId: aws.String(wrongRevision(rev))})
			o, d := classify(err, "PolicyNotFoundException")
			return o, d, false
		}},
	{Name: "UpdateContinuousBackups", Form: "point-in-time recovery on, with the window DescribeContinuousBackups shows: a setting already in force",
		Source: "DynamoDB API Reference, UpdateContinuousBackups",
		probe: func(ctx context.Context, s *session) (Outcome, string, bool) {
			d, err := s.p.DB.DescribeContinuousBackups(ctx, &dynamodb.DescribeContinuousBackupsInput{TableName: aws.String(s.t.Table)})
			if err != nil {
				_, detail := classify(err)
				return NotProbed, "DescribeContinuousBackups failed: " + detail, false
			}
			pitr := d.ContinuousBackupsDescription
			if pitr == nil || pitr.PointInTimeRecoveryDescription == nil || pitr.PointInTimeRecoveryDescription.PointInTimeRecoveryStatus != types.PointInTimeRecoveryStatusEnabled {
				return NotProbed, "point-in-time recovery is off: turning it on would change the table", true
			}
			_, err = s.p.DB.UpdateContinuousBackups(ctx, &dynamodb.UpdateContinuousBackupsInput{TableName: aws.String(s.t.Table),
				PointInTimeRecoverySpecification: &types.PointInTimeRecoverySpecification{PointInTimeRecoveryEnabled: aws.Bool(true),
					RecoveryPeriodInDays: pitr.PointInTimeRecoveryDescription.RecoveryPeriodInDays}})
			o, detail := classify(err, "ValidationException")
			return o, detail, false
		}},
	{Name: "DeleteBackup", Form: "a backup ARN of the table that cannot exist",
		Source: "DynamoDB API Reference, DeleteBackup: an unknown backup fails with BackupNotFoundException",
		probe: func(ctx context.Context, s *session) (Outcome, string, bool) {
			_, err := s.p.DB.DeleteBackup(ctx, &dynamodb.DeleteBackupInput{BackupArn: aws.String(aws.ToString(s.desc.TableArn) + "/backup/01000000000000-0a0b0c0d")})
			o, d := classify(err, "BackupNotFoundException")
			return o, d, false
		}},
	{Name: "KMS DisableKey and ScheduleKeyDeletion", Form: "none: neither takes a dry run or a precondition, so an allowed call would disable the key or schedule its deletion",
		Source: "AWS KMS API Reference, DisableKey and ScheduleKeyDeletion",
		probe: func(ctx context.Context, s *session) (Outcome, string, bool) {
			if s.desc.SSEDescription == nil || s.desc.SSEDescription.KMSMasterKeyArn == nil || s.desc.SSEDescription.SSEType != types.SSETypeKms {
				return NotProbed, "the table has no KMS key of its own to probe", false
			}
			return NotProbed, "no safe form exists: the offline proof (TestKeyActionMatrix) covers the key policy", false
		}},
	{Name: "S3 DeleteObjectVersion", S3: true, Form: "the null version of a random key: deleting a version that does not exist changes nothing",
		Source: "Amazon S3 API Reference, DeleteObject with versionId",
		probe: func(ctx context.Context, s *session) (Outcome, string, bool) {
			_, err := s.p.S3.DeleteObject(ctx, &s3.DeleteObjectInput{Bucket: aws.String(s.t.Bucket), Key: aws.String(probeObjectKey()), VersionId: aws.String("null")})
			o, d := classify(err, "NoSuchVersion", "NoSuchKey", "InvalidArgument")
			return o, d, false
		}},
	{Name: "S3 PutObjectRetention", S3: true, Form: "a random key that does not exist (NoSuchKey)",
		Source: "Amazon S3 API Reference, PutObjectRetention",
		probe: func(ctx context.Context, s *session) (Outcome, string, bool) {
			_, err := s.p.S3.PutObjectRetention(ctx, &s3.PutObjectRetentionInput{Bucket: aws.String(s.t.Bucket), Key: aws.String(probeObjectKey()),
				Retention: &s3types.ObjectLockRetention{Mode: s3types.ObjectLockRetentionModeGovernance, RetainUntilDate: aws.Time(time.Now().Add(24 * time.Hour))}})
			o, d := classify(err, "NoSuchKey", "NoSuchVersion", "InvalidRequest")
			return o, d, false
		}},
	{Name: "S3 PutObjectLegalHold", S3: true, Form: "a random key that does not exist (NoSuchKey)",
		Source: "Amazon S3 API Reference, PutObjectLegalHold",
		probe: func(ctx context.Context, s *session) (Outcome, string, bool) {
			_, err := s.p.S3.PutObjectLegalHold(ctx, &s3.PutObjectLegalHoldInput{Bucket: aws.String(s.t.Bucket), Key: aws.String(probeObjectKey()),
				LegalHold: &s3types.ObjectLockLegalHold{Status: s3types.ObjectLockLegalHoldStatusOff}})
			o, d := classify(err, "NoSuchKey", "NoSuchVersion", "InvalidRequest")
			return o, d, false
		}},
	{Name: "S3 PutObjectLockConfiguration", S3: true, Form: "the configuration GetObjectLockConfiguration returns: a setting already in force",
		Source: "Amazon S3 API Reference, PutObjectLockConfiguration",
		probe: func(ctx context.Context, s *session) (Outcome, string, bool) {
			cur, err := s.p.S3.GetObjectLockConfiguration(ctx, &s3.GetObjectLockConfigurationInput{Bucket: aws.String(s.t.Bucket)})
			if err != nil {
				_, detail := classify(err)
				return NotProbed, "GetObjectLockConfiguration failed: " + detail, false
			}
			c := cur.ObjectLockConfiguration
			if c == nil || c.ObjectLockEnabled != s3types.ObjectLockEnabledEnabled || c.Rule == nil || c.Rule.DefaultRetention == nil {
				return NotProbed, "the bucket has no Object Lock default retention: putting one would change it", true
			}
			_, err = s.p.S3.PutObjectLockConfiguration(ctx, &s3.PutObjectLockConfigurationInput{Bucket: aws.String(s.t.Bucket), ObjectLockConfiguration: c})
			o, d := classify(err)
			return o, d, false
		}},
	{Name: "INSERT of a fresh item", Positive: true, Form: "PartiQL INSERT of a random key, only with --insert: it adds an item that stays forever",
		Source: "DynamoDB Developer Guide, PartiQL INSERT",
		probe: func(ctx context.Context, s *session) (Outcome, string, bool) {
			if !s.t.Insert {
				return NotProbed, "give --insert to try it: the item stays in the table forever", false
			}
			item := s.freshKey()
			item["appendonly_probe"] = &types.AttributeValueMemberS{Value: "inserted by appendonly probe at " + time.Now().UTC().Format(time.RFC3339)}
			err := s.insert(ctx, item)
			if err == nil {
				s.inserts = item
			}
			o, d := classify(err)
			return o, d, false
		}},
	{Name: "duplicate INSERT", Positive: true, Form: "PartiQL INSERT of an item that exists (the one --insert added, or the first a Scan returns): DuplicateItemException",
		Source: "DynamoDB Developer Guide, PartiQL INSERT: a duplicate key fails with DuplicateItemException",
		probe: func(ctx context.Context, s *session) (Outcome, string, bool) {
			item := s.inserts
			if item == nil {
				out, err := s.p.DB.Scan(ctx, &dynamodb.ScanInput{TableName: aws.String(s.t.Table), Limit: aws.Int32(1), ConsistentRead: aws.Bool(true)})
				if err != nil {
					_, detail := classify(err)
					return NotProbed, "Scan, to find an item to insert again, failed: " + detail, false
				}
				if len(out.Items) == 0 {
					return NotProbed, "the table is empty: nothing to insert again (give --insert)", false
				}
				item = out.Items[0]
			}
			err := s.insert(ctx, item)
			var dup *types.DuplicateItemException
			switch {
			case errors.As(err, &dup):
				return Allowed, "refused with DuplicateItemException, as it must be", false
			case err == nil:
				return Allowed, "the duplicate INSERT succeeded: it overwrote an item", true
			}
			o, d := classify(err)
			return o, d, false
		}},
}

func (s *session) transact(ctx context.Context, item types.TransactWriteItem) (Outcome, string, bool) {
	_, err := s.p.DB.TransactWriteItems(ctx, &dynamodb.TransactWriteItemsInput{TransactItems: []types.TransactWriteItem{item}})
	o, d := classify(err, "TransactionCanceledException")
	return o, d, false
}

// partiql is a statement on a fresh random key whose WHERE no item meets.
func (s *session) partiql(verb, set string) (string, []types.AttributeValue) {
	key := s.freshKey()
	where := fmt.Sprintf("%q = ?", s.pk)
	params := []types.AttributeValue{key[s.pk]}
	if s.sk != "" {
		where += fmt.Sprintf(" AND %q = ?", s.sk)
		params = append(params, key[s.sk])
	}
	where += fmt.Sprintf(" AND %q IS MISSING", s.pk)
	if verb == "UPDATE" {
		return fmt.Sprintf("UPDATE %q %s WHERE %s", s.t.Table, set, where), params
	}
	return fmt.Sprintf("DELETE FROM %q WHERE %s", s.t.Table, where), params
}

func (s *session) insert(ctx context.Context, item map[string]types.AttributeValue) error {
	var names []string
	var params []types.AttributeValue
	for name, v := range item {
		names = append(names, fmt.Sprintf("'%s': ?", strings.ReplaceAll(name, "'", "''")))
		params = append(params, v)
	}
	stmt := fmt.Sprintf("INSERT INTO %q VALUE {%s}", s.t.Table, strings.Join(names, ", "))
	_, err := s.p.DB.ExecuteStatement(ctx, &dynamodb.ExecuteStatementInput{Statement: aws.String(stmt), Parameters: params})
	return err
}

// batchOutcome reads BatchExecuteStatement's per-statement errors.
func batchOutcome(rs []types.BatchStatementResponse) (Outcome, string, bool) {
	if len(rs) == 0 {
		return NotProbed, "no response per statement", false
	}
	for _, r := range rs {
		if r.Error == nil {
			return Allowed, "a statement succeeded (and changed nothing)", false
		}
		switch r.Error.Code {
		case types.BatchStatementErrorCodeEnumAccessDenied:
			continue
		case types.BatchStatementErrorCodeEnumConditionalCheckFailed:
			return Allowed, "authorized, then refused by its WHERE condition (ConditionalCheckFailed): nothing changed", false
		default:
			return NotProbed, "unexpected answer " + string(r.Error.Code) + ": " + aws.ToString(r.Error.Message), false
		}
	}
	return Denied, denialKind(aws.ToString(rs[0].Error.Message)), false
}

// protectedNow reads deletion protection again, just before the call.
func (s *session) protectedNow(ctx context.Context) bool {
	d, err := s.p.DB.DescribeTable(ctx, &dynamodb.DescribeTableInput{TableName: aws.String(s.t.Table)})
	return err == nil && d.Table != nil && aws.ToBool(d.Table.DeletionProtectionEnabled)
}

// policy returns the table's resource policy and revision, or why there is
// none to probe with.
func (s *session) policy(ctx context.Context) (policy, revision, why string) {
	out, err := s.p.DB.GetResourcePolicy(ctx, &dynamodb.GetResourcePolicyInput{ResourceArn: s.desc.TableArn})
	var nf *types.PolicyNotFoundException
	switch {
	case errors.As(err, &nf):
		return "", "", "the table has no resource policy, so there is no revision to get wrong: not probed"
	case err != nil:
		_, detail := classify(err)
		return "", "", "GetResourcePolicy failed: " + detail
	}
	return aws.ToString(out.Policy), aws.ToString(out.RevisionId), ""
}

// wrongRevision is a revision id that is not rev.
func wrongRevision(rev string) string {
	if rev == "1" {
		return "2"
	}
	return "1"
}

func probeObjectKey() string {
	b := make([]byte, 16)
	_, _ = rand.Read(b)
	return "appendonly/probe/" + hex.EncodeToString(b)
}

// Print writes the report, one line a path (or JSON), and returns the exit
// status: 0 when nothing is wrong, 1 when a path that must be denied is
// allowed or a protection is off.
func Print(w io.Writer, table string, results []Result, asJSON bool) int {
	code := 0
	for _, r := range results {
		if r.Problem {
			code = 1
		}
	}
	if asJSON {
		enc := json.NewEncoder(w)
		enc.SetIndent("", "  ")
		_ = enc.Encode(struct {
			Table      string   `json:"table"`
			AppendOnly bool     `json:"appendOnly"`
			Results    []Result `json:"results"`
		}{table, code == 0, results})
		return code
	}
	width := 0
	for _, r := range results {
		width = max(width, len(r.Path))
	}
	for _, r := range results {
		mark := " "
		if r.Problem {
			mark = "!"
		}
		detail := r.Detail
		if r.Want == Allowed && r.Outcome == Allowed {
			detail += " (expected for this caller)"
		}
		fmt.Fprintf(w, "%s %-10s %-*s  %s\n", mark, r.Outcome, width, r.Path, detail)
	}
	if code == 0 {
		fmt.Fprintf(w, "table %s: every path that must be denied is denied for this caller\n", table)
	} else {
		var open []string
		for _, r := range results {
			if r.Problem {
				open = append(open, r.Path)
			}
		}
		fmt.Fprintf(w, "table %s is NOT append-only for this caller: %s\n", table, strings.Join(open, ", "))
	}
	return code
}
