package journal

import (
	"bytes"
	"crypto/sha256"
	"encoding/binary"
	"errors"
	"fmt"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/appendonly/appendonly/ledger"
)

// Kind is what a stream record says happened to an item.
type Kind byte

// The kinds of entry. Only Insert happens while the table's denies hold;
// Modify and Remove are kept with the item's old image, and verification
// reports them.
const (
	Insert Kind = 'I'
	Modify Kind = 'M'
	Remove Kind = 'R'
)

func (k Kind) String() string {
	switch k {
	case Insert:
		return "INSERT"
	case Modify:
		return "MODIFY"
	case Remove:
		return "REMOVE"
	}
	return fmt.Sprintf("Kind(%d)", byte(k))
}

// ParseKind parses a stream record's event name: INSERT, MODIFY or REMOVE.
func ParseKind(eventName string) (Kind, error) {
	switch eventName {
	case "INSERT":
		return Insert, nil
	case "MODIFY":
		return Modify, nil
	case "REMOVE":
		return Remove, nil
	}
	return 0, fmt.Errorf("journal: stream event name %q: want INSERT, MODIFY or REMOVE", eventName)
}

// Record is one DynamoDB stream record, as the sequencer receives it.
type Record struct {
	// EventID is the stream record's unique id: the sequencer journals each
	// id once, however often it is delivered.
	EventID string
	Kind    Kind
	// SequenceNumber is the record's sequence number in its shard.
	SequenceNumber string
	// Created is the stream record's ApproximateCreationDateTime.
	Created  time.Time
	Keys     map[string]types.AttributeValue
	NewImage map[string]types.AttributeValue // Insert and Modify
	OldImage map[string]types.AttributeValue // Modify and Remove
}

// Image is an item image in an entry: its canonical encoding (ledger.Encode)
// held in the entry, or, when the entry would pass MaxEntrySize, only its
// SHA-256 and length, the encoding itself kept as a blob object beside the
// log.
type Image struct {
	Present bool
	// Inline is the canonical encoding, nil when it is kept as a blob.
	Inline []byte
	// Sum and Size identify the canonical encoding wherever it is kept.
	Sum  [32]byte
	Size int
}

// Entry is one leaf of the journal: what the sequencer appends to the log
// for one stream record. Its encoding (MarshalBinary, version 1) is the
// entry bundles' content and the Merkle tree's leaf.
type Entry struct {
	Kind           Kind
	EventID        string
	SequenceNumber string
	Created        time.Time // whole seconds, UTC
	// Key is the canonical encoding of the item's key attributes.
	Key      []byte
	NewImage Image
	OldImage Image
}

const entryVersion = 1

// Entry encoding, version 1, every length big-endian:
//
//	'E' 0x01 kind                  kind is 'I', 'M' or 'R'
//	int64  created, Unix seconds
//	uint16 len, event id
//	uint16 len, sequence number
//	uint32 len, key (canonical encoding)
//	image  new image
//	image  old image
//
// image is 0x00 (absent), 0x01 uint32 len bytes (inline canonical
// encoding) or 0x02 sha256[32] uint32 len (a blob).

// MarshalBinary encodes the entry.
func (e *Entry) MarshalBinary() ([]byte, error) {
	if len(e.EventID) > 0xffff || len(e.SequenceNumber) > 0xffff {
		return nil, errors.New("journal: event id or sequence number too long")
	}
	var b bytes.Buffer
	b.Write([]byte{'E', entryVersion, byte(e.Kind)})
	_ = binary.Write(&b, binary.BigEndian, e.Created.Unix())
	_ = binary.Write(&b, binary.BigEndian, uint16(len(e.EventID)))
	b.WriteString(e.EventID)
	_ = binary.Write(&b, binary.BigEndian, uint16(len(e.SequenceNumber)))
	b.WriteString(e.SequenceNumber)
	_ = binary.Write(&b, binary.BigEndian, uint32(len(e.Key)))
	b.Write(e.Key)
	for _, im := range []Image{e.NewImage, e.OldImage} {
		switch {
		case !im.Present:
			b.WriteByte(0)
		case im.Inline != nil:
			b.WriteByte(1)
			_ = binary.Write(&b, binary.BigEndian, uint32(len(im.Inline)))
			b.Write(im.Inline)
		default:
			b.WriteByte(2)
			b.Write(im.Sum[:])
			_ = binary.Write(&b, binary.BigEndian, uint32(im.Size))
		}
	}
	return b.Bytes(), nil
}

