package journal

import (
	"bytes"
	"encoding/base64"
	"encoding/binary"
	"errors"
	"fmt"
	"strconv"
	"strings"

	"golang.org/x/mod/sumdb/note"
	"golang.org/x/mod/sumdb/tlog"
)

// A sequence claim is the commit point of an append: the object
// appendonly/sequence/<start>, created only if absent, holding the entries
// that take the log from size start to end, and a signed note over start,
// end and the root hash at end. The signature is what lets a sequencer
// build on a claim it did not write, and verify name one nobody signed: a
// principal that can put objects into the bucket but not sign cannot make
// the sequencer complete, and then checkpoint, entries of its own.
//
// Claim object, version 2:
//
//	appendonly-journal-sequence/v2 LF
//	uint32 length, big-endian; the signed claim note
//	the entries, as an entry bundle (each a big-endian uint16 length and the entry)
//
// Claim note text:
//
//	appendonly-journal-claim/v1
//	<origin>
//	<start>
//	<end>
//	<base64 root hash of the log at end>
//
// Its first line is never a log's origin, so the key's signature over a
// claim can never be read as a checkpoint (OpenCheckpoint requires the
// origin first), and a signature over a claim that lost the race to
// another is never a second checkpoint of the same size.
const (
	claimHeader     = "appendonly-journal-sequence/v2\n"
	claimNoteHeader = "appendonly-journal-claim/v1"
)

type claim struct {
	start, end int64
	root       tlog.Hash
	entries    [][]byte
	signed     []byte // the signed claim note
}

func (c *claim) text(origin string) string {
	return fmt.Sprintf("%s\n%s\n%d\n%d\n%s\n", claimNoteHeader, origin, c.start, c.end, base64.StdEncoding.EncodeToString(c.root[:]))
}

// sign signs the claim's note.
func (c *claim) sign(origin string, s note.Signer) error {
	signed, err := note.Sign(&note.Note{Text: c.text(origin)}, s)
	if err != nil {
		return fmt.Errorf("journal: signing claim %d-%d: %w", c.start, c.end, err)
	}
	c.signed = signed
	return nil
}

func (c *claim) marshal() []byte {
	var b bytes.Buffer
	b.WriteString(claimHeader)
	_ = binary.Write(&b, binary.BigEndian, uint32(len(c.signed)))
	b.Write(c.signed)
	b.Write(marshalBundle(c.entries))
	return b.Bytes()
}

// errUnsignedClaim is what openClaim returns for a claim whose note does
// not verify with the journal's key: nobody who can sign wrote it.
var errUnsignedClaim = errors.New("not signed with the journal's key")

// openClaim parses the claim at sequencePath(start) and checks its note's
// signature with v; the origin is v's name. It does not check the entries
// against the root: that needs the log before start.
func openClaim(data []byte, start int64, v note.Verifier) (*claim, error) {
	rest, ok := bytes.CutPrefix(data, []byte(claimHeader))
	if !ok {
		return nil, errors.New("not a version 2 sequence claim")
	}
	if len(rest) < 4 || int(binary.BigEndian.Uint32(rest)) > len(rest)-4 {
		return nil, errors.New("truncated claim note")
	}
	n := int(binary.BigEndian.Uint32(rest))
	signed, body := rest[4:4+n], rest[4+n:]
	nt, err := note.Open(signed, note.VerifierList(v))
	if err != nil {
		return nil, fmt.Errorf("%w (%v)", errUnsignedClaim, err)
	}
	lines := strings.Split(nt.Text, "\n")
	if len(lines) != 6 || lines[0] != claimNoteHeader || lines[1] != v.Name() || lines[5] != "" {
		return nil, fmt.Errorf("%w: its note is not a claim of %s", errUnsignedClaim, v.Name())
	}
	c := &claim{signed: bytes.Clone(signed)}
	var err1, err2 error
	c.start, err1 = strconv.ParseInt(lines[2], 10, 64)
	c.end, err2 = strconv.ParseInt(lines[3], 10, 64)
	root, err3 := base64.StdEncoding.DecodeString(lines[4])
	if errors.Join(err1, err2, err3) != nil || len(root) != tlog.HashSize || c.start != start || c.end <= c.start {
		return nil, fmt.Errorf("the signed note claims %q-%q, not entries from %d on", lines[2], lines[3], start)
	}
	copy(c.root[:], root)
	if c.entries, err = parseBundle(body); err != nil {
		return nil, err
	}
	if int64(len(c.entries)) != c.end-c.start {
		return nil, fmt.Errorf("it holds %d entries, its note says %d", len(c.entries), c.end-c.start)
	}
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
