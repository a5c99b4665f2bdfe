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
	// checkpoint", "checkpoint hidden", "hidden object", "forged claim",
	// "damaged log", "journaled twice", "modified", "removed", "inserted
	// again", "changed", "deleted", "not journaled".
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
	// Size is the number of entries in the log: those Latest covers, then
	// those of signed claims after it, not yet covered.
	Size int64
	// Entries are the entries read, by index (with Verify's full read); nil
	// where an entry does not parse. Those from Latest.Size on are not yet
	// covered by a checkpoint.
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
	var refReader *tileReader
	for i := len(l.Checkpoints) - 1; i >= 0 && ref < 0; i-- {
		c := l.Checkpoints[i]
		tr := &tileReader{ctx: ctx, store: v.Store}
		r := tlog.TileHashReader(tlog.Tree{N: c.Size, Hash: c.Root}, tr)
		if _, err := tlog.TreeHash(c.Size, r); err != nil && c.Size > 0 {
			if err := tr.accessError(); err != nil {
				return nil, err
			}
			if forked[c.VersionID] {
				continue
			}
			v.problem(l, "inconsistent checkpoint", -1, "version %s (size %d) does not match the log's tiles: it signs another tree (%v)", c.VersionID, c.Size, err)
			continue
		}
		ref, tiles, refReader = i, r, tr
	}
	if ref < 0 {
		return l, nil
	}
	defer func() {
		for _, path := range refReader.hiddenTiles() {
			v.problem(l, "hidden object", -1, "a delete marker hides the hash tile %s from plain reads; its locked version was read", path)
		}
	}()
	latest := l.Checkpoints[ref]
	l.Latest = latest.Checkpoint
	for _, c := range l.Checkpoints[:ref] {
		if c.Size == latest.Size || c.Size == 0 {
			continue // a fork is named above
		}
		err := latest.extends(c.Checkpoint, tiles)
		if access := refReader.accessError(); access != nil {
			return nil, access
		}
		if err != nil {
			v.problem(l, "inconsistent checkpoint", -1, "version %s (size %d) is not a prefix of version %s (size %d): the past was rewritten (%v)", c.VersionID, c.Size, latest.VersionID, latest.Size, err)
		}
	}
	return l, nil
}

// Verify reads the whole journal: every checkpoint version (Checkpoints),
// then every entry up to the latest checkpoint, recomputing the tree and
// checking each verified checkpoint's root against the root of the
// entries at its size; then the claims after it, whose entries count only
// if the journal's key signed the claim. Damage to any object is a
// Problem; an error is only a store it could not read. It holds every
// entry in memory (Log.Entries); Audit checks a journal of any size.
func (v *Verifier) Verify(ctx context.Context) (*Log, error) {
	l, err := v.Checkpoints(ctx)
	if err != nil {
		return nil, err
	}
	if _, err := v.walk(ctx, l, func(_ int64, e *Entry) error {
		l.Entries = append(l.Entries, e)
		return nil
	}); err != nil {
		return nil, err
	}
	first := map[string]int64{}
	for i, e := range l.Entries {
		if e == nil {
			continue
		}
		if j, ok := first[e.EventID]; ok {
			l.Problems = append(l.Problems, journaledTwice(e.EventID, int64(i), j))
			continue
		}
		first[e.EventID] = int64(i)
	}
	return l, nil
}

// journaledTwice names the entry n of a stream record entry first holds.
func journaledTwice(eventID string, n, first int64) Problem {
	return Problem{What: "journaled twice", Index: n, Detail: fmt.Sprintf("the stream record %s is entry %d too: a redelivery the sequencer did not recognize "+
		"(a batch sidecar missing or hidden, or its clock more than %v behind DynamoDB's)", eventID, first, DedupClockSkew)}
}