// ParseEntry decodes an entry, strictly: anything but a version 1 entry
// with nothing after it is an error.
func ParseEntry(data []byte) (*Entry, error) {
	r := &reader{data: data}
	head := r.next(3)
	if r.err == nil && (head[0] != 'E' || head[1] != entryVersion) {
		return nil, errors.New("journal: not a version 1 entry")
	}
	e := &Entry{}
	if r.err == nil {
		e.Kind = Kind(head[2])
		if e.Kind != Insert && e.Kind != Modify && e.Kind != Remove {
			return nil, fmt.Errorf("journal: entry of unknown kind %q", head[2])
		}
	}
	e.Created = time.Unix(int64(r.u64()), 0).UTC()
	e.EventID = string(r.next(int(r.u16())))
	e.SequenceNumber = string(r.next(int(r.u16())))
	e.Key = bytes.Clone(r.next(int(r.u32())))
	for _, im := range []*Image{&e.NewImage, &e.OldImage} {
		switch tag := r.next(1); {
		case r.err != nil:
		case tag[0] == 0:
		case tag[0] == 1:
			im.Present = true
			im.Inline = bytes.Clone(r.next(int(r.u32())))
			im.Sum = sha256.Sum256(im.Inline)
			im.Size = len(im.Inline)
		case tag[0] == 2:
			im.Present = true
			copy(im.Sum[:], r.next(32))
			im.Size = int(r.u32())
		default:
			return nil, fmt.Errorf("journal: entry image of unknown form %d", tag[0])
		}
	}
	if r.err != nil {
		return nil, fmt.Errorf("journal: entry: %w", r.err)
	}
	if len(r.data) != 0 {
		return nil, fmt.Errorf("journal: entry: %d bytes after its end", len(r.data))
	}
	return e, nil
}

// Image returns the canonical encoding of an image, inline or as a blob
// fetched with get (and checked against its SHA-256).
func (im Image) Bytes(get func(path string) ([]byte, error)) ([]byte, error) {
	if im.Inline != nil || !im.Present {
		return im.Inline, nil
	}
	data, err := get(blobPath(im.Sum))
	if err != nil {
		return nil, fmt.Errorf("journal: blob %x: %w", im.Sum, err)
	}
	if sha256.Sum256(data) != im.Sum || len(data) != im.Size {
		return nil, fmt.Errorf("journal: blob %x does not hash to its name", im.Sum)
	}
	return data, nil
}

type reader struct {
	data []byte
	err  error
}

func (r *reader) next(n int) []byte {
	if r.err != nil {
		return nil
	}
	if n > len(r.data) {
		r.err = errors.New("truncated")
		return nil
	}
	p := r.data[:n]
	r.data = r.data[n:]
	return p
}

func (r *reader) u16() uint16 {
	if p := r.next(2); p != nil {
		return binary.BigEndian.Uint16(p)
	}
	return 0
}

func (r *reader) u32() uint32 {
	if p := r.next(4); p != nil {
		return binary.BigEndian.Uint32(p)
	}
	return 0
}

func (r *reader) u64() uint64 {
	if p := r.next(8); p != nil {
		return binary.BigEndian.Uint64(p)
	}
	return 0
}

// newEntry encodes a stream record as an entry. Images that would take the
// entry past MaxEntrySize become blobs, returned for the caller to store:
// the new image first, then the old. Nothing an item holds can make this
// fail: every value DynamoDB stores has a canonical encoding, and a key is
// at most 3 KB.
func newEntry(r Record) (*Entry, [][]byte, error) {
	e := &Entry{Kind: r.Kind, EventID: r.EventID, SequenceNumber: r.SequenceNumber, Created: r.Created.UTC().Truncate(time.Second)}
	var err error
	if e.Key, err = ledger.Encode(r.Keys); err != nil {
		return nil, nil, fmt.Errorf("journal: record %s: key: %w", r.EventID, err)
	}
	images := []struct {
		item map[string]types.AttributeValue
		im   *Image
	}{{r.NewImage, &e.NewImage}, {r.OldImage, &e.OldImage}}
	for _, x := range images {
		if x.item == nil {
			continue
		}
		enc, err := ledger.Encode(x.item)
		if err != nil {
			return nil, nil, fmt.Errorf("journal: record %s: image: %w", r.EventID, err)
		}
		*x.im = Image{Present: true, Inline: enc, Sum: sha256.Sum256(enc), Size: len(enc)}
	}
	var blobs [][]byte
	for _, x := range images {
		data, err := e.MarshalBinary()
		if err != nil {
			return nil, nil, err
		}
		if len(data) <= MaxEntrySize {
			break
		}
		if x.im.Inline != nil {
			blobs = append(blobs, x.im.Inline)
			x.im.Inline = nil
		}
	}
	if data, err := e.MarshalBinary(); err != nil || len(data) > MaxEntrySize {
		return nil, nil, fmt.Errorf("journal: record %s: the entry is over %d bytes even with its images as blobs", r.EventID, MaxEntrySize)
	}
	return e, blobs, nil
}
