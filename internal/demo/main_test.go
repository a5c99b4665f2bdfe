package main

import (
	"os"
	"strings"
	"testing"

	"golang.org/x/mod/sumdb/note"

	"github.com/appendonly/appendonly/journal"
)

// TestDemo runs the demo as make demo does: it fails unless verification
// passes on the untouched journal and names exactly the changed item. The
// check-proof command it prints last names a verifier key and a proof file
// that check together.
func TestDemo(t *testing.T) {
	var out strings.Builder
	if err := run(&out); err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimSpace(out.String()), "\n")
	fields := strings.Fields(lines[len(lines)-1])
	if len(fields) != 7 || fields[3] != "check-proof" || fields[4] != "--verifier-key" {
		t.Fatalf("the last line is not the check-proof command: %q", lines[len(lines)-1])
	}
	v, err := note.NewVerifier(strings.Trim(fields[5], "'"))
	if err != nil {
		t.Fatal(err)
	}
	data, err := os.ReadFile(fields[6])
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
}
