package appendonly

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strings"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/jsii-runtime-go"
)

// guard is the app-wide check that the synthesized templates are what the
// construct promises. NewTable arms it once per app, as a CDK policy
// validation plugin (Validations.of(app).addPlugins), so it runs once per
// synthesis (`cdk synth`, app.Synth, assertions.Template_FromStack) on the
// final templates of every stack, nested stacks and stages included, after
// every aspect, override and removal policy the app applies. It checks two
// things.
//
// Invariants: each resource the construct protects (the table, its managed
// policy, its key, the backup vault, the journal's bucket, bucket policy and
// key) still holds what the construct wrote: deletion protection, Retain,
// point-in-time recovery and its window, no TTL, and each statement of its
// resource, bucket, key or vault policy exactly as written (the caller's
// own statements beside them are allowed). The construct records what each
// must look like when it builds it (registry.protected); the guard finds
// them in the templates by logical id.
//
// Write grants: it reads every IAM policy in the templates, however it was
// made (an L2 grant, addToPolicy, an L1 CfnPolicy, the inline policies of a
// role, user or group, an IAM Identity Center permission set, a document
// given as a JSON string, the table's own resource policy), and the AWS
// managed policies attached by ARN, and reports a violation when an Allow
// statement's actions (wildcards and NotAction included) cover an action the
// construct denies (DenyActions) and its resources can name an append-only
// table, an index, its stream, a backup or its global-table ARN. It follows
// Ref, Fn::GetAtt, Fn::Join, Fn::Sub (with variables), Fn::Select and
// Fn::Split, Fn::If, imports, nested stacks' parameters and outputs; what it
// cannot follow (an SSM parameter, a template parameter, a custom resource
// such as a cross-Region reference) is taken to be the table. A statement on
// Resource "*" is an error for a table in EnforceIdentityOnlyOthersCanModify
// mode, where nothing else stops it, and a warning for one in
// EnforceTableWide mode, whose resource policy denies it anyway.
//
// Its errors have severity "fatal", which CDK's Validations.acknowledge
// cannot silence: UnsafeAcknowledgeWriteGrant, written into the template,
// is the one way to accept a write.
type guard struct {
	registry *registry
}

// Rule names in the validation report.
const (
	ruleWriteGrant       = "appendonly-no-write-grant"
	ruleWriteGrantOnStar = "appendonly-no-write-grant-on-every-table"
	ruleInvariant        = "appendonly-protection-unchanged"
	// metadataKey marks, for a reviewer of the template, a table in
	// EnforceIdentityOnlyOthersCanModify mode, which has no resource policy
	// to tell it by; the guard knows its tables from the registry.
	metadataKey = "appendonly"
	// acknowledgedKey marks a policy or principal whose write grant was
	// acknowledged (UnsafeAcknowledgeWriteGrant).
	acknowledgedKey = "appendonly_write_grant_acknowledged"
	guardVersion    = "2"
	// fatal is the severity of the guard's errors: CDK lets no
	// acknowledgement suppress it.
	fatal = "fatal"
)

// Name implements awscdk.IPolicyValidationPlugin.
func (g *guard) Name() *string { return jsii.String("appendonly-write-grant-guard") }

// Version implements awscdk.IPolicyValidationPlugin.
func (g *guard) Version() *string { return jsii.String(guardVersion) }

// RuleIds implements awscdk.IPolicyValidationPlugin.
func (g *guard) RuleIds() *[]*string {
	return jsii.Strings(ruleWriteGrant, ruleWriteGrantOnStar, ruleInvariant)
}

