package appendonly

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/constructs-go/constructs/v10"
	"github.com/aws/jsii-runtime-go"
)

// guard is the app-wide check that nothing else in the app grants a write on
// an append-only table. NewTable arms it once per app, as a CDK policy
// validation plugin (Validations.of(app).addPlugins), so it runs once per
// synthesis (`cdk synth`, app.Synth, assertions.Template_FromStack) on the
// synthesized templates of every stack, in Go, with no call into the jsii
// kernel per construct.
//
// It reads every IAM policy in the templates, however it was made (an L2
// grant, addToPolicy, an L1 CfnPolicy, the inline policies of a role, user
// or group), and reports a violation when an Allow statement's actions
// (wildcards and NotAction included) cover an action the construct denies
// (DenyActions) and its resources (wildcards included) cover an append-only
// table's ARN, an index, its stream or its global-table ARN. A statement on
// Resource "*" is an error for a table in EnforceIdentityOnlyOthersCanModify
// mode, where nothing else stops it, and a warning for one in
// EnforceTableWide mode, whose resource policy denies it anyway.
//
// A template's append-only tables are the AWS::DynamoDB::Table resources
// whose resource policy holds the construct's table-wide deny
// (EnforceTableWide), or that the construct marked with the metadata
// {"appendonly": {"enforcement": "EnforceIdentityOnlyOthersCanModify"}};
// tables brought with ExistingTable are known from the registry.
type guard struct {
	registry *registry
}

// Rule names in the validation report.
const (
	ruleWriteGrant       = "appendonly-no-write-grant"
	ruleWriteGrantOnStar = "appendonly-no-write-grant-on-every-table"
	// metadataKey marks a table in EnforceIdentityOnlyOthersCanModify mode,
	// which has no resource policy to tell it by.
	metadataKey = "appendonly"
	// acknowledgedKey marks a policy or principal whose write grant was
	// acknowledged (UnsafeAcknowledgeWriteGrant).
	acknowledgedKey = "appendonly_write_grant_acknowledged"
	guardVersion    = "1"
)

// Name implements awscdk.IPolicyValidationPlugin.
func (g *guard) Name() *string { return jsii.String("appendonly-write-grant-guard") }

// Version implements awscdk.IPolicyValidationPlugin.
func (g *guard) Version() *string { return jsii.String(guardVersion) }

// RuleIds implements awscdk.IPolicyValidationPlugin.
func (g *guard) RuleIds() *[]*string { return jsii.Strings(ruleWriteGrant, ruleWriteGrantOnStar) }

