package journal

import (
	"context"
	"flag"
	"fmt"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"golang.org/x/mod/sumdb/note"
)

// The service model: the latencies of the calls the sequencer makes, as the
// real services answer them from Lambda in the same Region, and their
// us-east-1 list prices (the README's cost section cites them). This is the
// one place for both; BenchmarkSequencerModel wraps the in-memory store and
// the signer with them.
const (
	modelGet  = 15 * time.Millisecond // S3 GetObject, GetObject of a version
	modelPut  = 25 * time.Millisecond // S3 PutObject
	modelList = 15 * time.Millisecond // S3 ListObjectVersions and ListObjectsV2, taken as a GET's
	modelSign = 10 * time.Millisecond // KMS Sign, Ed25519

	priceS3Put     = 0.005 / 1000 // S3 Standard PUT, COPY, POST, LIST, per request
	priceS3Get     = 0.0004 / 1000
	priceKMSSign   = 0.15 / 10000 // KMS asymmetric requests
	priceLambdaGBs = 0.0000133334 // Lambda on arm64, per GB-second
	priceLambdaReq = 0.20 / 1e6
	modelLambdaGB  = 1.0 // the sequencer's 1,024 MB
)

// modelStore is a Store with the model's latencies (none when instant:
// the in-memory run beside the model's), counting its requests.
type modelStore struct {
	Store
	instant           bool
	gets, puts, lists atomic.Int64
}

func (m *modelStore) sleep(d time.Duration) {
	if !m.instant {
		time.Sleep(d)
	}
}

func (m *modelStore) get() { m.gets.Add(1); m.sleep(modelGet) }
func (m *modelStore) put() { m.puts.Add(1); m.sleep(modelPut) }

func (m *modelStore) Get(ctx context.Context, path string) ([]byte, error) {
	m.get()
	return m.Store.Get(ctx, path)
}

func (m *modelStore) GetVersion(ctx context.Context, path, id string) ([]byte, error) {
	m.get()
	return m.Store.GetVersion(ctx, path, id)
}

func (m *modelStore) Create(ctx context.Context, path string, data []byte) error {
	m.put()
	return m.Store.Create(ctx, path, data)
}

func (m *modelStore) AddVersion(ctx context.Context, path string, data []byte) error {
	m.put()
	return m.Store.AddVersion(ctx, path, data)
}

func (m *modelStore) Versions(ctx context.Context, path string) ([]Version, error) {
	m.lists.Add(1)
	m.sleep(modelList)
	return m.Store.Versions(ctx, path)
}

func (m *modelStore) List(ctx context.Context, prefix, after string) ([]string, error) {
	m.lists.Add(1)
	m.sleep(modelList)
	return m.Store.List(ctx, prefix, after)
}

func (m *modelStore) Recent(ctx context.Context, path string, n int) ([]Version, error) {
	m.lists.Add(1)
	m.sleep(modelList)
	return m.Store.Recent(ctx, path, n)
}

// modelSigner is a signer with KMS's latency (none when instant),
// counting its signatures.
type modelSigner struct {
	note.Signer
	instant bool
	n       atomic.Int64
}

func (s *modelSigner) Sign(msg []byte) ([]byte, error) {
	s.n.Add(1)
	if !s.instant {
		time.Sleep(modelSign)
	}
	return s.Signer.Sign(msg)
}

// BenchmarkSequencerModel runs the sequencer on 1 KB items against the
// in-memory store with the service model's latencies: one sequencer per
// shard, all shards at once, each invocation one batch, as Lambda runs
// them (ParallelizationFactor 1). It reports the items journaled per
// second and what a million appends cost in S3 and KMS requests and Lambda
// time (usd/Mappend), with the requests per 1,000 appends.
//
//	go test -run '^$' -bench SequencerModel -benchtime 3x ./journal
func BenchmarkSequencerModel(b *testing.B) {
	for _, shards := range []int{1, 4} {
		for _, batch := range []int{100, 1000} {
			b.Run(fmt.Sprintf("shards=%d/batch=%d", shards, batch), func(b *testing.B) { runSequencers(b, shards, batch, false) })
		}
	}
}

// BenchmarkSequencerInMemory is BenchmarkSequencerModel without the
// latencies: the sequencer's own work, beside the model's figures (the
// cost metric counts the same requests at the same prices, Lambda time
// excepted).
//
//	go test -run '^$' -bench 'SequencerModel|SequencerInMemory|Integrate' -benchtime 3x ./journal
func BenchmarkSequencerInMemory(b *testing.B) {
	for _, shards := range []int{1, 4} {
		b.Run(fmt.Sprintf("shards=%d/batch=1000", shards), func(b *testing.B) { runSequencers(b, shards, 1000, true) })
	}
}

