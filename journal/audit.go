package journal

import (
	"bufio"
	"cmp"
	"context"
	"crypto/sha256"
	"encoding/binary"
	"errors"
	"fmt"
	"hash/fnv"
	"io"
	"os"
	"path/filepath"
	"slices"
	"time"

	"github.com/transparency-dev/merkle/compact"
)

// Audit is a full verification in bounded memory: what Verify and
// CompareTable do, for a journal and a table of any size. It reads the
// table first (so that every item it reads was written before the journal
// is read), then the journal, spilling both, by key, into Parts files in a
// directory of its own; then it compares one part at a time. Memory grows
// with the largest part (about 300 bytes an entry: some 12 MB a part at
// 10^7 entries), not with the journal or the table.
type Audit struct {
	Verifier
	// TableTime is when the table was read: an export's time, or the
	// start of a Scan less the clock skew allowed between this machine and
	// DynamoDB. An item whose first INSERT was journaled at or after it
	// and which the table read lacks is counted (AuditResult.After), not a
	// problem: the next audit compares it. Zero: every journaled item must
	// be in the table.
	TableTime time.Time
	// Settle, when set, is how long to wait before reading the journal
	// again for items in the table that no entry holds yet (written just
	// before the table was read): those the sequencer has journaled by then
	// are not yet covered, the rest not journaled. At most MaxUnsettled
	// items wait; past that they are problems at once.
	Settle time.Duration
	// Sleep waits d (default time.Sleep, honouring ctx).
	Sleep func(ctx context.Context, d time.Duration) error
	// OnSettle, when set, is told how many items wait, and for how long,
	// before the wait.
	OnSettle func(items int, wait time.Duration)
	// Dir is where the parts are written (default os.TempDir()), in a
	// directory of their own removed on return.
	Dir string
	// Parts is the number of parts (default 256).
	Parts int
	// Progress, when set, is called as the audit goes: after every
	// ProgressEvery items or entries and at the end of each phase.
	Progress func(Progress)
}

// MaxUnsettled bounds the items an Audit waits for (Settle).
const MaxUnsettled = 100000

// ProgressEvery is how many items or entries an Audit reads between calls
// of its Progress.
const ProgressEvery = 100000

// Progress is how far an Audit has gone.
type Progress struct {
	// Phase is "table", "journal" or "compare".
	Phase string
	// Items and Entries are those read so far; Parts the parts compared.
	Items, Entries int64
	Parts          int
	// EntriesTotal is the size of the latest checkpoint (the entries
	// after it are few); PartsTotal the number of parts.
	EntriesTotal int64
	PartsTotal   int
	// Done is true at the end of the phase.
	Done bool
}

// AuditResult is what an Audit found besides its problems.
type AuditResult struct {
	// Log is what Verify would return, without its Entries.
	Log *Log
	// Items is the number of items the table read gave.
	Items int64
	// Pending counts the items journaled after the latest checkpoint, not
	// yet covered by one; After the items journaled at or after TableTime
	// that the table read did not hold.
	Pending, After int
	// Problems is the number of problems reported.
	Problems int
}

