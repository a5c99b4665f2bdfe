package ledger_test

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/appendonly/appendonly/internal/fakedynamo"
	"github.com/appendonly/appendonly/ledger"
)

var ctx = context.Background()

type client struct{ DB *dynamodb.Client }

func newLedger(t testing.TB) (*fakedynamo.Server, client) {
	t.Helper()
	f := fakedynamo.New(map[string]fakedynamo.Table{"Payments": {PartitionKey: "account", SortKey: "at"}})
	db, _ := f.Start(t)
	return f, client{db}
}

func s(v string) types.AttributeValue { return &types.AttributeValueMemberS{Value: v} }
func n(v int) types.AttributeValue    { return &types.AttributeValueMemberN{Value: fmt.Sprint(v)} }

func TestAppendNeverOverwrites(t *testing.T) {
	_, c := newLedger(t)
	item := map[string]types.AttributeValue{"account": s("acme"), "at": n(1), "amount": n(10)}
	if err := ledger.Append(ctx, c.DB, "Payments", item); err != nil {
		t.Fatal(err)
	}
	err := ledger.Append(ctx, c.DB, "Payments", item)
	if !errors.Is(err, ledger.ErrDuplicateItem) {
		t.Fatalf("second append: got %v, want ErrDuplicateItem", err)
	}
	var dup *types.DuplicateItemException
	if !errors.As(err, &dup) {
		t.Errorf("got %v, want it to wrap DynamoDB's DuplicateItemException", err)
	}
}

func TestAppendValueMarshals(t *testing.T) {
	f, c := newLedger(t)
	type payment struct {
		Account string `dynamodbav:"account"`
		At      int64  `dynamodbav:"at"`
		Amount  string `dynamodbav:"amount"`
	}
	if err := ledger.AppendValue(ctx, c.DB, "Payments", payment{"acme", 7, "12.50"}); err != nil {
		t.Fatal(err)
	}
	items := f.Items("Payments")
	if len(items) != 1 || fmt.Sprint(items[0]["amount"]) != "map[S:12.50]" {
		t.Errorf("got %v, want the marshaled payment", items)
	}
}

func TestAppendAllIsAllOrNothing(t *testing.T) {
	f, c := newLedger(t)
	batch := func(from, to int) []map[string]types.AttributeValue {
		var out []map[string]types.AttributeValue
		for i := from; i <= to; i++ {
			out = append(out, map[string]types.AttributeValue{"account": s("acme"), "at": n(i)})
		}
		return out
	}
	if err := ledger.AppendAll(ctx, c.DB, "Payments", batch(1, 3)); err != nil {
		t.Fatal(err)
	}
	err := ledger.AppendAll(ctx, c.DB, "Payments", batch(3, 5))
	var dup *ledger.DuplicateItemError
	if !errors.Is(err, ledger.ErrDuplicateItem) || !errors.As(err, &dup) || dup.Index != 0 {
		t.Fatalf("got %v, want ErrDuplicateItem at item 0", err)
	}
	if got := len(f.Items("Payments")); got != 3 {
		t.Errorf("got %d items, want 3: nothing of the failed batch", got)
	}
	if err := ledger.AppendAll(ctx, c.DB, "Payments", batch(10, 10+ledger.MaxTransactionItems)); err == nil || !strings.Contains(err.Error(), "over DynamoDB's 100") {
		t.Errorf("101 items: got %v, want an error naming the limit", err)
	}
}

// lossy serves the fake, losing the response to the first request after
// the fake handled it (the write happened), and counts requests by
// operation.
func lossy(t *testing.T, f *fakedynamo.Server) (*dynamodb.Client, map[string]int) {
	t.Helper()
	var mu sync.Mutex
	calls := map[string]int{}
	var n atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		calls[strings.TrimPrefix(r.Header.Get("X-Amz-Target"), "DynamoDB_20120810.")]++
		mu.Unlock()
		rec := httptest.NewRecorder()
		f.ServeHTTP(rec, r)
		if n.Add(1) == 1 {
			// The write happened; the response is lost on the way back.
			conn, _, _ := w.(http.Hijacker).Hijack()
			conn.Close()
			return
		}
		for k, v := range rec.Header() {
			w.Header()[k] = v
		}
		w.WriteHeader(rec.Code)
		_, _ = w.Write(rec.Body.Bytes())
	}))
	t.Cleanup(srv.Close)
	return fakedynamo.NewClient(srv.URL), calls
}

