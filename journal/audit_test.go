package journal

import (
	"context"
	"crypto/rand"
	"slices"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"golang.org/x/mod/sumdb/note"

	"github.com/appendonly/appendonly/ledger"
)

// audit runs an Audit of the journal in store against items.
func audit(t *testing.T, a *Audit, items []TableItem) ([]Problem, *AuditResult) {
	t.Helper()
	if a.Dir == "" {
		a.Dir = t.TempDir()
	}
	var problems []Problem
	res, err := a.Run(context.Background(), func(yield func(TableItem) error) error {
		for _, it := range items {
			if err := yield(it); err != nil {
				return err
			}
		}
		return nil
	}, func(p Problem) { problems = append(problems, p) })
	if err != nil {
		t.Fatal(err)
	}
	if res.Problems != len(problems) {
		t.Errorf("the result counts %d problems, %d were reported", res.Problems, len(problems))
	}
	return problems, res
}

func sortedStrings(ps []Problem) []string {
	var out []string
	for _, p := range ps {
		out = append(out, p.String())
	}
	slices.Sort(out)
	return out
}

// wantAuditAsVerify checks that an Audit in one part and in seven finds
// what Verify and CompareTable find in memory, problem for problem.
func wantAuditAsVerify(t *testing.T, store Store, v note.Verifier, items []TableItem) {
	t.Helper()
	l := mustVerify(t, store, v)
	problems, pending := CompareTable(l, items)
	want := sortedStrings(append(append([]Problem{}, l.Problems...), problems...))
	for _, parts := range []int{1, 7} {
		got, res := audit(t, &Audit{Verifier: Verifier{Store: store, Key: v}, Parts: parts}, items)
		if !slices.Equal(sortedStrings(got), want) {
			t.Errorf("parts=%d: the audit found\n%v\nVerify and CompareTable\n%v", parts, sortedStrings(got), want)
		}
		if res.Pending != pending || res.Items != int64(len(items)) || res.Log.Size != l.Size || res.Log.Latest != l.Latest {
			t.Errorf("parts=%d: pending %d items %d size %d latest %v, want %d %d %d %v", parts, res.Pending, res.Items, res.Log.Size, res.Log.Latest, pending, len(items), l.Size, l.Latest)
		}
	}
}

// TestAuditFindsWhatVerifyFinds runs the adversary's changes through the
// bounded audit and the in-memory verify side by side.
func TestAuditFindsWhatVerifyFinds(t *testing.T) {
	ctx := context.Background()
	t.Run("intact", func(t *testing.T) {
		store, _, v, items := journaled(t)
		wantAuditAsVerify(t, store, v, items)
		got, _ := audit(t, &Audit{Verifier: Verifier{Store: store, Key: v}}, items)
		if len(got) != 0 {
			t.Errorf("an intact journal: %v", got)
		}
	})
	t.Run("the table changed, an item deleted, one not journaled", func(t *testing.T) {
		store, _, v, items := journaled(t)
		changed := insert(7, 10).NewImage
		changed["n"] = num("1000000")
		items[7].Item, _ = ledger.Encode(changed)
		items = append(items[:100], items[101:]...)
		items = append(items, tableItems(t, []Record{insert(9999, 1)})...)
		wantAuditAsVerify(t, store, v, items)
	})
	t.Run("modify, remove, a second insert", func(t *testing.T) {
		store, signer, v, items := journaled(t)
		seq := &Sequencer{Store: store, Signer: signer, Verifier: v, Origin: testOrigin}
		mod := insert(3, 10)
		mod.EventID, mod.Kind, mod.OldImage = "event-mod", Modify, insert(3, 10).NewImage
		mod.NewImage = map[string]types.AttributeValue{"id": mod.Keys["id"], "n": num("-1")}
		rem := insert(4, 10)
		rem.EventID, rem.Kind, rem.OldImage, rem.NewImage = "event-rem", Remove, rem.NewImage, nil
		again := insert(5, 20)
		again.EventID = "event-again"
		if _, err := seq.Integrate(ctx, []Record{mod, rem, again}); err != nil {
			t.Fatal(err)
		}
		wantAuditAsVerify(t, store, v, items)
	})
	t.Run("journaled twice", func(t *testing.T) {
		signer, v, _ := newKeys(t)
		store := &MemStore{}
		batch := inserts(0, 5, 10)
		behind := batch[0].Created.Add(-time.Hour)
		seq := &Sequencer{Store: store, Signer: signer, Verifier: v, Origin: testOrigin, Clock: func() time.Time { return behind }}
		for range 2 {
			if _, err := seq.Integrate(ctx, batch); err != nil {
				t.Fatal(err)
			}
		}
		wantAuditAsVerify(t, store, v, tableItems(t, batch))
	})
	t.Run("a forged claim", func(t *testing.T) {
		signer, v, _ := newKeys(t)
		store := &MemStore{}
		seq := &Sequencer{Store: store, Signer: signer, Verifier: v, Origin: testOrigin}
		if _, err := seq.Integrate(ctx, inserts(0, 10, 10)); err != nil {
			t.Fatal(err)
		}
		skey, _, _ := note.GenerateKey(rand.Reader, testOrigin)
		other, _ := note.NewSigner(skey)
		forgeClaim(t, store, v, insert(10, 10), other, false)
		wantAuditAsVerify(t, store, v, tableItems(t, inserts(0, 11, 10)))
	})
	t.Run("a rewritten bundle and a fork", func(t *testing.T) {
		store, signer, v, items := journaled(t)
		data, _ := store.Get(ctx, EntriesPath(1, TileWidth))
		data[len(data)-1] ^= 1
		store.Overwrite(EntriesPath(1, TileWidth), data)
		forged, _ := SignCheckpoint(Checkpoint{Origin: testOrigin, Size: 600, Root: emptyRoot}, signer)
		_ = store.AddVersion(ctx, CheckpointPath, forged)
		wantAuditAsVerify(t, store, v, items)
	})
	t.Run("entries not yet covered", func(t *testing.T) {
		store, signer, v, items := journaled(t)
		crashing := &Sequencer{Store: &failingStore{Store: store, stopAfter: 4}, Signer: signer, Verifier: v, Origin: testOrigin}
		more := inserts(600, 610, 10)
		if _, err := crashing.Integrate(ctx, more); err == nil {
			t.Fatal("the crashing sequencer did not stop")
		}
		items = append(items, tableItems(t, more)...)
		wantAuditAsVerify(t, store, v, items)
		_, res := audit(t, &Audit{Verifier: Verifier{Store: store, Key: v}}, items)
		if res.Pending != 10 {
			t.Errorf("%d items pending, want the 10 claimed and not yet checkpointed", res.Pending)
		}
	})
}

