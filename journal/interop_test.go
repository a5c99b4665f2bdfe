package journal_test

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/base64"
	"encoding/binary"
	"fmt"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/transparency-dev/merkle/proof"
	"github.com/transparency-dev/merkle/rfc6962"
	"github.com/transparency-dev/merkle/testonly"
	"golang.org/x/mod/sumdb/note"

	"github.com/appendonly/appendonly/journal"
	"github.com/appendonly/appendonly/ledger"
)

// TestInteroperability checks a journal the project wrote with code nobody
// here wrote: golang.org/x/mod/sumdb/note for the checkpoints' signatures,
// github.com/transparency-dev/merkle for the tree, inclusion and
// consistency proofs. The test reads the objects by their C2SP tlog-tiles
// paths and parses them from the specifications, not with the journal
// package.
func TestInteroperability(t *testing.T) {
	const origin = "arn:aws:dynamodb:eu-west-1:111122223333:table/Interop"
	skey, vkey, err := note.GenerateKey(rand.Reader, origin)
	if err != nil {
		t.Fatal(err)
	}
	signer, _ := note.NewSigner(skey)
	verifier, err := note.NewVerifier(vkey)
	if err != nil {
		t.Fatal(err)
	}
	store := &journal.MemStore{}
	seq := &journal.Sequencer{Store: store, Signer: signer, Verifier: verifier, Origin: origin}
	ctx := context.Background()
	sizes := []int{300, 1, 512, 100}
	total := 0
	for _, n := range sizes {
		var records []journal.Record
		for i := total; i < total+n; i++ {
			id := &types.AttributeValueMemberS{Value: fmt.Sprintf("k%05d", i)}
			records = append(records, journal.Record{EventID: fmt.Sprint(i), Kind: journal.Insert, SequenceNumber: fmt.Sprint(i),
				Created: time.Unix(1764547200, 0), Keys: map[string]types.AttributeValue{"k": id},
				NewImage: map[string]types.AttributeValue{"k": id, "v": &types.AttributeValueMemberN{Value: fmt.Sprint(i)}}})
		}
		if _, err := seq.Integrate(ctx, records); err != nil {
			t.Fatal(err)
		}
		total += n
	}

	// Every checkpoint version: a C2SP signed note over a tlog-checkpoint.
	vs, _ := store.Versions(ctx, "checkpoint")
	type cp struct {
		size uint64
		root []byte
	}
	var cps []cp
	for _, v := range vs {
		data, _ := store.GetVersion(ctx, "checkpoint", v.ID)
		n, err := note.Open(data, note.VerifierList(verifier))
		if err != nil {
			t.Fatalf("checkpoint version %s: %v", v.ID, err)
		}
		lines := strings.Split(n.Text, "\n")
		if lines[0] != origin {
			t.Errorf("origin %q, want %q", lines[0], origin)
		}
		size, _ := strconv.ParseUint(lines[1], 10, 64)
		root, _ := base64.StdEncoding.DecodeString(lines[2])
		cps = append(cps, cp{size, root})
	}
	if len(cps) != len(sizes) || cps[len(cps)-1].size != uint64(total) {
		t.Fatalf("got checkpoints %v, want %d ending at %d", cps, len(sizes), total)
	}

	// The entry bundles, by their tlog-tiles paths, into an independent tree.
	tree := testonly.New(rfc6962.DefaultHasher)
	var entries [][]byte
	for b := 0; b*256 < total; b++ {
		path := fmt.Sprintf("tile/entries/%03d", b)
		if w := total - b*256; w < 256 {
			path += fmt.Sprintf(".p/%d", w)
		}
		data, err := store.Get(ctx, path)
		if err != nil {
			t.Fatal(err)
		}
		for len(data) > 0 {
			n := int(binary.BigEndian.Uint16(data))
			entries = append(entries, data[2:2+n])
			data = data[2+n:]
		}
	}
	tree.AppendData(entries...)
	for _, c := range cps {
		if got := tree.HashAt(c.size); !bytes.Equal(got, c.root) {
			t.Errorf("checkpoint of size %d: root %x, the entries give %x", c.size, c.root, got)
		}
	}
	for i := 1; i < len(cps); i++ {
		p, err := tree.ConsistencyProof(cps[i-1].size, cps[i].size)
		if err != nil {
			t.Fatal(err)
		}
		if err := proof.VerifyConsistency(rfc6962.DefaultHasher, cps[i-1].size, cps[i].size, p, cps[i-1].root, cps[i].root); err != nil {
			t.Errorf("checkpoints %d and %d: %v", cps[i-1].size, cps[i].size, err)
		}
	}

	// Level-0 hash tiles hold the leaf hashes, level-1 tiles the roots of
	// 256-leaf subtrees.
	tile0, _ := store.Get(ctx, "tile/0/001")
	if want := rfc6962.DefaultHasher.HashLeaf(entries[256]); !bytes.Equal(tile0[:32], want) {
		t.Errorf("tile/0/001 starts with %x, want leaf hash %x", tile0[:32], want)
	}
	tile1, _ := store.Get(ctx, "tile/1/000.p/3")
	sub := testonly.New(rfc6962.DefaultHasher)
	sub.AppendData(entries[256:512]...)
	if !bytes.Equal(tile1[32:64], sub.Hash()) {
		t.Errorf("tile/1/000.p/3 second hash %x, want %x", tile1[32:64], sub.Hash())
	}

	// The project's proofs are C2SP tlog-proof@v1, read here from the
	// specification: the header, "extra" with the entry, "index", one base64
	// hash a line, a blank line, the checkpoint; the inclusion proof checks
	// with merkle's verifier and the checkpoint with note.
	for _, i := range []int{0, 299, 300, 812, total - 1} {
		key, _ := ledger.Encode(map[string]types.AttributeValue{"k": &types.AttributeValueMemberS{Value: fmt.Sprintf("k%05d", i)}})
		h, err := journal.Prove(ctx, store, verifier, key, nil)
		if err != nil {
			t.Fatal(err)
		}
		text, _ := h.Proofs[0].MarshalText()
		head, checkpoint, ok := strings.Cut(string(text), "\n\n")
		lines := strings.Split(head, "\n")
		if !ok || lines[0] != "c2sp.org/tlog-proof@v1" || !strings.HasPrefix(lines[1], "extra ") || lines[2] != fmt.Sprintf("index %d", i) {
			t.Fatalf("entry %d: not a tlog-proof@v1 with extra and index lines:\n%s", i, text)
		}
		entry, err := base64.StdEncoding.DecodeString(strings.TrimPrefix(lines[1], "extra "))
		if err != nil {
			t.Fatal(err)
		}
		var hashes [][]byte
		for _, line := range lines[3:] {
			hh, err := base64.StdEncoding.DecodeString(line)
			if err != nil || len(hh) != 32 {
				t.Fatalf("entry %d: hash line %q", i, line)
			}
			hashes = append(hashes, hh)
		}
		n, err := note.Open([]byte(checkpoint), note.VerifierList(verifier))
		if err != nil {
			t.Fatalf("entry %d: the proof's checkpoint: %v", i, err)
		}
		cl := strings.Split(n.Text, "\n")
		size, _ := strconv.ParseUint(cl[1], 10, 64)
		root, _ := base64.StdEncoding.DecodeString(cl[2])
		if err := proof.VerifyInclusion(rfc6962.DefaultHasher, uint64(i), size, rfc6962.DefaultHasher.HashLeaf(entry), hashes, root); err != nil {
			t.Errorf("entry %d: %v", i, err)
		}
		want, _ := tree.InclusionProof(uint64(i), size)
		if len(want) != len(hashes) {
			t.Errorf("entry %d: %d hashes, the reference gives %d", i, len(hashes), len(want))
		}
	}
}
