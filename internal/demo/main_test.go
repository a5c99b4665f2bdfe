package main

import (
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"golang.org/x/mod/sumdb/note"

	"github.com/appendonly/appendonly/journal"
)

// TestDemo runs the demo as make demo does: it fails unless verification
// passes on the untouched journal and names exactly the changed item. Then
// it runs each command the demo prints, as a user pastes it (through sh,
// the CLI built once, with no AWS credentials and no endpoints), and
// checks the exit status each promises; the check-proof command, last,
// names a verifier key and a proof file that check together.
func TestDemo(t *testing.T) {
	var out strings.Builder
	if err := run(&out); err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimSpace(out.String()), "\n")
	last := strings.Fields(lines[len(lines)-1])
	if len(last) < 7 || last[3] != "check-proof" || last[4] != "--verifier-key" {
		t.Fatalf("the last line is not the check-proof command: %q", lines[len(lines)-1])
	}
	vkey, err := os.ReadFile(strings.TrimPrefix(last[5], "@"))
	if err != nil {
		t.Fatal(err)
	}
	v, err := note.NewVerifier(strings.TrimSpace(string(vkey)))
	if err != nil {
		t.Fatal(err)
	}
	data, err := os.ReadFile(last[6])
	if err != nil {
		t.Fatal(err)
	}
	p, err := journal.ParseProof(data)
	if err != nil {
		t.Fatal(err)
	}
	if _, e, err := p.Check(v); err != nil || !strings.Contains(journal.FormatKey(e.Key), "Never Overwrite") {
		t.Errorf("the printed proof and key: %v, %v", e, err)
	}

	bin := filepath.Join(t.TempDir(), "appendonly")
	build := exec.Command("go", "build", "-o", bin, "./cmd/appendonly")
	build.Dir = "../.."
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	ran := 0
	for _, line := range lines {
		cmdline, comment, ok := strings.Cut(strings.TrimSpace(line), "   # exit ")
		if !ok || !strings.HasPrefix(cmdline, "go run ./cmd/appendonly ") {
			continue
		}
		want, _ := strconv.Atoi(comment[:1])
		sh := exec.Command("sh", "-c", bin+strings.TrimPrefix(cmdline, "go run ./cmd/appendonly"))
		sh.Env = []string{"PATH=" + os.Getenv("PATH"), "HOME=" + t.TempDir(), "AWS_EC2_METADATA_DISABLED=true"}
		out, _ := sh.CombinedOutput()
		if code := sh.ProcessState.ExitCode(); code != want {
			t.Errorf("%s\nexit %d, want %d:\n%s", cmdline, code, want, out)
		}
		if strings.Contains(cmdline, "export-tampered") && !strings.Contains(string(out), `changed: item {"Artist":"Acme Band","SongTitle":"Locked Forever"}`) {
			t.Errorf("verify of the tampered export does not name the song:\n%s", out)
		}
		ran++
	}
	if ran != 4 {
		t.Errorf("ran %d printed commands, want 4 (verify twice, prove, check-proof)", ran)
	}
}
