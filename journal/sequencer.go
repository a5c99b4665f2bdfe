package journal

import (
	"bytes"
	"cmp"
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"slices"
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
// at its end. Everything else (entry bundles, hash tiles, the checkpoint)
// is derived from the claims and written idempotently, so a sequencer that
// finds a claim whose derived objects are missing (its writer crashed)
// completes it before it claims anything. Each claim has a batch sidecar,
// written before it (batch.go): before claiming, the sequencer drops every
// record a sidecar written since the batch's oldest record names and its
// signed claim holds, so that a stream record is journaled once, whether
// Lambda delivers it again or retries its batch whole or bisected. Lambda
// runs one batch per shard at a time, and each record belongs to one shard:
// no two invocations journal the same record at once.
//
// What it trusts: only what verifies with its key. It starts from the
// newest checkpoint version that verifies (going past delete markers and
// versions nobody signed, in one listing), follows only claims whose note
// verifies and whose entries hash to the signed root, and reads an object
// hidden by a delete marker from its locked version rather than writing it
// again, so that it never signs a tree inconsistent with an earlier
// checkpoint. What it goes around is in Result.Tampering; what it will not
// build on is an error wrapping ErrTampering. Each call reads O(log n)
// objects, one per claim written by a sequencer that crashed, and the
// sidecars written since its batch's oldest record was created, less
// DedupClockSkew, listed 1,000 to a request.
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
	// Clock tells the time sidecars are named by. Default: time.Now.
	Clock func() time.Time

	cacheOnce sync.Once
	cache     *tileCache
}

// tileCache keeps hash tiles the tree's root verified: a tile's path names
// its content for good (a partial tile has its width in its path), so a
// sequencer that stays warm reads each once.
type tileCache struct {
	mu sync.Mutex
	m  map[string][]byte
}

// maxCachedTiles bounds the cache: 8 KB a tile, 32 MB at most.
const maxCachedTiles = 4096

