package journal

import (
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"strings"
	"testing"

	"golang.org/x/mod/sumdb/note"
	"golang.org/x/mod/sumdb/tlog"
)

// TestEd25519SignerAsKMSSigns signs as the sequencer does with KMS (a raw
// message, a 64-byte Ed25519 signature, the public key in DER) and checks
// the note with only the verifier key VerifierKey prints.
func TestEd25519SignerAsKMSSigns(t *testing.T) {
	pub, priv, _ := ed25519.GenerateKey(rand.Reader)
	der, _ := x509.MarshalPKIXPublicKey(pub)
	s, err := NewEd25519Signer(testOrigin, der, func(msg []byte) ([]byte, error) { return ed25519.Sign(priv, msg), nil })
	if err != nil {
		t.Fatal(err)
	}
	c := Checkpoint{Origin: testOrigin, Size: 42, Root: tlog.RecordHash([]byte("x"))}
	signed, err := SignCheckpoint(c, s)
	if err != nil {
		t.Fatal(err)
	}
	vkey, err := VerifierKey(testOrigin, der)
	if err != nil {
		t.Fatal(err)
	}
	v, err := note.NewVerifier(vkey)
	if err != nil {
		t.Fatal(err)
	}
	got, err := OpenCheckpoint(signed, v)
	if err != nil || got != c {
		t.Errorf("got %v, %v, want %v", got, err, c)
	}
	bad, _ := NewEd25519Signer(testOrigin, der, func([]byte) ([]byte, error) { return []byte("short"), nil })
	if _, err := SignCheckpoint(c, bad); err == nil || !strings.Contains(err.Error(), "not an Ed25519 signature's 64") {
		t.Errorf("a 5-byte signature: got %v", err)
	}
	ec, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	ecDER, _ := x509.MarshalPKIXPublicKey(&ec.PublicKey)
	if _, err := VerifierKey(testOrigin, ecDER); err == nil || !strings.Contains(err.Error(), "ECC_NIST_EDWARDS25519") {
		t.Errorf("a P-256 key: got %v, want an error naming the key spec", err)
	}
}

func TestParseCheckpointIsStrict(t *testing.T) {
	root := "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA="
	for _, text := range []string{
		"",
		"origin\n1\n" + root,              // no final newline
		"\n1\n" + root + "\n",             // empty origin
		"origin\n01\n" + root + "\n",      // leading zero
		"origin\n-1\n" + root + "\n",      // negative
		"origin\n1\nnot base64!\n",        // bad root
		"origin\n1\n" + root[:20] + "=\n", // short root
	} {
		if _, err := ParseCheckpoint(text); err == nil {
			t.Errorf("%q parsed", text)
		}
	}
	if c, err := ParseCheckpoint("origin\n1\n" + root + "\nextension line\n"); err != nil || c.Size != 1 {
		t.Errorf("with an extension line: %v %v", c, err)
	}
}

func TestParseIndexIsStrict(t *testing.T) {
	for _, c := range []struct {
		s    string
		want int64
	}{{"000", 0}, {"067", 67}, {"x001/x234/067", 1234067}} {
		if got, err := ParseIndex(c.s); err != nil || got != c.want {
			t.Errorf("ParseIndex(%q) = %d, %v, want %d", c.s, got, err, c.want)
		}
		if got := encodeIndex(c.want); got != c.s {
			t.Errorf("encodeIndex(%d) = %q, want %q", c.want, got, c.s)
		}
	}
	for _, s := range []string{"1", "0001", "001/234", "x000/001", "x1/234", "abc"} {
		if _, err := ParseIndex(s); err == nil {
			t.Errorf("ParseIndex(%q) accepted", s)
		}
	}
	if got := TilePath(1, 1234067, 5); got != "tile/1/x001/x234/067.p/5" {
		t.Errorf("TilePath = %q", got)
	}
	if got := EntriesPath(3, TileWidth); got != "tile/entries/003" {
		t.Errorf("EntriesPath = %q", got)
	}
}

func TestEntryRoundTripAndStrictness(t *testing.T) {
	e, blobs, err := newEntry(insert(1, 100))
	if err != nil || len(blobs) != 0 {
		t.Fatal(err, blobs)
	}
	data, _ := e.MarshalBinary()
	back, err := ParseEntry(data)
	if err != nil {
		t.Fatal(err)
	}
	again, _ := back.MarshalBinary()
	if string(again) != string(data) {
		t.Error("an entry does not round-trip")
	}
	for _, bad := range [][]byte{nil, data[:len(data)-1], append(append([]byte{}, data...), 0), append([]byte{'E', 2}, data[2:]...)} {
		if _, err := ParseEntry(bad); err == nil {
			t.Errorf("a damaged entry of %d bytes parsed", len(bad))
		}
	}
}