// walk reads every entry of the journal l's checkpoints describe, in
// order, and gives each to visit (nil where it does not parse): those the
// latest checkpoint covers, recomputing the tree and checking each
// checkpoint's root at its size, then those of the signed claims after it,
// each claim's entries given only once they hash to the root its note
// signs. It sets l.Size and returns the tree's range after the last entry.
func (v *Verifier) walk(ctx context.Context, l *Log, visit func(n int64, e *Entry) error) (*compact.Range, error) {
	size := l.Latest.Size
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
	parse := func(n int64, data []byte) *Entry {
		e, err := ParseEntry(data)
		if err != nil {
			v.problem(l, "damaged log", n, "%v", err)
			return nil
		}
		return e
	}
	rf := compact.RangeFactory{Hash: rfc6962.DefaultHasher.HashChildren}
	r := rf.NewEmptyRange(0)
	check(0, r)
	end := func() (*compact.Range, error) {
		l.Size = int64(r.End())
		for _, c := range l.Checkpoints {
			if c.Size > l.Size {
				v.problem(l, "inconsistent checkpoint", -1, "version %s signs size %d, but the log holds %d entries", c.VersionID, c.Size, l.Size)
			}
		}
		return r, nil
	}
	for b := int64(0); b*TileWidth < size; b++ {
		w := int(min(size-b*TileWidth, TileWidth))
		path := EntriesPath(b, w)
		data, ok, err := readLog(ctx, v.Store, path, b*TileWidth, func(what string, index int64, format string, args ...any) {
			v.problem(l, what, index, format, args...)
		})
		if err != nil {
			return nil, err
		}
		if !ok {
			return end()
		}
		entries, err := parseBundle(data)
		if err != nil || len(entries) != w {
			v.problem(l, "damaged log", b*TileWidth, "entry bundle %s does not hold %d entries", path, w)
			return end()
		}
		for i, data := range entries {
			n := b*TileWidth + int64(i)
			if err := r.Append(rfc6962.DefaultHasher.HashLeaf(data), nil); err != nil {
				return nil, err
			}
			check(n+1, r)
			if err := visit(n, parse(n, data)); err != nil {
				return nil, err
			}
		}
	}
	// The claims after the latest checkpoint: entries not yet covered by
	// one, each claim signed by the journal's key and consistent with the
	// log before it, or named.
	for n := size; ; {
		c, err := v.nextClaim(ctx, n, func(what string, index int64, format string, args ...any) {
			v.problem(l, what, index, format, args...)
		})
		if err != nil {
			return nil, err
		}
		if c == nil {
			break
		}
		next, err := extend(r, c)
		if err != nil {
			return nil, err
		}
		if next == nil {
			v.problem(l, "forged claim", n, "%s: its entries do not hash to the root its signed note gives: the key signed another log", sequencePath(n))
			break
		}
		r = next
		for i, data := range c.entries {
			if err := visit(n+int64(i), parse(n+int64(i), data)); err != nil {
				return nil, err
			}
		}
		n = c.end
	}
	return end()
}

// extend returns the range r extended by the claim's entries when they
// hash to the root its note signs, else nil: a copy, so that a claim of
// another log leaves the log as it was.
func extend(r *compact.Range, c *claim) (*compact.Range, error) {
	rf := compact.RangeFactory{Hash: rfc6962.DefaultHasher.HashChildren}
	next, err := rf.NewRange(r.Begin(), r.End(), r.Hashes())
	if err != nil {
		return nil, err
	}
	for _, data := range c.entries {
		if err := next.Append(rfc6962.DefaultHasher.HashLeaf(data), nil); err != nil {
			return nil, err
		}
	}
	if root, _ := next.GetRootHash(nil); !bytes.Equal(root, c.root[:]) {
		return nil, nil
	}
	return next, nil
}

