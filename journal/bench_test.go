package journal

import (
	"context"
	"fmt"
	"sync/atomic"
	"testing"

	"golang.org/x/mod/sumdb/note"

	"github.com/appendonly/appendonly/internal/versity"
	"github.com/appendonly/appendonly/ledger"
)

// countingSigner counts signatures: each is one KMS Sign call in
// deployment.
type countingSigner struct {
	note.Signer
	n atomic.Int64
}

func (c *countingSigner) Sign(msg []byte) ([]byte, error) {
	c.n.Add(1)
	return c.Signer.Sign(msg)
}

// BenchmarkIntegrate measures the sequencer on 1 KB items, one invocation
// a batch, against Versity Gateway on loopback (the local S3), and counts
// S3 requests (PUT, GET, and ListObjectVersions and ListObjectsV2 as LIST)
// and signatures per 1,000 appends.
//
//	go test -run '^$' -bench Integrate -benchtime 3x ./journal
func BenchmarkIntegrate(b *testing.B) {
	for _, batch := range []int{100, 10000} {
		b.Run(fmt.Sprintf("batch=%d", batch), func(b *testing.B) {
			client, bucket := versity.Start(b, "GOVERNANCE")
			counted := &countingS3{S3API: client}
			store := &S3Store{Client: counted, Bucket: bucket}
			s, verifier, _ := newKeys(b)
			signer := &countingSigner{Signer: s}
			seq := &Sequencer{Store: store, Signer: signer, Verifier: verifier, Origin: testOrigin}
			ctx := context.Background()
			n := 0
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				records := inserts(n, n+batch, 1000)
				n += batch
				if _, err := seq.Integrate(ctx, records); err != nil {
					b.Fatal(err)
				}
			}
			b.StopTimer()
			b.ReportMetric(float64(n)/b.Elapsed().Seconds(), "items/s")
			b.ReportMetric(float64(counted.puts.Load())*1000/float64(n), "PUT/1000")
			b.ReportMetric(float64(counted.gets.Load())*1000/float64(n), "GET/1000")
			b.ReportMetric(float64(counted.lists.Load())*1000/float64(n), "LIST/1000")
			b.ReportMetric(float64(signer.n.Load())*1000/float64(n), "Sign/1000")
		})
	}
}

// buildLog makes a journal of n entries in memory, in batches of 10,000.
func buildLog(b *testing.B, n int) (*MemStore, note.Verifier) {
	b.Helper()
	s, v, _ := newKeys(b)
	store := &MemStore{}
	seq := &Sequencer{Store: store, Signer: s, Verifier: v, Origin: testOrigin}
	for i := 0; i < n; i += 10000 {
		if _, err := seq.Integrate(context.Background(), inserts(i, min(i+10000, n), 10)); err != nil {
			b.Fatal(err)
		}
	}
	return store, v
}

// BenchmarkProve builds and checks one item's inclusion proof in logs of
// 10^3, 10^5 and 10^6 entries, and reports the proof's hashes, its size as
// text and the objects read.
func BenchmarkProve(b *testing.B) {
	for _, n := range []int{1000, 100000, 1000000} {
		b.Run(fmt.Sprintf("entries=%d", n), func(b *testing.B) {
			store, v := buildLog(b, n)
			key, _ := ledger.Encode(insert(n/3, 0).Keys)
			ctx := context.Background()
			store.Calls = nil
			b.ResetTimer()
			var size, hashes int
			for i := 0; i < b.N; i++ {
				h, err := Prove(ctx, store, v, key, nil)
				if err != nil {
					b.Fatal(err)
				}
				p := h.Proofs[0]
				if _, _, err := p.Check(v); err != nil {
					b.Fatal(err)
				}
				text, _ := p.MarshalText()
				size, hashes = len(text), len(p.Hashes)
			}
			b.ReportMetric(float64(hashes), "hashes")
			b.ReportMetric(float64(size), "proof-bytes")
			b.ReportMetric(float64(store.Calls["Get"])/float64(b.N), "reads/proof")
		})
	}
}

// BenchmarkVerify reads and checks a whole journal of 10^5 entries and
// compares it with its table.
func BenchmarkVerify(b *testing.B) {
	const n = 100000
	store, v := buildLog(b, n)
	items := tableItems(b, inserts(0, n, 10))
	ctx := context.Background()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		l, err := (&Verifier{Store: store, Key: v}).Verify(ctx)
		if err != nil || len(l.Problems) != 0 || l.Size != n {
			b.Fatalf("%v %v %d", err, l.Problems, l.Size)
		}
		if problems, _ := CompareTable(l, items); len(problems) != 0 {
			b.Fatal(problems)
		}
	}
	b.ReportMetric(float64(n)*float64(b.N)/b.Elapsed().Seconds(), "items/s")
}
