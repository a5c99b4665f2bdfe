package ledger_test

import (
	"fmt"
	"runtime"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/appendonly/appendonly/internal/fakedynamo"
	"github.com/appendonly/appendonly/ledger"
)

// BenchmarkAppend appends to one chain, and to many chains from as many
// goroutines, against the fake over loopback HTTP (each append is a
// consistent Query of the tail and an INSERT).
//
//	go test -run '^$' -bench . ./ledger
func BenchmarkAppend(b *testing.B) {
	for _, chains := range []int{1, 16} {
		b.Run(fmt.Sprintf("chains=%d", chains), func(b *testing.B) {
			_, c := newLedger(b)
			item := map[string]types.AttributeValue{"event": s("paid"), "amount": n(12)}
			start := time.Now()
			var wg sync.WaitGroup
			per := b.N/chains + 1
			for w := 0; w < chains; w++ {
				wg.Add(1)
				go func(w int) {
					defer wg.Done()
					for i := 0; i < per; i++ {
						if _, err := c.Append(ctx, fmt.Sprintf("chain-%d", w), item); err != nil {
							b.Error(err)
							return
						}
					}
				}(w)
			}
			wg.Wait()
			b.ReportMetric(float64(per*chains)/time.Since(start).Seconds(), "appends/s")
		})
	}
}

// fill writes a valid chain of n items straight into the fake.
func fill(b *testing.B, f *fakedynamo.Server, chain string, n int) {
	prev := ledger.GenesisHash
	for i := 1; i <= n; i++ {
		item := map[string]types.AttributeValue{
			"chain": s(chain), "seq": &types.AttributeValueMemberN{Value: fmt.Sprint(i)},
			"event": s("paid"), "amount": &types.AttributeValueMemberN{Value: fmt.Sprintf("%d.25", i)},
			ledger.AttrPrevHash: s(prev), ledger.AttrEncoding: s(ledger.CanonicalVersion),
		}
		h, err := ledger.Hash(item)
		if err != nil {
			b.Fatal(err)
		}
		f.Put("Ledger", fakedynamo.Item{
			"chain": map[string]any{"S": chain}, "seq": map[string]any{"N": fmt.Sprint(i)},
			"event": map[string]any{"S": "paid"}, "amount": map[string]any{"N": fmt.Sprintf("%d.25", i)},
			ledger.AttrPrevHash: map[string]any{"S": prev}, ledger.AttrEncoding: map[string]any{"S": ledger.CanonicalVersion},
			ledger.AttrHash: map[string]any{"S": h},
		})
		prev = h
	}
}

// BenchmarkVerify verifies chains of 10,000 and 100,000 items read through
// the fake in pages of 1,000, and reports items per second, the bytes
// allocated per item, and the heap still held after each run (after a
// collection, against before it): Verify keeps one page and one hash, so
// that stays near zero whatever the chain's length.
func BenchmarkVerify(b *testing.B) {
	for _, items := range []int{10_000, 100_000} {
		b.Run(fmt.Sprintf("items=%d", items), func(b *testing.B) {
			f, c := newLedger(b)
			fill(b, f, "big", items)
			// A first run builds the fake's own caches (its sorted index),
			// which are not the verifier's memory.
			if _, err := c.Verify(ctx, "big", nil); err != nil {
				b.Fatal(err)
			}
			heap := func() int64 {
				runtime.GC()
				var m runtime.MemStats
				runtime.ReadMemStats(&m)
				return int64(m.HeapAlloc)
			}
			var retained int64
			var before, after runtime.MemStats
			b.ResetTimer()
			runtime.ReadMemStats(&before)
			for i := 0; i < b.N; i++ {
				b.StopTimer()
				base := heap()
				b.StartTimer()
				tip, err := c.Verify(ctx, "big", nil)
				b.StopTimer()
				if err != nil || tip.Seq != int64(items) {
					b.Fatalf("got %v, %v", tip, err)
				}
				retained = max(retained, heap()-base)
				b.StartTimer()
			}
			runtime.ReadMemStats(&after)
			b.ReportMetric(float64(items*b.N)/b.Elapsed().Seconds(), "items/s")
			b.ReportMetric(float64(after.TotalAlloc-before.TotalAlloc)/float64(items*b.N), "alloc-B/item")
			b.ReportMetric(float64(retained)/1024, "retained-KiB")
		})
	}
}
