package journal

import (
	"context"
	"crypto/rand"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"golang.org/x/mod/sumdb/note"
	"golang.org/x/mod/sumdb/tlog"

	"github.com/appendonly/appendonly/ledger"
)

// journaled is a journal of 600 items and the table they are in.
func journaled(t *testing.T) (*MemStore, note.Signer, note.Verifier, []TableItem) {
	t.Helper()
	signer, verifier, _ := newKeys(t)
	store := &MemStore{}
	seq := &Sequencer{Store: store, Signer: signer, Verifier: verifier, Origin: testOrigin}
	records := inserts(0, 600, 10)
	for i := 0; i < len(records); i += 100 {
		if _, err := seq.Integrate(context.Background(), records[i:i+100]); err != nil {
			t.Fatal(err)
		}
	}
	return store, signer, verifier, tableItems(t, records)
}

func wantProblem(t *testing.T, problems []Problem, what, key string) {
	t.Helper()
	for _, p := range problems {
		if p.What == what && strings.Contains(p.Key, key) {
			return
		}
	}
	t.Errorf("got %v, want a %q problem naming %s", problems, what, key)
}

func TestTamperWithTheTable(t *testing.T) {
	store, _, verifier, items := journaled(t)
	l := mustVerify(t, store, verifier)
	wantIntact(t, l, 600)

	changed := insert(7, 10).NewImage
	changed["n"] = num("1000000")
	enc, _ := ledger.Encode(changed)
	items[7].Item = enc                         // changed behind the journal's back
	items = append(items[:100], items[101:]...) // deleted: order-000100
	extra := insert(9999, 1)                    // inserted while the stream was off
	items = append(items, tableItems(t, []Record{extra})...)
	problems, _ := CompareTable(l, items)
	wantProblem(t, problems, "changed", "order-000007")
	wantProblem(t, problems, "deleted", "order-000100")
	wantProblem(t, problems, "not journaled", "order-009999")
	if len(problems) != 3 {
		t.Errorf("got %d problems, want 3: %v", len(problems), problems)
	}
}

func TestModifyAndRemoveAreJournaledAndReported(t *testing.T) {
	store, signer, verifier, items := journaled(t)
	seq := &Sequencer{Store: store, Signer: signer, Verifier: verifier, Origin: testOrigin}
	mod := insert(3, 10)
	mod.EventID, mod.Kind, mod.OldImage = "event-mod", Modify, insert(3, 10).NewImage
	mod.NewImage = map[string]types.AttributeValue{"id": mod.Keys["id"], "n": num("-1")}
	rem := insert(4, 10)
	rem.EventID, rem.Kind, rem.OldImage, rem.NewImage = "event-rem", Remove, rem.NewImage, nil
	if _, err := seq.Integrate(context.Background(), []Record{mod, rem}); err != nil {
		t.Fatal(err)
	}
	l := mustVerify(t, store, verifier)
	wantIntact(t, l, 602)
	enc, _ := ledger.Encode(mod.NewImage)
	items[3].Item = enc
	items = append(items[:4], items[5:]...)
	// Each later entry is named, and the table is compared with each
	// item's first signed image: the modified item has changed, the
	// removed one is deleted.
	problems, _ := CompareTable(l, items)
	wantProblem(t, problems, "modified", "order-000003")
	wantProblem(t, problems, "removed", "order-000004")
	wantProblem(t, problems, "changed", "order-000003")
	wantProblem(t, problems, "deleted", "order-000004")
	if len(problems) != 4 {
		t.Errorf("got %v, want 4 problems", problems)
	}
	if e := l.Entries[600]; e.OldImage.Inline == nil || e.Kind != Modify {
		t.Errorf("the modify entry lost its old image: %+v", e)
	}
}

