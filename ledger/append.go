package ledger

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"sort"
	"strings"
	"sync/atomic"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/feature/dynamodb/attributevalue"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/aws/smithy-go/middleware"
)

// API is the part of the DynamoDB client the package calls;
// *dynamodb.Client implements it.
type API interface {
	ExecuteStatement(ctx context.Context, in *dynamodb.ExecuteStatementInput, opts ...func(*dynamodb.Options)) (*dynamodb.ExecuteStatementOutput, error)
	ExecuteTransaction(ctx context.Context, in *dynamodb.ExecuteTransactionInput, opts ...func(*dynamodb.Options)) (*dynamodb.ExecuteTransactionOutput, error)
	DescribeTable(ctx context.Context, in *dynamodb.DescribeTableInput, opts ...func(*dynamodb.Options)) (*dynamodb.DescribeTableOutput, error)
	GetItem(ctx context.Context, in *dynamodb.GetItemInput, opts ...func(*dynamodb.Options)) (*dynamodb.GetItemOutput, error)
	Query(ctx context.Context, in *dynamodb.QueryInput, opts ...func(*dynamodb.Options)) (*dynamodb.QueryOutput, error)
	Scan(ctx context.Context, in *dynamodb.ScanInput, opts ...func(*dynamodb.Options)) (*dynamodb.ScanOutput, error)
}

// ErrDuplicateItem is what an append of an item whose key exists fails
// with: nothing was written. Test for it with errors.Is.
var ErrDuplicateItem = errors.New("an item with this key exists")

// MaxTransactionItems is DynamoDB's limit on the statements of one
// ExecuteTransaction, and so on AppendAll.
const MaxTransactionItems = 100

// DuplicateItemError is the error of an append whose key exists. It wraps
// the DynamoDB error, and errors.Is(err, ErrDuplicateItem) holds.
type DuplicateItemError struct {
	Table string
	// Index is the position of the duplicate in AppendAll's items, or -1.
	Index int
	Err   error
}

func (e *DuplicateItemError) Error() string {
	at := ""
	if e.Index >= 0 {
		at = fmt.Sprintf(" (item %d)", e.Index)
	}
	return fmt.Sprintf("ledger: append to %s%s: %v: %v", e.Table, at, ErrDuplicateItem, e.Err)
}

// Is reports whether target is ErrDuplicateItem.
func (e *DuplicateItemError) Is(target error) bool { return target == ErrDuplicateItem }

// Unwrap returns the DynamoDB error.
func (e *DuplicateItemError) Unwrap() error { return e.Err }

// MaxStatementLength is DynamoDB's limit on a PartiQL statement's length.
// The values of an append are parameters, so only the table's and the
// attributes' names count towards it; DynamoDB documents no limit on the
// number of parameters, and an item is at most 400 KB.
const MaxStatementLength = 8192

// Append appends item to table with a PartiQL INSERT whose values are all
// parameters. It never overwrites: an existing key gives a
// *DuplicateItemError.
//
// It costs the INSERT's write units alone, and is idempotent under the
// SDK's retries: when an attempt the SDK retried (its response lost, a
// throttle, a server error) meets DuplicateItemException, Append reads the
// stored item with a strongly consistent read and succeeds if it is the
// item sent (an earlier attempt wrote it), or returns a
// *DuplicateItemError if it is not. Only that path pays more: a
// DescribeTable and the read. A new call with the same item is a new
// request: a duplicate, whatever the table holds.
func Append(ctx context.Context, db API, table string, item map[string]types.AttributeValue) error {
	stmt, params, err := insert(table, item)
	if err != nil {
		return err
	}
	var attempts atomic.Int32
	_, err = db.ExecuteStatement(ctx, &dynamodb.ExecuteStatementInput{Statement: aws.String(stmt), Parameters: params},
		func(o *dynamodb.Options) { o.APIOptions = append(o.APIOptions, countAttempts(&attempts)) })
	var dup *types.DuplicateItemException
	switch {
	case err == nil:
		return nil
	case !errors.As(err, &dup):
		return fmt.Errorf("ledger: append to %s: %w", table, err)
	case attempts.Load() > 1:
		if same, rerr := stored(ctx, db, table, item); rerr != nil {
			return fmt.Errorf("ledger: append to %s: a retried INSERT found the key taken, and reading it back failed: %w", table, rerr)
		} else if same {
			return nil
		}
	}
	return &DuplicateItemError{Table: table, Index: -1, Err: err}
}

// countAttempts counts the attempts of one call: a Finalize middleware
// after the SDK's retry middleware runs once per attempt.
func countAttempts(n *atomic.Int32) func(*middleware.Stack) error {
	return func(stack *middleware.Stack) error {
		return stack.Finalize.Add(middleware.FinalizeMiddlewareFunc("ledger.countAttempts",
			func(ctx context.Context, in middleware.FinalizeInput, next middleware.FinalizeHandler) (middleware.FinalizeOutput, middleware.Metadata, error) {
				n.Add(1)
				return next.HandleFinalize(ctx, in)
			}), middleware.After)
	}
}

// ItemGetter is the part of the DynamoDB client ReadItem calls.
type ItemGetter interface {
	GetItem(ctx context.Context, in *dynamodb.GetItemInput, opts ...func(*dynamodb.Options)) (*dynamodb.GetItemOutput, error)
}

