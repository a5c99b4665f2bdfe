package journal

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/base64"
	"encoding/binary"
	"errors"
	"fmt"
	"math/rand/v2"
	"strconv"
	"strings"
	"sync"
	"time"

	"golang.org/x/mod/sumdb/note"
	"golang.org/x/mod/sumdb/tlog"
)

// Sequencer puts stream records into the journal, each exactly once,
// however often and however concurrently they are delivered.
//
// How: the commit point of an append is a sequence claim, an object
// appendonly/sequence/<start> created only if it does not exist, holding the
// entries that take the log from size start to end and the root hash at end.
// Exactly one claim can exist for each start, so concurrent sequencers never
// fork the log: the loser of a race reads the winner's claim and tries again
// at its end. Everything else (entry bundles, hash tiles, the per-record
// markers, the checkpoint) is derived from the claims and written
// idempotently, so a sequencer that finds a claim whose derived objects are
// missing (its writer crashed) completes it before it claims anything. Before
// claiming, it drops every record whose marker exists: a stream record is
// journaled once, whether Lambda delivers it again, retries its batch or
// runs it concurrently with another shard's.
type Sequencer struct {
	Store  Store
	Signer note.Signer
	// Origin is the log's origin line, the table's ARN; the signer's name.
	Origin string
	// MaxAttempts bounds the claims tried when other sequencers win the
	// race. Default: 20.
	MaxAttempts int
	// Parallel bounds the object writes and reads under way at once.
	// Default: 16.
	Parallel int
}

// Result says what one Integrate call did.
type Result struct {
	// Appended is how many entries this call appended; Duplicates how many
	// records were in the journal already; Mutations how many of the
	// appended entries are Modify or Remove.
	Appended, Duplicates, Mutations int
	// Size is the log's size after the call, and Checkpoint the signed
	// checkpoint written for it (nil if the latest already covered it).
	Size       int64
	Checkpoint []byte
}

type claim struct {
	start, end int64
	root       tlog.Hash
	entries    [][]byte
}

const claimHeader = "appendonly-journal-sequence/v1\n"

func (c *claim) marshal() []byte {
	var b bytes.Buffer
	b.WriteString(claimHeader)
	fmt.Fprintf(&b, "start %d\nend %d\nroot %s\n\n", c.start, c.end, base64.StdEncoding.EncodeToString(c.root[:]))
	for _, e := range c.entries {
		_ = binary.Write(&b, binary.BigEndian, uint16(len(e)))
		b.Write(e)
	}
	return b.Bytes()
}

func parseClaim(data []byte) (*claim, error) {
	head, body, ok := bytes.Cut(data, []byte("\n\n"))
	if !ok || !bytes.HasPrefix(head, []byte(claimHeader)) {
		return nil, errors.New("journal: not a sequence claim")
	}
	c := &claim{}
	var root string
	if _, err := fmt.Sscanf(string(head[len(claimHeader):]), "start %d\nend %d\nroot %s", &c.start, &c.end, &root); err != nil {
		return nil, fmt.Errorf("journal: sequence claim: %w", err)
	}
	h, err := base64.StdEncoding.DecodeString(root)
	if err != nil || len(h) != len(c.root) || c.end <= c.start || c.start < 0 {
		return nil, errors.New("journal: sequence claim: bad header")
	}
	copy(c.root[:], h)
	entries, err := parseBundle(body)
	if err != nil {
		return nil, fmt.Errorf("journal: sequence claim: %w", err)
	}
	if int64(len(entries)) != c.end-c.start {
		return nil, fmt.Errorf("journal: sequence claim %d-%d holds %d entries", c.start, c.end, len(entries))
	}
	c.entries = entries
	return c, nil
}

// marshalBundle writes entries in the tlog-tiles entry bundle format.
func marshalBundle(entries [][]byte) []byte {
	var b bytes.Buffer
	for _, e := range entries {
		_ = binary.Write(&b, binary.BigEndian, uint16(len(e)))
		b.Write(e)
	}
	return b.Bytes()
}

// parseBundle reads an entry bundle.
func parseBundle(data []byte) ([][]byte, error) {
	var out [][]byte
	for len(data) > 0 {
		if len(data) < 2 {
			return nil, errors.New("truncated entry length")
		}
		n := int(binary.BigEndian.Uint16(data))
		if len(data) < 2+n {
			return nil, errors.New("truncated entry")
		}
		out = append(out, data[2:2+n])
		data = data[2+n:]
	}
	return out, nil
}