// Run audits the journal against the items table gives (each once, in any
// order), calling report for each problem as it is found: first those of
// the journal itself (Verify's), then those of the comparison. An error is
// only a store or a table it could not read.
func (a *Audit) Run(ctx context.Context, table func(yield func(TableItem) error) error, report func(Problem)) (*AuditResult, error) {
	parts := a.Parts
	if parts <= 0 {
		parts = 256
	}
	dir, err := os.MkdirTemp(a.Dir, "appendonly-audit-")
	if err != nil {
		return nil, err
	}
	defer os.RemoveAll(dir)
	sp, err := newSpill(dir, parts)
	if err != nil {
		return nil, err
	}
	defer sp.close()
	res := &AuditResult{}
	emit := func(p Problem) {
		res.Problems++
		report(p)
	}
	progress := func(p Progress) {
		if a.Progress != nil {
			a.Progress(p)
		}
	}

	// The table first: whatever it holds was written before the journal
	// is read, so an honest sequencer has journaled it by then, but for
	// the last few seconds' (Settle).
	err = table(func(it TableItem) error {
		res.Items++
		if res.Items%ProgressEvery == 0 {
			progress(Progress{Phase: "table", Items: res.Items})
		}
		return sp.item(it.Key, sha256.Sum256(it.Item))
	})
	if err != nil {
		return nil, err
	}
	progress(Progress{Phase: "table", Items: res.Items, Done: true})

	l, err := a.Checkpoints(ctx)
	if err != nil {
		return nil, err
	}
	var entries int64
	r, err := a.walk(ctx, l, func(n int64, e *Entry) error {
		entries++
		if entries%ProgressEvery == 0 {
			progress(Progress{Phase: "journal", Items: res.Items, Entries: entries, EntriesTotal: l.Latest.Size})
		}
		if e == nil {
			return nil // named by walk
		}
		return sp.entry(recOf(e, n))
	})
	if err != nil {
		return nil, err
	}
	progress(Progress{Phase: "journal", Items: res.Items, Entries: entries, EntriesTotal: l.Latest.Size, Done: true})
	res.Log = l
	for _, p := range l.Problems {
		emit(p)
	}
	if err := sp.flush(); err != nil {
		return nil, err
	}

	unsettled := map[string][32]byte{}
	opts := compareOpts{signed: l.Latest.Size, tableTime: a.TableTime, nameTwice: true,
		notJournaled: func(it itemRec) {
			if a.Settle > 0 && len(unsettled) < MaxUnsettled {
				unsettled[it.key] = it.sum
				return
			}
			emit(notJournaled(it.key))
		}}
	for p := 0; p < parts; p++ {
		es, items, err := sp.read(p)
		if err != nil {
			return nil, err
		}
		pending, after := compare(es, items, opts, emit)
		res.Pending += pending
		res.After += after
		progress(Progress{Phase: "compare", Items: res.Items, Entries: entries, EntriesTotal: l.Latest.Size, Parts: p + 1, PartsTotal: parts, Done: p == parts-1})
	}
	if len(unsettled) > 0 {
		pending, err := a.settle(ctx, r, unsettled, emit)
		if err != nil {
			return nil, err
		}
		res.Pending += pending
	}
	return res, nil
}

