package appendonly

import (
	"encoding/json"
	"fmt"
	"reflect"
	"slices"
	"sort"
	"strings"

	"github.com/aws/aws-cdk-go/awscdk/v2"
)

// protected is what one resource the construct protects must look like in
// the final template: the construct writes it so, and the guard checks
// that nothing the app did afterwards (an override, an aspect, a removal
// policy) changed it.
type protected struct {
	what string            // how messages name it: "table", "key", ...
	el   awscdk.CfnElement // its logical id is resolved at check
	// stack holds it when it is not the table's: a journal in another
	// account.
	stack     awscdk.Stack
	stackPath string
	typ       string // its CloudFormation type
	retain    bool   // DeletionPolicy and UpdateReplacePolicy Retain
	props     []wantProp
	docPath   []string    // where its policy document is, under Properties
	stmts     []statement // the statements the document must hold as written
	docProp   string      // the props that change those statements
}

// wantProp is one property a protected resource must have.
type wantProp struct {
	path  []string // under Properties
	value any      // what it must be, as JSON; nil: absent, or not enabled
	prop  string   // the prop that legitimately changes it, or ""
	why   string   // what breaks if it changes
}

// tableRecord is what the registry keeps of a table the construct created:
// where it is, and what it and its protecting resources must look like.
type tableRecord struct {
	stack       awscdk.Stack
	stackPath   string
	mode        Enforcement
	exempt      []string
	literalName string
	protected   []protected // the table first
}

// resolvedRecord is a tableRecord with its logical ids and statements as
// the template holds them.
type resolvedRecord struct {
	tableRecord
	ids   []string
	stmts [][]any // per protected resource, its statements resolved
}

// resolve asks the jsii kernel, once per stack, for the logical ids and
// statements of every protected resource.
func (r *registry) resolve() (out []resolvedRecord, err error) {
	defer func() {
		if p := recover(); p != nil {
			err = fmt.Errorf("resolving the protected resources: %v", p)
		}
	}()
	// Each protected resource is resolved in its own stack, every stack
	// once.
	type slot struct{ rec, res int }
	byStack := map[awscdk.Stack][]slot{}
	var order []awscdk.Stack
	out = make([]resolvedRecord, len(r.tables))
	for i, rec := range r.tables {
		out[i] = resolvedRecord{tableRecord: rec, ids: make([]string, len(rec.protected)), stmts: make([][]any, len(rec.protected))}
		out[i].protected = slices.Clone(rec.protected)
		for k, p := range rec.protected {
			stack := rec.stack
			if p.stack != nil {
				stack = p.stack
				out[i].protected[k].stackPath = r.stackPath(p.stack)
			}
			if _, ok := byStack[stack]; !ok {
				order = append(order, stack)
			}
			byStack[stack] = append(byStack[stack], slot{i, k})
		}
	}
	for _, stack := range order {
		var in []any
		for _, sl := range byStack[stack] {
			p := r.tables[sl.rec].protected[sl.res]
			stmts := make([]any, len(p.stmts))
			for k, s := range p.stmts {
				stmts[k] = s.json()
			}
			in = append(in, map[string]any{"id": p.el.LogicalId(), "stmts": stmts})
		}
		resolved, _ := stack.Resolve(in).([]any)
		if len(resolved) != len(in) {
			return nil, fmt.Errorf("resolving the protected resources of %s: the kernel returned %d of %d", r.stackPath(stack), len(resolved), len(in))
		}
		for n, sl := range byStack[stack] {
			m, _ := resolved[n].(map[string]any)
			out[sl.rec].ids[sl.res], _ = m["id"].(string)
			out[sl.rec].stmts[sl.res], _ = m["stmts"].([]any)
		}
	}
	return out, nil
}

// check checks the record's resources in their templates, byPath, and
// returns the table as the write-grant check knows it.
func (rec *resolvedRecord) check(byPath map[string]*stackTemplate) (*guardedTable, []violation) {
	missing := func(path string) []violation {
		return []violation{{rule: ruleInvariant, severity: fatal,
			message: fmt.Sprintf("appendonly: the stack %s, which holds an append-only table or its journal, is not among the synthesized templates.", path),
			fix:     "Synthesize the whole app (cdk synth), not a copy of one stack's template."}}
	}
	s := byPath[rec.stackPath]
	if s == nil {
		return nil, missing(rec.stackPath)
	}
	label := pathOf(rec.stackPath, rec.ids[0])
	var out []violation
	for i, p := range rec.protected {
		ps := s
		if p.stackPath != "" {
			if ps = byPath[p.stackPath]; ps == nil {
				out = append(out, missing(p.stackPath)...)
				continue
			}
		}
		out = append(out, rec.checkOne(ps, label, p, rec.ids[i], rec.stmts[i])...)
	}
	if _, ok := s.res[rec.ids[0]]; !ok {
		return nil, out
	}
	gt := &guardedTable{stack: s, logicalID: rec.ids[0], label: label, region: s.region, account: s.account,
		mode: rec.mode, exempt: rec.exempt, name: rec.literalName}
	if gt.name == "" {
		stackName := s.name
		if s.parent != nil || stackName == "" {
			stackName = generated
		}
		// CloudFormation names it <stack name>-<logical id>-<13 characters>.
		gt.name = stackName + "-" + rec.ids[0] + "-" + generated
	}
	return gt, out
}

