package check

import (
	"encoding/json"
	"fmt"
	"reflect"
	"sort"
	"strings"
)

// check checks the record's resources in their templates, byPath, and
// returns the table as the write-grant check knows it.
func checkTable(rec Table, byPath map[string]*stackTemplate) (*guardedTable, []violation) {
	missing := func(path string) []violation {
		return []violation{{rule: ruleInvariant, severity: fatal,
			message: fmt.Sprintf("appendonly: the stack %s, which holds an append-only table or its journal, is not among the synthesized templates.", path),
			fix:     "Synthesize the whole app (cdk synth), not a copy of one stack's template."}}
	}
	s := byPath[rec.StackPath]
	if s == nil {
		return nil, missing(rec.StackPath)
	}
	if len(rec.Protected) == 0 {
		return nil, nil
	}
	tableID := rec.Protected[0].ID
	label := pathOf(rec.StackPath, tableID)
	var out []violation
	for _, p := range rec.Protected {
		ps := s
		if p.StackPath != "" {
			if ps = byPath[p.StackPath]; ps == nil {
				out = append(out, missing(p.StackPath)...)
				continue
			}
		}
		out = append(out, checkOne(ps, label, p)...)
	}
	if _, ok := s.res[tableID]; !ok {
		return nil, out
	}
	gt := &guardedTable{stack: s, logicalID: tableID, label: label, region: s.region, account: s.account,
		identityOnly: rec.IdentityOnly, exempt: rec.Exempt, name: rec.Name}
	if name := mapGet(s.res[tableID]["Properties"], "TableName"); name != nil && gt.name == "" {
		if _, literal := name.(string); !literal {
			// A name from a parameter, an import, a dynamic reference: any
			// name, so any table's ARN may be this one's.
			gt.name = generated
		}
	}
	if gt.name == "" {
		stackName := s.name
		if s.parent != nil || stackName == "" {
			stackName = generated
		}
		// CloudFormation names it <stack name>-<logical id>-<13 characters>.
		gt.name = stackName + "-" + tableID + "-" + generated
	}
	return gt, out
}

