package journal

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"golang.org/x/mod/sumdb/note"
	"golang.org/x/mod/sumdb/tlog"

	"github.com/appendonly/appendonly/ledger"
)

// The scenarios of an adversary who can lift the table's policies (the
// account's root user, an administrator) or put objects into the journal's
// bucket without the signing key, each through the package's public API.

func contract(event, amount string) Record {
	key := map[string]types.AttributeValue{"id": str("contract-1")}
	return Record{EventID: event, Kind: Insert, SequenceNumber: event, Created: insert(0, 0).Created, Keys: key,
		NewImage: map[string]types.AttributeValue{"id": key["id"], "pay": num(amount)}}
}

// TestSecondInsertOfAKeyIsNamed: DynamoDB streams no second INSERT of a key
// without a REMOVE between; one in the journal means a record of a change
// was dropped (a replaced sequencer, a filtered mapping).
func TestSecondInsertOfAKeyIsNamed(t *testing.T) {
	signer, verifier, _ := newKeys(t)
	store := &MemStore{}
	ctx := context.Background()
	seq := &Sequencer{Store: store, Signer: signer, Verifier: verifier, Origin: testOrigin}
	if _, err := seq.Integrate(ctx, append(inserts(0, 5, 10), contract("c-1", "100"))); err != nil {
		t.Fatal(err)
	}
	if _, err := seq.Integrate(ctx, []Record{contract("c-2", "1000000")}); err != nil {
		t.Fatal(err)
	}
	l := mustVerify(t, store, verifier)
	wantIntact(t, l, 7)
	items := append(tableItems(t, inserts(0, 5, 10)), tableItems(t, []Record{contract("c-2", "1000000")})...)
	problems, _ := CompareTable(l, items)
	wantProblem(t, problems, "inserted again", "contract-1")
	wantProblem(t, problems, "changed", "contract-1")
	if len(problems) != 2 || problems[0].Index != 6 || problems[1].Index != 5 {
		t.Errorf("got %v, want the second INSERT (entry 6) named and the table compared with the first (entry 5)", problems)
	}

	// The key's marker names the first INSERT, and its history the second.
	key, _ := ledger.Encode(contract("", "").Keys)
	h, err := Prove(ctx, store, verifier, key, nil)
	if err != nil {
		t.Fatal(err)
	}
	if len(h.Proofs) != 2 || h.Proofs[0].Index != 5 || h.Proofs[1].Index != 6 {
		t.Errorf("got proofs of %v, want entries 5 and 6", proofIndexes(h))
	}
}

func proofIndexes(h *History) []int64 {
	var out []int64
	for _, p := range h.Proofs {
		out = append(out, p.Index)
	}
	return out
}

// TestKeyMarkerNamesTheFirstInsert puts two INSERTs of a key into one
// claim, many times over with 16 writes at once: the marker names the first.
func TestKeyMarkerNamesTheFirstInsert(t *testing.T) {
	signer, verifier, _ := newKeys(t)
	ctx := context.Background()
	key, _ := ledger.Encode(contract("", "").Keys)
	for run := 0; run < 20; run++ {
		store := &MemStore{}
		seq := &Sequencer{Store: store, Signer: signer, Verifier: verifier, Origin: testOrigin, Parallel: 16}
		batch := append(inserts(0, 30, 10), contract("c-1", "100"))
		batch = append(batch, inserts(30, 60, 10)...)
		batch = append(batch, contract("c-2", "999"))
		if _, err := seq.Integrate(ctx, batch); err != nil {
			t.Fatal(err)
		}
		h, err := Prove(ctx, store, verifier, key, nil)
		if err != nil {
			t.Fatal(err)
		}
		if got := proofIndexes(h); len(got) != 2 || got[0] != 30 || got[1] != 61 {
			t.Fatalf("run %d: proofs of %v, want entries 30 then 61", run, got)
		}
	}
}