// settle waits a.Settle, then reads the signed claims appended after the
// log a.walk read (its range r) for the items of unsettled: an INSERT of
// the same image is not yet covered (counted), one of another image a
// problem, and an item still in no entry not journaled.
func (a *Audit) settle(ctx context.Context, r *compact.Range, unsettled map[string][32]byte, emit func(Problem)) (pending int, err error) {
	sleep := a.Sleep
	if sleep == nil {
		sleep = func(ctx context.Context, d time.Duration) error {
			t := time.NewTimer(d)
			defer t.Stop()
			select {
			case <-ctx.Done():
				return ctx.Err()
			case <-t.C:
				return nil
			}
		}
	}
	if a.OnSettle != nil {
		a.OnSettle(len(unsettled), a.Settle)
	}
	if err := sleep(ctx, a.Settle); err != nil {
		return 0, err
	}
	ignore := func(string, int64, string, ...any) {} // the next audit reads these claims in full
	for n := int64(r.End()); len(unsettled) > 0; {
		c, err := a.nextClaim(ctx, n, ignore)
		if err != nil {
			return pending, err
		}
		if c == nil {
			break
		}
		next, err := extend(r, c)
		if err != nil {
			return pending, err
		}
		if next == nil {
			break
		}
		r = next
		for i, data := range c.entries {
			e, err := ParseEntry(data)
			if err != nil {
				continue
			}
			sum, ok := unsettled[string(e.Key)]
			if !ok {
				continue
			}
			delete(unsettled, string(e.Key))
			switch {
			case e.Kind == Insert && e.NewImage.Sum == sum:
				pending++
			case e.Kind == Insert:
				emit(Problem{What: "changed", Index: n + int64(i), Key: FormatKey(e.Key),
					Detail: "the table's item differs from the image its INSERT journaled (not yet covered by a checkpoint)"})
			default:
				emit(laterEntry(recOf(e, n+int64(i)), nil, true))
			}
		}
		n = c.end
	}
	keys := make([]string, 0, len(unsettled))
	for k := range unsettled {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	for _, k := range keys {
		emit(notJournaled(k))
	}
	return pending, nil
}

func notJournaled(key string) Problem {
	return Problem{What: "not journaled", Index: -1, Key: FormatKey([]byte(key)),
		Detail: "the item is in the table but in no journal entry: written while the stream or the sequencer was off, " +
			"or the stream lost its record (a gap in the feed), or written less than a batching window ago (verify again)"}
}

// entryRec is what the comparison needs of an entry.
type entryRec struct {
	index   int64
	kind    Kind
	created time.Time
	sum     [32]byte // the new image's, for an INSERT
	key     string
	event   string
}

func recOf(e *Entry, n int64) entryRec {
	return entryRec{index: n, kind: e.Kind, created: e.Created, sum: e.NewImage.Sum, key: string(e.Key), event: e.EventID}
}

// itemRec is what the comparison needs of a table item.
type itemRec struct {
	key string
	sum [32]byte
}

type compareOpts struct {
	// signed is the latest checkpoint's size: entries below it are
	// evidence, those after it not yet covered.
	signed int64
	// tableTime: see Audit.TableTime.
	tableTime time.Time
	// nameTwice names a stream record journaled twice (Verify names them
	// for CompareTable).
	nameTwice bool
	// notJournaled is told of an item no entry holds (default: a problem).
	notJournaled func(itemRec)
}

// compare checks items against the entries of the same keys, in index
// order: each item's record is the image of its key's first signed
// INSERT. Problems come in the entries' order, then the items', then the
// deleted items' in the order of their first entry.
func compare(entries []entryRec, items []itemRec, o compareOpts, emit func(Problem)) (pending, after int) {
	type state struct {
		first      int64 // the first signed INSERT, or -1
		firstAt    time.Time
		sum        [32]byte
		last       *entryRec
		pendingSum *[32]byte // the image of a first INSERT not yet covered
	}
	journal := map[string]*state{}
	var order []string
	events := map[string]int64{}
	for i := range entries {
		e := &entries[i]
		if j, ok := events[e.event]; ok {
			if o.nameTwice {
				emit(journaledTwice(e.event, e.index, j))
			}
			continue // one change, named once
		}
		events[e.event] = e.index
		st := journal[e.key]
		if st == nil {
			st = &state{first: -1}
			journal[e.key] = st
			order = append(order, e.key)
			if e.kind == Insert {
				if e.index < o.signed {
					st.first, st.firstAt, st.sum = e.index, e.created, e.sum
				} else {
					sum := e.sum
					st.pendingSum = &sum
				}
				st.last = e
				continue
			}
		}
		emit(laterEntry(*e, st.last, e.index >= o.signed))
		st.last = e
	}
	inTable := map[string]bool{}
	for _, it := range items {
		inTable[it.key] = true
		st, ok := journal[it.key]
		switch {
		case !ok:
			if o.notJournaled != nil {
				o.notJournaled(it)
			} else {
				emit(notJournaled(it.key))
			}
		case st.first >= 0 && it.sum != st.sum:
			emit(Problem{What: "changed", Index: st.first, Key: FormatKey([]byte(it.key)),
				Detail: "the table's item differs from the image its first signed INSERT journaled"})
		case st.first >= 0:
		case st.pendingSum != nil && *st.pendingSum == it.sum:
			pending++
		case st.pendingSum != nil:
			emit(Problem{What: "changed", Index: -1, Key: FormatKey([]byte(it.key)),
				Detail: "the table's item differs from the image its INSERT journaled (not yet covered by a checkpoint)"})
		default:
			emit(Problem{What: "not journaled", Index: -1, Key: FormatKey([]byte(it.key)),
				Detail: "the journal holds no INSERT of the item, only later entries (named above): it was written before the journal"})
		}
	}
	for _, k := range order {
		st := journal[k]
		if st.first < 0 || inTable[k] {
			continue
		}
		// Created is in whole seconds: an INSERT in the second before
		// TableTime may be after it.
		if !o.tableTime.IsZero() && st.firstAt.Add(time.Second).After(o.tableTime) {
			after++
			continue
		}
		emit(Problem{What: "deleted", Index: st.first, Key: FormatKey([]byte(k)),
			Detail: "the journal's first signed INSERT holds the item, the table does not"})
	}
	return pending, after
}

// spill writes items and entries to parts by a hash of their key, so that
// every record of a key is in one part.
type spill struct {
	files []*os.File
	w     []*bufio.Writer
	buf   []byte
}

func newSpill(dir string, parts int) (*spill, error) {
	s := &spill{}
	for p := 0; p < parts; p++ {
		f, err := os.Create(filepath.Join(dir, fmt.Sprintf("part-%04d", p)))
		if err != nil {
			s.close()
			return nil, err
		}
		s.files = append(s.files, f)
		s.w = append(s.w, bufio.NewWriterSize(f, 32<<10))
	}
	return s, nil
}

func (s *spill) part(key []byte) int {
	h := fnv.New32a()
	h.Write(key)
	return int(h.Sum32() % uint32(len(s.files)))
}

// Records: 'T' len key sum[32] (an item); 'E' index kind created sum[32]
// len key len event (an entry); lengths and numbers as uvarints.
func (s *spill) item(key []byte, sum [32]byte) error {
	b := append(s.buf[:0], 'T')
	b = binary.AppendUvarint(b, uint64(len(key)))
	b = append(b, key...)
	b = append(b, sum[:]...)
	s.buf = b
	_, err := s.w[s.part(key)].Write(b)
	return err
}

func (s *spill) entry(e entryRec) error {
	b := append(s.buf[:0], 'E')
	b = binary.AppendUvarint(b, uint64(e.index))
	b = append(b, byte(e.kind))
	b = binary.AppendVarint(b, e.created.Unix())
	b = append(b, e.sum[:]...)
	b = binary.AppendUvarint(b, uint64(len(e.key)))
	b = append(b, e.key...)
	b = binary.AppendUvarint(b, uint64(len(e.event)))
	b = append(b, e.event...)
	s.buf = b
	_, err := s.w[s.part([]byte(e.key))].Write(b)
	return err
}

func (s *spill) flush() error {
	for _, w := range s.w {
		if err := w.Flush(); err != nil {
			return err
		}
	}
	return nil
}

// read reads part p: its entries in index order, its items by key.
func (s *spill) read(p int) ([]entryRec, []itemRec, error) {
	f := s.files[p]
	if _, err := f.Seek(0, io.SeekStart); err != nil {
		return nil, nil, err
	}
	r := bufio.NewReaderSize(f, 64<<10)
	var entries []entryRec
	var items []itemRec
	bad := errors.New("journal: audit: a part file is damaged")
	str := func() (string, error) {
		n, err := binary.ReadUvarint(r)
		if err != nil {
			return "", bad
		}
		b := make([]byte, n)
		if _, err := io.ReadFull(r, b); err != nil {
			return "", bad
		}
		return string(b), nil
	}
	var sum [32]byte
	for {
		tag, err := r.ReadByte()
		if err == io.EOF {
			break
		}
		if err != nil {
			return nil, nil, err
		}
		switch tag {
		case 'T':
			key, err := str()
			if err != nil {
				return nil, nil, err
			}
			if _, err := io.ReadFull(r, sum[:]); err != nil {
				return nil, nil, bad
			}
			items = append(items, itemRec{key: key, sum: sum})
		case 'E':
			var e entryRec
			n, err1 := binary.ReadUvarint(r)
			k, err2 := r.ReadByte()
			c, err3 := binary.ReadVarint(r)
			_, err4 := io.ReadFull(r, e.sum[:])
			if errors.Join(err1, err2, err3, err4) != nil {
				return nil, nil, bad
			}
			e.index, e.kind, e.created = int64(n), Kind(k), time.Unix(c, 0).UTC()
			if e.key, err = str(); err != nil {
				return nil, nil, err
			}
			if e.event, err = str(); err != nil {
				return nil, nil, err
			}
			entries = append(entries, e)
		default:
			return nil, nil, bad
		}
	}
	slices.SortFunc(items, func(a, b itemRec) int { return cmp.Compare(a.key, b.key) })
	return entries, items, nil
}

func (s *spill) close() {
	for _, f := range s.files {
		f.Close()
	}
}

// ErrEmpty is FirstKey's error for a journal with no entry.
var ErrEmpty = errors.New("journal: the journal has no entry yet")

// FirstKey returns the key of the journal's first entry, from its signed
// claim: the table's key attributes, by name, each of its type. It lets a
// verifier that cannot read the table (an export, a copy of the bucket)
// find each item's key.
func (v *Verifier) FirstKey(ctx context.Context) ([]byte, error) {
	var why []string
	c, err := v.nextClaim(ctx, 0, func(_ string, _ int64, format string, args ...any) { why = append(why, fmt.Sprintf(format, args...)) })
	if err != nil {
		return nil, err
	}
	if c == nil || len(c.entries) == 0 {
		if len(why) > 0 {
			return nil, fmt.Errorf("%w: %s", ErrTampering, why[0])
		}
		return nil, ErrEmpty
	}
	e, err := ParseEntry(c.entries[0])
	if err != nil {
		return nil, fmt.Errorf("%w: entry 0: %v", ErrTampering, err)
	}
	return e.Key, nil
}
