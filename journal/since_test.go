package journal

import (
	"context"
	"crypto/rand"
	"errors"
	"testing"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"golang.org/x/mod/sumdb/note"
	"golang.org/x/mod/sumdb/tlog"

	"github.com/appendonly/appendonly/ledger"
)

// lookup serves a table of items for CompareItems, by key.
func lookup(t *testing.T, items []TableItem) func([]byte) ([]byte, bool, error) {
	m := map[string][]byte{}
	for _, it := range items {
		m[string(it.Key)] = it.Item
	}
	return func(key []byte) ([]byte, bool, error) {
		item, ok := m[string(key)]
		return item, ok, nil
	}
}

// TestSinceReadsWhatWasAppended verifies a journal from a checkpoint kept
// before: the new entries alone are read, checked against the newest tree,
// and their items compared; a change among them is named.
func TestSinceReadsWhatWasAppended(t *testing.T) {
	store, signer, verifier, items := journaled(t)
	ctx := context.Background()
	kept, _ := store.Get(ctx, CheckpointPath)
	seq := &Sequencer{Store: store, Signer: signer, Verifier: verifier, Origin: testOrigin}
	more := inserts(600, 700, 10)
	mod := insert(650, 10)
	mod.EventID, mod.Kind, mod.OldImage = "event-mod", Modify, insert(650, 10).NewImage
	mod.NewImage = map[string]types.AttributeValue{"id": mod.Keys["id"], "n": num("-1")}
	if _, err := seq.Integrate(ctx, append(more, mod)); err != nil {
		t.Fatal(err)
	}
	items = append(items, tableItems(t, more)...)
	modified, _ := ledger.Encode(mod.NewImage)
	items[650].Item = modified

	store.Calls = nil
	inc, err := (&Verifier{Store: store, Key: verifier}).Since(ctx, kept)
	if err != nil {
		t.Fatal(err)
	}
	if len(inc.Problems) != 0 || inc.From.Size != 600 || inc.Latest.Size != 701 || len(inc.Entries) != 101 {
		t.Fatalf("got %d problems %v, from %d to %d, %d entries: want none, 600 to 701, 101 entries", len(inc.Problems), inc.Problems, inc.From.Size, inc.Latest.Size, len(inc.Entries))
	}
	// The checkpoint, the two bundles the new entries are in, the tiles
	// of the consistency proof and the leaves: never the 600 entries before.
	if n := store.Calls["Get"]; n > 12 {
		t.Errorf("%d reads, want at most 12", n)
	}
	problems, err := CompareItems(inc, lookup(t, items))
	if err != nil {
		t.Fatal(err)
	}
	wantProblem(t, problems, "modified", "order-000650")
	wantProblem(t, problems, "changed", "order-000650")
	if len(problems) != 2 {
		t.Errorf("got %v, want the modify named and the item changed", problems)
	}
	// With the table as the journal has it, nothing.
	items[650].Item, _ = ledger.Encode(insert(650, 10).NewImage)
	inc.Entries = inc.Entries[:100] // without the MODIFY
	if problems, _ := CompareItems(inc, lookup(t, items)); len(problems) != 0 {
		t.Errorf("an honest increment: %v", problems)
	}
}

// TestSinceOnAnEmptyJournal: a journal deployed and not yet written is
// nothing to verify, not a problem.
func TestSinceOnAnEmptyJournal(t *testing.T) {
	_, verifier, _ := newKeys(t)
	inc, err := (&Verifier{Store: &MemStore{}, Key: verifier}).Since(context.Background(), nil)
	if err != nil || len(inc.Problems) != 0 || len(inc.Entries) != 0 || inc.Signed != nil {
		t.Errorf("got %+v, %v: want nothing to verify", inc, err)
	}
}

func TestSinceFindsARewrittenPast(t *testing.T) {
	store, signer, verifier, _ := journaled(t)
	ctx := context.Background()
	kept, _ := store.Get(ctx, CheckpointPath)
	// The key signs a bigger tree of another past.
	forged, _ := SignCheckpoint(Checkpoint{Origin: testOrigin, Size: 900, Root: tlog.RecordHash([]byte("other"))}, signer)
	_ = store.AddVersion(ctx, CheckpointPath, forged)
	inc, err := (&Verifier{Store: store, Key: verifier}).Since(ctx, kept)
	if err != nil {
		t.Fatal(err)
	}
	wantProblem(t, inc.Problems, "inconsistent checkpoint", "")

	// A file that is not a checkpoint of this journal is a usage error.
	skey, _, _ := note.GenerateKey(rand.Reader, testOrigin)
	other, _ := note.NewSigner(skey)
	theirs, _ := SignCheckpoint(Checkpoint{Origin: testOrigin, Size: 1, Root: tlog.RecordHash([]byte("x"))}, other)
	for _, bad := range [][]byte{[]byte("not a checkpoint"), theirs} {
		if _, err := (&Verifier{Store: store, Key: verifier}).Since(ctx, bad); !errors.Is(err, ErrNotACheckpoint) {
			t.Errorf("got %v, want ErrNotACheckpoint", err)
		}
	}
}