// forgeClaim writes, at the log's end, a claim of one entry with the given
// note signer (nil: no note at all), its bundle and sidecar, as a principal
// that can put objects into the bucket could. The claim's root is the
// log's true root with the entry appended (anyone who reads the log can
// compute it), or with wrongRoot that of the entry alone.
func forgeClaim(t *testing.T, store *MemStore, v note.Verifier, r Record, signer note.Signer, wrongRoot bool) {
	t.Helper()
	ctx := context.Background()
	cp, _, _, err := latestCheckpoint(ctx, store, v)
	if err != nil {
		t.Fatal(err)
	}
	size := cp.Size
	e, _, err := newEntry(r)
	if err != nil {
		t.Fatal(err)
	}
	data, _ := e.MarshalBinary()
	at := head{size: size, root: cp.Root, base: size, baseRoot: cp.Root}
	_, root, err := (&Sequencer{Store: store}).hashes(ctx, at, [][]byte{data})
	if err != nil {
		t.Fatal(err)
	}
	if wrongRoot {
		root = tlog.RecordHash(data)
	}
	c := &claim{start: size, end: size + 1, root: root, entries: [][]byte{data}}
	if signer != nil {
		if err := c.sign(testOrigin, signer); err != nil {
			t.Fatal(err)
		}
	}
	for path, data := range map[string][]byte{
		sequencePath(size): c.marshal(),
		EntriesPath(size/TileWidth, int(size%TileWidth)+1): marshalBundle([][]byte{data}),
		batchPath(time.Now(), size):                        (&batchIndex{start: size, events: []uint64{shortHash([]byte(r.EventID))}, keys: []uint64{shortHash(e.Key)}}).marshal(),
	} {
		if err := store.Create(ctx, path, data); err != nil {
			t.Fatal(err)
		}
	}
}

// TestUnsignedClaimIsNeverEvidence: a principal with s3:PutObject and no
// kms:Sign writes a claim of its own. Verify names it and does not count
// its entry; the honest sequencer refuses to build on it and signs nothing.
func TestUnsignedClaimIsNeverEvidence(t *testing.T) {
	skey, _, _ := note.GenerateKey(rand.Reader, testOrigin)
	other, _ := note.NewSigner(skey)
	for name, forger := range map[string]note.Signer{"no note": nil, "another key": other} {
		t.Run(name, func(t *testing.T) {
			signer, verifier, _ := newKeys(t)
			store := &MemStore{}
			ctx := context.Background()
			seq := &Sequencer{Store: store, Signer: signer, Verifier: verifier, Origin: testOrigin}
			if _, err := seq.Integrate(ctx, inserts(0, 10, 10)); err != nil {
				t.Fatal(err)
			}
			forged := insert(10, 10)
			forgeClaim(t, store, verifier, forged, forger, false)

			l := mustVerify(t, store, verifier)
			wantProblem(t, l.Problems, "forged claim", "")
			if l.Size != 10 {
				t.Errorf("the log counts %d entries, want the 10 signed ones", l.Size)
			}
			problems, pending := CompareTable(l, tableItems(t, inserts(0, 11, 10)))
			wantProblem(t, problems, "not journaled", "order-000010")
			if pending != 0 {
				t.Errorf("%d items pending, want the forged one not counted", pending)
			}

			before, _ := store.Versions(ctx, CheckpointPath)
			_, err := seq.Integrate(ctx, inserts(11, 12, 10))
			if !errors.Is(err, ErrTampering) || !strings.Contains(err.Error(), sequencePath(10)) {
				t.Errorf("got %v, want ErrTampering naming %s", err, sequencePath(10))
			}
			if after, _ := store.Versions(ctx, CheckpointPath); len(after) != len(before) {
				t.Errorf("the sequencer signed a checkpoint over a forged claim")
			}
		})
	}
}

// TestSignedClaimOfAnotherLog: whoever can sign (the sequencer's role) signs
// a claim whose entries do not hash to its root: verify names it.
func TestSignedClaimOfAnotherLog(t *testing.T) {
	signer, verifier, _ := newKeys(t)
	store := &MemStore{}
	ctx := context.Background()
	seq := &Sequencer{Store: store, Signer: signer, Verifier: verifier, Origin: testOrigin}
	if _, err := seq.Integrate(ctx, inserts(0, 10, 10)); err != nil {
		t.Fatal(err)
	}
	forgeClaim(t, store, verifier, insert(10, 10), signer, true) // the root of a one-entry tree, not of 11 entries
	l := mustVerify(t, store, verifier)
	wantProblem(t, l.Problems, "forged claim", "")
	if l.Size != 10 {
		t.Errorf("the log counts %d entries, want 10", l.Size)
	}
	if _, err := seq.Integrate(ctx, inserts(11, 12, 10)); !errors.Is(err, ErrTampering) {
		t.Errorf("got %v, want ErrTampering", err)
	}
}

