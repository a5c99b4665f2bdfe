package check

import (
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"sort"
	"strings"
)

// The construct describes, in the template itself, what it protects and
// how, so that the cloud assembly alone is enough to check it. The
// description is small (CloudFormation allows 1 MB of template): what this
// package already knows of each kind of resource (where its policy is, the
// props that change a property, why it matters) is not repeated, and each
// statement the construct wrote is named by its Sid and a digest.
//
//   - the table's resource carries TableKey (TableMetadata): its
//     enforcement mode and the resources that protect it, the table first,
//     each by logical id, prefixed by its stack's path and "/" when it is
//     not in the table's stack (a journal in another account), and the
//     description of those in its stack (ProtectedMetadata): what each is,
//     whether it must be retained, the properties it must have, and the
//     digest of the statements of its policy;
//   - in another stack, the first of them carries ProtectedKey: the
//     descriptions of those there;
//   - the managed policy of an ExistingTable carries ExistingKey.
//
// The table's name is its TableName when that is a literal, and the exempt
// principals are those its resource policy's items statement exempts.
const (
	TableKey     = "appendonly"
	ProtectedKey = "appendonly_protected"
	ExistingKey  = "appendonly_existing_table"
	// MetadataVersion is the version of the description.
	MetadataVersion = 1
)

// TableMetadata is the value of TableKey.
type TableMetadata struct {
	Version int    `json:"v"`
	Mode    string `json:"mode"`
	// Parts are the logical ids of the table and the resources that
	// protect it: "ID", or "STACKPATH/ID" in another stack.
	Parts []string `json:"parts"`
	// Protected describes the parts in the table's stack, by logical id;
	// those in another stack are described there, on the first of them
	// (ProtectedKey, the same map).
	Protected map[string]ProtectedMetadata `json:"protected"`
}

// ProtectedMetadata is the value of ProtectedKey.
type ProtectedMetadata struct {
	What   string `json:"what"`
	Retain bool   `json:"retain,omitempty"`
	// Props are the properties it must have, by their path under
	// Properties joined with "."; Absent those it must not have (or not
	// enabled): CDK drops a null from metadata.
	Props  map[string]any `json:"props,omitempty"`
	Absent []string       `json:"absent,omitempty"`
	// Statements is the digest (Digest) of the statements the construct
	// wrote in its policy: those whose Sid is one of the construct's.
	Statements string `json:"statements,omitempty"`
}

// ExistingMetadata is the value of ExistingKey.
type ExistingMetadata struct {
	Label string `json:"label"`
	// Arn and Name are the table's as the template resolves them: a
	// string, or an intrinsic function.
	Arn    any      `json:"arn,omitempty"`
	Name   any      `json:"name,omitempty"`
	Mode   string   `json:"mode"`
	Exempt []string `json:"exempt,omitempty"`
}

// TableWideMode and IdentityOnlyMode name the enforcement modes.
const (
	TableWideMode    = "EnforceTableWide"
	IdentityOnlyMode = "EnforceIdentityOnlyOthersCanModify"
)

// Digest is the digest of a list of statements: of their JSON as IAM
// reads it (a list of one is its element, lists in any order), 96 bits of
// SHA-256, base64url.
func Digest(statements []any) string {
	sum := sha256.Sum256([]byte(compact(normalize(statements))))
	return base64.RawURLEncoding.EncodeToString(sum[:12])
}

// Describe returns the description of a protected resource as the
// construct writes it (its statements resolved).
func Describe(p Protected) ProtectedMetadata {
	m := ProtectedMetadata{What: p.What, Retain: p.Retain}
	for _, w := range p.Props {
		path := strings.Join(w.Path, ".")
		if w.Value == nil {
			m.Absent = append(m.Absent, path)
			continue
		}
		if m.Props == nil {
			m.Props = map[string]any{}
		}
		m.Props[path] = w.Value
	}
	if len(p.Statements) > 0 {
		m.Statements = Digest(p.Statements)
	}
	return m
}