// runSequencers runs one sequencer a shard, all at once, b.N batches each.
func runSequencers(b *testing.B, shards, batch int, instant bool) {
	s, v, _ := newKeys(b)
	store := &modelStore{Store: &MemStore{}, instant: instant}
	signer := &modelSigner{Signer: s, instant: instant}
	var mu sync.Mutex
	var lambdaSeconds float64
	ctx := context.Background()
	b.ResetTimer()
	var wg sync.WaitGroup
	for sh := 0; sh < shards; sh++ {
		wg.Add(1)
		go func(sh int) {
			defer wg.Done()
			seq := &Sequencer{Store: store, Signer: signer, Verifier: v, Origin: testOrigin, MaxAttempts: 1000}
			for i := 0; i < b.N; i++ {
				from := (sh*b.N + i) * batch
				records := inserts(from, from+batch, 1000)
				start := time.Now()
				for j := range records {
					records[j].Created = start // created just before, as on a live table
				}
				if _, err := seq.Integrate(ctx, records); err != nil {
					b.Error(err)
					return
				}
				mu.Lock()
				lambdaSeconds += time.Since(start).Seconds()
				mu.Unlock()
			}
		}(sh)
	}
	wg.Wait()
	b.StopTimer()
	n := float64(shards * b.N * batch)
	puts, gets, lists, signs := float64(store.puts.Load()), float64(store.gets.Load()), float64(store.lists.Load()), float64(signer.n.Load())
	cost := (puts+lists)*priceS3Put + gets*priceS3Get + signs*priceKMSSign +
		lambdaSeconds*modelLambdaGB*priceLambdaGBs + float64(shards*b.N)*priceLambdaReq
	b.ReportMetric(n/b.Elapsed().Seconds(), "items/s")
	b.ReportMetric(cost/n*1e6, "usd/Mappend")
	b.ReportMetric(puts*1000/n, "PUT/1000")
	b.ReportMetric(gets*1000/n, "GET/1000")
	b.ReportMetric(lists*1000/n, "LIST/1000")
	b.ReportMetric(signs*1000/n, "Sign/1000")
}

var lagDuration = flag.Duration("lag-duration", time.Minute, "BenchmarkSequencerLag: how long the load runs")

// BenchmarkSequencerLag feeds four shards 250 records a second each (1,000
// in all), 1 KB items, for -lag-duration, batched as Lambda's event source
// mapping batches a stream (a batch of 1,000, or what came within the
// batching window of 30 s, CheckpointInterval's half; one invocation per
// shard at a time), into sequencers with the service model's latencies. It
// reports the longest and the 99th percentile wait from a record's creation
// to the end of the call that signed a checkpoint covering it.
//
//	go test -run '^$' -bench SequencerLag -benchtime 1x ./journal -args -lag-duration 10m
func BenchmarkSequencerLag(b *testing.B) {
	const shards, perShard, batchSize, window = 4, 250, 1000, 30 * time.Second
	s, v, _ := newKeys(b)
	store := &modelStore{Store: &MemStore{}}
	signer := &modelSigner{Signer: s}
	ctx := context.Background()
	var mu sync.Mutex
	var waits []time.Duration
	b.ResetTimer()
	for range b.N {
		end := time.Now().Add(*lagDuration)
		var wg sync.WaitGroup
		for sh := 0; sh < shards; sh++ {
			wg.Add(1)
			go func(sh int) {
				defer wg.Done()
				seq := &Sequencer{Store: store, Signer: signer, Verifier: v, Origin: testOrigin, MaxAttempts: 1000}
				next := sh * 100_000_000 // this shard's records
				var pending []Record
				start := time.Now()
				for {
					// The records created by now, at perShard a second.
					due := int(time.Since(start).Seconds() * perShard)
					for produced := next - sh*100_000_000; produced < due && time.Now().Before(end); produced++ {
						r := insert(next, 1000)
						r.EventID = fmt.Sprintf("event-%d", next)
						r.Created = start.Add(time.Duration(float64(produced) / perShard * float64(time.Second)))
						pending = append(pending, r)
						next++
					}
					full := len(pending) >= batchSize
					late := len(pending) > 0 && time.Since(pending[0].Created) >= window
					if !full && !late {
						if time.Now().After(end) && len(pending) == 0 {
							return
						}
						time.Sleep(10 * time.Millisecond)
						continue
					}
					batch := pending[:min(batchSize, len(pending))]
					if _, err := seq.Integrate(ctx, batch); err != nil {
						b.Error(err)
						return
					}
					done := time.Now()
					mu.Lock()
					for _, r := range batch {
						waits = append(waits, done.Sub(r.Created))
					}
					mu.Unlock()
					pending = pending[len(batch):]
				}
			}(sh)
		}
		wg.Wait()
	}
	b.StopTimer()
	slices.Sort(waits)
	if len(waits) == 0 {
		b.Fatal("no record was journaled")
	}
	b.ReportMetric(waits[len(waits)-1].Seconds(), "max-wait-s")
	b.ReportMetric(waits[len(waits)*99/100].Seconds(), "p99-wait-s")
	b.ReportMetric(float64(len(waits))/float64(b.N), "records")
}