// TestAppendIsIdempotentUnderSDKRetries loses the response to the first
// append after DynamoDB wrote the item: the SDK retries the single INSERT,
// which meets DuplicateItemException; the item read back is the one sent,
// so the append succeeds without a second write, and without a
// transaction's double price.
func TestAppendIsIdempotentUnderSDKRetries(t *testing.T) {
	f := fakedynamo.New(map[string]fakedynamo.Table{"Payments": {PartitionKey: "account", SortKey: "at"}})
	db, calls := lossy(t, f)
	item := map[string]types.AttributeValue{"account": s("acme"), "at": n(1), "amount": n(10)}
	if err := ledger.Append(ctx, db, "Payments", item); err != nil {
		t.Fatalf("append with a lost response: %v", err)
	}
	if calls["ExecuteStatement"] != 2 || calls["ExecuteTransaction"] != 0 || calls["GetItem"] != 1 {
		t.Errorf("requests %v, want two single INSERTs (one retry), one read back, no transaction", calls)
	}
	if got := len(f.Items("Payments")); got != 1 {
		t.Errorf("%d items, want 1", got)
	}
	// A new append of the same item is a new request: a duplicate, and
	// nothing is read back.
	if err := ledger.Append(ctx, db, "Payments", item); !errors.Is(err, ledger.ErrDuplicateItem) {
		t.Errorf("got %v, want ErrDuplicateItem", err)
	}
	if calls["GetItem"] != 1 {
		t.Errorf("a first attempt's duplicate read the item back: %v", calls)
	}
}

// TestRetriedAppendOfATakenKey: the key held another item before the
// append; its first response lost, the retry meets DuplicateItemException,
// and the item read back is not the one sent: a duplicate.
func TestRetriedAppendOfATakenKey(t *testing.T) {
	f := fakedynamo.New(map[string]fakedynamo.Table{"Payments": {PartitionKey: "account", SortKey: "at"}})
	f.Put("Payments", fakedynamo.Item{"account": map[string]any{"S": "acme"}, "at": map[string]any{"N": "1"}, "amount": map[string]any{"N": "99"}})
	db, calls := lossy(t, f)
	item := map[string]types.AttributeValue{"account": s("acme"), "at": n(1), "amount": n(10)}
	if err := ledger.Append(ctx, db, "Payments", item); !errors.Is(err, ledger.ErrDuplicateItem) {
		t.Errorf("got %v, want ErrDuplicateItem", err)
	}
	if calls["GetItem"] != 1 {
		t.Errorf("requests %v, want the item read back once", calls)
	}
}

// TestAppendAllIsIdempotentUnderSDKRetries: a transaction's retry after a
// lost response succeeds through its ClientRequestToken, without a second
// write.
func TestAppendAllIsIdempotentUnderSDKRetries(t *testing.T) {
	f := fakedynamo.New(map[string]fakedynamo.Table{"Payments": {PartitionKey: "account", SortKey: "at"}})
	db, calls := lossy(t, f)
	items := []map[string]types.AttributeValue{{"account": s("acme"), "at": n(1)}, {"account": s("acme"), "at": n(2)}}
	if err := ledger.AppendAll(ctx, db, "Payments", items); err != nil {
		t.Fatalf("append with a lost response: %v", err)
	}
	if calls["ExecuteTransaction"] != 2 || len(f.Items("Payments")) != 2 {
		t.Errorf("requests %v, %d items: want one retried transaction and 2 items", calls, len(f.Items("Payments")))
	}
}

// TestStatementLengthLimit appends items whose statement is exactly
// DynamoDB's limit of 8,192 characters, and one longer, which is refused
// before anything is sent.
func TestStatementLengthLimit(t *testing.T) {
	_, c := newLedger(t)
	base := map[string]types.AttributeValue{"account": s("acme"), "at": n(1)}
	stmtLen := func(name string) int {
		item := map[string]types.AttributeValue{"account": s("acme"), "at": n(1), name: s("x")}
		return len(ledger.InsertStatement("Payments", item))
	}
	short := stmtLen("a")
	name := strings.Repeat("a", 1+ledger.MaxStatementLength-short)
	if got := stmtLen(name); got != ledger.MaxStatementLength {
		t.Fatalf("statement of %d characters, want %d", got, ledger.MaxStatementLength)
	}
	item := map[string]types.AttributeValue{name: s("x")}
	for k, v := range base {
		item[k] = v
	}
	if err := ledger.Append(ctx, c.DB, "Payments", item); err != nil {
		t.Errorf("a statement of exactly %d characters: %v", ledger.MaxStatementLength, err)
	}
	delete(item, name)
	item[name+"b"] = s("x")
	item["at"] = n(2)
	if err := ledger.Append(ctx, c.DB, "Payments", item); err == nil || !strings.Contains(err.Error(), "8192") {
		t.Errorf("a statement of %d characters: got %v, want an error naming the limit", ledger.MaxStatementLength+1, err)
	}
}

func TestInvalidUTF8IsRefused(t *testing.T) {
	_, c := newLedger(t)
	item := map[string]types.AttributeValue{"account": s("acme"), "at": n(1), "note": s("caf\xe9")}
	if err := ledger.Append(ctx, c.DB, "Payments", item); err == nil || !strings.Contains(err.Error(), "UTF-8") {
		t.Errorf("got %v, want an error saying the string is not UTF-8", err)
	}
}