// Validate implements awscdk.IPolicyValidationPlugin. It asks the jsii
// kernel for the template paths and, once per stack that holds protected
// resources, for their logical ids and policy statements, and reads the rest
// (the templates, each stack's path and environment from the cloud
// assembly's manifest.json, nested stacks through the asset manifests) from
// disk: each call into the kernel from inside a validation callback costs
// about a millisecond.
func (g *guard) Validate(ctx awscdk.IPolicyValidationContext) *awscdk.PolicyValidationPluginReport {
	fail := func(err error) *awscdk.PolicyValidationPluginReport {
		return &awscdk.PolicyValidationPluginReport{Success: jsii.Bool(false), Violations: &[]*awscdk.PolicyViolation{{
			RuleName:           jsii.String(ruleWriteGrant),
			Description:        jsii.String("appendonly: " + err.Error()),
			Severity:           jsii.String(fatal),
			ViolatingResources: &[]*awscdk.PolicyViolatingResource{},
		}}}
	}
	stacks, err := readStacks(*ctx.TemplatePaths())
	if err != nil {
		return fail(err)
	}
	records, err := g.registry.resolve()
	if err != nil {
		return fail(err)
	}
	violations := check(stacks, records, g.registry.existing)
	if len(violations) > 0 {
		// Name constructs by their paths: a walk of the tree, made only
		// when there is something to report.
		paths := g.constructPaths()
		for i := range violations {
			violations[i].message = paths.Replace(violations[i].message)
			violations[i].fix = paths.Replace(violations[i].fix)
		}
	}
	report := &awscdk.PolicyValidationPluginReport{Success: jsii.Bool(true), Violations: &[]*awscdk.PolicyViolation{}}
	for _, v := range violations {
		if v.severity == fatal {
			report.Success = jsii.Bool(false)
		}
		*report.Violations = append(*report.Violations, &awscdk.PolicyViolation{
			RuleName:    jsii.String(v.rule),
			Description: jsii.String(v.message),
			Fix:         jsii.String(v.fix),
			Severity:    jsii.String(v.severity),
			ViolatingResources: &[]*awscdk.PolicyViolatingResource{{
				ResourceLogicalId: jsii.String(v.logicalID),
				TemplatePath:      jsii.String(v.file),
				Locations:         jsii.Strings(v.location),
			}},
		})
	}
	return report
}

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
}

