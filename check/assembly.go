package check

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
)

// stackTemplate is what the guard reads of one synthesized template.
type stackTemplate struct {
	path, name, file, account, region string
	res                               map[string]map[string]any
	params                            map[string]any
	outputs                           map[string]any
	// A nested stack's parent template, the parameters the parent passes
	// it, and the nested stacks of this one by their logical ids.
	parent       *stackTemplate
	parentParams map[string]any
	children     map[string]*stackTemplate
	// assets are the file assets of the assembly's asset manifests, by hash.
	assets map[string]fileAsset
	// transform is the template's Transform (SAM, a macro), or nil.
	transform any
	// unread are the nested stacks and stack sets whose templates the
	// check cannot read, by logical id, with why.
	unread map[string]string
}

// readStacks reads each template, what the cloud assembly's manifest says of
// its stack (its construct path, name and environment), and its nested
// stacks.
func readStacks(paths []string) ([]*stackTemplate, error) {
	type artifact struct {
		Type        string `json:"type"`
		Environment string `json:"environment"`
		DisplayName string `json:"displayName"`
		Properties  struct {
			TemplateFile string `json:"templateFile"`
			StackName    string `json:"stackName"`
		} `json:"properties"`
	}
	manifests := map[string]map[string]artifact{} // directory: template file: artifact
	ids := map[string]map[string]string{}
	assets := map[string]map[string]fileAsset{} // directory: asset hash: file
	var out []*stackTemplate
	for _, p := range paths {
		s := &stackTemplate{file: p}
		dir := filepath.Dir(s.file)
		if _, ok := manifests[dir]; !ok {
			var m struct {
				Artifacts map[string]artifact `json:"artifacts"`
			}
			data, err := os.ReadFile(filepath.Join(dir, "manifest.json"))
			if err == nil {
				err = json.Unmarshal(data, &m)
			}
			if err != nil {
				return nil, fmt.Errorf("reading the cloud assembly manifest: %w", err)
			}
			manifests[dir], ids[dir] = map[string]artifact{}, map[string]string{}
			for id, a := range m.Artifacts {
				if a.Type == "aws:cloudformation:stack" {
					manifests[dir][a.Properties.TemplateFile] = a
					ids[dir][a.Properties.TemplateFile] = id
				}
			}
			a, err := readAssets(dir)
			if err != nil {
				return nil, err
			}
			assets[dir] = a
		}
		base := filepath.Base(s.file)
		a := manifests[dir][base]
		s.path, s.name = a.DisplayName, a.Properties.StackName
		if s.path == "" {
			s.path = ids[dir][base]
		}
		if s.name == "" {
			s.name = ids[dir][base]
		}
		if env, ok := strings.CutPrefix(a.Environment, "aws://"); ok {
			account, region, _ := strings.Cut(env, "/")
			if account != "unknown-account" {
				s.account = account
			}
			if region != "unknown-region" {
				s.region = region
			}
		}
		if err := s.read(); err != nil {
			return nil, fmt.Errorf("reading the template %s: %w", s.file, err)
		}
		s.assets = assets[dir]
		nested, err := s.readNested(dir, assets[dir], 0)
		if err != nil {
			return nil, err
		}
		out = append(out, s)
		out = append(out, nested...)
		for _, n := range append([]*stackTemplate{s}, nested...) {
			out = append(out, n.stackSets()...)
		}
	}
	return out, nil
}

// fileAsset is a file of the cloud assembly an asset manifest lists.
type fileAsset struct {
	path, displayName string
}

// readAssets reads the file assets of every asset manifest in dir: a nested
// stack's template is one, named in its parent's TemplateURL by its hash.
func readAssets(dir string) (map[string]fileAsset, error) {
	files, err := filepath.Glob(filepath.Join(dir, "*.assets.json"))
	if err != nil {
		return nil, err
	}
	out := map[string]fileAsset{}
	for _, f := range files {
		var m struct {
			Files map[string]struct {
				DisplayName string `json:"displayName"`
				Source      struct {
					Path string `json:"path"`
				} `json:"source"`
			} `json:"files"`
		}
		data, err := os.ReadFile(f)
		if err == nil {
			err = json.Unmarshal(data, &m)
		}
		if err != nil {
			return nil, fmt.Errorf("reading the asset manifest %s: %w", f, err)
		}
		for hash, a := range m.Files {
			out[hash] = fileAsset{path: a.Source.Path, displayName: a.DisplayName}
		}
	}
	return out, nil
}

