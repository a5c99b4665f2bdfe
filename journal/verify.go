package journal

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"sort"
	"strings"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/transparency-dev/merkle/compact"
	"github.com/transparency-dev/merkle/rfc6962"
	"golang.org/x/mod/sumdb/note"
	"golang.org/x/mod/sumdb/tlog"

	"github.com/appendonly/appendonly/ledger"
)

// Problem is one thing verification found wrong: tampering, or a journal
// that does not match its table.
type Problem struct {
	// What is a short name: "forged checkpoint", "fork", "inconsistent
	// checkpoint", "damaged log", "modified", "removed", "changed",
	// "deleted", "not journaled".
	What string
	// Index is the journal entry concerned, or -1.
	Index int64
	// Key is the item's key as JSON, or "".
	Key    string
	Detail string
}

func (p Problem) String() string {
	var b strings.Builder
	b.WriteString(p.What)
	if p.Key != "" {
		b.WriteString(": item " + p.Key)
	}
	if p.Index >= 0 {
		fmt.Fprintf(&b, " (journal entry %d)", p.Index)
	}
	if p.Detail != "" {
		b.WriteString(": " + p.Detail)
	}
	return b.String()
}

// CheckpointVersion is one version of the checkpoint object.
type CheckpointVersion struct {
	VersionID string
	Signed    []byte
	Checkpoint
}

// Log is what verification learned of the journal.
type Log struct {
	// Checkpoints are the versions whose signature verifies, by size.
	Checkpoints []CheckpointVersion
	// Latest is the largest verified checkpoint the log's tiles agree with.
	Latest Checkpoint
	// Size is the number of entries in the log, checkpointed or not yet.
	Size int64
	// Entries are the entries read, by index (with Verify's full read).
	Entries []*Entry
	// Problems are what was found wrong, in the order found.
	Problems []Problem
}

// Verifier checks a journal with nothing but read access to its store and
// the signer's public key.
type Verifier struct {
	Store Store
	Key   note.Verifier
}

func (v *Verifier) problem(l *Log, what string, index int64, format string, args ...any) {
	l.Problems = append(l.Problems, Problem{What: what, Index: index, Detail: fmt.Sprintf(format, args...)})
}

// Checkpoints reads and checks every version of the checkpoint: its
// signature, and its consistency with the largest one (a consistency proof
// from the log's tiles). It does not read the entries.
func (v *Verifier) Checkpoints(ctx context.Context) (*Log, error) {
	l := &Log{}
	vs, err := v.Store.Versions(ctx, CheckpointPath)
	if err != nil {
		return nil, err
	}
	for _, ver := range vs {
		if ver.DeleteMarker {
			v.problem(l, "checkpoint hidden", -1, "a delete marker (version %s, %s) hides the checkpoint from plain reads; every locked version is still there", ver.ID, ver.Modified.UTC().Format("2006-01-02T15:04:05Z"))
			continue
		}
		data, err := v.Store.GetVersion(ctx, CheckpointPath, ver.ID)
		if err != nil {
			return nil, err
		}
		c, err := OpenCheckpoint(data, v.Key)
		if err != nil {
			v.problem(l, "forged checkpoint", -1, "version %s of %s: %v", ver.ID, ver.Modified.UTC().Format("2006-01-02T15:04:05Z"), err)
			continue
		}
		l.Checkpoints = append(l.Checkpoints, CheckpointVersion{VersionID: ver.ID, Signed: data, Checkpoint: c})
	}
	sort.SliceStable(l.Checkpoints, func(i, j int) bool { return l.Checkpoints[i].Size < l.Checkpoints[j].Size })
	if len(l.Checkpoints) == 0 {
		return l, nil
	}
	// Two checkpoints of one size with different roots are a fork.
	forked := map[string]bool{}
	for i := 1; i < len(l.Checkpoints); i++ {
		a, b := l.Checkpoints[i-1], l.Checkpoints[i]
		if a.Size == b.Size && a.Root != b.Root {
			v.problem(l, "fork", -1, "checkpoint versions %s and %s both sign size %d with different roots: the log was forked", a.VersionID, b.VersionID, a.Size)
			forked[b.VersionID] = true
		}
	}
	// The reference is the largest checkpoint the log's tiles agree with: a
	// checkpoint of another tree, however large, is named, not trusted.
	ref := -1
	var tiles tlog.HashReader
	for i := len(l.Checkpoints) - 1; i >= 0 && ref < 0; i-- {
		c := l.Checkpoints[i]
		r := tlog.TileHashReader(tlog.Tree{N: c.Size, Hash: c.Root}, &tileReader{ctx: ctx, store: v.Store})
		if _, err := tlog.TreeHash(c.Size, r); err != nil && c.Size > 0 {
			if forked[c.VersionID] {
				continue
			}
			v.problem(l, "inconsistent checkpoint", -1, "version %s (size %d) does not match the log's tiles: it signs another tree (%v)", c.VersionID, c.Size, err)
			continue
		}
		ref, tiles = i, r
	}
	if ref < 0 {
		return l, nil
	}
	latest := l.Checkpoints[ref]
	l.Latest = latest.Checkpoint
	for _, c := range l.Checkpoints[:ref] {
		if c.Size == latest.Size || c.Size == 0 {
			continue // a fork is named above
		}
		p, err := tlog.ProveTree(latest.Size, c.Size, tiles)
		if err == nil {
			err = tlog.CheckTree(p, latest.Size, latest.Root, c.Size, c.Root)
		}
		if err != nil {
			v.problem(l, "inconsistent checkpoint", -1, "version %s (size %d) is not a prefix of version %s (size %d): the past was rewritten (%v)", c.VersionID, c.Size, latest.VersionID, latest.Size, err)
		}
	}
	return l, nil
}