// head is the log as the sequencer finds it: every claim complete.
type head struct {
	size int64
	root tlog.Hash
	// checkpointed is the size of the latest checkpoint version.
	checkpointed int64
}

// Integrate appends the records that are not in the journal yet, in the
// order given, and writes a checkpoint covering them. An error means
// nothing is known of the records; calling again with the same records is
// always safe.
func (s *Sequencer) Integrate(ctx context.Context, records []Record) (Result, error) {
	var res Result
	entries := make([][]byte, 0, len(records))
	ids := make([]string, 0, len(records))
	seen := map[string]bool{}
	var blobs [][]byte
	for _, r := range records {
		if seen[r.EventID] {
			res.Duplicates++
			continue
		}
		seen[r.EventID] = true
		e, bl, err := newEntry(r)
		if err != nil {
			return res, err
		}
		data, err := e.MarshalBinary()
		if err != nil {
			return res, err
		}
		entries = append(entries, data)
		ids = append(ids, r.EventID)
		blobs = append(blobs, bl...)
	}
	// Blobs are named by their hash: writing one twice is harmless.
	if err := s.each(len(blobs), func(i int) error {
		return s.createSame(ctx, blobPath(sha256.Sum256(blobs[i])), blobs[i])
	}); err != nil {
		return res, err
	}
	attempts := s.MaxAttempts
	if attempts <= 0 {
		attempts = 20
	}
	wait := 10 * time.Millisecond
	for attempt := 1; ; attempt++ {
		h, err := s.head(ctx)
		if err != nil {
			return res, err
		}
		fresh, freshIDs, err := s.unjournaled(ctx, entries, ids)
		if err != nil {
			return res, err
		}
		res.Duplicates += len(entries) - len(fresh)
		entries, ids = fresh, freshIDs
		if len(entries) == 0 {
			res.Size = h.size
			if h.checkpointed < h.size {
				res.Checkpoint, err = s.checkpoint(ctx, h.size, h.root)
			}
			return res, err
		}
		c, hashes, err := s.newClaim(ctx, h, entries)
		if err != nil {
			return res, err
		}
		err = s.Store.Create(ctx, sequencePath(c.start), c.marshal())
		if errors.Is(err, ErrExist) {
			if attempt == attempts {
				return res, fmt.Errorf("journal: gave up after %d attempts: other sequencers took every position tried", attempts)
			}
			select {
			case <-ctx.Done():
				return res, ctx.Err()
			case <-time.After(wait/2 + rand.N(wait)):
			}
			wait = min(2*wait, time.Second)
			continue
		}
		if err != nil {
			return res, err
		}
		if err := s.complete(ctx, c, hashes, h.root); err != nil {
			return res, err
		}
		res.Appended += len(entries)
		for _, e := range entries {
			if Kind(e[2]) != Insert { // the kind byte of a version 1 entry
				res.Mutations++
			}
		}
		res.Size = c.end
		res.Checkpoint, err = s.checkpoint(ctx, c.end, c.root)
		return res, err
	}
}

// head reads the latest checkpoint and follows the claims after it,
// completing each.
func (s *Sequencer) head(ctx context.Context) (head, error) {
	var h head
	data, err := s.Store.Get(ctx, CheckpointPath)
	switch {
	case errors.Is(err, ErrNotExist):
	case err != nil:
		return h, err
	default:
		text, _, ok := strings.Cut(string(data), "\n\n")
		if !ok {
			return h, errors.New("journal: the latest checkpoint is not a signed note")
		}
		c, err := ParseCheckpoint(text + "\n")
		if err != nil {
			return h, err
		}
		if c.Origin != s.Origin {
			return h, fmt.Errorf("journal: the bucket's checkpoint is of %q, not %q: one journal bucket per table", c.Origin, s.Origin)
		}
		h.size, h.root, h.checkpointed = c.Size, c.Root, c.Size
	}
	if h.size == 0 {
		h.root = emptyRoot
	}
	for {
		data, err := s.Store.Get(ctx, sequencePath(h.size))
		if errors.Is(err, ErrNotExist) {
			return h, nil
		}
		if err != nil {
			return h, err
		}
		c, err := parseClaim(data)
		if err != nil {
			return h, err
		}
		if c.start != h.size {
			return h, fmt.Errorf("journal: claim %s starts at %d", sequencePath(h.size), c.start)
		}
		hashes, root, err := s.hashes(ctx, h, c.entries)
		if err != nil {
			return h, err
		}
		if root != c.root {
			return h, fmt.Errorf("journal: claim %s: its entries hash to %s, it says %s", sequencePath(h.size), root, c.root)
		}
		if err := s.complete(ctx, c, hashes, h.root); err != nil {
			return h, err
		}
		h.size, h.root = c.end, c.root
	}
}

