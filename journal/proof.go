package journal

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"fmt"
	"strconv"
	"strings"

	"golang.org/x/mod/sumdb/note"
	"golang.org/x/mod/sumdb/tlog"
)

// Proof is an inclusion proof of one entry in a signed checkpoint: all
// someone needs, with the log's public key, to check that the entry is in
// the log the checkpoint commits to.
type Proof struct {
	Index int64
	Entry []byte
	// Hashes are the RFC 6962 inclusion proof, ⌈log2 size⌉ hashes at most.
	Hashes []tlog.Hash
	// Image is the canonical encoding of the entry's new image when the
	// entry holds only its hash (an item over an entry's size).
	Image []byte
	// Checkpoint is the signed checkpoint the proof is against.
	Checkpoint []byte
}

const proofHeader = "appendonly-proof/v1"

// MarshalText writes the proof as text: a header, "index", "entry",
// "image" and one "hash" line each, a blank line, then the signed
// checkpoint.
func (p *Proof) MarshalText() ([]byte, error) {
	var b bytes.Buffer
	b.WriteString(proofHeader + "\n")
	fmt.Fprintf(&b, "index %d\n", p.Index)
	fmt.Fprintf(&b, "entry %s\n", base64.StdEncoding.EncodeToString(p.Entry))
	if p.Image != nil {
		fmt.Fprintf(&b, "image %s\n", base64.StdEncoding.EncodeToString(p.Image))
	}
	for _, h := range p.Hashes {
		fmt.Fprintf(&b, "hash %s\n", base64.StdEncoding.EncodeToString(h[:]))
	}
	b.WriteString("\n")
	b.Write(p.Checkpoint)
	return b.Bytes(), nil
}

// ParseProof reads a proof written by MarshalText.
func ParseProof(data []byte) (*Proof, error) {
	head, cp, ok := bytes.Cut(data, []byte("\n\n"))
	lines := strings.Split(string(head), "\n")
	if !ok || len(lines) < 3 || lines[0] != proofHeader {
		return nil, errors.New("journal: not an appendonly proof (" + proofHeader + ")")
	}
	p := &Proof{Checkpoint: cp}
	for _, line := range lines[1:] {
		k, v, _ := strings.Cut(line, " ")
		var err error
		switch k {
		case "index":
			p.Index, err = strconv.ParseInt(v, 10, 64)
		case "entry":
			p.Entry, err = base64.StdEncoding.DecodeString(v)
		case "image":
			p.Image, err = base64.StdEncoding.DecodeString(v)
		case "hash":
			var h []byte
			h, err = base64.StdEncoding.DecodeString(v)
			if err == nil && len(h) != tlog.HashSize {
				err = errors.New("not a SHA-256 hash")
			}
			var hh tlog.Hash
			copy(hh[:], h)
			p.Hashes = append(p.Hashes, hh)
		default:
			err = errors.New("unknown line")
		}
		if err != nil {
			return nil, fmt.Errorf("journal: proof line %q: %v", line, err)
		}
	}
	if p.Entry == nil {
		return nil, errors.New("journal: proof has no entry")
	}
	return p, nil
}

// ErrNotInJournal is what Prove returns for an item no entry inserted.
var ErrNotInJournal = errors.New("journal: no entry inserted an item with this key")

// Prove builds the inclusion proof of the entry that inserted the item
// whose key's canonical encoding is key, against the signed checkpoint cp
// (nil: the latest). It reads O(log n) objects: the key's marker, one
// entry bundle and the tiles the proof's hashes are in.
func Prove(ctx context.Context, s Store, v note.Verifier, key []byte, cp []byte) (*Proof, error) {
	if cp == nil {
		var err error
		if cp, err = s.Get(ctx, CheckpointPath); err != nil {
			return nil, err
		}
	}
	c, err := OpenCheckpoint(cp, v)
	if err != nil {
		return nil, err
	}
	data, err := s.Get(ctx, keyPath(key))
	if errors.Is(err, ErrNotExist) {
		return nil, ErrNotInJournal
	}
	if err != nil {
		return nil, err
	}
	index, err := strconv.ParseInt(strings.TrimSpace(string(data)), 10, 64)
	if err != nil {
		return nil, fmt.Errorf("journal: key marker %s: %v", keyPath(key), err)
	}
	if index >= c.Size {
		return nil, fmt.Errorf("journal: the item is entry %d, after the checkpoint's %d entries: prove it again after the next checkpoint", index, c.Size)
	}
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
	if !bytes.Equal(e.Key, key) || e.Kind != Insert {
		return nil, fmt.Errorf("journal: key marker %s names entry %d, which is not that key's insert", keyPath(key), index)
	}
	if e.NewImage.Inline == nil {
		if p.Image, err = e.NewImage.Bytes(func(path string) ([]byte, error) { return s.Get(ctx, path) }); err != nil {
			return nil, err
		}
	}
	rp, err := tlog.ProveRecord(c.Size, index, tlog.TileHashReader(tlog.Tree{N: c.Size, Hash: c.Root}, &tileReader{ctx: ctx, store: s}))
	if err != nil {
		return nil, fmt.Errorf("journal: building the proof: %w", err)
	}
	p.Hashes = rp
	return p, nil
}

// Check checks the proof with only the log's public key: the checkpoint's
// signature, the entry's inclusion in it, and the image's hash. It returns
// the checkpoint and the entry.
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
	if e.NewImage.Present && e.NewImage.Inline == nil {
		if p.Image == nil || sha256.Sum256(p.Image) != e.NewImage.Sum {
			return c, nil, errors.New("journal: the proof's image does not hash to the entry's")
		}
		e.NewImage.Inline = p.Image
	}
	return c, e, nil
}
