package appendonly

import (
	"bytes"
	"os"
	"path/filepath"
	"testing"
)

// TestSequencerBuildIsReproducible builds the sequencer twice, past the
// cache, and compares the binaries byte for byte: the asset CloudFormation
// deploys depends only on the source and the Go toolchain.
func TestSequencerBuildIsReproducible(t *testing.T) {
	dir, err := moduleDir()
	if err != nil {
		t.Fatal(err)
	}
	var bins [][]byte
	for i := 0; i < 2; i++ {
		out := filepath.Join(t.TempDir(), "bootstrap")
		cmd := buildCommand(dir, out)
		if b, err := cmd.CombinedOutput(); err != nil {
			t.Fatalf("%v\n%s", err, b)
		}
		data, err := os.ReadFile(out)
		if err != nil {
			t.Fatal(err)
		}
		bins = append(bins, data)
	}
	if !bytes.Equal(bins[0], bins[1]) {
		t.Errorf("two builds of the sequencer differ (%d and %d bytes)", len(bins[0]), len(bins[1]))
	}
	cached, err := buildSequencer()
	if err != nil {
		t.Fatal(err)
	}
	data, err := os.ReadFile(filepath.Join(cached, "bootstrap"))
	if err != nil || !bytes.Equal(data, bins[0]) {
		t.Errorf("the cached build differs from a fresh one (%v)", err)
	}
}

// BenchmarkBuildSequencerCached is what a warm synth pays for the
// sequencer: finding the module, asking the Go version, hashing the
// sources, finding the cached binary.
func BenchmarkBuildSequencerCached(b *testing.B) {
	if _, err := buildSequencer(); err != nil {
		b.Fatal(err)
	}
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if _, err := buildSequencer(); err != nil {
			b.Fatal(err)
		}
	}
}
