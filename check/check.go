package check

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
)

// guardedTable is what the guard knows of one append-only table.
type guardedTable struct {
	stack     *stackTemplate // nil for an existing table
	logicalID string
	label     string // how messages name it
	name      string // its name: a literal, or a pattern with stand-ins
	partition string // literal, or "" for any
	region    string
	account   string
	// identityOnly: EnforceIdentityOnlyOthersCanModify mode.
	identityOnly bool
	exempt       []string
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
func check(stacks []*stackTemplate, records []Table, existing []guardedTable) []violation {
	byPath := map[string]*stackTemplate{}
	for _, s := range stacks {
		byPath[s.path] = s
	}
	var out []violation
	var tables []guardedTable
	assets := assetHashes(stacks)
	for _, rec := range records {
		gt, vs := checkTable(rec, byPath)
		out = append(out, vs...)
		out = append(out, journalRules(rec, byPath, assets)...)
		out = append(out, tableRules(rec, byPath)...)
		if gt != nil {
			tables = append(tables, *gt)
		}
	}
	tables = append(tables, existing...)
	if len(tables) == 0 {
		return out
	}
	ts := newTableSet(tables)
	e := &evaluator{tables: ts, outputs: outputIndex(stacks), policies: map[string]policyRef{}}
	for _, s := range stacks {
		for _, id := range sortedKeys(s.res) {
			if r := s.res[id]; r["Type"] == "AWS::IAM::ManagedPolicy" {
				if name, ok := mapGet(r["Properties"], "ManagedPolicyName").(string); ok {
					e.policies[name] = policyRef{s, id}
				}
			}
		}
	}
	holds := map[string]bool{} // the stacks that hold a protected resource
	for _, rec := range records {
		for _, p := range rec.Protected {
			if p.StackPath != "" {
				holds[p.StackPath] = true
			} else {
				holds[rec.StackPath] = true
			}
		}
	}
	targets := controlTargets(records)
	// The accounts the journal's parts are in ("" unknown): a grant on "*"
	// in a stack of another account cannot reach them.
	journalAccounts := map[string]bool{}
	for path := range targets {
		if s := byPath[path]; s != nil {
			journalAccounts[s.account] = true
		}
	}
	for _, s := range stacks {
		out = append(out, e.checkTransformed(s, holds[s.path])...)
		for _, id := range sortedKeys(s.unread) {
			if hasAcknowledgement(s.res[id]) {
				continue
			}
			out = append(out, violation{rule: ruleWriteGrant, severity: fatal, file: s.file, logicalID: id, location: "Properties",
				message: fmt.Sprintf("appendonly: the check cannot read the template of %s (%s): a stack it cannot read may grant writes to an append-only table.",
					pathOf(s.path, id), s.unread[id]),
				fix: "Give its template as a file of the app (a NestedStack, or a CfnStack or stack set whose template is in the cloud assembly). " +
					"If it grants no write, acknowledge it with appendonly.UnsafeAcknowledgeWriteGrant on " + ownerOf(s.path, id) + "."})
		}
		for _, id := range sortedKeys(s.res) {
			out = append(out, e.checkResource(s, id)...)
			reach := len(targets) > 0 && (s.account == "" || journalAccounts[""] || journalAccounts[s.account])
			out = append(out, e.controlGrants(s, id, targets[s.path], reach)...)
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

// Assembly is what the check reads of a cloud assembly: its templates,
// nested stacks included, with what its manifest says of each stack.
type Assembly struct {
	stacks []*stackTemplate
}

// ReadTemplates reads the templates at paths (those of a cloud assembly,
// as a CDK validation plugin is given them), with their stacks' paths and
// environments from the assembly's manifest.json beside them, and their
// nested stacks.
func ReadTemplates(paths []string) (*Assembly, error) {
	stacks, err := readStacks(paths)
	if err != nil {
		return nil, err
	}
	return &Assembly{stacks: stacks}, nil
}

// Check checks the assembly: the invariants of each table's protected
// resources, then every write grant to any of the tables or the existing
// ones.
func (a *Assembly) Check(tables []Table, existing []Existing) []Finding {
	var ex []guardedTable
	for _, e := range existing {
		ex = append(ex, guardedTable{label: e.Label, name: e.Name, partition: e.Partition, region: e.Region, account: e.Account,
			identityOnly: e.IdentityOnly, exempt: e.Exempt})
	}
	var out []Finding
	for _, v := range check(a.stacks, tables, ex) {
		out = append(out, Finding{Rule: v.rule, Severity: v.severity, Message: v.message, Fix: v.fix, File: v.file, LogicalID: v.logicalID, Location: v.location})
	}
	return out
}

// ReadAssembly reads the cloud assembly in dir (cdk.out): every stack's
// template, in nested assemblies (stages) too, and their nested stacks.
func ReadAssembly(dir string) (*Assembly, error) {
	paths, err := assemblyTemplates(dir, 0)
	if err != nil {
		return nil, err
	}
	return ReadTemplates(paths)
}

func assemblyTemplates(dir string, depth int) ([]string, error) {
	data, err := os.ReadFile(filepath.Join(dir, "manifest.json"))
	if err != nil {
		return nil, fmt.Errorf("not a cloud assembly: %w", err)
	}
	var m struct {
		Artifacts map[string]struct {
			Type       string `json:"type"`
			Properties struct {
				TemplateFile  string `json:"templateFile"`
				DirectoryName string `json:"directoryName"`
			} `json:"properties"`
		} `json:"artifacts"`
	}
	if err := json.Unmarshal(data, &m); err != nil {
		return nil, fmt.Errorf("reading %s: %w", filepath.Join(dir, "manifest.json"), err)
	}
	var out []string
	for _, id := range sortedKeys(m.Artifacts) {
		a := m.Artifacts[id]
		switch a.Type {
		case "aws:cloudformation:stack":
			out = append(out, filepath.Join(dir, a.Properties.TemplateFile))
		case "cdk:cloud-assembly":
			if depth > 20 {
				return nil, fmt.Errorf("the cloud assembly %s nests assemblies more than 20 deep", dir)
			}
			more, err := assemblyTemplates(filepath.Join(dir, a.Properties.DirectoryName), depth+1)
			if err != nil {
				return nil, err
			}
			out = append(out, more...)
		}
	}
	return out, nil
}

// Names replaces the stand-ins for construct paths in findings' messages
// (PathOf, OwnerOf) with the paths the templates record (aws:cdk:path
// metadata): an L1 under an L2 named Resource is named by the construct
// that holds it. A resource without one is named STACKPATH/LOGICALID.
func (a *Assembly) Names() *strings.Replacer {
	var pairs []string
	for _, s := range a.stacks {
		for _, id := range sortedKeys(s.res) {
			md, _ := s.res[id]["Metadata"].(map[string]any)
			full, ok := md["aws:cdk:path"].(string)
			if !ok {
				full = s.path + "/" + id
			}
			pairs = append(pairs, NamePairs(s.path, id, full)...)
		}
	}
	return strings.NewReplacer(pairs...)
}

// NamePairs are the replacements, for a Replacer, of the stand-ins for
// resource id of the stack at stackPath (PathOf, OwnerOf) by the construct
// path full of its L1: an L1 under an L2 named Resource (the table, inside
// the appendonly construct) is named by the construct that holds both, and
// owned by its L2.
func NamePairs(stackPath, id, full string) []string {
	return []string{PathOf(stackPath, id), strings.TrimSuffix(full, "/Resource/Resource"),
		OwnerOf(stackPath, id), strings.TrimSuffix(full, "/Resource")}
}

// CheckAssembly checks the cloud assembly in dir with what its templates
// say the construct protects (Tables): the same check the construct runs
// at synth, from the assembly alone. tables is the number of append-only
// tables found, existing ones included.
func CheckAssembly(dir string) (findings []Finding, tables int, err error) {
	a, err := ReadAssembly(dir)
	if err != nil {
		return nil, 0, err
	}
	ts, existing, out := a.Tables()
	out = append(out, a.Check(ts, existing)...)
	names := a.Names()
	for i := range out {
		out[i].Message = names.Replace(out[i].Message)
		out[i].Fix = names.Replace(out[i].Fix)
	}
	return out, len(ts) + len(existing), nil
}