// Verify reads the whole journal: every checkpoint version (Checkpoints),
// then every entry, recomputing the tree and checking each verified
// checkpoint's root against the root of the entries at its size. Entries
// sequenced after the latest checkpoint are read too, and Log.Size counts
// them.
func (v *Verifier) Verify(ctx context.Context) (*Log, error) {
	l, err := v.Checkpoints(ctx)
	if err != nil {
		return nil, err
	}
	size, err := logSize(ctx, v.Store, l.Latest.Size)
	if err != nil {
		return nil, err
	}
	l.Size = size
	want := map[int64][]CheckpointVersion{}
	for _, c := range l.Checkpoints {
		want[c.Size] = append(want[c.Size], c)
	}
	check := func(n int64, r *compact.Range) {
		cs := want[n]
		if len(cs) == 0 {
			return
		}
		root, _ := r.GetRootHash(nil)
		if n == 0 {
			root = emptyRoot[:]
		}
		for _, c := range cs {
			if !bytes.Equal(root, c.Root[:]) {
				v.problem(l, "inconsistent checkpoint", -1, "version %s signs size %d with root %s, the log's entries give %s: the past was rewritten",
					c.VersionID, n, c.Root, base64.StdEncoding.EncodeToString(root))
			}
		}
	}
	rf := compact.RangeFactory{Hash: rfc6962.DefaultHasher.HashChildren}
	r := rf.NewEmptyRange(0)
	check(0, r)
	for b := int64(0); b*TileWidth < size; b++ {
		w := int(min(size-b*TileWidth, TileWidth))
		data, err := v.Store.Get(ctx, EntriesPath(b, w))
		if errors.Is(err, ErrNotExist) {
			v.problem(l, "damaged log", b*TileWidth, "entry bundle %s is missing", EntriesPath(b, w))
			return l, nil
		}
		if err != nil {
			return nil, err
		}
		entries, err := parseBundle(data)
		if err != nil || len(entries) != w {
			v.problem(l, "damaged log", b*TileWidth, "entry bundle %s does not hold %d entries", EntriesPath(b, w), w)
			return l, nil
		}
		for i, data := range entries {
			n := b*TileWidth + int64(i)
			e, err := ParseEntry(data)
			if err != nil {
				v.problem(l, "damaged log", n, "%v", err)
				e = nil
			}
			l.Entries = append(l.Entries, e)
			if err := r.Append(rfc6962.DefaultHasher.HashLeaf(data), nil); err != nil {
				return nil, err
			}
			check(n+1, r)
		}
	}
	for _, c := range l.Checkpoints {
		if c.Size > size {
			v.problem(l, "inconsistent checkpoint", -1, "version %s signs size %d, but the log holds %d entries", c.VersionID, c.Size, size)
		}
	}
	return l, nil
}

// logSize is the log's size: the end of the last sequence claim at or after
// from, a size the log is known to have reached.
func logSize(ctx context.Context, s Store, from int64) (int64, error) {
	n := from
	for {
		data, err := s.Get(ctx, sequencePath(n))
		if errors.Is(err, ErrNotExist) {
			return n, nil
		}
		if err != nil {
			return 0, err
		}
		c, err := parseClaim(data)
		if err != nil {
			return 0, err
		}
		if c.start != n {
			return 0, fmt.Errorf("journal: claim %s starts at %d", sequencePath(n), c.start)
		}
		n = c.end
	}
}