var assetHash = regexp.MustCompile(`[0-9a-f]{64}`)

// readNested reads the templates of s's nested stacks, and theirs.
func (s *stackTemplate) readNested(dir string, assets map[string]fileAsset, depth int) ([]*stackTemplate, error) {
	var out []*stackTemplate
	for _, id := range sortedKeys(s.res) {
		r := s.res[id]
		if r["Type"] != "AWS::CloudFormation::Stack" {
			continue
		}
		props, _ := r["Properties"].(map[string]any)
		url, _ := json.Marshal(props["TemplateURL"])
		var asset fileAsset
		for _, h := range assetHash.FindAllString(string(url), -1) {
			if a, ok := assets[h]; ok && strings.HasSuffix(a.path, ".json") {
				asset = a
			}
		}
		switch {
		case asset.path == "":
			s.unreadable(id, "its template is not a file of the cloud assembly (a TemplateURL from outside the app, or a synthesizer without asset manifests)")
			continue
		case depth > 10:
			s.unreadable(id, "it is nested more than ten deep")
			continue
		}
		params, _ := props["Parameters"].(map[string]any)
		child := &stackTemplate{
			path:         s.path + "/" + strings.TrimSuffix(asset.displayName, " Nested Stack Template"),
			file:         filepath.Join(dir, asset.path),
			account:      s.account,
			region:       s.region,
			parent:       s,
			parentParams: params,
			assets:       assets,
		}
		if err := child.read(); err != nil {
			return nil, fmt.Errorf("reading the nested stack template %s: %w", child.file, err)
		}
		if s.children == nil {
			s.children = map[string]*stackTemplate{}
		}
		s.children[id] = child
		more, err := child.readNested(dir, assets, depth+1)
		if err != nil {
			return nil, err
		}
		out = append(out, child)
		out = append(out, more...)
	}
	return out, nil
}

// read decodes the template's resources, parameters and outputs.
func (s *stackTemplate) read() error {
	data, err := os.ReadFile(s.file)
	if err != nil {
		return err
	}
	return s.parse(data)
}

// parse decodes a template's resources, parameters, outputs and transform.
func (s *stackTemplate) parse(data []byte) error {
	var t struct {
		Resources  map[string]map[string]any
		Parameters map[string]any
		Outputs    map[string]any
		Transform  any
	}
	if err := json.Unmarshal(data, &t); err != nil {
		return err
	}
	s.res, s.params, s.outputs, s.transform = t.Resources, t.Parameters, t.Outputs, t.Transform
	if s.res == nil {
		s.res = map[string]map[string]any{}
	}
	return nil
}

func sortedKeys[V any](m map[string]V) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

// assetHashes are the hashes of every file asset of the assembly.
func assetHashes(stacks []*stackTemplate) map[string]bool {
	out := map[string]bool{}
	for _, s := range stacks {
		for h := range s.assets {
			out[h] = true
		}
	}
	return out
}

func (s *stackTemplate) unreadable(id, why string) {
	if s.unread == nil {
		s.unread = map[string]string{}
	}
	s.unread[id] = why
}

// stackSets reads the templates stack sets of s give inline (TemplateBody):
// checked as stacks of their own, in accounts and Regions nobody knows at
// synth. A TemplateURL is unread.
func (s *stackTemplate) stackSets() []*stackTemplate {
	var out []*stackTemplate
	for _, id := range sortedKeys(s.res) {
		r := s.res[id]
		if r["Type"] != "AWS::CloudFormation::StackSet" {
			continue
		}
		body, ok := mapGet(r["Properties"], "TemplateBody").(string)
		child := &stackTemplate{path: s.path + "/" + id, file: s.file, assets: s.assets}
		if !ok || child.parse([]byte(body)) != nil {
			s.unreadable(id, "the check reads a stack set's template only when given inline as JSON (TemplateBody)")
			continue
		}
		if child.res == nil {
			child.res = map[string]map[string]any{}
		}
		out = append(out, child)
	}
	return out
}