// TestDeleteMarkersNeitherForkNorStall hides the checkpoint and the first
// claim (S3 allows delete markers under Object Lock, compliance mode too):
// the sequencer goes on from the newest locked checkpoint, says what it
// found, writes no second claim 0 and signs no other tree, reading a
// bounded number of objects on a log of 300 claims.
func TestDeleteMarkersNeitherForkNorStall(t *testing.T) {
	signer, verifier, _ := newKeys(t)
	store := &MemStore{}
	ctx := context.Background()
	// The log is built a record a second; the records journaled with
	// hidden objects come an hour later, as records do (the sequencer reads
	// the sidecars of the recent past only).
	now := insert(0, 0).Created
	seq := &Sequencer{Store: store, Signer: signer, Verifier: verifier, Origin: testOrigin, Clock: func() time.Time { return now }}
	for i := 0; i < 300; i++ {
		now = insert(i, 0).Created.Add(time.Second)
		if _, err := seq.Integrate(ctx, inserts(i, i+1, 10)); err != nil {
			t.Fatal(err)
		}
	}
	for _, hide := range [][]string{{CheckpointPath}, {CheckpointPath, sequencePath(0)}, {CheckpointPath, sequencePath(299)}} {
		for _, p := range hide {
			store.DeleteMarker(p)
		}
		store.Calls = nil
		n := int(l0(t, store, verifier))
		r := insert(n, 10)
		r.Created = insert(n, 10).Created.Add(time.Hour)
		now = r.Created.Add(time.Second)
		res, err := seq.Integrate(ctx, []Record{r})
		if err != nil {
			t.Fatalf("hiding %v: %v", hide, err)
		}
		if len(res.Tampering) == 0 || res.Size != int64(n+1) {
			t.Errorf("hiding %v: size %d, tampering %q: want size %d and the delete marker reported", hide, res.Size, res.Tampering, n+1)
		}
		calls := 0
		for _, c := range store.Calls {
			calls += c
		}
		if calls > 40 {
			t.Errorf("hiding %v: %d store calls to journal one record, want at most 40: %v", hide, calls, store.Calls)
		}
		t.Logf("hiding %v: %d store calls to journal one record on a log of 300 claims", hide, calls)
	}
	vs, _ := store.Versions(ctx, sequencePath(0))
	if len(vs) != 2 || vs[1].DeleteMarker != true {
		t.Errorf("claim 0 has versions %+v, want the claim and the marker alone", vs)
	}
	l := mustVerify(t, store, verifier)
	for _, p := range l.Problems {
		if p.What != "checkpoint hidden" {
			t.Errorf("problem %v: want only the hidden checkpoint named", p)
		}
	}
	if l.Size != 303 || l.Latest.Size != 303 {
		t.Errorf("log of %d entries, latest checkpoint %d, want 303", l.Size, l.Latest.Size)
	}
}

// l0 is the log's size per the newest checkpoint version that verifies.
func l0(t *testing.T, store Store, v note.Verifier) int64 {
	t.Helper()
	c, _, _, err := latestCheckpoint(context.Background(), store, v)
	if err != nil {
		t.Fatal(err)
	}
	return c.Size
}

