// Package cdktest holds what the repository's tests share: an App configured
// like `cdk synth` configures it, template synthesis, and golden files.
package cdktest

import (
	"bytes"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"sync"
	"testing"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/assertions"
	"github.com/aws/constructs-go/constructs/v10"
	"github.com/aws/jsii-runtime-go"
	"github.com/google/go-cmp/cmp"
)

// Update rewrites golden files instead of comparing against them:
// go test ./... -args -update
var Update = flag.Bool("update", false, "rewrite golden files under testdata/ instead of comparing")

// RepoRoot is the directory holding the repository's go.mod.
func RepoRoot() (string, error) {
	dir, err := os.Getwd()
	if err != nil {
		return "", err
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			return dir, nil
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", errors.New("cdktest: no go.mod above the working directory")
		}
		dir = parent
	}
}

// README returns the repository's README.md, for tests that keep it true.
func README(t testing.TB) string {
	t.Helper()
	return Doc(t, "README.md")
}

// Doc returns a document of the repository (README.md, docs/journal.md,
// ...) by its path from the repository's root, for tests that keep it true.
func Doc(t testing.TB, name string) string {
	t.Helper()
	root, err := RepoRoot()
	if err != nil {
		t.Fatal(err)
	}
	data, err := os.ReadFile(filepath.Join(root, filepath.FromSlash(name)))
	if err != nil {
		t.Fatal(err)
	}
	return string(data)
}

var (
	contextOnce sync.Once
	context     map[string]any
	contextErr  error
)

// Context is the "context" object of the repository's cdk.json: the feature
// flags `cdk synth` passes to the app.
func Context() (map[string]any, error) {
	contextOnce.Do(func() {
		root, err := RepoRoot()
		if err != nil {
			contextErr = err
			return
		}
		data, err := os.ReadFile(filepath.Join(root, "cdk.json"))
		if err != nil {
			contextErr = err
			return
		}
		var cdkJSON struct {
			Context map[string]any `json:"context"`
		}
		if err := json.Unmarshal(data, &cdkJSON); err != nil {
			contextErr = fmt.Errorf("cdktest: cdk.json: %w", err)
			return
		}
		context = cdkJSON.Context
	})
	return context, contextErr
}

// NewApp returns an App with cdk.json's feature flags. CDK's built-in
// CloudFormation validation is off: the tests run cfn-lint on the same
// templates instead, and the validation costs seconds per process.
func NewApp(t testing.TB) awscdk.App {
	t.Helper()
	return NewAppWithContext(t, nil)
}

// NewAppWithContext is NewApp with overrides laid over cdk.json's context.
func NewAppWithContext(t testing.TB, overrides map[string]any) awscdk.App {
	t.Helper()
	return newApp(t, overrides, "")
}

// NewAppIn is NewApp writing its cloud assembly to outdir, where a test
// reads what synthesis wrote besides the templates (the validation report).
func NewAppIn(t testing.TB, outdir string) awscdk.App {
	t.Helper()
	return newApp(t, nil, outdir)
}

func newApp(t testing.TB, overrides map[string]any, outdir string) awscdk.App {
	t.Helper()
	ctx, err := Context()
	if err != nil {
		t.Fatal(err)
	}
	c := make(map[string]any, len(ctx)+len(overrides))
	for k, v := range ctx {
		c[k] = v
	}
	for k, v := range overrides {
		c[k] = v
	}
	var out *string
	if outdir != "" {
		out = jsii.String(outdir)
	}
	return awscdk.NewApp(&awscdk.AppProps{
		Outdir:                          out,
		Context:                         &c,
		AnalyticsReporting:              jsii.Bool(false),
		BuiltinCloudFormationValidation: jsii.Bool(false),
		StackTraces:                     jsii.Bool(false),
		TreeMetadata:                    jsii.Bool(false),
	})
}

// Errors returns the error annotations on c, which fail synthesis.
func Errors(c constructs.IConstruct) []string {
	var out []string
	for _, m := range *c.Node().Metadata() {
		if *m.Type == "aws:cdk:error" {
			out = append(out, fmt.Sprint(m.Data))
		}
	}
	return out
}

// Template is a synthesized CloudFormation template, decoded from JSON.
type Template map[string]any

// Synth synthesizes stack and returns its template.
func Synth(t testing.TB, stack awscdk.Stack) Template {
	t.Helper()
	m := assertions.Template_FromStack(stack, nil).ToJSON()
	// A round trip through JSON gives plain Go values (float64, []any).
	data, err := json.Marshal(*m)
	if err != nil {
		t.Fatal(err)
	}
	var tmpl Template
	if err := json.Unmarshal(data, &tmpl); err != nil {
		t.Fatal(err)
	}
	return tmpl
}

// Resources returns the template's resources of type typ, by logical id.
func (tmpl Template) Resources(typ string) map[string]map[string]any {
	out := map[string]map[string]any{}
	res, _ := tmpl["Resources"].(map[string]any)
	for id, r := range res {
		r := r.(map[string]any)
		if r["Type"] == typ {
			out[id] = r
		}
	}
	return out
}

// Only returns the one resource of type typ, and fails the test if there is
// not exactly one.
func (tmpl Template) Only(t testing.TB, typ string) (string, map[string]any) {
	t.Helper()
	rs := tmpl.Resources(typ)
	if len(rs) != 1 {
		t.Fatalf("got %d resources of type %s, want 1", len(rs), typ)
	}
	for id, r := range rs {
		return id, r
	}
	return "", nil
}

// JSON is the template as indented JSON, the form golden files hold.
func (tmpl Template) JSON(t testing.TB) []byte {
	t.Helper()
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	enc.SetIndent("", "  ")
	if err := enc.Encode(tmpl); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// Golden compares got with the file testdata/name, or rewrites the file when
// the -update flag is set. On a difference it prints a -want +got diff.
func Golden(t testing.TB, name string, got []byte) {
	t.Helper()
	path := filepath.Join("testdata", name)
	if *Update {
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (regenerate with: go test ./... -args -update, then read the diff)", err)
	}
	if !bytes.Equal(want, got) {
		t.Errorf("%s differs from the synthesized output (-want +got):\n%s\nIf the change is intended, regenerate with -update and read the diff before committing.",
			path, cmp.Diff(string(want), string(got)))
	}
}

// MaskAssetHashes replaces each asset's content hash in the template (an
// S3Key of <sha-256>.zip) with "<asset hash>.zip": the sequencer's binary,
// and so its hash, changes with the Go toolchain that builds it, while the
// golden files speak of the template's shape. TestSequencerBuildIsReproducible
// pins the binary itself.
func (tmpl Template) MaskAssetHashes() Template {
	var walk func(v any) any
	walk = func(v any) any {
		switch v := v.(type) {
		case map[string]any:
			for k, x := range v {
				if s, ok := x.(string); ok && k == "S3Key" && assetKey.MatchString(s) {
					v[k] = "<asset hash>.zip"
					continue
				}
				v[k] = walk(x)
			}
		case []any:
			for i, x := range v {
				v[i] = walk(x)
			}
		}
		return v
	}
	walk(map[string]any(tmpl))
	return tmpl
}

var assetKey = regexp.MustCompile(`^[0-9a-f]{64}\.zip$`)
