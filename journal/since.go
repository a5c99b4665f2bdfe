package journal

import (
	"context"
	"crypto/sha256"
	"errors"
	"fmt"

	"golang.org/x/mod/sumdb/tlog"
)

// Increment is what Since learned: the entries appended between a
// checkpoint verified before and the newest one, each checked against the
// newest tree.
type Increment struct {
	// From is the checkpoint verified before; Latest the newest version of
	// the checkpoint that verifies, and Signed its signed note, for the
	// next call.
	From, Latest Checkpoint
	Signed       []byte
	// Entries are the entries from From.Size to Latest.Size, by index
	// from From.Size; nil where an entry does not parse.
	Entries  []*Entry
	Problems []Problem
}

// ErrNotACheckpoint is wrapped by Since's error for a starting checkpoint
// that does not verify with the key: a wrong file, or another journal's.
var ErrNotACheckpoint = errors.New("journal: not a checkpoint signed with the journal's key")

// Since verifies what the journal gained since the signed checkpoint from,
// verified before (nil: the empty tree, the whole journal): the newest
// checkpoint version that verifies must be
// consistent with it (the past was not rewritten since), and each entry
// appended since must be the tree's leaf at its index. It reads O(log n)
// objects and the bundles of the new entries: the work grows with what was
// appended, not with the journal.
func (v *Verifier) Since(ctx context.Context, from []byte) (*Increment, error) {
	prev := Checkpoint{Origin: v.Key.Name(), Root: emptyRoot}
	if from != nil {
		var err error
		if prev, err = OpenCheckpoint(from, v.Key); err != nil {
			return nil, fmt.Errorf("%w: %v", ErrNotACheckpoint, err)
		}
	}
	inc := &Increment{From: prev}
	problem := func(what string, index int64, format string, args ...any) {
		inc.Problems = append(inc.Problems, Problem{What: what, Index: index, Detail: fmt.Sprintf(format, args...)})
	}
	latest, signed, notes, err := latestCheckpoint(ctx, v.Store, v.Key)
	for _, n := range notes {
		problem("checkpoint hidden", -1, "%s", n)
	}
	if err != nil && !errors.Is(err, ErrTampering) {
		return nil, err
	}
	if err == nil && signed == nil && prev.Size == 0 {
		inc.Latest = prev // an empty journal: nothing to verify yet
		return inc, nil
	}
	if err != nil || signed == nil {
		problem("forged checkpoint", -1, "no version of the checkpoint verifies: %v", err)
		return inc, nil
	}
	inc.Latest, inc.Signed = latest, signed
	if latest.Size < prev.Size {
		problem("inconsistent checkpoint", -1, "the newest checkpoint signs %d entries, fewer than the %d verified before: it signs another tree", latest.Size, prev.Size)
		return inc, nil
	}
	tr := &tileReader{ctx: ctx, store: v.Store}
	tiles := tlog.TileHashReader(tlog.Tree{N: latest.Size, Hash: latest.Root}, tr)
	if prev.Size > 0 {
		err := latest.extends(prev, tiles)
		if access := tr.accessError(); access != nil {
			return nil, access
		}
		if err != nil {
			problem("inconsistent checkpoint", -1, "the newest checkpoint (%d entries) is not consistent with the one verified before (%d entries): the past was rewritten (%v)", latest.Size, prev.Size, err)
			return inc, nil
		}
	}
	for b := prev.Size / TileWidth; b*TileWidth < latest.Size; b++ {
		w := int(min(latest.Size-b*TileWidth, TileWidth))
		path := EntriesPath(b, w)
		data, ok, err := readLog(ctx, v.Store, path, b*TileWidth, problem)
		if err != nil {
			return nil, err
		}
		if !ok {
			return inc, nil
		}
		bundle, err := parseBundle(data)
		if err != nil || len(bundle) != w {
			problem("damaged log", b*TileWidth, "entry bundle %s does not hold %d entries", path, w)
			return inc, nil
		}
		var indexes []int64
		for i := max(prev.Size, b*TileWidth); i < b*TileWidth+int64(w); i++ {
			indexes = append(indexes, tlog.StoredHashIndex(0, i))
		}
		leaves, err := tiles.ReadHashes(indexes)
		if access := tr.accessError(); access != nil {
			return nil, access
		}
		if err != nil {
			problem("inconsistent checkpoint", b*TileWidth, "the newest checkpoint does not match the log's tiles: %v", err)
			return inc, nil
		}
		for k, i := 0, max(prev.Size, b*TileWidth); i < b*TileWidth+int64(w); k, i = k+1, i+1 {
			raw := bundle[i-b*TileWidth]
			if tlog.RecordHash(raw) != leaves[k] {
				problem("inconsistent checkpoint", i, "entry %d in %s is not the leaf the newest checkpoint signs", i, path)
				return inc, nil
			}
			e, err := ParseEntry(raw)
			if err != nil {
				problem("damaged log", i, "%v", err)
				e = nil
			}
			inc.Entries = append(inc.Entries, e)
		}
	}
	return inc, nil
}

// CompareItems checks the entries of inc against the table, reading each
// item by key with get (a strongly consistent read; found false when the
// table has no such item): every INSERT's image must be the item, and
// every MODIFY and REMOVE is named. Items no new entry names are not read:
// an item appended within the batching window is not yet covered, never a
// problem. Items written while the stream was off, and a second INSERT of
// a key inserted before inc.From, are found only by a full Verify.
func CompareItems(inc *Increment, get func(key []byte) (item []byte, found bool, err error)) ([]Problem, error) {
	var problems []Problem
	seen := map[string]entryRec{}
	for k, e := range inc.Entries {
		if e == nil {
			continue
		}
		n := inc.From.Size + int64(k)
		key := string(e.Key)
		if prev, ok := seen[key]; ok || e.Kind != Insert {
			var p *entryRec
			if ok {
				p = &prev
			}
			problems = append(problems, laterEntry(recOf(e, n), p, false))
			seen[key] = recOf(e, n)
			continue
		}
		seen[key] = recOf(e, n)
		item, found, err := get(e.Key)
		if err != nil {
			return problems, err
		}
		switch {
		case !found:
			problems = append(problems, Problem{What: "deleted", Index: n, Key: FormatKey(e.Key),
				Detail: "the journal's signed INSERT holds the item, the table does not"})
		case sha256.Sum256(item) != e.NewImage.Sum:
			problems = append(problems, Problem{What: "changed", Index: n, Key: FormatKey(e.Key),
				Detail: "the table's item differs from the image its signed INSERT journaled"})
		}
	}
	return problems, nil
}