// emptyRoot is the RFC 6962 hash of the empty tree: SHA-256 of nothing.
var emptyRoot = tlog.Hash(sha256.Sum256(nil))

// unjournaled returns the entries whose records have no marker yet.
func (s *Sequencer) unjournaled(ctx context.Context, entries [][]byte, ids []string) ([][]byte, []string, error) {
	have := make([]bool, len(entries))
	err := s.each(len(entries), func(i int) error {
		_, err := s.Store.Get(ctx, eventPath(ids[i]))
		switch {
		case err == nil:
			have[i] = true
		case !errors.Is(err, ErrNotExist):
			return err
		}
		return nil
	})
	if err != nil {
		return nil, nil, err
	}
	var outE [][]byte
	var outID []string
	for i := range entries {
		if !have[i] {
			outE = append(outE, entries[i])
			outID = append(outID, ids[i])
		}
	}
	return outE, outID, nil
}

// newHashes are the stored hashes the entries of a claim add, by index.
type newHashes struct {
	from   int64 // the first stored hash index they hold
	hashes []tlog.Hash
}

// hashes computes the stored hashes that entries add to the log h, and the
// new root, reading what it needs of the old tree from its tiles.
func (s *Sequencer) hashes(ctx context.Context, h head, entries [][]byte) (newHashes, tlog.Hash, error) {
	old := tlog.TileHashReader(tlog.Tree{N: h.size, Hash: h.root}, &tileReader{ctx: ctx, store: s.Store})
	nh := newHashes{from: tlog.StoredHashCount(h.size)}
	r := hashReader(old, &nh)
	for i, e := range entries {
		hs, err := tlog.StoredHashes(h.size+int64(i), e, r)
		if err != nil {
			return nh, tlog.Hash{}, fmt.Errorf("journal: hashing entry %d: %w", h.size+int64(i), err)
		}
		nh.hashes = append(nh.hashes, hs...)
	}
	root, err := tlog.TreeHash(h.size+int64(len(entries)), r)
	return nh, root, err
}

// hashReader reads stored hashes below cur.from from old, and the rest
// from *cur, which grows as entries are hashed.
func hashReader(old tlog.HashReader, cur *newHashes) tlog.HashReader {
	return tlog.HashReaderFunc(func(indexes []int64) ([]tlog.Hash, error) {
		out := make([]tlog.Hash, len(indexes))
		var oldIdx []int64
		var oldPos []int
		for i, x := range indexes {
			if x < cur.from {
				oldIdx = append(oldIdx, x)
				oldPos = append(oldPos, i)
				continue
			}
			if x-cur.from >= int64(len(cur.hashes)) {
				return nil, fmt.Errorf("journal: stored hash %d not computed yet", x)
			}
			out[i] = cur.hashes[x-cur.from]
		}
		if len(oldIdx) > 0 {
			hs, err := old.ReadHashes(oldIdx)
			if err != nil {
				return nil, err
			}
			for j, p := range oldPos {
				out[p] = hs[j]
			}
		}
		return out, nil
	})
}

func (s *Sequencer) newClaim(ctx context.Context, h head, entries [][]byte) (*claim, newHashes, error) {
	nh, root, err := s.hashes(ctx, h, entries)
	if err != nil {
		return nil, nh, err
	}
	return &claim{start: h.size, end: h.size + int64(len(entries)), root: root, entries: entries}, nh, nil
}

