package journal

import (
	"bytes"
	"cmp"
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"math/rand/v2"
	"slices"
	"strconv"
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
// entries that take the log from size start to end and a note, signed with
// the journal's key, of start, end and the root hash at end (see claim.go).
// Exactly one claim can exist for each start, so concurrent sequencers never
// fork the log: the loser of a race reads the winner's claim and tries again
// at its end. Everything else (entry bundles, hash tiles, the per-record
// markers, the checkpoint) is derived from the claims and written
// idempotently, so a sequencer that finds a claim whose derived objects are
// missing (its writer crashed) completes it before it claims anything. Before
// claiming, it drops every record whose marker exists: a stream record is
// journaled once, whether Lambda delivers it again, retries its batch or
// runs it concurrently with another shard's.
//
// What it trusts: only what verifies with its key. It starts from the
// newest checkpoint version that verifies (going past delete markers and
// versions nobody signed, in one listing), follows only claims whose note
// verifies and whose entries hash to the signed root, and reads an object
// hidden by a delete marker from its locked version rather than writing it
// again, so that it never signs a tree inconsistent with an earlier
// checkpoint. What it goes around is in Result.Tampering; what it will not
// build on is an error wrapping ErrTampering. Each call reads O(batch + log
// n) objects, plus one per claim written by a sequencer that crashed.
type Sequencer struct {
	Store  Store
	Signer note.Signer
	// Verifier is the signer's public key: the sequencer builds only on a
	// checkpoint and claims it verifies.
	Verifier note.Verifier
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
	// appended entries are Modify or Remove, or an Insert of a key the
	// journal holds already (DynamoDB streams no second INSERT of a key
	// without a REMOVE between).
	Appended, Duplicates, Mutations int
	// Tampering lists what the sequencer found done to the journal's
	// objects and went around: a delete marker hiding an object, a
	// checkpoint version that does not verify. Tampering it cannot go
	// around is an error wrapping ErrTampering.
	Tampering []string
	// Size is the log's size after the call, and Checkpoint the signed
	// checkpoint written for it (nil if the latest already covered it).
	Size       int64
	Checkpoint []byte
}

// head is the log as the sequencer finds it: every claim complete.
type head struct {
	size int64
	root tlog.Hash
	// checkpointed is the size of the checkpoint it started from.
	checkpointed int64
	tampering    []string
}

// ErrTampering is wrapped by the errors of a sequencer that found the
// journal's objects tampered with in a way it will not build on: a claim
// nobody signed, entries that do not hash to their signed root. Nothing
// more is appended until someone looks (appendonly verify names it).
var ErrTampering = errors.New("journal: tampering")

func tampered(format string, args ...any) error {
	return fmt.Errorf("%w: %s; the sequencer will not build on it: run appendonly verify", ErrTampering, fmt.Sprintf(format, args...))
}

// recentVersions is how many of an object's newest versions the sequencer
// lists when its current version is hidden or does not verify: one
// ListObjectVersions request.
const recentVersions = 100

// Integrate appends the records that are not in the journal yet, in the
// order given, and writes a checkpoint covering them. An error means
// nothing is known of the records; calling again with the same records is
// always safe.
func (s *Sequencer) Integrate(ctx context.Context, records []Record) (Result, error) {
	var res Result
	if s.Verifier == nil || s.Verifier.Name() != s.Origin || s.Signer == nil || s.Signer.Name() != s.Origin {
		return res, fmt.Errorf("journal: the sequencer's Signer and Verifier must both be named %q, its Origin", s.Origin)
	}
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
		res.Tampering = h.tampering
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
		reinserts, err := s.complete(ctx, c, hashes, h.root)
		if err != nil {
			return res, err
		}
		res.Appended += len(entries)
		res.Mutations += reinserts
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

// head finds the log's end: the newest checkpoint version that verifies,
// then every claim after it, each verified and completed.
func (s *Sequencer) head(ctx context.Context) (head, error) {
	h := head{root: emptyRoot}
	c, _, notes, err := latestCheckpoint(ctx, s.Store, s.Verifier)
	h.tampering = notes
	if err != nil {
		return h, err
	}
	h.size, h.root, h.checkpointed = c.Size, c.Root, c.Size
	if h.size == 0 {
		h.root = emptyRoot
	}
	for {
		path := sequencePath(h.size)
		data, hiddenBy, err := getThrough(ctx, s.Store, path)
		if errors.Is(err, ErrNotExist) {
			return h, nil
		}
		if err != nil {
			return h, err
		}
		if hiddenBy > 0 {
			h.tampering = append(h.tampering, fmt.Sprintf("%d delete marker(s) hide the claim %s; read its locked version", hiddenBy, path))
		}
		c, err := openClaim(data, h.size, s.Verifier)
		if err != nil {
			return h, tampered("the claim %s: %v", path, err)
		}
		hashes, root, err := s.hashes(ctx, h, c.entries)
		if err != nil {
			return h, err
		}
		if root != c.root {
			return h, tampered("the claim %s: its entries hash to %s, its signed note says %s", path, root, c.root)
		}
		if _, err := s.complete(ctx, c, hashes, h.root); err != nil {
			return h, err
		}
		h.size, h.root = c.end, c.root
	}
}

// latestCheckpoint returns the newest version of the checkpoint that
// verifies with v: the current one, or, when that is hidden by a delete
// marker or does not verify, the newest of the recentVersions newest that
// does, saying in notes what it went past. No checkpoint at all is a log of
// size 0.
func latestCheckpoint(ctx context.Context, st Store, v note.Verifier) (c Checkpoint, signed []byte, notes []string, err error) {
	data, err := st.Get(ctx, CheckpointPath)
	switch {
	case err == nil:
		c, err := OpenCheckpoint(data, v)
		if err == nil {
			return c, data, nil, nil
		}
	case !errors.Is(err, ErrNotExist):
		return Checkpoint{}, nil, nil, err
	}
	vs, err := st.Recent(ctx, CheckpointPath, recentVersions)
	if err != nil {
		return Checkpoint{}, nil, nil, err
	}
	for _, ver := range vs {
		if ver.DeleteMarker {
			notes = append(notes, fmt.Sprintf("a delete marker (version %s) hides the checkpoint", ver.ID))
			continue
		}
		data, err := st.GetVersion(ctx, CheckpointPath, ver.ID)
		if err != nil {
			return Checkpoint{}, nil, notes, err
		}
		c, err := OpenCheckpoint(data, v)
		if err != nil {
			notes = append(notes, fmt.Sprintf("checkpoint version %s does not verify: %v", ver.ID, err))
			continue
		}
		return c, data, notes, nil
	}
	if len(vs) == recentVersions {
		return Checkpoint{}, nil, notes, tampered("none of the checkpoint's %d newest versions verifies", recentVersions)
	}
	return Checkpoint{}, nil, notes, nil
}

// getThrough reads an object's current version or, when delete markers hide
// it, its newest version that holds data, saying how many markers hide it.
// ErrNotExist means no version holds data among the newest recentVersions.
func getThrough(ctx context.Context, st Store, path string) (data []byte, hiddenBy int, err error) {
	data, err = st.Get(ctx, path)
	if !errors.Is(err, ErrNotExist) {
		return data, 0, err
	}
	vs, err := st.Recent(ctx, path, recentVersions)
	if err != nil {
		return nil, 0, err
	}
	for _, v := range vs {
		if v.DeleteMarker {
			hiddenBy++
			continue
		}
		data, err := st.GetVersion(ctx, path, v.ID)
		return data, hiddenBy, err
	}
	return nil, hiddenBy, fmt.Errorf("%s: %w", path, ErrNotExist)
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
	c := &claim{start: h.size, end: h.size + int64(len(entries)), root: root, entries: entries}
	return c, nh, c.sign(s.Origin, s.Signer)
}

// complete writes what claim c implies, on the tree of size c.start whose
// root is oldRoot: its entry bundles, hash tiles and record markers. Each
// is created if missing; one that exists must hold the same bytes. It
// returns how many of the claim's inserts are of a key the journal held
// already.
func (s *Sequencer) complete(ctx context.Context, c *claim, nh newHashes, oldRoot tlog.Hash) (int, error) {
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
				return 0, fmt.Errorf("journal: completing claim %d-%d: %w", c.start, c.end, err)
			}
			if bundle, err = parseBundle(prev); err != nil || int64(len(bundle)) != c.start-lo {
				return 0, tampered("the entry bundle %s is damaged", EntriesPath(b, int(c.start-lo)))
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
			return 0, fmt.Errorf("journal: tile %s: %w", TilePath(t.L, t.N, t.W), err)
		}
		objs = append(objs, object{TilePath(t.L, t.N, t.W), data})
	}
	// Markers last: a marker says its entry is in the bundles and tiles.
	if err := s.each(len(objs), func(i int) error { return s.createSame(ctx, objs[i].path, objs[i].data) }); err != nil {
		return 0, err
	}
	parsed := make([]*Entry, len(c.entries))
	for i, data := range c.entries {
		e, err := ParseEntry(data)
		if err != nil {
			return 0, tampered("entry %d of the claim %s: %v", c.start+int64(i), sequencePath(c.start), err)
		}
		parsed[i] = e
	}
	if err := s.each(len(parsed), func(i int) error {
		return s.createSame(ctx, eventPath(parsed[i].EventID), indexBytes(c.start+int64(i)))
	}); err != nil {
		return 0, err
	}
	return s.keyMarkers(ctx, c.start, parsed)
}