// ReadItem reads the item of table (a name, or an ARN across accounts)
// whose key's canonical encoding is key, with a strongly consistent read,
// and returns the item's canonical encoding; found is false when the table
// holds no such item.
func ReadItem(ctx context.Context, db ItemGetter, table string, key []byte) (item []byte, found bool, err error) {
	k, err := Decode(key)
	if err != nil {
		return nil, false, err
	}
	out, err := db.GetItem(ctx, &dynamodb.GetItemInput{TableName: aws.String(table), Key: k, ConsistentRead: aws.Bool(true)})
	if err != nil || out.Item == nil {
		return nil, false, err
	}
	item, err = Encode(out.Item)
	return item, err == nil, err
}

// stored reports whether table holds item under its key, as a strongly
// consistent read returns it, compared by canonical encoding.
func stored(ctx context.Context, db API, table string, item map[string]types.AttributeValue) (bool, error) {
	desc, err := db.DescribeTable(ctx, &dynamodb.DescribeTableInput{TableName: aws.String(table)})
	if err != nil {
		return false, err
	}
	key := map[string]types.AttributeValue{}
	for _, k := range desc.Table.KeySchema {
		name := aws.ToString(k.AttributeName)
		if item[name] == nil {
			return false, fmt.Errorf("the item has no key attribute %q", name)
		}
		key[name] = item[name]
	}
	out, err := db.GetItem(ctx, &dynamodb.GetItemInput{TableName: aws.String(table), Key: key, ConsistentRead: aws.Bool(true)})
	if err != nil || out.Item == nil {
		return false, err
	}
	have, err1 := Encode(out.Item)
	sent, err2 := Encode(item)
	if err := errors.Join(err1, err2); err != nil {
		return false, err
	}
	return bytes.Equal(have, sent), nil
}

// InsertStatement returns the statement Append sends for item: INSERT INTO
// "table" VALUE {'a': ?, 'b': ?}, the attributes in name order.
func InsertStatement(table string, item map[string]types.AttributeValue) string {
	stmt, _, _ := insert(table, item)
	return stmt
}

// AppendValue marshals v (a struct or map, with the attributevalue
// package's rules and `dynamodbav` tags) and appends it.
func AppendValue(ctx context.Context, db API, table string, v any) error {
	item, err := attributevalue.MarshalMap(v)
	if err != nil {
		return fmt.Errorf("ledger: append to %s: %w", table, err)
	}
	return Append(ctx, db, table, item)
}

// AppendAll appends up to MaxTransactionItems items in one transaction:
// all of them, or, if any key exists, none (a *DuplicateItemError naming the
// first duplicate). It is idempotent under the SDK's retries: the
// transaction's ClientRequestToken, which the SDK sets once per call and
// sends again on each retry, makes a retry after a lost response succeed
// without a second write (DynamoDB keeps a token for 10 minutes). A
// transaction costs twice the write units of its statements.
func AppendAll(ctx context.Context, db API, table string, items []map[string]types.AttributeValue) error {
	if len(items) == 0 {
		return nil
	}
	if len(items) > MaxTransactionItems {
		return fmt.Errorf("ledger: append to %s: %d items, over DynamoDB's %d per transaction", table, len(items), MaxTransactionItems)
	}
	stmts := make([]types.ParameterizedStatement, len(items))
	for i, item := range items {
		stmt, params, err := insert(table, item)
		if err != nil {
			return fmt.Errorf("item %d: %w", i, err)
		}
		stmts[i] = types.ParameterizedStatement{Statement: aws.String(stmt), Parameters: params}
	}
	_, err := db.ExecuteTransaction(ctx, &dynamodb.ExecuteTransactionInput{TransactStatements: stmts})
	var canceled *types.TransactionCanceledException
	if errors.As(err, &canceled) {
		for i, r := range canceled.CancellationReasons {
			if aws.ToString(r.Code) == "DuplicateItem" {
				return &DuplicateItemError{Table: table, Index: i, Err: err}
			}
		}
	}
	if err != nil {
		return fmt.Errorf("ledger: append to %s: %w", table, err)
	}
	return nil
}

// insert builds the statement INSERT INTO "table" VALUE {'a': ?, 'b': ?}
// with the attributes in name order, and its parameters. Only the table's
// and the attributes' names, quoted, are written into the statement; every
// value is a parameter.
func insert(table string, item map[string]types.AttributeValue) (string, []types.AttributeValue, error) {
	if table == "" {
		return "", nil, errors.New("ledger: the table name is required")
	}
	if len(item) == 0 {
		return "", nil, fmt.Errorf("ledger: append to %s: the item has no attributes", table)
	}
	names := make([]string, 0, len(item))
	for k := range item {
		names = append(names, k)
	}
	sort.Strings(names)
	var b strings.Builder
	b.WriteString(`INSERT INTO "` + strings.ReplaceAll(table, `"`, `""`) + `" VALUE {`)
	params := make([]types.AttributeValue, len(names))
	for i, k := range names {
		if i > 0 {
			b.WriteString(", ")
		}
		b.WriteString("'" + strings.ReplaceAll(k, "'", "''") + "': ?")
		params[i] = item[k]
	}
	b.WriteString("}")
	if b.Len() > MaxStatementLength {
		return b.String(), nil, fmt.Errorf("ledger: append to %s: the INSERT statement is %d characters, over DynamoDB's limit of %d: the table's and attributes' names are too long together", table, b.Len(), MaxStatementLength)
	}
	for _, k := range names {
		if _, err := Encode(map[string]types.AttributeValue{k: item[k]}); err != nil {
			return "", nil, fmt.Errorf("ledger: append to %s: %w", table, err)
		}
	}
	return b.String(), params, nil
}
