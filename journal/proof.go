package journal

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"golang.org/x/mod/sumdb/note"
	"golang.org/x/mod/sumdb/tlog"
)

// ProofHeader is the first line of a proof: the journal's proofs are C2SP
// tlog-proof@v1 (c2sp.org/tlog-proof), with the entry's bytes as the extra
// data. Store one in a file ending in .tlog-proof.
const ProofHeader = "c2sp.org/tlog-proof@v1"

// Proof is an inclusion proof of one entry in a signed checkpoint: all
// someone needs, with the log's public key, to check that the entry is in
// the log the checkpoint commits to.
type Proof struct {
	Index int64
	// Entry is the entry's encoding, the proof's extra data: its leaf hash
	// is what the inclusion proof proves.
	Entry []byte
	// Hashes are the RFC 6962 inclusion proof, from the leaf's sibling up,
	// ⌈log2 size⌉ hashes at most.
	Hashes []tlog.Hash
	// Checkpoint is the signed checkpoint the proof is against.
	Checkpoint []byte
	// Image is the canonical encoding of the entry's new image when the
	// entry holds only its hash (an item over an entry's size). It is not
	// part of the tlog-proof: keep it beside it.
	Image []byte
}

// MarshalText writes the proof as a tlog-proof@v1.
func (p *Proof) MarshalText() ([]byte, error) {
	var b bytes.Buffer
	b.WriteString(ProofHeader + "\n")
	fmt.Fprintf(&b, "extra %s\n", base64.StdEncoding.EncodeToString(p.Entry))
	fmt.Fprintf(&b, "index %d\n", p.Index)
	for _, h := range p.Hashes {
		b.WriteString(base64.StdEncoding.EncodeToString(h[:]) + "\n")
	}
	b.WriteString("\n")
	b.Write(p.Checkpoint)
	return b.Bytes(), nil
}

// ParseProof reads a tlog-proof@v1, strictly, whose extra data is a
// journal entry.
func ParseProof(data []byte) (*Proof, error) {
	head, cp, ok := bytes.Cut(data, []byte("\n\n"))
	lines := strings.Split(string(head), "\n")
	if !ok || lines[0] != ProofHeader {
		return nil, errors.New("journal: not a proof: the first line is not " + ProofHeader)
	}
	p := &Proof{Checkpoint: cp}
	lines = lines[1:]
	extra, ok := strings.CutPrefix(lines[0], "extra ")
	if !ok {
		return nil, errors.New("journal: the proof has no extra line: a journal proof carries its entry there")
	}
	var err error
	if p.Entry, err = base64.StdEncoding.DecodeString(extra); err != nil {
		return nil, fmt.Errorf("journal: the proof's extra line: %v", err)
	}
	if len(lines) < 2 {
		return nil, errors.New("journal: the proof has no index line")
	}
	index, ok := strings.CutPrefix(lines[1], "index ")
	if p.Index, err = strconv.ParseInt(index, 10, 64); !ok || err != nil || p.Index < 0 || strconv.FormatInt(p.Index, 10) != index {
		return nil, fmt.Errorf("journal: the proof's line %q: want index and a decimal with no leading zeroes", lines[1])
	}
	for _, line := range lines[2:] {
		h, err := base64.StdEncoding.DecodeString(line)
		if err != nil || len(h) != tlog.HashSize {
			return nil, fmt.Errorf("journal: the proof's line %q is not a base64 SHA-256 hash", line)
		}
		p.Hashes = append(p.Hashes, tlog.Hash(h))
	}
	return p, nil
}

// ErrNotInJournal is what Prove returns for a key no entry names.
var ErrNotInJournal = errors.New("journal: no journal entry holds an item with this key")

// History is a key's journal entries against one checkpoint: the proof of
// each entry the checkpoint covers, by index; the first is the key's first
// INSERT when the journal holds one. Pending are the indexes of the key's
// entries after the checkpoint.
type History struct {
	Proofs  []*Proof
	Pending []int64
}

