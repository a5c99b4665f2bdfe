// Package cfnlint runs cfn-lint, the CloudFormation linter, on synthesized
// templates.
package cfnlint

import (
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
)

// Run lints the templates (file name to JSON) and returns cfn-lint's report
// when it finds any error, warning or informational finding. cfn-lint must
// be installed: its absence is an error, never a skipped check.
func Run(templates map[string][]byte) error {
	bin, err := exec.LookPath("cfn-lint")
	if err != nil {
		return errors.New("cfnlint: cfn-lint not found on PATH: install it (pip install cfn-lint) to run this check")
	}
	dir, err := os.MkdirTemp("", "cfnlint")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)
	args := []string{"--format", "parseable"}
	for name, body := range templates {
		path := filepath.Join(dir, name)
		if err := os.WriteFile(path, body, 0o644); err != nil {
			return err
		}
		args = append(args, path)
	}
	out, err := exec.Command(bin, args...).CombinedOutput()
	if err != nil {
		return fmt.Errorf("cfn-lint: %v:\n%s", err, out)
	}
	if len(out) > 0 {
		return fmt.Errorf("cfn-lint printed findings:\n%s", out)
	}
	return nil
}
