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
	store := &journal.MemStore{}
	seq := &journal.Sequencer{Store: store, Signer: signer, Origin: origin}
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
	verifier, err := note.NewVerifier(vkey)
	if err != nil {
		t.Fatal(err)
	}
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

	// The project's inclusion proofs verify with merkle's verifier.
	v, _ := note.NewVerifier(vkey)
	for _, i := range []int{0, 299, 300, 812, total - 1} {
		key, _ := ledger.Encode(map[string]types.AttributeValue{"k": &types.AttributeValueMemberS{Value: fmt.Sprintf("k%05d", i)}})
		p, err := journal.Prove(ctx, store, v, key, nil)
		if err != nil {
			t.Fatal(err)
		}
		hashes := make([][]byte, len(p.Hashes))
		for j := range p.Hashes {
			hashes[j] = p.Hashes[j][:]
		}
		last := cps[len(cps)-1]
		if err := proof.VerifyInclusion(rfc6962.DefaultHasher, uint64(p.Index), last.size, rfc6962.DefaultHasher.HashLeaf(p.Entry), hashes, last.root); err != nil {
			t.Errorf("entry %d: %v", i, err)
		}
		want, _ := tree.InclusionProof(uint64(i), last.size)
		if len(want) != len(hashes) {
			t.Errorf("entry %d: %d hashes, the reference gives %d", i, len(hashes), len(want))
		}
	}
}