func indexBytes(n int64) []byte { return []byte(strconv.FormatInt(n, 10) + "\n") }

// keyMarkers writes the key markers of the entries from index start on:
// keyPath names a key's first INSERT, historyPath(key, n) its n-th later
// entry, whatever its kind. Keys are written in parallel, each key's
// entries in index order, and claims are completed in order: which entry a
// marker names never depends on a race. It returns how many entries insert
// a key whose first INSERT is earlier.
func (s *Sequencer) keyMarkers(ctx context.Context, start int64, entries []*Entry) (int, error) {
	var order []string
	byKey := map[string][]int64{}
	for i, e := range entries {
		k := string(e.Key)
		if byKey[k] == nil {
			order = append(order, k)
		}
		byKey[k] = append(byKey[k], start+int64(i))
	}
	var mu sync.Mutex
	reinserts := 0
	err := s.each(len(order), func(g int) error {
		key := []byte(order[g])
		for _, n := range byKey[order[g]] {
			if entries[n-start].Kind == Insert {
				same, err := s.createOrFind(ctx, keyPath(key), indexBytes(n))
				if err != nil || same {
					if err != nil {
						return err
					}
					continue
				}
				mu.Lock()
				reinserts++
				mu.Unlock()
			}
			if err := s.appendHistory(ctx, key, n); err != nil {
				return err
			}
		}
		return nil
	})
	return reinserts, err
}

