package journal

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/binary"
	"errors"
	"fmt"
	"sync"
	"time"
)

// A batch sidecar goes with each sequence claim: for each of the claim's
// entries, the first 8 bytes of the SHA-256 of its event id and of its
// key's canonical encoding. It is written before its claim, so every claim
// has one; a sidecar whose claim lost the race to another is stale. Its
// name begins with the time it was written:
//
//	appendonly/batch/<unix nanoseconds, 19 digits>-<start, 20 digits>-<8 hex digits>
//
// The sequencer finds the records of a batch already journaled (Lambda
// delivers at least once) among the sidecars written since the batch's
// oldest record was created, less DedupClockSkew; prove finds a key's
// entries by them. Every hit is confirmed against the signed claim and its
// entry, so a stale sidecar, or one somebody else wrote, can neither drop a
// record nor point a proof at another item's entry. One that is missing or
// hidden can only make a record journaled twice, which verify names.
//
// Sidecar, version 1:
//
//	appendonly-journal-batch/v1 LF
//	uint64 start, uint32 count, big-endian
//	count × (uint64 event hash, uint64 key hash)
const (
	batchPrefix = "appendonly/batch/"
	batchHeader = "appendonly-journal-batch/v1\n"
	// DedupClockSkew bounds how far the sequencer's clock may run behind
	// DynamoDB's: a record redelivered is found among the sidecars written
	// since its creation less this. A larger skew can journal a redelivered
	// record twice, which verify names.
	DedupClockSkew = 30 * time.Second
)

type batchIndex struct {
	start        int64
	events, keys []uint64
}

func shortHash(b []byte) uint64 {
	h := sha256.Sum256(b)
	return binary.BigEndian.Uint64(h[:8])
}

// batchPath names a sidecar written at t for the claim at start.
func batchPath(t time.Time, start int64) string {
	var nonce [4]byte
	_, _ = rand.Read(nonce[:])
	return fmt.Sprintf("%s%019d-%020d-%x", batchPrefix, t.UnixNano(), start, nonce)
}

// batchesSince is what List starts after to find the sidecars written
// since t.
func batchesSince(t time.Time) string {
	if t.UnixNano() <= 0 {
		return ""
	}
	return fmt.Sprintf("%s%019d", batchPrefix, t.UnixNano())
}

func (b *batchIndex) marshal() []byte {
	var buf bytes.Buffer
	buf.WriteString(batchHeader)
	_ = binary.Write(&buf, binary.BigEndian, uint64(b.start))
	_ = binary.Write(&buf, binary.BigEndian, uint32(len(b.events)))
	for i := range b.events {
		_ = binary.Write(&buf, binary.BigEndian, b.events[i])
		_ = binary.Write(&buf, binary.BigEndian, b.keys[i])
	}
	return buf.Bytes()
}

func parseBatch(data []byte) (*batchIndex, error) {
	rest, ok := bytes.CutPrefix(data, []byte(batchHeader))
	if !ok || len(rest) < 12 {
		return nil, errors.New("journal: not a batch sidecar")
	}
	b := &batchIndex{start: int64(binary.BigEndian.Uint64(rest))}
	n := int(binary.BigEndian.Uint32(rest[8:]))
	rest = rest[12:]
	if b.start < 0 || len(rest) != 16*n {
		return nil, errors.New("journal: batch sidecar: damaged")
	}
	for i := 0; i < n; i++ {
		b.events = append(b.events, binary.BigEndian.Uint64(rest[16*i:]))
		b.keys = append(b.keys, binary.BigEndian.Uint64(rest[16*i+8:]))
	}
	return b, nil
}

// eachBatch reads the sidecars written since since (all of them for the
// zero time), parallel at a time, and calls f with each, under a lock.
// A sidecar that is gone or does not parse is passed over: it is no
// evidence of anything, and at worst a record is journaled twice, which
// verify names.
func eachBatch(ctx context.Context, st Store, since time.Time, parallelism int, f func(*batchIndex)) error {
	after := ""
	if !since.IsZero() {
		after = batchesSince(since)
	}
	names, err := st.List(ctx, batchPrefix, after)
	if err != nil {
		return err
	}
	var mu sync.Mutex
	return parallel(len(names), parallelism, func(k int) error {
		data, err := st.Get(ctx, names[k])
		if errors.Is(err, ErrNotExist) {
			return nil
		}
		if err != nil {
			return err
		}
		b, err := parseBatch(data)
		if err != nil {
			return nil
		}
		mu.Lock()
		defer mu.Unlock()
		f(b)
		return nil
	})
}
