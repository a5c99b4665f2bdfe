package main

import (
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/appendonly/appendonly/internal/cdktest"
)

// The JavaScript twin in bench/twin, which `make bench-twin` times against
// this app, must do the same work: it synthesizes the same template, to the
// byte once decoded.
func TestTwinMatchesTheApp(t *testing.T) {
	ctx, err := cdktest.Context()
	if err != nil {
		t.Fatal(err)
	}
	ctxJSON, err := json.Marshal(ctx)
	if err != nil {
		t.Fatal(err)
	}
	out := t.TempDir()
	cmd := exec.Command("node", filepath.Join("bench", "twin", "app.js"))
	cmd.Env = append(os.Environ(), "CDK_OUTDIR="+out, "CDK_CONTEXT_JSON="+string(ctxJSON))
	if msg, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("node bench/twin/app.js: %v\n%s", err, msg)
	}
	data, err := os.ReadFile(filepath.Join(out, StackName+".template.json"))
	if err != nil {
		t.Fatal(err)
	}
	var twin cdktest.Template
	if err := json.Unmarshal(data, &twin); err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(musicTemplate(t), twin); diff != "" {
		t.Errorf("the twin's template differs from the app's (-app +twin):\n%s", diff)
	}
}