// appendHistory names entry n in the first free history marker of key, or
// finds it named already.
func (s *Sequencer) appendHistory(ctx context.Context, key []byte, n int64) error {
	for i := 1; ; i++ {
		same, err := s.createOrFind(ctx, historyPath(key, i), indexBytes(n))
		if err != nil || same {
			return err
		}
	}
}

// createOrFind creates an object, or finds it; same says whether it holds
// data.
func (s *Sequencer) createOrFind(ctx context.Context, path string, data []byte) (same bool, err error) {
	err = s.Store.Create(ctx, path, data)
	if !errors.Is(err, ErrExist) {
		return err == nil, err
	}
	have, err := s.Store.Get(ctx, path)
	if err != nil {
		return false, err
	}
	return bytes.Equal(have, data), nil
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
		return tampered("%s exists with other content than the log implies", path)
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
	// access is the first error other than a missing tile: a store that
	// could not be read, which is no evidence of damage.
	mu     sync.Mutex
	access error
	// hidden are the tiles read from a version under a delete marker.
	hidden []string
}

func (r *tileReader) Height() int { return TileHeight }

func (r *tileReader) ReadTiles(tiles []tlog.Tile) ([][]byte, error) {
	out := make([][]byte, len(tiles))
	err := parallel(len(tiles), 8, func(i int) error {
		t := tiles[i]
		path := TilePath(t.L, t.N, t.W)
		data, hiddenBy, err := getThrough(r.ctx, r.store, path)
		r.mu.Lock()
		if err != nil && !errors.Is(err, ErrNotExist) {
			r.access = cmp.Or(r.access, err)
		}
		if hiddenBy > 0 {
			r.hidden = append(r.hidden, path)
		}
		r.mu.Unlock()
		out[i] = data
		return err
	})
	return out, err
}

// hiddenTiles lists the tiles read from under a delete marker, sorted.
func (r *tileReader) hiddenTiles() []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	return slices.Sorted(slices.Values(slices.Compact(r.hidden)))
}

// accessError is the first error reading a tile that was not a missing
// tile.
func (r *tileReader) accessError() error {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.access
}

func (r *tileReader) SaveTiles([]tlog.Tile, [][]byte) {}
