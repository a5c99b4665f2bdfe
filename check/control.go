package check

import (
	"fmt"
	"sort"
	"strings"
)

// controlTargets are, per stack path, the logical ids of the journal parts
// whose control lets a principal speak as the sequencer or stop it (the
// sequencer, its mapping and role, the monitor), each with a label.
func controlTargets(records []Table) map[string]map[string]string {
	out := map[string]map[string]string{}
	for _, t := range records {
		for _, p := range t.Protected {
			switch p.What {
			case "journal sequencer", "journal mapping", "journal sequencer role", "journal monitor":
			default:
				continue
			}
			path := t.StackPath
			if p.StackPath != "" {
				path = p.StackPath
			}
			if out[path] == nil {
				out[path] = map[string]string{}
			}
			out[path][p.ID] = "the " + strings.TrimPrefix(p.What, "journal ") + " of the journal of the append-only table " + pathOf(t.StackPath, t.Protected[0].ID)
		}
	}
	return out
}

// controlGrants are the statements of resource id that allow an action of
// SequencerControlActions on a journal part of its stack (named, by Ref or
// Fn::GetAtt), on "*", or on a resource the check cannot resolve, in a
// stack that may be in a journal's account (reach): whoever holds one can
// invoke the sequencer with a hand-made event, replace its code, or pass
// its role to a function of their own, and so sign and write as the
// sequencer.
func (e *evaluator) controlGrants(s *stackTemplate, id string, targets map[string]string, reach bool) []violation {
	r := s.res[id]
	if !reach || hasAcknowledgement(r) {
		return nil
	}
	var out []violation
	for _, p := range policiesOf(r) {
		doc, ok := e.document(p.doc, s)
		if !ok {
			continue // reported as unreadable by the write-grant rule
		}
		for i, stmt := range e.statements(mapGet(doc, "Statement"), s) {
			if !e.allows(stmt["Effect"], s) {
				continue
			}
			actions := e.allowedOf(stmt, s, sequencerControlActions)
			if len(actions) == 0 {
				continue
			}
			hit := ""
			if stmt["NotResource"] != nil {
				hit = "every resource but " + compact(stmt["NotResource"])
			} else {
				for _, ref := range refsIn(stmt["Resource"]) {
					if label, ok := targets[ref]; ok {
						hit = label
						break
					}
				}
				if hit == "" {
					for _, v := range e.resourceValues(stmt["Resource"], s) {
						if v == "*" || strings.Contains(v, unresolved) {
							hit = fmt.Sprintf("resource %q, which may be the journal's sequencer, its mapping or role, or its monitor", printable(v))
							break
						}
					}
				}
			}
			if hit == "" || e.acknowledged(s, id, r) {
				continue
			}
			out = append(out, violation{rule: ruleWriteGrant, severity: fatal, file: s.file, logicalID: id,
				location: fmt.Sprintf("%s/Statement/%d", p.location, i),
				message: fmt.Sprintf("appendonly: %s %s, statement %d, allows %s on %s: whoever holds it can make the sequencer sign and write what they like, or stop it.",
					p.label, pathOf(s.path, id), i+1, summarize(actions), hit),
				fix: "Name other resources, or remove the actions: keep the journal in an account of its own (see docs/journal.md). " +
					strings.Replace(ackFix(s, id, r), "truly must write", "truly must hold them", 1)})
		}
	}
	return out
}

// refsIn returns the logical ids v refers to with Ref and Fn::GetAtt, at any
// depth (inside an Fn::Join, say), and in Fn::Sub strings.
func refsIn(v any) []string {
	var out []string
	var walk func(v any)
	walk = func(v any) {
		switch v := v.(type) {
		case map[string]any:
			if ref, ok := v["Ref"].(string); ok && len(v) == 1 {
				out = append(out, ref)
			}
			if ga := asAnyList(v["Fn::GetAtt"]); len(ga) > 0 {
				if id, ok := ga[0].(string); ok {
					out = append(out, id)
				}
			}
			if sub, ok := v["Fn::Sub"].(string); ok {
				out = append(out, subRefs(sub)...)
			} else if parts := asAnyList(v["Fn::Sub"]); len(parts) > 0 {
				if str, ok := parts[0].(string); ok {
					out = append(out, subRefs(str)...)
				}
			}
			keys := make([]string, 0, len(v))
			for k := range v {
				keys = append(keys, k)
			}
			sort.Strings(keys)
			for _, k := range keys {
				walk(v[k])
			}
		case []any:
			for _, x := range v {
				walk(x)
			}
		}
	}
	walk(v)
	return out
}

// subRefs returns the names ${Name} and ${Name.Attr} in an Fn::Sub string.
func subRefs(s string) []string {
	var out []string
	for {
		i := strings.Index(s, "${")
		if i < 0 {
			return out
		}
		j := strings.Index(s[i:], "}")
		if j < 0 {
			return out
		}
		name, _, _ := strings.Cut(s[i+2:i+j], ".")
		out = append(out, name)
		s = s[i+j+1:]
	}
}