func TestForgedCheckpoints(t *testing.T) {
	ctx := context.Background()
	t.Run("another key", func(t *testing.T) {
		store, _, verifier, _ := journaled(t)
		skey, _, _ := note.GenerateKey(rand.Reader, testOrigin)
		other, _ := note.NewSigner(skey)
		forged, _ := SignCheckpoint(Checkpoint{Origin: testOrigin, Size: 600, Root: tlog.RecordHash([]byte("x"))}, other)
		_ = store.AddVersion(ctx, CheckpointPath, forged)
		l := mustVerify(t, store, verifier)
		wantProblem(t, l.Problems, "forged checkpoint", "")
	})
	t.Run("the real key, a rewritten past", func(t *testing.T) {
		// Whoever can sign (a replaced sequencer, a deployer who changed the
		// key policy) signs a checkpoint of a log whose first entries differ.
		store, signer, verifier, _ := journaled(t)
		forged, _ := SignCheckpoint(Checkpoint{Origin: testOrigin, Size: 300, Root: tlog.RecordHash([]byte("rewritten"))}, signer)
		_ = store.AddVersion(ctx, CheckpointPath, forged)
		l := mustVerify(t, store, verifier)
		wantProblem(t, l.Problems, "inconsistent checkpoint", "")
	})
	t.Run("the real key, a larger tree", func(t *testing.T) {
		store, signer, verifier, _ := journaled(t)
		forged, _ := SignCheckpoint(Checkpoint{Origin: testOrigin, Size: 900, Root: tlog.RecordHash([]byte("more"))}, signer)
		_ = store.AddVersion(ctx, CheckpointPath, forged)
		l := mustVerify(t, store, verifier)
		wantProblem(t, l.Problems, "inconsistent checkpoint", "")
		if l.Latest.Size != 600 || len(l.Problems) != 2 {
			// Named twice: by its tiles, and as larger than the log.
			t.Errorf("latest %d, problems %v: want the honest 600 as the reference and the forgery named", l.Latest.Size, l.Problems)
		}
	})
	t.Run("a fork at the same size", func(t *testing.T) {
		store, signer, verifier, _ := journaled(t)
		forged, _ := SignCheckpoint(Checkpoint{Origin: testOrigin, Size: 600, Root: tlog.RecordHash([]byte("fork"))}, signer)
		_ = store.AddVersion(ctx, CheckpointPath, forged)
		l := mustVerify(t, store, verifier)
		wantProblem(t, l.Problems, "fork", "")
	})
	t.Run("a delete marker", func(t *testing.T) {
		store, _, verifier, _ := journaled(t)
		store.DeleteMarker(CheckpointPath)
		l := mustVerify(t, store, verifier)
		wantProblem(t, l.Problems, "checkpoint hidden", "")
		if l.Latest.Size != 600 {
			t.Errorf("latest %d, want 600 from the locked versions", l.Latest.Size)
		}
	})
	t.Run("a rewritten entry bundle", func(t *testing.T) {
		// Not possible under Object Lock; the recomputed tree catches it
		// all the same.
		store, _, verifier, _ := journaled(t)
		data, _ := store.Get(ctx, EntriesPath(1, TileWidth))
		data[len(data)-1] ^= 1
		store.Overwrite(EntriesPath(1, TileWidth), data)
		l := mustVerify(t, store, verifier)
		wantProblem(t, l.Problems, "inconsistent checkpoint", "")
	})
}

// TestSequencerRefusesADamagedJournal leaves a claim incomplete, puts other
// bytes where its entry bundle goes, and checks that the next sequencer
// stops, naming the object, instead of building on it.
func TestSequencerRefusesADamagedJournal(t *testing.T) {
	signer, verifier, _ := newKeys(t)
	store := &MemStore{}
	ctx := context.Background()
	crashing := &Sequencer{Store: &failingStore{Store: store, stopAfter: 2}, Signer: signer, Verifier: verifier, Origin: testOrigin} // the sidecar, then the claim
	if _, err := crashing.Integrate(ctx, inserts(0, 10, 5)); err == nil {
		t.Fatal("the crashing sequencer did not stop")
	}
	if _, err := store.Get(ctx, sequencePath(0)); err != nil {
		t.Fatalf("the claim was not written: %v", err)
	}
	store.Overwrite(EntriesPath(0, 10), []byte("not the claim's entries"))
	seq := &Sequencer{Store: store, Signer: signer, Verifier: verifier, Origin: testOrigin}
	_, err := seq.Integrate(ctx, inserts(10, 20, 5))
	if err == nil || !strings.Contains(err.Error(), EntriesPath(0, 10)+" exists with other content") {
		t.Errorf("got %v, want the damaged bundle named", err)
	}
}