// readStacks reads each template, what the cloud assembly's manifest says of
// its stack (its construct path, name and environment), and its nested
// stacks.
func readStacks(paths []*string) ([]*stackTemplate, error) {
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
		s := &stackTemplate{file: deref(p)}
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
		nested, err := s.readNested(dir, assets[dir], 0)
		if err != nil {
			return nil, err
		}
		out = append(out, s)
		out = append(out, nested...)
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
			if a, ok := assets[h]; ok && strings.HasSuffix(a.path, ".nested.template.json") {
				asset = a
			}
		}
		if asset.path == "" || depth > 10 {
			continue // a stack template from outside the app: not the app's to check
		}
		params, _ := props["Parameters"].(map[string]any)
		child := &stackTemplate{
			path:         s.path + "/" + strings.TrimSuffix(asset.displayName, " Nested Stack Template"),
			file:         filepath.Join(dir, asset.path),
			account:      s.account,
			region:       s.region,
			parent:       s,
			parentParams: params,
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
	var t struct {
		Resources  map[string]map[string]any
		Parameters map[string]any
		Outputs    map[string]any
	}
	if err := json.Unmarshal(data, &t); err != nil {
		return err
	}
	s.res, s.params, s.outputs = t.Resources, t.Parameters, t.Outputs
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

// guardedTable is what the guard knows of one append-only table.
type guardedTable struct {
	stack     *stackTemplate // nil for an existing table
	logicalID string
	label     string // how messages name it
	name      string // its name: a literal, or a pattern with stand-ins
	partition string // literal, or "" for any
	region    string
	account   string
	mode      Enforcement
	exempt    []string
}

type violation struct {
	rule, severity, message, fix string
	file, logicalID, location    string
}

// tableSet holds the append-only tables, and finds one by template and
// logical id.
type tableSet struct {
	list []guardedTable
	byID map[*stackTemplate]map[string]int
}

func (ts *tableSet) in(s *stackTemplate, id string) *guardedTable {
	if i, ok := ts.byID[s][id]; ok {
		return &ts.list[i]
	}
	return nil
}

func newTableSet(list []guardedTable) *tableSet {
	sort.SliceStable(list, func(i, j int) bool { return list[i].label < list[j].label })
	ts := &tableSet{list: list, byID: map[*stackTemplate]map[string]int{}}
	for i, gt := range list {
		if gt.stack != nil {
			if ts.byID[gt.stack] == nil {
				ts.byID[gt.stack] = map[string]int{}
			}
			ts.byID[gt.stack][gt.logicalID] = i
		}
	}
	return ts
}

// check returns the violations in the templates: the invariants of each
// protected resource, then every write grant.
func check(stacks []*stackTemplate, records []resolvedRecord, existing []guardedTable) []violation {
	byPath := map[string]*stackTemplate{}
	for _, s := range stacks {
		byPath[s.path] = s
	}
	var out []violation
	var tables []guardedTable
	for _, rec := range records {
		gt, vs := rec.check(byPath)
		out = append(out, vs...)
		if gt != nil {
			tables = append(tables, *gt)
		}
	}
	tables = append(tables, existing...)
	if len(tables) == 0 {
		return out
	}
	ts := newTableSet(tables)
	e := &evaluator{tables: ts, outputs: outputIndex(stacks)}
	for _, s := range stacks {
		for _, id := range sortedKeys(s.res) {
			out = append(out, e.checkResource(s, id)...)
		}
	}
	return out
}

// outputRef is a stack output or export.
type outputRef struct {
	stack *stackTemplate
	name  string
}

// outputIndex maps each output name and export name of every template to
// the output, for following references across stacks.
func outputIndex(stacks []*stackTemplate) map[string]outputRef {
	idx := map[string]outputRef{}
	for _, s := range stacks {
		for name, o := range s.outputs {
			ref := outputRef{stack: s, name: name}
			if s.parent == nil {
				idx[name] = ref
			}
			if n, ok := mapGet(mapGet(o, "Export"), "Name").(string); ok {
				idx[n] = ref
			}
		}
	}
	return idx
}

// attribute is what a table's attribute looks like in a pattern.
func (gt *guardedTable) attribute(attr string) string {
	arn := "arn:*:dynamodb:*:*:table/" + gt.name
	switch attr {
	case "Arn":
		return arn
	case "StreamArn":
		return arn + "/stream/*"
	}
	return otherRef
}

// arns are the patterns of the ARNs that name the table or a part of it:
// the table, its streams, indexes, backups, exports and imports, and its
// global-table ARN. Where the table's environment is not known (an
// environment-agnostic stack), any partition, Region or account matches.
func (gt *guardedTable) arns() []string {
	orField := func(s string) string {
		if s == "" {
			return field
		}
		return s
	}
	p, r, a := orField(gt.partition), orField(gt.region), orField(gt.account)
	table := "arn:" + p + ":dynamodb:" + r + ":" + a + ":table/" + gt.name
	out := []string{table, table + "/stream/" + streamLabel, "arn:" + p + ":dynamodb::" + a + ":global-table/" + gt.name}
	for _, sub := range []string{"index", "backup", "export", "import"} {
		out = append(out, table+"/"+sub+"/"+generated)
	}
	return out
}

// covered reports whether an IAM resource pattern can name the table or a
// part of it.
func (gt *guardedTable) covered(pattern string) bool {
	for _, arn := range gt.arns() {
		if intersects(pattern, arn) {
			return true
		}
	}
	return false
}

// excluded reports whether NotResource patterns leave out every ARN of the
// table: each must match one of them as a string, the table's own
// wildcards taken literally.
func (gt *guardedTable) excluded(patterns []string) bool {
	for _, arn := range gt.arns() {
		ok := false
		for _, p := range patterns {
			if !strings.Contains(p, unresolved) && glob(p, arn) {
				ok = true
			}
		}
		if !ok {
			return false
		}
	}
	return true
}