func checkOne(s *stackTemplate, table string, p Protected) []violation {
	id := p.ID
	if p.Type == "" {
		p.Type = TypeOf(p.What)
	}
	docPath, docProp := DocPath(p.What), kinds[p.What].docProp
	name := p.What + " of the append-only table " + table
	switch p.What {
	case "":
		name = "a resource that protects the append-only table " + table
	case "table":
		name = "the append-only table " + table
	}
	v := func(location, format string, args ...any) violation {
		return violation{rule: ruleInvariant, severity: fatal, file: s.file, logicalID: id, location: location,
			message: "appendonly: " + name + ": " + fmt.Sprintf(format, args...)}
	}
	r, ok := s.res[id]
	if !ok {
		typ := p.Type
		if typ == "" {
			typ = "resource"
		}
		out := v("Resources", "the %s (%s) is missing from the template: something removed it after NewTable.", typ, id)
		out.fix = "Keep what the appendonly construct creates: remove the code that deletes or replaces it."
		return []violation{out}
	}
	if r["Type"] != p.Type {
		out := v("Type", "its type is %v, not %s: something replaced it after NewTable.", r["Type"], p.Type)
		out.fix = "Keep what the appendonly construct creates."
		return []violation{out}
	}
	var out []violation
	if p.Retain {
		for _, attr := range []string{"DeletionPolicy", "UpdateReplacePolicy"} {
			got, _ := r[attr].(string)
			if got == "Retain" || attr == "DeletionPolicy" && got == "RetainExceptOnCreate" {
				continue
			}
			x := v(attr, "%s is %q, should be \"Retain\": deleting or replacing the stack would delete it, and its data with it.", attr, orNone(got))
			x.fix = "Remove what changed the removal policy (ApplyRemovalPolicy, RemovalPolicies.of(...).destroy(), an aspect or an override)."
			if p.What == "table" {
				x.fix += " A table meant to be deleted with its stack takes UnsafeAllowTableRemoval with RemovalPolicy DESTROY."
			}
			out = append(out, x)
		}
	}
	props, _ := r["Properties"].(map[string]any)
	for _, w := range p.Props {
		t := text(p.What, w.Path)
		got, present := lookup(props, w.Path)
		location := "Properties/" + strings.Join(w.Path, "/")
		switch {
		case w.Value == nil:
			if present && got != nil && mapGet(got, "Enabled") != false {
				x := v(location, "%s is set to %s, should be absent: %s.", strings.Join(w.Path, "."), compact(got), t.why)
				x.fix = "Remove the override that sets it."
				out = append(out, x)
			}
		case !present || !sameJSON(got, w.Value):
			x := v(location, "%s is %s, should be %s: %s.", strings.Join(w.Path, "."), compactOr(got, present), compact(w.Value), t.why)
			x.fix = "Remove the override or aspect that changes it."
			if t.prop != "" {
				x.fix += " The prop that changes it is " + t.prop + "."
			}
			out = append(out, x)
		}
	}
	if len(p.Statements) > 0 || p.Digest != "" {
		doc, _ := lookup(props, docPath)
		location := "Properties/" + strings.Join(docPath, "/")
		have := map[string][]any{}
		var ours []any // the statements of the construct's Sids
		var sids []string
		for _, st := range asAnyList(mapGet(policyDoc(doc), "Statement")) {
			if sid, ok := mapGet(st, "Sid").(string); ok {
				have[sid] = append(have[sid], st)
				if kinds[p.What].protects(sid) {
					ours, sids = append(ours, st), append(sids, sid)
				}
			}
		}
		fix := func(x *violation, first string) {
			x.fix = first
			if docProp != "" {
				x.fix += " The props that change the construct's statements are " + docProp + "."
			}
		}
		for _, want := range p.Statements {
			sid, _ := mapGet(want, "Sid").(string)
			got := have[sid]
			switch {
			case len(got) == 0:
				x := v(location, "its policy has lost the statement %s, which the construct wrote there.", sid)
				fix(&x, "Remove the override that replaces or deletes the policy; add your own statements beside the construct's instead.")
				out = append(out, x)
			case len(got) > 1 || !sameJSON(got[0], want):
				x := v(location, "its policy's statement %s is not as the construct wrote it: it is %s, should be %s.", sid, compact(got), compact(want))
				fix(&x, "Remove the override that changes it.")
				out = append(out, x)
			}
		}
		if p.Digest != "" && Digest(ours) != p.Digest {
			sort.Strings(sids)
			x := v(location, "the statements the construct wrote in its policy are not as it wrote them: one was changed, removed or added with a Sid of the construct's (the policy holds %s).",
				orNoneList(sids))
			fix(&x, "Remove the override that changes the policy; add your own statements beside the construct's, with Sids of your own.")
			out = append(out, x)
		}
	}
	return out
}

func orNoneList(l []string) string {
	if len(l) == 0 {
		return "none of them"
	}
	return strings.Join(l, ", ")
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
	if plainJSON(v) {
		return norm(v)
	}
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

// plainJSON reports whether v holds only what encoding/json decodes into an
// any: such a value needs no round trip through JSON to be compared.
func plainJSON(v any) bool {
	switch v := v.(type) {
	case nil, string, float64, bool:
		return true
	case []any:
		for _, x := range v {
			if !plainJSON(x) {
				return false
			}
		}
		return true
	case map[string]any:
		for _, x := range v {
			if !plainJSON(x) {
				return false
			}
		}
		return true
	}
	return false
}

func norm(v any) any {
	switch v := v.(type) {
	case []any:
		if len(v) == 1 {
			return norm(v[0])
		}
		type keyed struct {
			key string
			v   any
		}
		ks := make([]keyed, len(v))
		for i, x := range v {
			n := norm(x)
			ks[i] = keyed{compact(n), n}
		}
		sort.Slice(ks, func(i, j int) bool { return ks[i].key < ks[j].key })
		out := make([]any, len(v))
		for i, k := range ks {
			out[i] = k.v
		}
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
