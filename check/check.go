package check

import (
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
	for _, rec := range records {
		gt, vs := checkTable(rec, byPath)
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
