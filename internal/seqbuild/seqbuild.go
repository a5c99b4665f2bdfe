// Package seqbuild builds the journal's sequencer, the Lambda function's
// bootstrap binary, with the local Go toolchain from this module's source:
// reproducibly, and cached by a hash of what it is built from.
package seqbuild

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"time"
)

// The sequencer's source: the command and the packages it is built from,
// in this module. Its binary is built at synth with the local Go toolchain
// (no Docker), from this module's own go.mod and go.sum, so that it has the
// dependency versions this module was tested with, also when this module is
// a dependency sitting read-only in the module cache.
const (
	modulePath      = "github.com/appendonly/appendonly"
	sequencerCmd    = "./cmd/sequencer"
	sequencerGOARCH = "arm64"
)

// Sources are the directories, in this module, the binary is built from.
var Sources = []string{"cmd/sequencer", "internal/feed", "journal", "ledger"}

// Build returns a directory holding the sequencer's Lambda
// bootstrap binary for linux/arm64. Builds are reproducible (-trimpath, no
// VCS stamp, no build id), and cached by a hash of the Go version, the
// module's go.mod and go.sum and the sources, so a warm synth only hashes.
func Build() (string, error) {
	dir, err := ModuleDir()
	if err != nil {
		return "", err
	}
	goVersion, err := GoOutput("", "env", "GOVERSION")
	if err != nil {
		return "", err
	}
	key, err := sourceHash(dir, goVersion)
	if err != nil {
		return "", err
	}
	cache, err := os.UserCacheDir()
	if err != nil {
		cache = os.TempDir()
	}
	out := filepath.Join(cache, "appendonly", "sequencer", key)
	if _, err := os.Stat(filepath.Join(out, "bootstrap")); err == nil {
		return out, nil
	}
	if err := os.MkdirAll(filepath.Dir(out), 0o755); err != nil {
		return "", err
	}
	tmp, err := os.MkdirTemp(filepath.Dir(out), "build-")
	if err != nil {
		return "", err
	}
	defer os.RemoveAll(tmp)
	// The first build on a machine takes a minute or more (a cold Go build
	// cache: the AWS SDK and its dependencies, for linux/arm64): say so, as
	// CDK's bundling does, rather than go quiet.
	start := time.Now()
	fmt.Fprintf(os.Stderr, "appendonly: building the journal's sequencer (go build %s, linux/%s): a minute or more the first time on a machine, cached after that in %s\n",
		sequencerCmd, sequencerGOARCH, filepath.Dir(out))
	cmd := Command(dir, filepath.Join(tmp, "bootstrap"))
	if b, err := cmd.CombinedOutput(); err != nil {
		return "", fmt.Errorf("go build %s in %s: %v\n%s", sequencerCmd, dir, err, b)
	}
	fmt.Fprintf(os.Stderr, "appendonly: built the journal's sequencer in %s\n", time.Since(start).Round(time.Second))
	if err := os.Rename(tmp, out); err != nil && !os.IsExist(err) {
		if _, statErr := os.Stat(filepath.Join(out, "bootstrap")); statErr != nil {
			return "", err
		}
	}
	return out, nil
}

// Command is the one way the sequencer is built.
func Command(moduleDir, out string) *exec.Cmd {
	cmd := exec.Command("go", "build", "-C", moduleDir, "-trimpath", "-buildvcs=false", "-tags", "lambda.norpc",
		"-ldflags=-s -w -buildid=", "-o", out, sequencerCmd)
	cmd.Env = append(os.Environ(), "GOOS=linux", "GOARCH="+sequencerGOARCH, "CGO_ENABLED=0", "GOFLAGS=-mod=readonly")
	return cmd
}

// ModuleDir is where this module's source is: the repository itself, a
// replace target, or the module cache.
func ModuleDir() (string, error) {
	out, err := GoOutput("", "list", "-m", "-json", modulePath)
	if err != nil {
		return "", err
	}
	var m struct {
		Dir     string
		Replace *struct{ Dir string }
	}
	if err := json.Unmarshal([]byte(out), &m); err != nil {
		return "", fmt.Errorf("go list -m %s: %v", modulePath, err)
	}
	if m.Replace != nil && m.Replace.Dir != "" {
		return m.Replace.Dir, nil
	}
	if m.Dir == "" {
		return "", fmt.Errorf("go list -m %s: no source directory: run `go mod download %s`", modulePath, modulePath)
	}
	return m.Dir, nil
}

// GoOutput runs the go command in dir and returns its output.
func GoOutput(dir string, args ...string) (string, error) {
	cmd := exec.Command("go", args...)
	cmd.Dir = dir
	out, err := cmd.Output()
	if err != nil {
		msg := err.Error()
		if ee, ok := err.(*exec.ExitError); ok {
			msg = strings.TrimSpace(string(ee.Stderr))
		}
		return "", fmt.Errorf("go %s: %s (the journal's sequencer is built with the local Go toolchain)", strings.Join(args, " "), msg)
	}
	return strings.TrimSpace(string(out)), nil
}

// sourceHash hashes what the binary is built from.
func sourceHash(dir, goVersion string) (string, error) {
	h := sha256.New()
	fmt.Fprintf(h, "%s %s %s\n", goVersion, sequencerGOARCH, sequencerCmd)
	var files []string
	for _, f := range []string{"go.mod", "go.sum"} {
		files = append(files, filepath.Join(dir, f))
	}
	for _, pkg := range Sources {
		err := filepath.WalkDir(filepath.Join(dir, pkg), func(p string, d fs.DirEntry, err error) error {
			if err != nil {
				return err
			}
			if !d.IsDir() && strings.HasSuffix(p, ".go") && !strings.HasSuffix(p, "_test.go") {
				files = append(files, p)
			}
			return nil
		})
		if err != nil {
			return "", err
		}
	}
	sort.Strings(files)
	for _, f := range files {
		data, err := os.ReadFile(f)
		if err != nil {
			return "", err
		}
		rel, _ := filepath.Rel(dir, f)
		sum := sha256.Sum256(data)
		fmt.Fprintf(h, "%s %x\n", filepath.ToSlash(rel), sum)
	}
	return hex.EncodeToString(h.Sum(nil))[:32], nil
}