func (rec *resolvedRecord) checkOne(s *stackTemplate, table string, p protected, id string, stmts []any) []violation {
	name := p.what + " of the append-only table " + table
	if p.what == "table" {
		name = "the append-only table " + table
	}
	v := func(location, format string, args ...any) violation {
		return violation{rule: ruleInvariant, severity: fatal, file: s.file, logicalID: id, location: location,
			message: "appendonly: " + name + ": " + fmt.Sprintf(format, args...)}
	}
	r, ok := s.res[id]
	if !ok {
		out := v("Resources", "the %s (%s) is missing from the template: something removed it after NewTable.", p.typ, id)
		out.fix = "Keep what the appendonly construct creates: remove the code that deletes or replaces it."
		return []violation{out}
	}
	if r["Type"] != p.typ {
		out := v("Type", "its type is %v, not %s: something replaced it after NewTable.", r["Type"], p.typ)
		out.fix = "Keep what the appendonly construct creates."
		return []violation{out}
	}
	var out []violation
	if p.retain {
		for _, attr := range []string{"DeletionPolicy", "UpdateReplacePolicy"} {
			got, _ := r[attr].(string)
			if got == "Retain" || attr == "DeletionPolicy" && got == "RetainExceptOnCreate" {
				continue
			}
			x := v(attr, "%s is %q, should be \"Retain\": deleting or replacing the stack would delete it, and its data with it.", attr, orNone(got))
			x.fix = "Remove what changed the removal policy (ApplyRemovalPolicy, RemovalPolicies.of(...).destroy(), an aspect or an override)."
			if p.what == "table" {
				x.fix += " A table meant to be deleted with its stack takes UnsafeAllowTableRemoval with RemovalPolicy DESTROY."
			}
			out = append(out, x)
		}
	}
	props, _ := r["Properties"].(map[string]any)
	for _, w := range p.props {
		got, present := lookup(props, w.path)
		location := "Properties/" + strings.Join(w.path, "/")
		switch {
		case w.value == nil:
			if present && got != nil && mapGet(got, "Enabled") != false {
				x := v(location, "%s is set to %s, should be absent: %s.", strings.Join(w.path, "."), compact(got), w.why)
				x.fix = "Remove the override that sets it."
				out = append(out, x)
			}
		case !present || !sameJSON(got, w.value):
			x := v(location, "%s is %s, should be %s: %s.", strings.Join(w.path, "."), compactOr(got, present), compact(w.value), w.why)
			x.fix = "Remove the override or aspect that changes it."
			if w.prop != "" {
				x.fix += " The prop that changes it is " + w.prop + "."
			}
			out = append(out, x)
		}
	}
	if len(p.stmts) > 0 {
		doc, _ := lookup(props, p.docPath)
		location := "Properties/" + strings.Join(p.docPath, "/")
		have := map[string][]any{}
		for _, st := range asAnyList(mapGet(policyDoc(doc), "Statement")) {
			if sid, ok := mapGet(st, "Sid").(string); ok {
				have[sid] = append(have[sid], st)
			}
		}
		for _, want := range stmts {
			sid, _ := mapGet(want, "Sid").(string)
			got := have[sid]
			switch {
			case len(got) == 0:
				x := v(location, "its policy has lost the statement %s, which the construct wrote there.", sid)
				x.fix = "Remove the override that replaces or deletes the policy; add your own statements beside the construct's instead."
				if p.docProp != "" {
					x.fix += " The props that change the construct's statements are " + p.docProp + "."
				}
				out = append(out, x)
			case len(got) > 1 || !sameJSON(got[0], want):
				x := v(location, "its policy's statement %s is not as the construct wrote it: it is %s, should be %s.", sid, compact(got[0]), compact(want))
				x.fix = "Remove the override that changes it."
				if p.docProp != "" {
					x.fix += " The props that change it are " + p.docProp + "."
				}
				out = append(out, x)
			}
		}
	}
	return out
}

func orNone(s string) string {
	if s == "" {
		return "(none: Delete)"
	}
	return s
}

// lookup finds the value at path in m.
func lookup(m map[string]any, path []string) (any, bool) {
	var v any = m
	for _, k := range path {
		mm, ok := v.(map[string]any)
		if !ok {
			return nil, false
		}
		if v, ok = mm[k]; !ok {
			return nil, false
		}
	}
	return v, true
}

func compact(v any) string {
	data, err := json.Marshal(v)
	if err != nil {
		return fmt.Sprint(v)
	}
	return string(data)
}

func compactOr(v any, present bool) string {
	if !present {
		return "absent"
	}
	return compact(v)
}

// sameJSON compares two JSON values as IAM and CloudFormation read them: a
// list of one is its element, the order of a list does not matter, and
// Principal "*" is {"AWS": "*"}.
func sameJSON(a, b any) bool {
	return reflect.DeepEqual(normalize(a), normalize(b))
}

func normalize(v any) any {
	data, err := json.Marshal(v)
	if err != nil {
		return v
	}
	var x any
	if json.Unmarshal(data, &x) != nil {
		return v
	}
	return norm(x)
}

func norm(v any) any {
	switch v := v.(type) {
	case []any:
		if len(v) == 1 {
			return norm(v[0])
		}
		out := make([]any, len(v))
		for i, x := range v {
			out[i] = norm(x)
		}
		sort.Slice(out, func(i, j int) bool { return compact(out[i]) < compact(out[j]) })
		return out
	case map[string]any:
		out := make(map[string]any, len(v))
		for k, x := range v {
			if k == "Principal" && x == "*" {
				x = map[string]any{"AWS": "*"}
			}
			out[k] = norm(x)
		}
		return out
	}
	return v
}