// Tables reads what the templates say the construct protects: the tables
// (with what each protected resource must look like) and the existing
// tables. A description that cannot be read, or a protected resource whose
// own description is gone, is a finding.
func (a *Assembly) Tables() (tables []Table, existing []Existing, findings []Finding) {
	byPath := map[string]*stackTemplate{}
	for _, s := range a.stacks {
		byPath[s.path] = s
	}
	bad := func(s *stackTemplate, id, key, format string, args ...any) {
		findings = append(findings, Finding{Rule: ruleInvariant, Severity: fatal, File: s.file, LogicalID: id, Location: "Metadata/" + key,
			Message: fmt.Sprintf("appendonly: %s: ", pathOf(s.path, id)) + fmt.Sprintf(format, args...),
			Fix:     "Keep the metadata the appendonly construct writes: it says what is protected, for appendonly check."})
	}
	for _, s := range a.stacks {
		for _, id := range sortedKeys(s.res) {
			md, _ := s.res[id]["Metadata"].(map[string]any)
			if raw, ok := md[ExistingKey]; ok {
				var m ExistingMetadata
				if err := remarshal(raw, &m); err != nil {
					bad(s, id, ExistingKey, "its description of an existing append-only table cannot be read: %v", err)
				} else {
					existing = append(existing, m.existing())
				}
			}
			raw, ok := md[TableKey]
			if !ok {
				continue
			}
			var m TableMetadata
			if err := remarshal(raw, &m); err != nil || m.Version != MetadataVersion || len(m.Parts) == 0 || m.Parts[0] != id {
				bad(s, id, TableKey, "its description as an append-only table cannot be read (version %d, want %d; parts %v): %v", m.Version, MetadataVersion, m.Parts, err)
				continue
			}
			t := Table{StackPath: s.path, IdentityOnly: m.Mode == IdentityOnlyMode}
			for _, part := range m.Parts {
				p := Protected{ID: part}
				ps, described := s, m.Protected
				if i := strings.LastIndexByte(part, '/'); i >= 0 {
					p.StackPath, p.ID = part[:i], part[i+1:]
					ps, described = byPath[p.StackPath], nil
					if ps != nil {
						described = a.described(ps)
					}
				}
				if ps != nil {
					if _, ok := ps.res[p.ID]; ok {
						d, ok := described[p.ID]
						if !ok || kinds[d.What].typ == "" {
							bad(ps, p.ID, TableKey, "a resource that protects an append-only table has lost the description of what it must be (%q)", d.What)
							continue
						}
						p.fill(d)
					}
				}
				t.Protected = append(t.Protected, p) // a resource that is missing is named by the check
			}
			t.Name, t.Exempt = tableFacts(s.res[id])
			tables = append(tables, t)
		}
	}
	sort.SliceStable(tables, func(i, j int) bool { return tables[i].StackPath < tables[j].StackPath })
	return tables, existing, findings
}

// described merges the descriptions of protected resources the
// resources of s carry (ProtectedKey), by logical id.
func (a *Assembly) described(s *stackTemplate) map[string]ProtectedMetadata {
	out := map[string]ProtectedMetadata{}
	for _, id := range sortedKeys(s.res) {
		md, _ := s.res[id]["Metadata"].(map[string]any)
		if raw, ok := md[ProtectedKey]; ok {
			var m map[string]ProtectedMetadata
			if remarshal(raw, &m) == nil {
				for k, v := range m {
					out[k] = v
				}
			}
		}
	}
	return out
}

// fill sets what the description d says of p, and what this package knows
// of its kind.
func (p *Protected) fill(d ProtectedMetadata) {
	p.What, p.Retain, p.Type = d.What, d.Retain, TypeOf(d.What)
	for _, path := range sortedKeys(d.Props) {
		p.Props = append(p.Props, Want{Path: strings.Split(path, "."), Value: d.Props[path]})
	}
	for _, path := range d.Absent {
		p.Props = append(p.Props, Want{Path: strings.Split(path, ".")})
	}
	p.Digest = d.Statements
}

