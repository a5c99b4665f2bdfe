package journal

import (
	"crypto/ed25519"
	"crypto/x509"
	"encoding/base64"
	"errors"
	"fmt"
	"strconv"
	"strings"

	"golang.org/x/mod/sumdb/note"
	"golang.org/x/mod/sumdb/tlog"
)

// Checkpoint is a C2SP tlog-checkpoint: the log's origin (the table's ARN),
// its size and the RFC 6962 root hash of its first Size entries.
type Checkpoint struct {
	Origin string
	Size   int64
	Root   tlog.Hash
}

// Text is the checkpoint's body, the text a signed note signs.
func (c Checkpoint) Text() string {
	return c.Origin + "\n" + strconv.FormatInt(c.Size, 10) + "\n" + base64.StdEncoding.EncodeToString(c.Root[:]) + "\n"
}

// ParseCheckpoint parses a checkpoint's body, strictly: an origin line, a
// decimal size with no leading zeros, a base64 SHA-256 hash; extension lines
// after them are allowed and ignored.
func ParseCheckpoint(text string) (Checkpoint, error) {
	lines := strings.Split(text, "\n")
	if len(lines) < 4 || lines[len(lines)-1] != "" {
		return Checkpoint{}, errors.New("journal: a checkpoint is an origin, a size and a root hash, each on a line")
	}
	c := Checkpoint{Origin: lines[0]}
	if c.Origin == "" {
		return Checkpoint{}, errors.New("journal: checkpoint: empty origin")
	}
	size, err := strconv.ParseInt(lines[1], 10, 64)
	if err != nil || size < 0 || strconv.FormatInt(size, 10) != lines[1] {
		return Checkpoint{}, fmt.Errorf("journal: checkpoint: size %q is not a decimal number", lines[1])
	}
	c.Size = size
	root, err := base64.StdEncoding.DecodeString(lines[2])
	if err != nil || len(root) != len(c.Root) {
		return Checkpoint{}, fmt.Errorf("journal: checkpoint: root %q is not a base64 SHA-256 hash", lines[2])
	}
	copy(c.Root[:], root)
	return c, nil
}

// extends reports whether c's tree extends older's: an RFC 6962 consistency
// proof from older.Size to c.Size, its hashes read through tiles, checks
// against both roots.
func (c Checkpoint) extends(older Checkpoint, tiles tlog.HashReader) error {
	p, err := tlog.ProveTree(c.Size, older.Size, tiles)
	if err != nil {
		return err
	}
	return tlog.CheckTree(p, c.Size, c.Root, older.Size, older.Root)
}

// OpenCheckpoint verifies a signed checkpoint with v and parses it; the
// origin must be v's name.
func OpenCheckpoint(signed []byte, v note.Verifier) (Checkpoint, error) {
	n, err := note.Open(signed, note.VerifierList(v))
	if err != nil {
		return Checkpoint{}, fmt.Errorf("journal: checkpoint signature: %w", err)
	}
	c, err := ParseCheckpoint(n.Text)
	if err != nil {
		return Checkpoint{}, err
	}
	if c.Origin != v.Name() {
		return Checkpoint{}, fmt.Errorf("journal: the checkpoint's origin is %q, the key's name %q", c.Origin, v.Name())
	}
	return c, nil
}

// SignCheckpoint signs c as a C2SP signed note.
func SignCheckpoint(c Checkpoint, s note.Signer) ([]byte, error) {
	return note.Sign(&note.Note{Text: c.Text()}, s)
}

// VerifierKey returns the signed-note verifier key (name+hash+key) of an
// Ed25519 public key in the DER (SubjectPublicKeyInfo) form KMS
// GetPublicKey returns.
func VerifierKey(name string, der []byte) (string, error) {
	pub, err := x509.ParsePKIXPublicKey(der)
	if err != nil {
		return "", fmt.Errorf("journal: public key: %w", err)
	}
	ed, ok := pub.(ed25519.PublicKey)
	if !ok {
		return "", fmt.Errorf("journal: public key is a %T, not Ed25519 (KMS key spec ECC_NIST_EDWARDS25519)", pub)
	}
	return note.NewEd25519VerifierKey(name, ed)
}

// Ed25519Signer is a note.Signer whose signing happens elsewhere (in KMS):
// sign receives the note's text and returns the 64-byte Ed25519 signature.
type Ed25519Signer struct {
	name string
	hash uint32
	sign func(msg []byte) ([]byte, error)
}

// NewEd25519Signer makes a signer named name for the public key der (DER
// SubjectPublicKeyInfo), signing with sign.
func NewEd25519Signer(name string, der []byte, sign func(msg []byte) ([]byte, error)) (*Ed25519Signer, error) {
	vkey, err := VerifierKey(name, der)
	if err != nil {
		return nil, err
	}
	v, err := note.NewVerifier(vkey)
	if err != nil {
		return nil, fmt.Errorf("journal: signer name %q: %w", name, err)
	}
	return &Ed25519Signer{name: name, hash: v.KeyHash(), sign: sign}, nil
}

// Name implements note.Signer.
func (s *Ed25519Signer) Name() string { return s.name }

// KeyHash implements note.Signer.
func (s *Ed25519Signer) KeyHash() uint32 { return s.hash }

// Sign implements note.Signer.
func (s *Ed25519Signer) Sign(msg []byte) ([]byte, error) {
	sig, err := s.sign(msg)
	if err == nil && len(sig) != ed25519.SignatureSize {
		err = fmt.Errorf("journal: the signature is %d bytes, not an Ed25519 signature's %d", len(sig), ed25519.SignatureSize)
	}
	return sig, err
}