// TestUnverifiedCheckpointIsNotBuiltOn: an unsigned checkpoint version
// claiming a million entries neither stops the sequencer nor becomes the
// base of what it signs.
func TestUnverifiedCheckpointIsNotBuiltOn(t *testing.T) {
	signer, verifier, _ := newKeys(t)
	store := &MemStore{}
	ctx := context.Background()
	seq := &Sequencer{Store: store, Signer: signer, Verifier: verifier, Origin: testOrigin}
	if _, err := seq.Integrate(ctx, inserts(0, 10, 10)); err != nil {
		t.Fatal(err)
	}
	skey, _, _ := note.GenerateKey(rand.Reader, testOrigin)
	other, _ := note.NewSigner(skey)
	big, _ := SignCheckpoint(Checkpoint{Origin: testOrigin, Size: 1000000, Root: tlog.RecordHash([]byte("x"))}, other)
	_ = store.AddVersion(ctx, CheckpointPath, big)
	res, err := seq.Integrate(ctx, inserts(10, 20, 10))
	if err != nil {
		t.Fatal(err)
	}
	if res.Size != 20 || len(res.Tampering) != 1 || !strings.Contains(res.Tampering[0], "does not verify") {
		t.Errorf("got size %d, tampering %q: want 20 and the forged version reported", res.Size, res.Tampering)
	}
	l := mustVerify(t, store, verifier)
	wantProblem(t, l.Problems, "forged checkpoint", "")
	if l.Latest.Size != 20 || len(l.Problems) != 1 {
		t.Errorf("latest %d, problems %v: want 20 and the forgery alone", l.Latest.Size, l.Problems)
	}
}

// TestDamageIsAProblemNotAnError: damage to any object of the log is
// named, never an access error.
func TestDamageIsAProblemNotAnError(t *testing.T) {
	for _, tc := range []struct {
		name, what string
		damage     func(store *MemStore)
	}{
		{"a garbage claim after the checkpoint", "forged claim", func(s *MemStore) { _ = s.Create(context.Background(), sequencePath(600), []byte("garbage")) }},
		{"a garbage entry bundle", "damaged log", func(s *MemStore) { s.Overwrite(EntriesPath(1, TileWidth), []byte("garbage")) }},
		{"a missing entry bundle", "damaged log", func(s *MemStore) { s.objects[EntriesPath(1, TileWidth)] = nil }},
		{"a garbage hash tile", "inconsistent checkpoint", func(s *MemStore) { s.Overwrite(TilePath(0, 1, TileWidth), []byte("garbage")) }},
		{"a hidden entry bundle", "hidden object", func(s *MemStore) { s.DeleteMarker(EntriesPath(0, TileWidth)) }},
		{"a hidden hash tile", "hidden object", func(s *MemStore) { s.DeleteMarker(TilePath(0, 1, TileWidth)) }},
		{"a hidden claim", "hidden object", func(s *MemStore) {
			ctx := context.Background()
			_ = s.Create(ctx, sequencePath(600), []byte("x"))
			s.DeleteMarker(sequencePath(600))
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			store, _, verifier, _ := journaled(t)
			tc.damage(store)
			l, err := (&Verifier{Store: store, Key: verifier}).Verify(context.Background())
			if err != nil {
				t.Fatalf("got the error %v, want a problem", err)
			}
			wantProblem(t, l.Problems, tc.what, "")
		})
	}
}

// TestHistoryProvesEveryEntry: after a MODIFY, the proof of the item
// carries the later entry, provable on its own.
func TestHistoryProvesEveryEntry(t *testing.T) {
	store, signer, verifier, _ := journaled(t)
	ctx := context.Background()
	seq := &Sequencer{Store: store, Signer: signer, Verifier: verifier, Origin: testOrigin}
	mod := insert(3, 10)
	mod.EventID, mod.Kind, mod.OldImage = "event-mod", Modify, insert(3, 10).NewImage
	mod.NewImage = map[string]types.AttributeValue{"id": mod.Keys["id"], "n": num("-1")}
	if _, err := seq.Integrate(ctx, []Record{mod}); err != nil {
		t.Fatal(err)
	}
	key, _ := ledger.Encode(mod.Keys)
	h, err := Prove(ctx, store, verifier, key, nil)
	if err != nil {
		t.Fatal(err)
	}
	if got := proofIndexes(h); fmt.Sprint(got) != "[3 600]" {
		t.Fatalf("proofs of %v, want [3 600]", got)
	}
	for _, p := range h.Proofs {
		text, _ := p.MarshalText()
		q, err := ParseProof(text)
		if err != nil {
			t.Fatal(err)
		}
		if _, _, err := q.Check(verifier); err != nil {
			t.Errorf("entry %d: %v", p.Index, err)
		}
	}
	if _, e, _ := h.Proofs[1].Check(verifier); e.Kind != Modify {
		t.Errorf("the later entry is a %v, want MODIFY", e.Kind)
	}
}

