package ledger_test

import (
	"os/exec"
	"strings"
	"testing"
)

// The runtime packages, the command and the sequencer never pull the CDK or jsii into a
// binary: an application that imports them stays small.
func TestNoCDKInTheRuntime(t *testing.T) {
	out, err := exec.Command("go", "list", "-deps", "github.com/appendonly/appendonly/ledger", "github.com/appendonly/appendonly/journal",
		"github.com/appendonly/appendonly/cmd/appendonly", "github.com/appendonly/appendonly/cmd/sequencer").CombinedOutput()
	if err != nil {
		t.Fatalf("go list: %v\n%s", err, out)
	}
	for _, pkg := range strings.Fields(string(out)) {
		if strings.Contains(pkg, "aws-cdk-go") || strings.Contains(pkg, "jsii-runtime-go") || strings.Contains(pkg, "constructs-go") {
			t.Errorf("the runtime depends on %s", pkg)
		}
	}
}