// complete writes what claim c implies, on the tree of size c.start whose
// root is oldRoot: its entry bundles, hash tiles and
// record markers. Each is created if missing; one that exists must hold
// the same bytes.
func (s *Sequencer) complete(ctx context.Context, c *claim, nh newHashes, oldRoot tlog.Hash) error {
	// Entry bundles.
	type object struct {
		path string
		data []byte
	}
	var objs []object
	for b := c.start / TileWidth; b*TileWidth < c.end; b++ {
		lo, hi := b*TileWidth, min((b+1)*TileWidth, c.end)
		var bundle [][]byte
		if lo < c.start {
			prev, err := s.Store.Get(ctx, EntriesPath(b, int(c.start-lo)))
			if err != nil {
				return fmt.Errorf("journal: completing claim %d-%d: %w", c.start, c.end, err)
			}
			if bundle, err = parseBundle(prev); err != nil || int64(len(bundle)) != c.start-lo {
				return fmt.Errorf("journal: entry bundle %s is damaged", EntriesPath(b, int(c.start-lo)))
			}
		}
		for i := max(lo, c.start); i < hi; i++ {
			bundle = append(bundle, c.entries[i-c.start])
		}
		objs = append(objs, object{EntriesPath(b, len(bundle)), marshalBundle(bundle)})
	}
	// Hash tiles.
	old := tlog.TileHashReader(tlog.Tree{N: c.start, Hash: oldRoot}, &tileReader{ctx: ctx, store: s.Store})
	hr := hashReader(old, &nh)
	for _, t := range tlog.NewTiles(TileHeight, c.start, c.end) {
		data, err := tlog.ReadTileData(t, hr)
		if err != nil {
			return fmt.Errorf("journal: tile %s: %w", TilePath(t.L, t.N, t.W), err)
		}
		objs = append(objs, object{TilePath(t.L, t.N, t.W), data})
	}
	// Markers last: a marker says its entry is in the bundles and tiles.
	if err := s.each(len(objs), func(i int) error { return s.createSame(ctx, objs[i].path, objs[i].data) }); err != nil {
		return err
	}
	return s.each(len(c.entries), func(i int) error {
		e, err := ParseEntry(c.entries[i])
		if err != nil {
			return err
		}
		index := []byte(strconv.FormatInt(c.start+int64(i), 10) + "\n")
		if e.Kind == Insert {
			// The first insert of a key names it; a key inserted again
			// (only after a lifted deny let it be removed) keeps it.
			if err := s.Store.Create(ctx, keyPath(e.Key), index); err != nil && !errors.Is(err, ErrExist) {
				return err
			}
		}
		return s.createSame(ctx, eventPath(e.EventID), index)
	})
}

// createSame creates an object, or finds it holding the same bytes.
func (s *Sequencer) createSame(ctx context.Context, path string, data []byte) error {
	err := s.Store.Create(ctx, path, data)
	if !errors.Is(err, ErrExist) {
		return err
	}
	have, err := s.Store.Get(ctx, path)
	if err != nil {
		return err
	}
	if !bytes.Equal(have, data) {
		return fmt.Errorf("journal: %s exists with other content than the log implies: the journal is damaged; run verify", path)
	}
	return nil
}

func (s *Sequencer) checkpoint(ctx context.Context, size int64, root tlog.Hash) ([]byte, error) {
	signed, err := SignCheckpoint(Checkpoint{Origin: s.Origin, Size: size, Root: root}, s.Signer)
	if err != nil {
		return nil, fmt.Errorf("journal: signing the checkpoint: %w", err)
	}
	if err := s.Store.AddVersion(ctx, CheckpointPath, signed); err != nil {
		return nil, err
	}
	return signed, nil
}

// each runs f(0..n-1), at most Parallel at once, and returns every error, joined.
func (s *Sequencer) each(n int, f func(i int) error) error {
	return parallel(n, s.Parallel, f)
}

func parallel(n, limit int, f func(i int) error) error {
	if limit <= 0 {
		limit = 16
	}
	sem := make(chan struct{}, limit)
	errs := make([]error, n)
	var wg sync.WaitGroup
	for i := 0; i < n; i++ {
		wg.Add(1)
		sem <- struct{}{}
		go func(i int) {
			defer func() { <-sem; wg.Done() }()
			errs[i] = f(i)
		}(i)
	}
	wg.Wait()
	return errors.Join(errs...)
}

// tileReader reads hash tiles from a store for tlog.TileHashReader, which
// checks them against the tree's root.
type tileReader struct {
	ctx   context.Context
	store Store
}

func (r *tileReader) Height() int { return TileHeight }

func (r *tileReader) ReadTiles(tiles []tlog.Tile) ([][]byte, error) {
	out := make([][]byte, len(tiles))
	err := parallel(len(tiles), 8, func(i int) error {
		t := tiles[i]
		data, err := r.store.Get(r.ctx, TilePath(t.L, t.N, t.W))
		out[i] = data
		return err
	})
	return out, err
}

func (r *tileReader) SaveTiles([]tlog.Tile, [][]byte) {}
