package journal

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"golang.org/x/mod/sumdb/note"

	"github.com/appendonly/appendonly/ledger"
)

const testOrigin = "arn:aws:dynamodb:us-east-1:111122223333:table/Orders"

func newKeys(t testing.TB) (note.Signer, note.Verifier, string) {
	t.Helper()
	skey, vkey, err := note.GenerateKey(rand.Reader, testOrigin)
	if err != nil {
		t.Fatal(err)
	}
	s, err := note.NewSigner(skey)
	if err != nil {
		t.Fatal(err)
	}
	v, err := note.NewVerifier(vkey)
	if err != nil {
		t.Fatal(err)
	}
	return s, v, vkey
}

func str(s string) types.AttributeValue { return &types.AttributeValueMemberS{Value: s} }
func num(s string) types.AttributeValue { return &types.AttributeValueMemberN{Value: s} }

// insert is the stream record of an insert of item i, of about size bytes.
func insert(i, size int) Record {
	key := map[string]types.AttributeValue{"id": str(fmt.Sprintf("order-%06d", i))}
	item := map[string]types.AttributeValue{"id": key["id"], "n": num(fmt.Sprint(i)), "body": str(strings.Repeat("x", size))}
	return Record{EventID: fmt.Sprintf("event-%d", i), Kind: Insert, SequenceNumber: fmt.Sprintf("%021d", i),
		Created: time.Unix(1764547200+int64(i), 0), Keys: key, NewImage: item}
}

func inserts(from, to, size int) []Record {
	var out []Record
	for i := from; i < to; i++ {
		out = append(out, insert(i, size))
	}
	return out
}

func tableItems(t testing.TB, records []Record) []TableItem {
	t.Helper()
	var out []TableItem
	for _, r := range records {
		k, err := ledger.Encode(r.Keys)
		if err != nil {
			t.Fatal(err)
		}
		it, err := ledger.Encode(r.NewImage)
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, TableItem{Key: k, Item: it})
	}
	return out
}