// Validate implements awscdk.IPolicyValidationPlugin. It asks the jsii
// kernel for one thing, the template paths, and reads the rest (the
// templates, and each stack's path and environment from the cloud assembly's
// manifest.json) from disk: each call into the kernel from inside a
// validation callback costs about a millisecond.
func (g *guard) Validate(ctx awscdk.IPolicyValidationContext) *awscdk.PolicyValidationPluginReport {
	stacks, err := readStacks(*ctx.TemplatePaths())
	if err != nil {
		return &awscdk.PolicyValidationPluginReport{Success: jsii.Bool(false), Violations: &[]*awscdk.PolicyViolation{{
			RuleName:           jsii.String(ruleWriteGrant),
			Description:        jsii.String("appendonly: " + err.Error()),
			ViolatingResources: &[]*awscdk.PolicyViolatingResource{},
		}}}
	}
	violations := g.check(stacks)
	if len(violations) > 0 {
		// Name constructs by their paths: a walk of the tree, made only
		// when there is something to report.
		paths := g.constructPaths()
		for i := range violations {
			violations[i].message = paths.Replace(violations[i].message)
		}
	}
	report := &awscdk.PolicyValidationPluginReport{Success: jsii.Bool(true), Violations: &[]*awscdk.PolicyViolation{}}
	for _, v := range violations {
		if v.severity == "error" {
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
	res                               map[string]map[string]any // IAM and DynamoDB resources
	outputs                           map[string]any
}

// readStacks reads each template, and what the cloud assembly's manifest
// says of its stack: its construct path, name and environment.
func readStacks(paths []*string) ([]stackTemplate, error) {
	type artifact struct {
		Type        string `json:"type"`
		Environment string `json:"environment"`
		DisplayName string `json:"displayName"`
		Properties  struct {
			TemplateFile string `json:"templateFile"`
			StackName    string `json:"stackName"`
		} `json:"properties"`
	}
	manifests := map[string]map[string]artifact{} // directory: template file: artifact id and artifact
	ids := map[string]map[string]string{}
	var out []stackTemplate
	for _, p := range paths {
		s := stackTemplate{file: deref(p)}
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
		out = append(out, s)
	}
	return out, nil
}

// read decodes the template's outputs, and of its resources only the IAM
// policies and principals and the DynamoDB tables.
func (s *stackTemplate) read() error {
	data, err := os.ReadFile(s.file)
	if err != nil {
		return err
	}
	var t struct {
		Resources map[string]json.RawMessage
		Outputs   map[string]any
	}
	if err := json.Unmarshal(data, &t); err != nil {
		return err
	}
	s.res = map[string]map[string]any{}
	for id, raw := range t.Resources {
		var head struct{ Type string }
		if err := json.Unmarshal(raw, &head); err != nil {
			return err
		}
		if !strings.HasPrefix(head.Type, "AWS::IAM::") && head.Type != "AWS::DynamoDB::Table" {
			continue
		}
		var r map[string]any
		if err := json.Unmarshal(raw, &r); err != nil {
			return err
		}
		s.res[id] = r
	}
	s.outputs = t.Outputs
	return nil
}

func (s *stackTemplate) resources() map[string]map[string]any { return s.res }

// guardedTable is what the guard knows of one append-only table.
type guardedTable struct {
	stack     *stackTemplate // nil for an existing table
	logicalID string
	label     string // how messages name it
	name      string // its name: literal, or a stand-in for the name CloudFormation generates
	partition string // literal, or "" for any
	region    string
	account   string
	mode      Enforcement
	exempt    []string
}

// A stand-in for what nobody knows at synth: the random part of a name
// CloudFormation generates, an index or stream label.
const unknownPart = "\x00"

// A stand-in for a reference to anything that is not an append-only table:
// no table's ARN contains it.
const otherRef = "\x01"

type violation struct {
	rule, severity, message, fix string
	file, logicalID, location    string
}

// check returns the violations in the templates.
func (g *guard) check(stacks []stackTemplate) []violation {
	tables := g.tables(stacks)
	if len(tables.list) == 0 {
		return nil
	}
	outputs := outputIndex(stacks)
	var out []violation
	for si := range stacks {
		s := &stacks[si]
		res := s.resources()
		ids := make([]string, 0, len(res))
		for id := range res {
			ids = append(ids, id)
		}
		sort.Strings(ids)
		for _, id := range ids {
			r := res[id]
			for _, p := range policiesOf(id, r) {
				if g.acknowledged(r, res) {
					break
				}
				out = append(out, g.checkPolicy(s, id, r, res, p, tables, outputs)...)
			}
		}
	}
	return out
}

// A policy document inside a resource, and where.
type docAt struct {
	doc      any
	location string
	label    string
}

func policiesOf(id string, r map[string]any) []docAt {
	props, _ := r["Properties"].(map[string]any)
	switch r["Type"] {
	case "AWS::IAM::Policy", "AWS::IAM::ManagedPolicy", "AWS::IAM::RolePolicy", "AWS::IAM::UserPolicy", "AWS::IAM::GroupPolicy":
		return []docAt{{props["PolicyDocument"], "Properties/PolicyDocument", strings.TrimPrefix(fmt.Sprint(r["Type"]), "AWS::IAM::")}}
	case "AWS::IAM::Role", "AWS::IAM::User", "AWS::IAM::Group":
		var out []docAt
		for i, p := range asAnyList(props["Policies"]) {
			m, _ := p.(map[string]any)
			out = append(out, docAt{m["PolicyDocument"], fmt.Sprintf("Properties/Policies/%d/PolicyDocument", i),
				fmt.Sprintf("inline policy %v of the %s", m["PolicyName"], strings.ToLower(strings.TrimPrefix(fmt.Sprint(r["Type"]), "AWS::IAM::")))})
		}
		return out
	}
	return nil
}

// tables finds the append-only tables: in the templates, by the construct's
// metadata, and the existing tables the registry knows.
// tableSet holds the append-only tables, and finds one by stack and
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

func (g *guard) tables(stacks []stackTemplate) *tableSet {
	var out []guardedTable
	for si := range stacks {
		s := &stacks[si]
		for id, r := range s.resources() {
			if r["Type"] != "AWS::DynamoDB::Table" {
				continue
			}
			props, _ := r["Properties"].(map[string]any)
			gt := guardedTable{stack: s, logicalID: id, region: s.region, account: s.account}
			md, _ := r["Metadata"].(map[string]any)
			exempt, tableWide := exemptionsOf(props)
			switch mark, _ := md[metadataKey].(map[string]any); {
			case tableWide:
				gt.mode, gt.exempt = EnforceTableWide, exempt
			case mark["enforcement"] == EnforceIdentityOnlyOthersCanModify.String():
				gt.mode = EnforceIdentityOnlyOthersCanModify
			default:
				continue // not append-only
			}
			if name, ok := props["TableName"].(string); ok {
				gt.name = name
			} else {
				// <stack name>-<logical id>-<13 characters>
				gt.name = s.name + "-" + id + "-" + unknownPart
			}
			gt.label = pathOf(s.path, id)
			out = append(out, gt)
		}
	}
	out = append(out, g.registry.existing...)
	sort.Slice(out, func(i, j int) bool { return out[i].label < out[j].label })
	ts := &tableSet{list: out, byID: map[*stackTemplate]map[string]int{}}
	for i, gt := range out {
		if gt.stack != nil {
			if ts.byID[gt.stack] == nil {
				ts.byID[gt.stack] = map[string]int{}
			}
			ts.byID[gt.stack][gt.logicalID] = i
		}
	}
	return ts
}

// outputRef is what a stack output or export refers to.
type outputRef struct {
	stack     *stackTemplate
	logicalID string
	attr      string // "" for a Ref
}

// outputIndex maps each output name and export name of every template to
// what it refers to, for following references across stacks.
func outputIndex(stacks []stackTemplate) map[string]outputRef {
	idx := map[string]outputRef{}
	for si := range stacks {
		s := &stacks[si]
		for name, o := range s.outputs {
			m, _ := o.(map[string]any)
			var ref outputRef
			switch v := m["Value"].(type) {
			case map[string]any:
				if id, ok := v["Ref"].(string); ok {
					ref = outputRef{stack: s, logicalID: id}
				} else if parts := asAnyList(v["Fn::GetAtt"]); len(parts) == 2 {
					id, _ := parts[0].(string)
					attr, _ := parts[1].(string)
					ref = outputRef{stack: s, logicalID: id, attr: attr}
				}
			}
			if ref.stack == nil {
				continue
			}
			idx[name] = ref
			if exp, ok := m["Export"].(map[string]any); ok {
				if n, ok := exp["Name"].(string); ok {
					idx[n] = ref
				}
			}
		}
	}
	return idx
}

// acknowledged reports whether the resource, or every principal a policy
// resource is attached to, carries the acknowledgement.
func (g *guard) acknowledged(r map[string]any, res map[string]map[string]any) bool {
	if hasAcknowledgement(r) {
		return true
	}
	props, _ := r["Properties"].(map[string]any)
	n := 0
	for _, key := range []string{"Roles", "Users", "Groups", "RoleName", "UserName", "GroupName"} {
		for _, v := range asAnyList(props[key]) {
			m, _ := v.(map[string]any)
			id, _ := m["Ref"].(string)
			p, ok := res[id]
			if !ok || !hasAcknowledgement(p) {
				return false
			}
			n++
		}
	}
	return n > 0
}

func hasAcknowledgement(r map[string]any) bool {
	md, _ := r["Metadata"].(map[string]any)
	_, ok := md[acknowledgedKey]
	return ok
}

// checkPolicy checks one policy document.
func (g *guard) checkPolicy(s *stackTemplate, id string, r map[string]any, res map[string]map[string]any, p docAt, tables *tableSet, outputs map[string]outputRef) []violation {
	var out []violation
	label := p.label + " " + pathOf(s.path, id)
	var starTables []string
	for i, st := range asAnyList(mapGet(p.doc, "Statement")) {
		stmt, ok := st.(map[string]any)
		if !ok || stmt["Effect"] != "Allow" {
			continue
		}
		actions := allowedDenyActions(stmt)
		if len(actions) == 0 {
			continue
		}
		sid := fmt.Sprintf("#%d", i+1)
		if v, ok := stmt["Sid"].(string); ok && v != "" {
			sid = v
		}
		location := fmt.Sprintf("%s/Statement/%d", p.location, i)
		resources := asAnyList(stmt["Resource"])
		if _, ok := stmt["NotResource"]; ok {
			resources = []any{"*"}
		}
		star := false
		var patterns []string
		for _, rv := range resources {
			if rv == "*" {
				star = true
			} else {
				patterns = append(patterns, resourcePattern(rv, s, tables, outputs))
			}
		}
		for ti := range tables.list {
			gt := &tables.list[ti]
			hit := ""
			for _, pattern := range patterns {
				if gt.covered(pattern) {
					hit = pattern
					break
				}
			}
			switch {
			case (hit != "" || star && gt.mode == EnforceIdentityOnlyOthersCanModify) && g.exempt(gt, r, res):
			case hit != "":
				out = append(out, violation{rule: ruleWriteGrant, severity: "error", file: s.file, logicalID: id, location: location,
					message: fmt.Sprintf("appendonly: %s, statement %s, allows %s on the append-only table %s (resource %s): "+
						"a write grant would let its principal overwrite, update or delete items.",
						label, sid, summarize(actions), gt.label, printable(hit)),
					fix: "Grant with the appendonly Table's GrantAppend, GrantRead or GrantStreamRead instead. " +
						"If this principal truly must write, acknowledge it with appendonly.UnsafeAcknowledgeWriteGrant.",
				})
			case star && gt.mode == EnforceIdentityOnlyOthersCanModify:
				out = append(out, violation{rule: ruleWriteGrantOnStar, severity: "error", file: s.file, logicalID: id, location: location,
					message: fmt.Sprintf("appendonly: %s, statement %s, allows %s on Resource \"*\", which includes the append-only table %s: "+
						"in EnforceIdentityOnlyOthersCanModify mode nothing else stops it.",
						label, sid, summarize(actions), gt.label),
					fix: "Name the resources the statement needs instead of \"*\". " +
						"If this principal truly must write, acknowledge it with appendonly.UnsafeAcknowledgeWriteGrant.",
				})
			case star:
				starTables = append(starTables, gt.label)
			}
		}
	}
	if len(starTables) > 0 {
		out = append(out, violation{rule: ruleWriteGrantOnStar, severity: "warning", file: s.file, logicalID: id, location: p.location,
			message: fmt.Sprintf("appendonly: %s allows item writes on Resource \"*\", which includes the append-only tables %s: "+
				"their resource policies deny the writes, so they fail at run time.", label, strings.Join(uniq(starTables), ", ")),
			fix: "Name the resources the statement needs instead of \"*\".",
		})
	}
	return out
}

func mapGet(v any, key string) any {
	if m, ok := v.(map[string]any); ok {
		return m[key]
	}
	return nil
}

func asAnyList(v any) []any {
	switch v := v.(type) {
	case []any:
		return v
	case nil:
		return nil
	}
	return []any{v}
}

func asStrings(v any) []string {
	var out []string
	for _, x := range asAnyList(v) {
		if s, ok := x.(string); ok {
			out = append(out, s)
		}
	}
	return out
}

func uniq(in []string) []string {
	seen := map[string]bool{}
	var out []string
	for _, s := range in {
		if !seen[s] {
			seen[s] = true
			out = append(out, s)
		}
	}
	return out
}

// allowedDenyActions returns the actions of DenyActions that the statement
// allows, by Action or NotAction.
func allowedDenyActions(st map[string]any) []string {
	var out []string
	if not, ok := st["NotAction"]; ok {
		patterns := asStrings(not)
		for _, a := range denyActions {
			if !matchesAny(patterns, a) {
				out = append(out, a)
			}
		}
		return out
	}
	patterns := asStrings(st["Action"])
	for _, a := range denyActions {
		if matchesAny(patterns, a) {
			out = append(out, a)
		}
	}
	return out
}

// matchesAny reports whether an action matches one of the patterns; IAM
// compares action names without regard to case.
func matchesAny(patterns []string, action string) bool {
	for _, p := range patterns {
		if glob(strings.ToLower(p), strings.ToLower(action)) {
			return true
		}
	}
	return false
}

func summarize(actions []string) string {
	if len(actions) <= 3 {
		return strings.Join(actions, ", ")
	}
	return fmt.Sprintf("%s and %d more", strings.Join(actions[:3], ", "), len(actions)-3)
}

// printable shows a resource pattern with its stand-ins spelled out.
func printable(p string) string {
	return strings.NewReplacer(unknownPart, "<generated>", otherRef, "<other>").Replace(p)
}

// glob matches s against an IAM wildcard pattern: * is any run of
// characters, ? is one character.
func glob(pattern, s string) bool {
	px, sx := 0, 0
	nextPx, nextSx := -1, -1
	for px < len(pattern) || sx < len(s) {
		if px < len(pattern) {
			switch c := pattern[px]; c {
			case '*':
				nextPx, nextSx = px, sx+1
				px++
				continue
			case '?':
				if sx < len(s) {
					px++
					sx++
					continue
				}
			default:
				if sx < len(s) && s[sx] == c {
					px++
					sx++
					continue
				}
			}
		}
		if nextSx > 0 && nextSx <= len(s) {
			px, sx = nextPx, nextSx
			continue
		}
		return false
	}
	return true
}

// resourcePattern turns a Resource value of template s into an IAM
// wildcard pattern: pseudo parameters become *, references to an append-only
// table (in s, or through a stack output or export) become its ARN or name,
// and any other reference becomes something no table matches.
func resourcePattern(v any, s *stackTemplate, tables *tableSet, outputs map[string]outputRef) string {
	switch v := v.(type) {
	case string:
		return v
	case map[string]any:
		if len(v) != 1 {
			return otherRef
		}
		for fn, arg := range v {
			switch fn {
			case "Ref":
				id, _ := arg.(string)
				if strings.HasPrefix(id, "AWS::") {
					return "*"
				}
				if gt := tables.in(s, id); gt != nil {
					return gt.name
				}
			case "Fn::GetAtt":
				if parts := asAnyList(arg); len(parts) == 2 {
					id, _ := parts[0].(string)
					attr, _ := parts[1].(string)
					if gt := tables.in(s, id); gt != nil {
						return gt.attribute(attr)
					}
				}
			case "Fn::ImportValue", "Fn::GetStackOutput":
				name, _ := arg.(string)
				if m, ok := arg.(map[string]any); ok {
					name, _ = m["OutputName"].(string)
				}
				if ref, ok := outputs[name]; ok {
					if gt := tables.in(ref.stack, ref.logicalID); gt != nil {
						if ref.attr == "" {
							return gt.name
						}
						return gt.attribute(ref.attr)
					}
				}
			case "Fn::Join":
				if parts := asAnyList(arg); len(parts) == 2 {
					sep, _ := parts[0].(string)
					var b []string
					for _, x := range asAnyList(parts[1]) {
						b = append(b, resourcePattern(x, s, tables, outputs))
					}
					return strings.Join(b, sep)
				}
			case "Fn::Sub":
				str, ok := arg.(string)
				if !ok {
					return otherRef
				}
				var b strings.Builder
				for {
					i := strings.Index(str, "${")
					if i < 0 {
						b.WriteString(str)
						return b.String()
					}
					j := strings.Index(str[i:], "}")
					if j < 0 {
						b.WriteString(str)
						return b.String()
					}
					b.WriteString(str[:i])
					name := str[i+2 : i+j]
					if id, attr, ok := strings.Cut(name, "."); ok {
						b.WriteString(resourcePattern(map[string]any{"Fn::GetAtt": []any{id, attr}}, s, tables, outputs))
					} else {
						b.WriteString(resourcePattern(map[string]any{"Ref": name}, s, tables, outputs))
					}
					str = str[i+j+1:]
				}
			}
		}
	}
	return otherRef
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

// covered reports whether an IAM resource pattern covers the table, an index
// of it, its stream or its global-table ARN. Where the table's environment
// is not known (an environment-agnostic stack), any partition, Region or
// account in the pattern is taken to match.
func (gt *guardedTable) covered(pattern string) bool {
	p := strings.SplitN(pattern, ":", 6)
	if len(p) != 6 || p[0] != "arn" {
		return false
	}
	field := func(pat, val string) bool { return val == "" || glob(pat, val) }
	if !field(p[1], gt.partition) || !glob(p[2], "dynamodb") || !field(p[4], gt.account) {
		return false
	}
	table := "table/" + gt.name
	if field(p[3], gt.region) {
		for _, r := range []string{table, table + "/index/" + unknownPart, table + "/stream/" + unknownPart} {
			if glob(p[5], r) {
				return true
			}
		}
	}
	// The global-table ARN has no Region.
	return glob(p[3], "") && glob(p[5], "global-table/"+gt.name)
}

// exempt reports whether every principal the policy resource r is attached
// to, or that holds it inline, matches one of the table's
// ExemptPrincipalArns by its literal name.
func (g *guard) exempt(gt *guardedTable, r map[string]any, res map[string]map[string]any) bool {
	if len(gt.exempt) == 0 {
		return false
	}
	props, _ := r["Properties"].(map[string]any)
	var names []string
	nameOf := func(kind string, v any) {
		switch v := v.(type) {
		case string:
			names = append(names, kind+"/"+v)
		case map[string]any:
			id, _ := v["Ref"].(string)
			p, _ := res[id]["Properties"].(map[string]any)
			n, ok := p[strings.ToUpper(kind[:1])+kind[1:]+"Name"].(string)
			if !ok {
				n = unknownPart
			}
			names = append(names, kind+"/"+n)
		default:
			names = append(names, kind+"/"+unknownPart)
		}
	}
	switch r["Type"] {
	case "AWS::IAM::Role":
		nameOf("role", props["RoleName"])
	case "AWS::IAM::User":
		nameOf("user", props["UserName"])
	case "AWS::IAM::RolePolicy":
		nameOf("role", props["RoleName"])
	case "AWS::IAM::UserPolicy":
		nameOf("user", props["UserName"])
	default:
		for _, v := range asAnyList(props["Roles"]) {
			nameOf("role", v)
		}
		for _, v := range asAnyList(props["Users"]) {
			nameOf("user", v)
		}
		if len(asAnyList(props["Groups"])) > 0 {
			return false // a group is not a principal an ARN can exempt
		}
	}
	if len(names) == 0 {
		return false
	}
	for _, n := range names {
		ok := false
		for _, e := range gt.exempt {
			if f := strings.SplitN(e, ":", 6); len(f) == 6 && glob(f[5], n) {
				ok = true
			}
		}
		if !ok {
			return false
		}
	}
	return true
}

// pathOf stands for the construct path of resource id in the stack at
// stackPath, until constructPaths replaces it.
func pathOf(stackPath, id string) string { return "\x02" + stackPath + "\x03" + id + "\x02" }

// constructPaths returns a replacer from pathOf's stand-ins to construct
// paths: an L1 resource's path without the /Resource ids of its L2 and L1
// (a table is named by the appendonly construct that holds it).
func (g *guard) constructPaths() *strings.Replacer {
	var pairs []string
	for _, c := range *g.registry.Node().Root().Node().FindAll(constructs.ConstructOrder_PREORDER) {
		e, ok := c.(awscdk.CfnElement)
		if !ok {
			continue
		}
		stack := e.Stack()
		id, ok := stack.Resolve(e.LogicalId()).(string)
		if !ok {
			continue
		}
		// An L1 under an L2 named Resource (the table, inside the appendonly
		// construct) is named by the construct that holds both.
		path := strings.TrimSuffix(*e.Node().Path(), "/Resource/Resource")
		pairs = append(pairs, pathOf(*stack.Node().Path(), id), path)
	}
	return strings.NewReplacer(pairs...)
}

// exemptionsOf tells a table in EnforceTableWide mode by its resource
// policy, which holds the statement SidTableWideDeny, and reads its
// ExemptPrincipalArns back from that statement's condition.
func exemptionsOf(props map[string]any) (exempt []string, tableWide bool) {
	rp, _ := props["ResourcePolicy"].(map[string]any)
	for _, st := range asAnyList(mapGet(rp["PolicyDocument"], "Statement")) {
		if mapGet(st, "Sid") == SidTableWideDeny {
			return asStrings(mapGet(mapGet(mapGet(st, "Condition"), "ArnNotLike"), "aws:PrincipalArn")), true
		}
	}
	return nil, false
}

// existingTable is what the guard knows of a table brought with
// ExistingTable: its name or ARN, resolved once.
func existingTable(t *Table) guardedTable {
	gt := guardedTable{label: *t.Node().Path(), mode: t.enforcement, exempt: t.exempt}
	stack := awscdk.Stack_Of(t)
	if arn, ok := stack.Resolve(t.table.TableArn()).(string); ok {
		if f := strings.SplitN(arn, ":", 6); len(f) == 6 && strings.HasPrefix(f[5], "table/") {
			gt.partition, gt.region, gt.account, gt.name = f[1], f[3], f[4], strings.TrimPrefix(f[5], "table/")
			return gt
		}
	}
	if name, ok := stack.Resolve(t.table.TableName()).(string); ok {
		gt.name = name
	} else {
		gt.name = unknownPart
	}
	return gt
}

// UnsafeAcknowledgeWriteGrant tells the guard that the policy or principal c
// may hold a grant that writes to an append-only table, for the rare case
// that needs one (a migration, say). c is an IAM policy, managed policy,
// role, user or group, L2 or L1; acknowledging a principal covers the
// policies attached to it (its default policy included), provided every
// principal they are attached to is acknowledged. reason is required. The
// acknowledgement is written into the template, in the Metadata of c's
// CloudFormation resource (appendonly_write_grant_acknowledged: reason), so a
// reviewer sees it in `cdk synth` output, as cdk-nag suppressions are. It
// does not lift the table's resource policy: in EnforceTableWide mode the
// write still fails unless the principal is also in ExemptPrincipalArns.
func UnsafeAcknowledgeWriteGrant(c constructs.IConstruct, reason string) error {
	if c == nil {
		return fmt.Errorf("appendonly.UnsafeAcknowledgeWriteGrant: the construct is required")
	}
	if strings.TrimSpace(reason) == "" {
		return fmt.Errorf("appendonly.UnsafeAcknowledgeWriteGrant %s: reason: required: say why this principal must write to an append-only table", *c.Node().Path())
	}
	r, ok := c.(awscdk.CfnResource)
	if !ok {
		r, ok = c.Node().DefaultChild().(awscdk.CfnResource)
	}
	if !ok {
		return fmt.Errorf("appendonly.UnsafeAcknowledgeWriteGrant %s: not an IAM policy or principal with a CloudFormation resource", *c.Node().Path())
	}
	r.AddMetadata(jsii.String(acknowledgedKey), jsii.String(reason))
	return nil
}