// TestStaleSidecarDropsNothing: a sidecar naming records at a position
// whose claim holds others (its own claim lost the race, or somebody wrote
// it) is not evidence: the records are journaled.
func TestStaleSidecarDropsNothing(t *testing.T) {
	signer, verifier, _ := newKeys(t)
	store := &MemStore{}
	ctx := context.Background()
	seq := &Sequencer{Store: store, Signer: signer, Verifier: verifier, Origin: testOrigin}
	if _, err := seq.Integrate(ctx, inserts(0, 10, 10)); err != nil {
		t.Fatal(err)
	}
	later := inserts(10, 20, 10)
	stale := &batchIndex{start: 0}
	for _, r := range later {
		k, _ := ledger.Encode(r.Keys)
		stale.events, stale.keys = append(stale.events, shortHash([]byte(r.EventID))), append(stale.keys, shortHash(k))
	}
	if err := store.Create(ctx, batchPath(time.Now(), 0), stale.marshal()); err != nil {
		t.Fatal(err)
	}
	res, err := seq.Integrate(ctx, later)
	if err != nil || res.Appended != 10 || res.Duplicates != 0 {
		t.Fatalf("got %+v, %v: want the 10 records journaled, none taken for duplicates", res, err)
	}
	key, _ := ledger.Encode(later[3].Keys)
	h, err := Prove(ctx, store, verifier, key, nil)
	if err != nil || len(h.Proofs) != 1 || h.Proofs[0].Index != 13 {
		t.Errorf("prove: %v, %v: want entry 13 alone, the stale sidecar's entry 3 refused", h, err)
	}
}

// TestRedeliveryPastTheClockMarginIsNamed: a batch delivered again after
// its sidecar left the window (a sequencer clock more than DedupClockSkew
// behind DynamoDB's) is journaled twice, and verify names each record.
func TestRedeliveryPastTheClockMarginIsNamed(t *testing.T) {
	signer, verifier, _ := newKeys(t)
	store := &MemStore{}
	ctx := context.Background()
	batch := inserts(0, 5, 10)
	behind := batch[0].Created.Add(-time.Hour) // the sequencer's clock, an hour behind the records'
	seq := &Sequencer{Store: store, Signer: signer, Verifier: verifier, Origin: testOrigin, Clock: func() time.Time { return behind }}
	for range 2 {
		if _, err := seq.Integrate(ctx, batch); err != nil {
			t.Fatal(err)
		}
	}
	l := mustVerify(t, store, verifier)
	for _, r := range batch {
		found := false
		for _, p := range l.Problems {
			found = found || (p.What == "journaled twice" && strings.Contains(p.Detail, r.EventID))
		}
		if !found {
			t.Errorf("%s journaled twice is not named: %v", r.EventID, l.Problems)
		}
	}
	if problems, _ := CompareTable(l, tableItems(t, batch)); len(problems) != 0 {
		t.Errorf("the table comparison: %v, want each record counted once", problems)
	}
}

// TestAnEmptiedJournalLeavesEveryItemNotJournaled: a journal whose bucket
// was emptied (every version deleted, as the removal of a sandbox's
// journal does, or an exempt principal in governance mode) has nothing to
// verify, and each item of the table is named as not journaled.
func TestAnEmptiedJournalLeavesEveryItemNotJournaled(t *testing.T) {
	_, verifier, _ := newKeys(t)
	l, err := (&Verifier{Store: &MemStore{}, Key: verifier}).Verify(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	problems, _ := CompareTable(l, tableItems(t, inserts(0, 3, 10)))
	if len(problems) != 3 {
		t.Fatalf("got %d problems, want each of the 3 items: %v", len(problems), problems)
	}
	for _, p := range problems {
		if p.What != "not journaled" {
			t.Errorf("got %v, want not journaled", p)
		}
	}
}
