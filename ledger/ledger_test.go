package ledger_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/appendonly/appendonly/internal/fakedynamo"
	"github.com/appendonly/appendonly/ledger"
)

var ctx = context.Background()

func newLedger(t testing.TB) (*fakedynamo.Server, *ledger.Chain) {
	t.Helper()
	f := fakedynamo.New(map[string]fakedynamo.Table{
		"Ledger":   {PartitionKey: "chain", SortKey: "seq"},
		"Payments": {PartitionKey: "account", SortKey: "at"},
	})
	db, _ := f.Start(t)
	return f, &ledger.Chain{DB: db, Table: "Ledger"}
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

// appendN appends n items to chain.
func appendN(t testing.TB, c *ledger.Chain, chain string, n int) ledger.Link {
	t.Helper()
	var last ledger.Link
	for i := 1; i <= n; i++ {
		l, err := c.Append(ctx, chain, map[string]types.AttributeValue{"event": s(fmt.Sprintf("event %d", i)), "amount": &types.AttributeValueMemberN{Value: fmt.Sprintf("%d.50", i)}})
		if err != nil {
			t.Fatal(err)
		}
		if l.Seq != int64(i) {
			t.Fatalf("append %d: got sequence number %d", i, l.Seq)
		}
		last = l
	}
	return last
}

func TestChainAppendsAndVerifies(t *testing.T) {
	_, c := newLedger(t)
	c.PageSize = 3 // several pages
	tip := appendN(t, c, "orders", 10)
	appendN(t, c, "refunds", 2)
	got, err := c.Verify(ctx, "orders", nil)
	if err != nil || got != tip {
		t.Fatalf("Verify: got %v, %v; want %v", got, err, tip)
	}
	d, err := c.Tip(ctx, "orders")
	if err != nil {
		t.Fatal(err)
	}
	digest := ledger.Digest(d)
	parsed, err := ledger.ParseDigest(digest.String())
	if err != nil || parsed != digest {
		t.Fatalf("ParseDigest(%q) = %v, %v", digest.String(), parsed, err)
	}
	appendN2 := func() { // the chain goes on after the digest
		if _, err := c.Append(ctx, "orders", map[string]types.AttributeValue{"event": s("later")}); err != nil {
			t.Fatal(err)
		}
	}
	appendN2()
	if _, err := c.Verify(ctx, "orders", &parsed); err != nil {
		t.Errorf("Verify against an earlier digest: %v", err)
	}
	if _, err := c.Append(ctx, "orders", map[string]types.AttributeValue{"seq": n(99)}); err == nil {
		t.Error("an item setting the sequence number was appended")
	}
}

// Each way to tamper with a chain is found, at the right item.
func TestVerifyFindsTampering(t *testing.T) {
	for _, c := range []struct {
		name       string
		tamper     func(f *fakedynamo.Server, items []fakedynamo.Item)
		withDigest bool
		seq        int64
		reason     string
	}{
		{"attribute changed", func(f *fakedynamo.Server, items []fakedynamo.Item) {
			items[4]["amount"] = map[string]any{"N": "5000"}
			f.Put("Ledger", items[4])
		}, false, 5, "its content changed"},
		{"attribute added", func(f *fakedynamo.Server, items []fakedynamo.Item) {
			items[6]["note"] = map[string]any{"S": "approved"}
			f.Put("Ledger", items[6])
		}, false, 7, "its content changed"},
		{"item deleted", func(f *fakedynamo.Server, items []fakedynamo.Item) {
			f.Delete("Ledger", items[3])
		}, false, 4, "item 4 is missing"},
		{"item inserted", func(f *fakedynamo.Server, items []fakedynamo.Item) {
			// Items 5 to 10 move up one; a forged item takes 5's place.
			for i := len(items) - 1; i >= 4; i-- {
				moved := items[i]
				moved["seq"] = map[string]any{"N": fmt.Sprint(i + 2)}
				f.Put("Ledger", moved)
			}
			forged := fakedynamo.Item{}
			for k, v := range items[3] {
				forged[k] = v
			}
			forged["seq"] = map[string]any{"N": "5"}
			f.Put("Ledger", forged)
		}, false, 5, "it does not follow item 4"},
		{"two items swapped", func(f *fakedynamo.Server, items []fakedynamo.Item) {
			a, b := items[2], items[3]
			a["seq"], b["seq"] = b["seq"], a["seq"]
			f.Put("Ledger", a)
			f.Put("Ledger", b)
		}, false, 3, "it does not follow item 2"},
		{"tail cut below the digest", func(f *fakedynamo.Server, items []fakedynamo.Item) {
			for _, it := range items[7:] {
				f.Delete("Ledger", it)
			}
		}, true, 8, "the chain ends at item 7, below the digest's 10"},
		{"hashes rewritten consistently", func(f *fakedynamo.Server, items []fakedynamo.Item) {
			// The one attack the chain alone cannot show: change item 5 and
			// recompute every hash from there.
			rewrite(f, items, 4)
		}, true, 10, "it is not the item the digest saw"},
	} {
		t.Run(c.name, func(t *testing.T) {
			f, ch := newLedger(t)
			tip := appendN(t, ch, "orders", 10)
			digest := ledger.Digest(tip)
			c.tamper(f, f.Items("Ledger"))
			var d *ledger.Digest
			if c.withDigest {
				d = &digest
			}
			_, err := ch.Verify(ctx, "orders", d)
			var brk *ledger.BreakError
			if !errors.As(err, &brk) || brk.Seq != c.seq || !strings.Contains(brk.Reason, c.reason) {
				t.Fatalf("got %v, want a break at item %d: %s", err, c.seq, c.reason)
			}
			if c.name == "hashes rewritten consistently" {
				if _, err := ch.Verify(ctx, "orders", nil); err != nil {
					t.Errorf("without the digest: got %v, want the rewritten chain to pass (only a digest catches it)", err)
				}
			}
		})
	}
}

// rewrite changes item from's amount and recomputes every hash from there,
// as someone able to write every item could.
func rewrite(f *fakedynamo.Server, items []fakedynamo.Item, from int) {
	prev := items[from-1]["hash"].(map[string]any)["S"].(string)
	for i := from; i < len(items); i++ {
		it := items[i]
		if i == from {
			it["amount"] = map[string]any{"N": "5000"}
		}
		it["prev_hash"] = map[string]any{"S": prev}
		h, err := ledger.Hash(fromWire(it))
		if err != nil {
			panic(err)
		}
		it["hash"] = map[string]any{"S": h}
		f.Put("Ledger", it)
		prev = h
	}
}

// fromWire converts the fake's flat items (S and N only, as appendN writes)
// to attribute values.
func fromWire(it fakedynamo.Item) map[string]types.AttributeValue {
	out := map[string]types.AttributeValue{}
	for k, v := range it {
		m := v.(map[string]any)
		if x, ok := m["S"].(string); ok {
			out[k] = &types.AttributeValueMemberS{Value: x}
		} else {
			out[k] = &types.AttributeValueMemberN{Value: m["N"].(string)}
		}
	}
	return out
}

func TestConcurrentWritersKeepTheChainLinear(t *testing.T) {
	_, c := newLedger(t)
	c.MaxAttempts = 50
	const writers, each = 8, 15
	var wg sync.WaitGroup
	seqs := make(chan int64, writers*each)
	errs := make(chan error, writers*each)
	for w := 0; w < writers; w++ {
		wg.Add(1)
		go func(w int) {
			defer wg.Done()
			for i := 0; i < each; i++ {
				l, err := c.Append(ctx, "busy", map[string]types.AttributeValue{"writer": n(w), "i": n(i)})
				if err != nil {
					errs <- err
					return
				}
				seqs <- l.Seq
			}
		}(w)
	}
	wg.Wait()
	close(seqs)
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	used := map[int64]bool{}
	for s := range seqs {
		if used[s] {
			t.Fatalf("sequence number %d used twice", s)
		}
		used[s] = true
	}
	if len(used) != writers*each {
		t.Fatalf("got %d sequence numbers, want %d", len(used), writers*each)
	}
	tip, err := c.Verify(ctx, "busy", nil)
	if err != nil || tip.Seq != writers*each {
		t.Errorf("Verify: got %v, %v; want a chain of %d", tip, err, writers*each)
	}
}

func TestContentionGivesUpWithATypedError(t *testing.T) {
	_, c := newLedger(t)
	c.MaxAttempts = 2
	appendN(t, c, "hot", 1)
	// A writer that always loses: every tip it reads is already taken,
	// because the fake answers its Query from a stale copy.
	c.DB = &staleTip{API: c.DB}
	_, err := c.Append(ctx, "hot", map[string]types.AttributeValue{"x": n(1)})
	if !errors.Is(err, ledger.ErrContention) {
		t.Errorf("got %v, want ErrContention", err)
	}
}

// staleTip answers every Query as if the chain were empty: each append
// then races for sequence number 1, which is taken.
type staleTip struct{ ledger.API }

func (s *staleTip) Query(ctx context.Context, in *dynamodb.QueryInput, opts ...func(*dynamodb.Options)) (*dynamodb.QueryOutput, error) {
	return &dynamodb.QueryOutput{}, nil
}
