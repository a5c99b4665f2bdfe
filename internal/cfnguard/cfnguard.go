// Package cfnguard evaluates synthesized templates against AWS Control
// Tower's proactive controls: the Guard rules and the cfn-guard binary that
// the npm package @cdklabs/cdk-validator-cfnguard ships (Apache-2.0, pinned in
// package-lock.json and installed by `npm ci`).
package cfnguard

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"sort"

	"github.com/appendonly/appendonly/internal/cdktest"
)

const pkg = "node_modules/@cdklabs/cdk-validator-cfnguard"

// paths returns the cfn-guard binary and the Control Tower rules directory.
// Their absence is an error that says how to install them, never a skip.
func paths() (bin, rules string, err error) {
	root, err := cdktest.RepoRoot()
	if err != nil {
		return "", "", err
	}
	osDir := map[string]string{"linux": "ubuntu", "darwin": "macos"}[runtime.GOOS]
	archDir := map[string]string{"amd64": "x86_64", "arm64": "aarch64"}[runtime.GOARCH]
	if osDir == "" || archDir == "" {
		return "", "", fmt.Errorf("cfnguard: %s ships no cfn-guard binary for %s/%s", pkg, runtime.GOOS, runtime.GOARCH)
	}
	bin = filepath.Join(root, pkg, "bin", osDir, archDir, "cfn-guard")
	rules = filepath.Join(root, pkg, "rules", "control-tower", "cfn-guard")
	for _, p := range []string{bin, rules} {
		if _, err := os.Stat(p); err != nil {
			return "", "", fmt.Errorf("cfnguard: %s not found: run `make deps` (npm ci) first", p)
		}
	}
	return bin, rules, nil
}

type fileResult struct {
	Name         string `json:"name"`
	Status       string `json:"status"`
	NotCompliant []struct {
		Rule struct {
			Name string `json:"name"`
		} `json:"Rule"`
	} `json:"not_compliant"`
}

// Failures evaluates every Control Tower rule against each template (file
// name to JSON) and returns, per template, the names of the rules it fails,
// sorted. A template that passes every rule has no entry.
func Failures(templates map[string][]byte) (map[string][]string, error) {
	bin, rules, err := paths()
	if err != nil {
		return nil, err
	}
	dir, err := os.MkdirTemp("", "cfnguard")
	if err != nil {
		return nil, err
	}
	defer os.RemoveAll(dir)
	args := []string{"validate", "--rules", rules, "--structured", "--show-summary", "none", "--output-format", "json"}
	byPath := map[string]string{}
	for name, body := range templates {
		path := filepath.Join(dir, name)
		if err := os.WriteFile(path, body, 0o644); err != nil {
			return nil, err
		}
		args = append(args, "--data", path)
		byPath[path] = name
	}
	out, err := exec.Command(bin, args...).Output()
	var exit *exec.ExitError
	switch {
	case err == nil:
	case errors.As(err, &exit) && exit.ExitCode() == 19: // some rule failed
	default:
		return nil, fmt.Errorf("cfn-guard: %v: %s", err, out)
	}
	var results []fileResult
	if err := json.Unmarshal(out, &results); err != nil {
		return nil, fmt.Errorf("cfn-guard: reading its output: %w", err)
	}
	if len(results) != len(templates) {
		return nil, fmt.Errorf("cfn-guard evaluated %d templates, want %d", len(results), len(templates))
	}
	failures := map[string][]string{}
	for _, r := range results {
		name, ok := byPath[r.Name]
		if !ok {
			return nil, fmt.Errorf("cfn-guard reported on %s, which it was not given", r.Name)
		}
		for _, nc := range r.NotCompliant {
			failures[name] = append(failures[name], nc.Rule.Name)
		}
		if r.Status == "FAIL" && len(failures[name]) == 0 {
			return nil, fmt.Errorf("cfn-guard: %s failed without naming a rule", name)
		}
		sort.Strings(failures[name])
	}
	return failures, nil
}

// Waivers returns the controls a template's resources record as waived
// (Metadata "appendonly:controlTowerWaivers": rule name to "control: reason"),
// by rule name. Every waiver names its reason, which the README lists.
func Waivers(template []byte) map[string]string {
	var tmpl struct {
		Resources map[string]struct {
			Metadata map[string]json.RawMessage
		}
	}
	out := map[string]string{}
	if json.Unmarshal(template, &tmpl) != nil {
		return out
	}
	for _, r := range tmpl.Resources {
		var w map[string]string
		if json.Unmarshal(r.Metadata["appendonly:controlTowerWaivers"], &w) == nil {
			for rule, why := range w {
				out[rule] = why
			}
		}
	}
	return out
}