// nextClaim reads the claim at n through delete markers: nil when there is
// none, or when its note does not verify with the journal's key (named).
func (v *Verifier) nextClaim(ctx context.Context, n int64, problem func(what string, index int64, format string, args ...any)) (*claim, error) {
	path := sequencePath(n)
	data, hiddenBy, err := getThrough(ctx, v.Store, path)
	if errors.Is(err, ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	if hiddenBy > 0 {
		problem("hidden object", n, "%d delete marker(s) hide %s from plain reads; its locked version was read", hiddenBy, path)
	}
	c, err := openClaim(data, n, v.Key)
	if err != nil {
		problem("forged claim", n, "%s: %v: its entries are not counted", path, err)
		return nil, nil
	}
	return c, nil
}

// readLog reads an object of the log through delete markers: a hidden
// object is named and read; a missing one is named and ok is false. err is
// a store that could not be read.
func readLog(ctx context.Context, st Store, path string, index int64, problem func(what string, index int64, format string, args ...any)) (data []byte, ok bool, err error) {
	data, hiddenBy, err := getThrough(ctx, st, path)
	if errors.Is(err, ErrNotExist) {
		problem("damaged log", index, "%s is missing", path)
		return nil, false, nil
	}
	if err != nil {
		return nil, false, err
	}
	if hiddenBy > 0 {
		problem("hidden object", index, "%d delete marker(s) hide %s from plain reads; its locked version was read", hiddenBy, path)
	}
	return data, true, nil
}

// TableItem is an item as read from the table: its key attributes'
// canonical encoding and the item's.
type TableItem struct {
	Key  []byte
	Item []byte
}

// CompareTable checks the table's items against the journal l (from
// Verify). Only entries covered by the latest signed checkpoint are
// evidence: each item's record is the image of its key's first signed
// INSERT, and the table must hold exactly that. Every entry of a key after
// its first, signed or not yet (a MODIFY, a REMOVE, an INSERT again), is a
// problem named by key and index. An item in the table that only entries
// after the latest checkpoint hold, with the same image, is not yet
// covered: counted in pending, not a problem; a checkpoint covering it is
// due within the checkpoint interval.
func CompareTable(l *Log, items []TableItem) (problems []Problem, pending int) {
	var entries []entryRec
	for i, e := range l.Entries {
		if e != nil {
			entries = append(entries, recOf(e, int64(i)))
		}
	}
	recs := make([]itemRec, len(items))
	for i, it := range items {
		recs[i] = itemRec{key: string(it.Key), sum: sha256.Sum256(it.Item)}
	}
	pending, _ = compare(entries, recs, compareOpts{signed: l.Latest.Size}, func(p Problem) { problems = append(problems, p) })
	return problems, pending
}

// laterEntry names an entry of a key after its first, prev (nil: none).
func laterEntry(e entryRec, prev *entryRec, unsigned bool) Problem {
	p := Problem{Index: e.index, Key: FormatKey([]byte(e.key))}
	at := e.created.Format("2006-01-02T15:04:05Z")
	switch e.kind {
	case Modify:
		p.What, p.Detail = "modified", "the table reported a change at "+at+"; the journal keeps the old and the new image"
	case Remove:
		p.What, p.Detail = "removed", "the table reported a delete at "+at+"; the journal keeps the old image"
	default:
		p.What = "inserted again"
		if prev != nil && prev.kind == Remove {
			p.Detail = fmt.Sprintf("the table reported an INSERT at %s after the item's REMOVE (journal entry %d)", at, prev.index)
		} else if prev != nil {
			p.Detail = fmt.Sprintf("an INSERT at %s of a key the journal holds (journal entry %d) with no REMOVE between: "+
				"DynamoDB streams no such record, so a record of the change was dropped; the first signed image is the record", at, prev.index)
		} else {
			p.Detail = fmt.Sprintf("an INSERT at %s of a key the journal holds, with no REMOVE between: "+
				"DynamoDB streams no such record, so a record of the change was dropped; the first signed image is the record", at)
		}
	}
	if unsigned {
		p.Detail += " (after the latest checkpoint: not yet covered by one)"
	}
	return p
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