func mustVerify(t *testing.T, store Store, v note.Verifier) *Log {
	t.Helper()
	l, err := (&Verifier{Store: store, Key: v}).Verify(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	return l
}

func wantIntact(t *testing.T, l *Log, size int64) {
	t.Helper()
	for _, p := range l.Problems {
		t.Error(p)
	}
	if l.Size != size || l.Latest.Size != size {
		t.Errorf("log size %d, latest checkpoint %d, want %d", l.Size, l.Latest.Size, size)
	}
}

func TestIntegrateAndVerify(t *testing.T) {
	signer, verifier, _ := newKeys(t)
	store := &MemStore{}
	seq := &Sequencer{Store: store, Signer: signer, Verifier: verifier, Origin: testOrigin}
	ctx := context.Background()
	var all []Record
	for _, n := range []int{1, 2, 255, 1, 300, 700} { // across partial and full tiles
		batch := inserts(len(all), len(all)+n, 10)
		res, err := seq.Integrate(ctx, batch)
		if err != nil {
			t.Fatal(err)
		}
		all = append(all, batch...)
		if res.Appended != n || res.Size != int64(len(all)) || res.Checkpoint == nil {
			t.Fatalf("got %+v, want %d appended, size %d, a checkpoint", res, n, len(all))
		}
	}
	l := mustVerify(t, store, verifier)
	wantIntact(t, l, int64(len(all)))
	if problems, pending := CompareTable(l, tableItems(t, all)); len(problems) != 0 || pending != 0 {
		t.Errorf("got %v, %d pending, want none", problems, pending)
	}
	if len(l.Checkpoints) != 6 {
		t.Errorf("got %d checkpoint versions, want 6", len(l.Checkpoints))
	}
}

func TestEmptyJournal(t *testing.T) {
	_, verifier, _ := newKeys(t)
	l := mustVerify(t, &MemStore{}, verifier)
	if len(l.Problems) != 0 || l.Size != 0 || len(l.Checkpoints) != 0 {
		t.Errorf("got %+v, want an empty log", l)
	}
}

// TestAtLeastOnce delivers every batch twice, out of order across shards,
// from several goroutines at once, and with failures injected: every
// record is journaled exactly once.
func TestAtLeastOnce(t *testing.T) {
	signer, verifier, _ := newKeys(t)
	store := &MemStore{}
	flaky := &failingStore{Store: store, failEvery: 23}
	ctx := context.Background()
	const shards, perShard, batch = 4, 300, 37
	var all []Record
	var wg sync.WaitGroup
	for s := 0; s < shards; s++ {
		records := inserts(s*perShard, (s+1)*perShard, 20)
		all = append(all, records...)
		wg.Add(1)
		go func(records []Record) {
			defer wg.Done()
			seq := &Sequencer{Store: flaky, Signer: signer, Verifier: verifier, Origin: testOrigin, MaxAttempts: 1000}
			for i := 0; i < len(records); i += batch {
				b := records[i:min(i+batch, len(records))]
				// Lambda retries a failed batch until it succeeds, and may
				// deliver a batch again after it succeeded.
				for _, deliveries := range []int{1, 2} {
					for d := 0; d < deliveries; d++ {
						for {
							if _, err := seq.Integrate(ctx, b); err == nil {
								break
							} else if !errors.Is(err, errInjected) {
								t.Error(err)
								return
							}
						}
					}
				}
			}
		}(records)
	}
	wg.Wait()
	if flaky.failed.Load() == 0 {
		t.Fatal("no failure was injected")
	}
	l := mustVerify(t, store, verifier)
	wantIntact(t, l, int64(len(all)))
	seen := map[string]int{}
	for _, e := range l.Entries {
		seen[e.EventID]++
	}
	for _, r := range all {
		if seen[r.EventID] != 1 {
			t.Errorf("record %s journaled %d times, want 1", r.EventID, seen[r.EventID])
		}
	}
	if problems, _ := CompareTable(l, tableItems(t, all)); len(problems) != 0 {
		t.Errorf("got %v, want none", problems)
	}
}

// TestCrashBetweenClaimAndCheckpoint stops a sequencer after each of its
// writes in turn; the next sequencer completes what it left.
func TestCrashBetweenClaimAndCheckpoint(t *testing.T) {
	signer, verifier, _ := newKeys(t)
	ctx := context.Background()
	for stopAfter := 1; stopAfter < 40; stopAfter++ {
		store := &MemStore{}
		seq := &Sequencer{Store: store, Signer: signer, Verifier: verifier, Origin: testOrigin}
		if _, err := seq.Integrate(ctx, inserts(0, 250, 5)); err != nil {
			t.Fatal(err)
		}
		crashing := &Sequencer{Store: &failingStore{Store: store, stopAfter: stopAfter}, Signer: signer, Verifier: verifier, Origin: testOrigin}
		if _, err := crashing.Integrate(ctx, inserts(250, 270, 5)); err == nil {
			break // no write left to crash before
		}
		// Another shard's batch comes first, then the retry.
		if _, err := seq.Integrate(ctx, inserts(270, 280, 5)); err != nil {
			t.Fatal(err)
		}
		if _, err := seq.Integrate(ctx, inserts(250, 270, 5)); err != nil {
			t.Fatal(err)
		}
		l := mustVerify(t, store, verifier)
		wantIntact(t, l, 280)
		if problems, _ := CompareTable(l, tableItems(t, inserts(0, 280, 5))); len(problems) != 0 {
			t.Errorf("stopped after %d writes: %v", stopAfter, problems)
		}
	}
}

var errInjected = errors.New("injected failure")

// failingStore fails every failEvery-th write of an object that does not
// exist yet (so that retries make progress), or every write after
// stopAfter.
type failingStore struct {
	Store
	failEvery, stopAfter int
	n                    atomic.Int64
	failed               atomic.Int64
}

func (f *failingStore) fail() error {
	n := int(f.n.Add(1))
	if (f.failEvery > 0 && n%f.failEvery == 0) || (f.stopAfter > 0 && n > f.stopAfter) {
		f.failed.Add(1)
		return errInjected
	}
	return nil
}

func (f *failingStore) Create(ctx context.Context, path string, data []byte) error {
	if _, err := f.Store.Get(ctx, path); err == nil {
		return f.Store.Create(ctx, path, data)
	}
	if err := f.fail(); err != nil {
		return err
	}
	return f.Store.Create(ctx, path, data)
}

func (f *failingStore) AddVersion(ctx context.Context, path string, data []byte) error {
	if err := f.fail(); err != nil {
		return err
	}
	return f.Store.AddVersion(ctx, path, data)
}

func TestLargeItemsBecomeBlobs(t *testing.T) {
	signer, verifier, _ := newKeys(t)
	store := &MemStore{}
	ctx := context.Background()
	big := insert(0, 400*1024-100) // about DynamoDB's 400 KB item limit
	mod := insert(1, 40000)
	mod.Kind, mod.OldImage = Modify, insert(1, 40000).NewImage
	mod.NewImage["extra"] = str("y")
	seq := &Sequencer{Store: store, Signer: signer, Verifier: verifier, Origin: testOrigin}
	if _, err := seq.Integrate(ctx, []Record{big, insert(2, 10), mod}); err != nil {
		t.Fatal(err)
	}
	l := mustVerify(t, store, verifier)
	if l.Size != 3 {
		t.Fatalf("size %d, want 3", l.Size)
	}
	if l.Entries[0].NewImage.Inline != nil {
		t.Error("a 400 KB image is inline, want a blob")
	}
	get := func(p string) ([]byte, error) { return store.Get(ctx, p) }
	data, err := l.Entries[0].NewImage.Bytes(get)
	if err != nil {
		t.Fatal(err)
	}
	item, err := ledger.Decode(data)
	if err != nil || len(item["body"].(*types.AttributeValueMemberS).Value) != 400*1024-100 {
		t.Errorf("blob does not decode to the item: %v", err)
	}
	if l.Entries[2].NewImage.Inline != nil || l.Entries[2].OldImage.Inline == nil {
		t.Error("the modify entry's new image should be a blob and its old image inline")
	}
	h, err := Prove(ctx, store, verifier, l.Entries[0].Key, nil)
	if err != nil {
		t.Fatal(err)
	}
	if _, e, err := h.Proofs[0].Check(verifier); err != nil || e.NewImage.Inline == nil {
		t.Errorf("proof of the blob item: %v", err)
	}
}

func TestProveAndCheck(t *testing.T) {
	signer, verifier, _ := newKeys(t)
	store := &MemStore{}
	ctx := context.Background()
	seq := &Sequencer{Store: store, Signer: signer, Verifier: verifier, Origin: testOrigin}
	if _, err := seq.Integrate(ctx, inserts(0, 1000, 5)); err != nil {
		t.Fatal(err)
	}
	old, _ := store.Get(ctx, CheckpointPath)
	if _, err := seq.Integrate(ctx, inserts(1000, 1500, 5)); err != nil {
		t.Fatal(err)
	}
	for _, i := range []int{0, 1, 255, 256, 999, 1499} {
		key, _ := ledger.Encode(insert(i, 0).Keys)
		store.Calls = nil
		h, err := Prove(ctx, store, verifier, key, nil)
		if err != nil {
			t.Fatalf("item %d: %v", i, err)
		}
		if len(h.Proofs) != 1 || len(h.Pending) != 0 {
			t.Fatalf("item %d: %d proofs, %d pending, want the insert's alone", i, len(h.Proofs), len(h.Pending))
		}
		p := h.Proofs[0]
		// ⌈log2 1500⌉ = 11 hashes at most; reads: checkpoint, the two
		// batch sidecars, bundle, tiles.
		if len(p.Hashes) > 11 || store.Calls["Get"] > 4+2*2 {
			t.Errorf("item %d: %d hashes, %d reads, want at most 11 and 8", i, len(p.Hashes), store.Calls["Get"])
		}
		text, _ := p.MarshalText()
		q, err := ParseProof(text)
		if err != nil {
			t.Fatal(err)
		}
		c, e, err := q.Check(verifier)
		if err != nil || c.Size != 1500 || e.EventID != fmt.Sprintf("event-%d", i) {
			t.Errorf("item %d: checked %v %v %v", i, c, e, err)
		}
		// A changed entry, a proof against the wrong index, or another
		// key fail.
		q.Entry[len(q.Entry)-1] ^= 1
		if _, _, err := q.Check(verifier); err == nil {
			t.Errorf("item %d: a changed entry passed", i)
		}
	}
	key, _ := ledger.Encode(insert(5, 0).Keys)
	h, err := Prove(ctx, store, verifier, key, old)
	if err != nil {
		t.Fatal(err)
	}
	p := h.Proofs[0]
	if c, _, err := p.Check(verifier); err != nil || c.Size != 1000 {
		t.Errorf("proof against the older checkpoint: %v %v", c, err)
	}
	missing, _ := ledger.Encode(map[string]types.AttributeValue{"id": str("nosuch")})
	if _, err := Prove(ctx, store, verifier, missing, nil); !errors.Is(err, ErrNotInJournal) {
		t.Errorf("got %v, want ErrNotInJournal", err)
	}
	_, other, _ := newKeys(t)
	if _, _, err := p.Check(other); err == nil {
		t.Error("a proof checked with another key passed")
	}
}