// TableItem is an item as read from the table: its key attributes'
// canonical encoding and the item's.
type TableItem struct {
	Key  []byte
	Item []byte
}

// CompareTable checks the table's items against the journal l (from
// Verify): every item the journal holds is in the table, identical, and
// every item in the table is in the journal. Items journaled after the
// latest checkpoint are counted in pending, not reported: a checkpoint
// covering them is due within the checkpoint interval. Every Modify and
// Remove entry is reported: only a lifted deny allows them.
func CompareTable(l *Log, items []TableItem) (problems []Problem, pending int) {
	type state struct {
		index int64
		sum   [32]byte
		gone  bool
	}
	journal := map[string]*state{}
	for i, e := range l.Entries {
		if e == nil {
			continue
		}
		n := int64(i)
		key := string(e.Key)
		switch e.Kind {
		case Insert:
			journal[key] = &state{index: n, sum: e.NewImage.Sum}
		case Modify:
			problems = append(problems, Problem{What: "modified", Index: n, Key: FormatKey(e.Key),
				Detail: fmt.Sprintf("the table reported a change at %s; the journal keeps the old and the new image", e.Created.Format("2006-01-02T15:04:05Z"))})
			journal[key] = &state{index: n, sum: e.NewImage.Sum}
		case Remove:
			problems = append(problems, Problem{What: "removed", Index: n, Key: FormatKey(e.Key),
				Detail: fmt.Sprintf("the table reported a delete at %s; the journal keeps the old image", e.Created.Format("2006-01-02T15:04:05Z"))})
			journal[key] = &state{index: n, gone: true}
		}
	}
	inTable := map[string]bool{}
	for _, it := range items {
		k := string(it.Key)
		inTable[k] = true
		st, ok := journal[k]
		switch {
		case !ok:
			problems = append(problems, Problem{What: "not journaled", Index: -1, Key: FormatKey(it.Key),
				Detail: "the item is in the table but in no journal entry: appended less than a checkpoint interval ago (verify again), or written while the stream or the sequencer was off"})
		case st.gone:
			problems = append(problems, Problem{What: "changed", Index: st.index, Key: FormatKey(it.Key),
				Detail: "the item is in the table, but the journal's last entry for it removed it"})
		case sha256.Sum256(it.Item) != st.sum:
			problems = append(problems, Problem{What: "changed", Index: st.index, Key: FormatKey(it.Key),
				Detail: "the table's item differs from the journal's image of it"})
		case st.index >= l.Latest.Size:
			pending++
		}
	}
	var keys []string
	for k, st := range journal {
		if !inTable[k] && !st.gone {
			keys = append(keys, k)
		}
	}
	sort.Slice(keys, func(i, j int) bool { return journal[keys[i]].index < journal[keys[j]].index })
	for _, k := range keys {
		problems = append(problems, Problem{What: "deleted", Index: journal[k].index, Key: FormatKey([]byte(k)),
			Detail: "the journal holds the item, the table does not"})
	}
	return problems, pending
}

// FormatKey renders a key's canonical encoding, or any item's, as JSON:
// strings as themselves, numbers in their normalized form (15E-1), binary
// as {"B": base64}, sets as {"SS": [...]} and the like.
func FormatKey(enc []byte) string {
	item, err := ledger.Decode(enc)
	if err != nil {
		return fmt.Sprintf("<undecodable key %x>", enc)
	}
	data, _ := json.Marshal(plain(&types.AttributeValueMemberM{Value: item}))
	return string(data)
}

// plain converts an attribute value to a JSON-ready value.
func plain(v types.AttributeValue) any {
	switch v := v.(type) {
	case *types.AttributeValueMemberS:
		return v.Value
	case *types.AttributeValueMemberN:
		return json.Number(v.Value)
	case *types.AttributeValueMemberB:
		return map[string]any{"B": v.Value}
	case *types.AttributeValueMemberBOOL:
		return v.Value
	case *types.AttributeValueMemberNULL:
		return nil
	case *types.AttributeValueMemberM:
		m := map[string]any{}
		for k, x := range v.Value {
			m[k] = plain(x)
		}
		return m
	case *types.AttributeValueMemberL:
		var l []any
		for _, x := range v.Value {
			l = append(l, plain(x))
		}
		return l
	case *types.AttributeValueMemberSS:
		return map[string]any{"SS": v.Value}
	case *types.AttributeValueMemberNS:
		return map[string]any{"NS": v.Value}
	case *types.AttributeValueMemberBS:
		return map[string]any{"BS": v.Value}
	}
	return nil
}