// Prove builds the inclusion proof of every entry of the item whose key's
// canonical encoding is key (its first INSERT, then each later entry),
// against the signed checkpoint cp (nil: the newest version that verifies).
// It reads every batch sidecar (one per claim, listed 1,000 to a request),
// then, per entry, one entry bundle and the tiles the proof's hashes are
// in: O(log n) objects each.
func Prove(ctx context.Context, s Store, v note.Verifier, key []byte, cp []byte) (*History, error) {
	var c Checkpoint
	var err error
	if cp == nil {
		if c, cp, _, err = latestCheckpoint(ctx, s, v); err != nil {
			return nil, err
		}
		if cp == nil {
			return nil, errors.New("journal: no checkpoint verifies with the key: nothing is provable yet")
		}
	} else if c, err = OpenCheckpoint(cp, v); err != nil {
		return nil, fmt.Errorf("journal: the given checkpoint: %w", err)
	}
	// The key's entries: the positions the sidecars name it at, each
	// confirmed by the entry itself (a stale sidecar names another's).
	kh := shortHash(key)
	candidates := map[int64]int64{} // index -> the claim's start
	if err := eachBatch(ctx, s, time.Time{}, 16, func(b *batchIndex) {
		for pos, h := range b.keys {
			if h == kh {
				candidates[b.start+int64(pos)] = b.start
			}
		}
	}); err != nil {
		return nil, err
	}
	indexes := make([]int64, 0, len(candidates))
	for index := range candidates {
		indexes = append(indexes, index)
	}
	slices.Sort(indexes)
	h := &History{}
	tiles := tlog.TileHashReader(tlog.Tree{N: c.Size, Hash: c.Root}, &tileReader{ctx: ctx, store: s})
	for _, index := range indexes {
		if index >= c.Size {
			start := candidates[index]
			data, _, err := getThrough(ctx, s, sequencePath(start))
			if err != nil {
				continue
			}
			cl, err := openClaim(data, start, v)
			if err != nil || index-start >= int64(len(cl.entries)) {
				continue
			}
			if e, err := ParseEntry(cl.entries[index-start]); err == nil && bytes.Equal(e.Key, key) {
				h.Pending = append(h.Pending, index)
			}
			continue
		}
		p, err := proveEntry(ctx, s, tiles, c, cp, index)
		if err != nil {
			return nil, err
		}
		if e, err := ParseEntry(p.Entry); err == nil && bytes.Equal(e.Key, key) {
			h.Proofs = append(h.Proofs, p)
		}
	}
	if len(h.Proofs) == 0 && len(h.Pending) == 0 {
		return nil, ErrNotInJournal
	}
	if len(h.Proofs) == 0 {
		return nil, fmt.Errorf("journal: the item's entries (%v) are after the checkpoint's %d entries: prove it again after the next checkpoint", h.Pending, c.Size)
	}
	return h, nil
}

func proveEntry(ctx context.Context, s Store, tiles tlog.HashReader, c Checkpoint, cp []byte, index int64) (*Proof, error) {
	b := index / TileWidth
	w := int(min(c.Size-b*TileWidth, TileWidth))
	bundle, err := s.Get(ctx, EntriesPath(b, w))
	if err != nil {
		return nil, err
	}
	entries, err := parseBundle(bundle)
	if err != nil || len(entries) != w {
		return nil, fmt.Errorf("journal: entry bundle %s is damaged", EntriesPath(b, w))
	}
	p := &Proof{Index: index, Entry: entries[index%TileWidth], Checkpoint: cp}
	e, err := ParseEntry(p.Entry)
	if err != nil {
		return nil, err
	}
	if e.NewImage.Present && e.NewImage.Inline == nil {
		if p.Image, err = e.NewImage.Bytes(func(path string) ([]byte, error) { return s.Get(ctx, path) }); err != nil {
			return nil, err
		}
	}
	if p.Hashes, err = tlog.ProveRecord(c.Size, index, tiles); err != nil {
		return nil, fmt.Errorf("journal: building the proof of entry %d: %w", index, err)
	}
	return p, nil
}

// Check checks the proof with only the log's public key: the checkpoint's
// signature, the entry's inclusion in it, and, when the entry's image is a
// blob and p.Image is set, the image's hash. It returns the checkpoint and
// the entry (its new image inline when p.Image supplied it).
func (p *Proof) Check(v note.Verifier) (Checkpoint, *Entry, error) {
	c, err := OpenCheckpoint(p.Checkpoint, v)
	if err != nil {
		return c, nil, err
	}
	if p.Index < 0 || p.Index >= c.Size {
		return c, nil, fmt.Errorf("journal: proof of entry %d against a checkpoint of %d entries", p.Index, c.Size)
	}
	if err := tlog.CheckRecord(p.Hashes, c.Size, c.Root, p.Index, tlog.RecordHash(p.Entry)); err != nil {
		return c, nil, fmt.Errorf("journal: entry %d is not in the checkpoint's log: %w", p.Index, err)
	}
	e, err := ParseEntry(p.Entry)
	if err != nil {
		return c, nil, err
	}
	if e.NewImage.Present && e.NewImage.Inline == nil && p.Image != nil {
		if sha256.Sum256(p.Image) != e.NewImage.Sum {
			return c, nil, errors.New("journal: the image beside the proof does not hash to the entry's")
		}
		e.NewImage.Inline = p.Image
	}
	return c, e, nil
}