func (c *tileCache) get(path string) ([]byte, bool) {
	if c == nil {
		return nil, false
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	data, ok := c.m[path]
	return data, ok
}

func (c *tileCache) put(path string, data []byte) {
	if c == nil {
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.m == nil || len(c.m) >= maxCachedTiles {
		c.m = map[string][]byte{}
	}
	c.m[path] = data
}

func (s *Sequencer) tiles(ctx context.Context) *tileReader {
	s.cacheOnce.Do(func() { s.cache = &tileCache{} })
	return &tileReader{ctx: ctx, store: s.Store, cache: s.cache}
}

func (s *Sequencer) now() time.Time {
	if s.Clock != nil {
		return s.Clock()
	}
	return time.Now()
}

// Result says what one Integrate call did.
type Result struct {
	// Appended is how many entries this call appended; Duplicates how many
	// records were in the journal already; Mutations how many of the
	// appended entries are Modify or Remove.
	Appended, Duplicates, Mutations int
	// Attempts is how many positions the call tried to claim: more than
	// one when other sequencers took them first.
	Attempts int
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
	// base and baseRoot are the end of the claims known complete; the
	// claims followed since, each verified but not yet completed, are
	// pending, their stored hashes held in memory.
	base     int64
	baseRoot tlog.Hash
	pending  []pendingClaim
}

// pendingClaim is a claim followed but not yet completed, with what
// completing it needs.
type pendingClaim struct {
	c       *claim
	nh      newHashes
	oldRoot tlog.Hash
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
	keyHashes := make([]uint64, 0, len(records))
	seen := map[string]bool{}
	var blobs [][]byte
	var oldest time.Time
	for _, r := range records {
		if oldest.IsZero() || r.Created.Before(oldest) {
			oldest = r.Created
		}
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
		keyHashes = append(keyHashes, shortHash(e.Key))
		blobs = append(blobs, bl...)
	}
	// Blobs are named by their hash: writing one twice is harmless.
	if err := s.each(len(blobs), func(i int) error {
		return s.createSame(ctx, blobPath(sha256.Sum256(blobs[i])), blobs[i])
	}); err != nil {
		return res, err
	}
	// The records already journaled: a batch Lambda delivers again, after
	// an invocation that claimed it failed, or with a bisected part of it.
	// One invocation at a time per shard, so nothing journals these records
	// meanwhile.
	have, err := s.journaled(ctx, ids, oldest)
	if err != nil {
		return res, err
	}
	var fresh [][]byte
	// The sidecar's hashes, whatever position the claim takes.
	var side batchIndex
	for i := range entries {
		if !have[i] {
			fresh = append(fresh, entries[i])
			side.events = append(side.events, shortHash([]byte(ids[i])))
			side.keys = append(side.keys, keyHashes[i])
		}
	}
	res.Duplicates += len(entries) - len(fresh)
	entries = fresh
	attempts := s.MaxAttempts
	if attempts <= 0 {
		attempts = 20
	}
	h, err := s.head(ctx)
	res.Tampering = h.tampering
	if err != nil {
		return res, err
	}
	for attempt := 1; ; attempt++ {
		if attempt > 1 {
			// Another sequencer took the position: its claim is there, and
			// progress was made. Go on from it at once; waiting would only
			// leave the position to the next one.
			if h, err = s.follow(ctx, h, false); err != nil {
				res.Tampering = h.tampering
				return res, err
			}
			res.Tampering = h.tampering
		}
		if len(entries) == 0 {
			res.Size = h.size
			if err := s.completePending(ctx, h); err != nil {
				return res, err
			}
			if h.checkpointed < h.size {
				res.Checkpoint, err = s.checkpoint(ctx, h.size, h.root)
			}
			return res, err
		}
		c, hashes, err := s.newClaim(ctx, h, entries)
		if err != nil {
			return res, err
		}
		// The sidecar first: every claim has one.
		side.start = c.start
		if err := s.Store.Create(ctx, batchPath(s.now(), c.start), side.marshal()); err != nil {
			return res, err
		}
		res.Attempts = attempt
		err = s.Store.Create(ctx, sequencePath(c.start), c.marshal())
		if errors.Is(err, ErrExist) {
			if attempt == attempts {
				return res, fmt.Errorf("journal: gave up after %d attempts: other sequencers took every position tried", attempts)
			}
			if err := ctx.Err(); err != nil {
				return res, err
			}
			continue
		}
		if err != nil {
			return res, err
		}
		if err := s.completePending(ctx, h); err != nil {
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
	h.base, h.baseRoot = h.size, h.root
	return s.follow(ctx, h, true)
}

// follow follows the claims from h's end on to the log's end, each
// verified; with complete, each is completed (a sequencer that crashed
// left it so), else it is left pending, for its writer to complete while
// this sequencer claims the next position (completePending completes it
// after, in order).
func (s *Sequencer) follow(ctx context.Context, h head, complete bool) (head, error) {
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
		if complete && len(h.pending) == 0 {
			if err := s.complete(ctx, c, hashes, h.root); err != nil {
				return h, err
			}
			h.base, h.baseRoot = c.end, c.root
		} else {
			h.pending = append(slices.Clone(h.pending), pendingClaim{c: c, nh: hashes, oldRoot: h.root})
		}
		h.size, h.root = c.end, c.root
	}
}

// completePending completes the claims h followed without completing, in
// order: each claim's bundles and tiles need those before it.
func (s *Sequencer) completePending(ctx context.Context, h head) error {
	for _, p := range h.pending {
		if err := s.complete(ctx, p.c, p.nh, p.oldRoot); err != nil {
			return err
		}
	}
	return nil
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

// journaled reports which of the records, by event id, are in the journal
// already: those a sidecar written since oldest, less DedupClockSkew,
// names, confirmed by the entry at that position in its signed claim.
func (s *Sequencer) journaled(ctx context.Context, ids []string, oldest time.Time) ([]bool, error) {
	have := make([]bool, len(ids))
	if len(ids) == 0 {
		return have, nil
	}
	want := map[uint64][]int{}
	for i, id := range ids {
		h := shortHash([]byte(id))
		want[h] = append(want[h], i)
	}
	// start -> position in the claim -> the records it may be
	hits := map[int64]map[int][]int{}
	since := oldest.Add(-DedupClockSkew)
	if oldest.IsZero() {
		since = time.Time{}
	}
	if err := eachBatch(ctx, s.Store, since, s.Parallel, func(b *batchIndex) {
		for pos, ev := range b.events {
			for _, i := range want[ev] {
				if hits[b.start] == nil {
					hits[b.start] = map[int][]int{}
				}
				hits[b.start][pos] = append(hits[b.start][pos], i)
			}
		}
	}); err != nil {
		return nil, err
	}
	var mu sync.Mutex
	starts := make([]int64, 0, len(hits))
	for start := range hits {
		starts = append(starts, start)
	}
	err := s.each(len(starts), func(k int) error {
		start := starts[k]
		data, _, err := getThrough(ctx, s.Store, sequencePath(start))
		if errors.Is(err, ErrNotExist) {
			return nil // the sidecar's claim lost the race
		}
		if err != nil {
			return err
		}
		c, err := openClaim(data, start, s.Verifier)
		if err != nil {
			return nil // not evidence; head names it
		}
		for pos, is := range hits[start] {
			if pos >= len(c.entries) {
				continue
			}
			e, err := ParseEntry(c.entries[pos])
			if err != nil {
				continue
			}
			mu.Lock()
			for _, i := range is {
				if e.EventID == ids[i] {
					have[i] = true
				}
			}
			mu.Unlock()
		}
		return nil
	})
	return have, err
}

// newHashes are the stored hashes the entries of a claim add, by index.
type newHashes struct {
	from   int64 // the first stored hash index they hold
	hashes []tlog.Hash
}

// hashes computes the stored hashes that entries add to the log h, and the
// new root, reading what it needs of the old tree from its tiles.
func (s *Sequencer) hashes(ctx context.Context, h head, entries [][]byte) (newHashes, tlog.Hash, error) {
	// The tree at h.base from its tiles, then the pending claims' hashes,
	// then these entries'.
	old := tlog.TileHashReader(tlog.Tree{N: h.base, Hash: h.baseRoot}, s.tiles(ctx))
	all := newHashes{from: tlog.StoredHashCount(h.base)}
	for _, p := range h.pending {
		all.hashes = append(all.hashes, p.nh.hashes...)
	}
	mine := len(all.hashes)
	r := hashReader(old, &all)
	for i, e := range entries {
		hs, err := tlog.StoredHashes(h.size+int64(i), e, r)
		if err != nil {
			return newHashes{}, tlog.Hash{}, fmt.Errorf("journal: hashing entry %d: %w", h.size+int64(i), err)
		}
		all.hashes = append(all.hashes, hs...)
	}
	root, err := tlog.TreeHash(h.size+int64(len(entries)), r)
	return newHashes{from: tlog.StoredHashCount(h.size), hashes: all.hashes[mine:]}, root, err
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
// root is oldRoot: its entry bundles and hash tiles. Each is created if
// missing; one that exists must hold the same bytes.
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
				return tampered("the entry bundle %s is damaged", EntriesPath(b, int(c.start-lo)))
			}
		}
		for i := max(lo, c.start); i < hi; i++ {
			bundle = append(bundle, c.entries[i-c.start])
		}
		objs = append(objs, object{EntriesPath(b, len(bundle)), marshalBundle(bundle)})
	}
	// Hash tiles.
	old := tlog.TileHashReader(tlog.Tree{N: c.start, Hash: oldRoot}, s.tiles(ctx))
	hr := hashReader(old, &nh)
	for _, t := range tlog.NewTiles(TileHeight, c.start, c.end) {
		data, err := tlog.ReadTileData(t, hr)
		if err != nil {
			return fmt.Errorf("journal: tile %s: %w", TilePath(t.L, t.N, t.W), err)
		}
		objs = append(objs, object{TilePath(t.L, t.N, t.W), data})
	}
	return s.each(len(objs), func(i int) error { return s.createSame(ctx, objs[i].path, objs[i].data) })
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
	// cache, when not nil, keeps the tiles tlog verified (SaveTiles).
	cache *tileCache
}

func (r *tileReader) Height() int { return TileHeight }

func (r *tileReader) ReadTiles(tiles []tlog.Tile) ([][]byte, error) {
	out := make([][]byte, len(tiles))
	err := parallel(len(tiles), 8, func(i int) error {
		t := tiles[i]
		path := TilePath(t.L, t.N, t.W)
		if data, ok := r.cache.get(path); ok {
			out[i] = data
			return nil
		}
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

func (r *tileReader) SaveTiles(tiles []tlog.Tile, data [][]byte) {
	for i, t := range tiles {
		r.cache.put(TilePath(t.L, t.N, t.W), data[i])
	}
}