// TestAuditOfABusyTable: items written just before the table is read and
// journaled just after are not yet covered, never a problem; an item the
// sequencer never journals is not journaled, after the wait; an item
// journaled after the table was read is counted, not deleted.
func TestAuditOfABusyTable(t *testing.T) {
	ctx := context.Background()
	store, signer, v, items := journaled(t)
	seq := &Sequencer{Store: store, Signer: signer, Verifier: v, Origin: testOrigin}
	written := inserts(600, 605, 10)                    // in the table, journaled while the audit waits
	lost := insert(700, 10)                             // in the table, never journaled
	late := inserts(605, 607, 10)                       // journaled, written after the table was read
	if _, err := seq.Integrate(ctx, late); err != nil { // (a second shard, ahead of the first)
		t.Fatal(err)
	}
	items = append(items, tableItems(t, append(written, lost))...)
	waited := false
	a := &Audit{Verifier: Verifier{Store: store, Key: v}, Settle: time.Minute, TableTime: late[0].Created,
		Sleep: func(_ context.Context, d time.Duration) error {
			waited = d == time.Minute
			_, err := seq.Integrate(ctx, written)
			return err
		}}
	problems, res := audit(t, a, items)
	if !waited {
		t.Error("the audit did not wait for the unsettled items")
	}
	if len(problems) != 1 || problems[0].What != "not journaled" || problems[0].Key != `{"id":"order-000700"}` {
		t.Errorf("got %v, want only order-000700 not journaled", problems)
	}
	if res.Pending != 5 || res.After != 2 {
		t.Errorf("pending %d, after %d: want the 5 written before the table was read pending, the 2 after counted", res.Pending, res.After)
	}

	// Without the table's time, the later items are deleted; without the
	// wait, the written ones are not journaled.
	problems, _ = audit(t, &Audit{Verifier: Verifier{Store: store, Key: v}}, items[:len(items)-len(written)-1])
	var deleted []string
	for _, p := range problems {
		if p.What == "deleted" {
			deleted = append(deleted, p.Key)
		}
	}
	if len(deleted) != 7 {
		t.Errorf("with no table time: %v, want the 7 journaled items missing from the table deleted", problems)
	}
}

// TestAuditReportsProgress: every phase reports its end, with the counts.
func TestAuditReportsProgress(t *testing.T) {
	store, _, v, items := journaled(t)
	var phases []Progress
	a := &Audit{Verifier: Verifier{Store: store, Key: v}, Parts: 3, Progress: func(p Progress) {
		if p.Done {
			phases = append(phases, p)
		}
	}}
	audit(t, a, items)
	want := []Progress{{Phase: "table", Items: 600, Done: true}, {Phase: "journal", Items: 600, Entries: 600, EntriesTotal: 600, Done: true},
		{Phase: "compare", Items: 600, Entries: 600, EntriesTotal: 600, Parts: 3, PartsTotal: 3, Done: true}}
	if !slices.Equal(phases, want) {
		t.Errorf("got %+v, want %+v", phases, want)
	}
}