// tableFacts reads what the template itself says of a table: its literal
// name, and the principals its resource policy's items deny exempts.
func tableFacts(r map[string]any) (name string, exempt []string) {
	props, _ := r["Properties"].(map[string]any)
	name, _ = props["TableName"].(string)
	doc := policyDoc(mapGet(mapGet(props, "ResourcePolicy"), "PolicyDocument"))
	for _, st := range asAnyList(mapGet(doc, "Statement")) {
		if mapGet(st, "Sid") == SidTableWideDeny {
			exempt = asStrings(mapGet(mapGet(mapGet(st, "Condition"), "ArnNotLike"), "aws:PrincipalArn"))
		}
	}
	return name, exempt
}

func (m ExistingMetadata) existing() Existing {
	e := Existing{Label: m.Label, IdentityOnly: m.Mode == IdentityOnlyMode, Exempt: m.Exempt, Name: Unresolved}
	if arn, ok := m.Arn.(string); ok {
		if f := strings.SplitN(arn, ":", 6); len(f) == 6 && strings.HasPrefix(f[5], "table/") {
			e.Partition, e.Region, e.Account, e.Name = f[1], f[3], f[4], strings.TrimPrefix(f[5], "table/")
			return e
		}
	}
	if name, ok := m.Name.(string); ok {
		e.Name = name
	}
	return e
}

// remarshal decodes a JSON value read into any into v.
func remarshal(raw any, v any) error {
	data, err := json.Marshal(raw)
	if err != nil {
		return err
	}
	return json.Unmarshal(data, v)
}

// SameDescription compares what the templates say is protected (Tables)
// with what the app that synthesized them knows: a finding for each table
// whose description is missing or differs, so that appendonly check, given
// the cloud assembly alone, checks the same.
func SameDescription(a *Assembly, tables []Table, existing []Existing) []Finding {
	got, gotExisting, out := a.Tables()
	key := func(t Table) string { return t.StackPath + "\x00" + t.Protected[0].ID }
	have := map[string]Table{}
	for _, t := range got {
		have[key(t)] = t
	}
	summary := func(t Table) any {
		var parts []any
		for _, p := range t.Protected {
			d := Describe(p)
			if p.Digest != "" {
				d.Statements = p.Digest
			}
			parts = append(parts, map[string]any{"stack": p.StackPath, "id": p.ID, "description": d})
		}
		// The exempt principals are in the statements, digested.
		return map[string]any{"identityOnly": t.IdentityOnly, "name": t.Name, "protected": parts}
	}
	for _, want := range tables {
		if len(want.Protected) == 0 {
			continue
		}
		label := pathOf(want.StackPath, want.Protected[0].ID)
		g, ok := have[key(want)]
		switch {
		case !ok:
			out = append(out, Finding{Rule: ruleInvariant, Severity: fatal, Location: "Metadata/" + TableKey,
				Message: "appendonly: the append-only table " + label + " has lost the description of what protects it (its " + TableKey + " metadata).",
				Fix:     "Keep the metadata the appendonly construct writes: appendonly check reads what is protected from it."})
		case !sameJSON(summary(g), summary(want)):
			out = append(out, Finding{Rule: ruleInvariant, Severity: fatal, Location: "Metadata/" + TableKey,
				Message: "appendonly: the description of what protects the append-only table " + label + " (its " + TableKey + " and " +
					ProtectedKey + " metadata) is not what the construct wrote: it is " + compact(summary(g)) + ", should be " + compact(summary(want)) + ".",
				Fix: "Remove the override that changes the metadata."})
		}
	}
	if (len(existing) > 0 || len(gotExisting) > 0) && !sameJSON(gotExisting, existing) {
		out = append(out, Finding{Rule: ruleInvariant, Severity: fatal, Location: "Metadata/" + ExistingKey,
			Message: "appendonly: the templates' descriptions of existing append-only tables (" + ExistingKey + ") are " + compact(gotExisting) +
				", should be " + compact(existing) + ".",
			Fix: "Remove the override that changes the metadata."})
	}
	return out
}
