package seqbuild

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestSequencerBuildIsReproducible builds the sequencer twice, past the
// cache, and compares the binaries byte for byte: the asset CloudFormation
// deploys depends only on the source and the Go toolchain.
func TestSequencerBuildIsReproducible(t *testing.T) {
	dir, err := ModuleDir()
	if err != nil {
		t.Fatal(err)
	}
	var bins [][]byte
	for i := 0; i < 2; i++ {
		out := filepath.Join(t.TempDir(), "bootstrap")
		cmd := Command(dir, out)
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
	cached, err := Build()
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
	if _, err := Build(); err != nil {
		b.Fatal(err)
	}
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if _, err := Build(); err != nil {
			b.Fatal(err)
		}
	}
}

// TestSequencerBuildsFromAReadOnlyDependency uses the construct from
// another module, with this module's source read-only (as in the module
// cache): the sequencer still builds, from that source and its go.sum.
func TestSequencerBuildsFromAReadOnlyDependency(t *testing.T) {
	repo, err := ModuleDir()
	if err != nil {
		t.Fatal(err)
	}
	tmp := t.TempDir()
	src := filepath.Join(tmp, "src")
	for _, f := range append([]string{"go.mod", "go.sum"}, Sources...) {
		if err := os.CopyFS(filepath.Join(src, f), os.DirFS(filepath.Join(repo, f))); err != nil {
			// go.mod and go.sum are files: copy them as such.
			data, rerr := os.ReadFile(filepath.Join(repo, f))
			if rerr != nil {
				t.Fatal(err)
			}
			_ = os.MkdirAll(src, 0o755)
			if err := os.WriteFile(filepath.Join(src, f), data, 0o644); err != nil {
				t.Fatal(err)
			}
		}
	}
	app := filepath.Join(tmp, "app")
	_ = os.MkdirAll(app, 0o755)
	gomod := "module example.com/app\n\ngo 1.26.0\n\nrequire " + modulePath + " v0.0.0\n\nreplace " + modulePath + " => ../src\n"
	if err := os.WriteFile(filepath.Join(app, "go.mod"), []byte(gomod), 0o644); err != nil {
		t.Fatal(err)
	}
	_ = filepath.WalkDir(src, func(p string, d os.DirEntry, err error) error {
		if err == nil {
			_ = os.Chmod(p, map[bool]os.FileMode{true: 0o555, false: 0o444}[d.IsDir()])
		}
		return nil
	})
	t.Cleanup(func() {
		_ = filepath.WalkDir(src, func(p string, d os.DirEntry, err error) error { _ = os.Chmod(p, 0o755); return nil })
	})
	gocache, err := GoOutput("", "env", "GOCACHE")
	if err != nil {
		t.Fatal(err)
	}
	t.Chdir(app)
	t.Setenv("GOCACHE", gocache)                            // Go's own build cache stays warm
	t.Setenv("XDG_CACHE_HOME", filepath.Join(tmp, "cache")) // past the binary cache
	dir, err := Build()
	if err != nil {
		t.Fatal(err)
	}
	if rel, _ := filepath.Rel(tmp, dir); !strings.HasPrefix(rel, "cache") {
		t.Errorf("built into %s, want the cache under %s", dir, tmp)
	}
	if st, err := os.Stat(filepath.Join(dir, "bootstrap")); err != nil || st.Size() == 0 {
		t.Errorf("no bootstrap binary: %v", err)
	}
}
