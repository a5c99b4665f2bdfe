package check

import (
	"encoding/json"
	"fmt"
	"regexp"
	"strconv"
	"strings"
)

// What the guard makes of a CloudFormation value: a set of IAM resource
// patterns, one for each value it can take. Besides IAM's own wildcards (*
// and ?), a pattern holds stand-ins for what nobody knows at synth:
const (
	// unresolved is a part the guard cannot follow (an SSM parameter, a
	// template parameter, a custom resource's attribute, an import from
	// outside the app). It matches anything, as * does: unknown means covered.
	unresolved = "\x04"
	// generated is the random part of a name CloudFormation generates: any
	// run of characters but ':' and '/'.
	generated = "\x05"
	// otherRef is a reference to something that is not an append-only table:
	// no table's ARN contains it.
	otherRef = "\x01"

	// field is a part of a table's ARN nobody knows at synth (its
	// partition, Region or account): any run of characters but ':'.
	field = "\x07"
	// streamLabel is the time a stream's ARN ends with, as in
	// 2026-01-01T00:00:00.000.
	streamLabel = "\x08"
)

// maxAlternatives bounds the values one expression can take (an Fn::If in
// an Fn::Join in an Fn::If ...); beyond it the value is unresolved.
const maxAlternatives = 64

// isWild reports whether c, in a policy's pattern, matches any run of
// characters.
func isWild(c byte) bool { return c == '*' || c == unresolved[0] }

// standsFor reports whether the stand-in c of a table's ARN pattern can
// stand for the character x, and whether c is a stand-in at all: a real
// ARN's account holds no ':', a generated name no ':' or '/', a stream
// label only digits, '-', 'T', ':' and '.'.
func standsFor(c, x byte) (ok, stand bool) {
	if x == otherRef[0] {
		return false, c == field[0] || c == generated[0] || c == streamLabel[0]
	}
	switch c {
	case field[0]:
		return x != ':', true
	case generated[0]:
		return x != ':' && x != '/', true
	case streamLabel[0]:
		return x == '?' || strings.IndexByte("0123456789-T:.", x) >= 0, true
	}
	return false, false
}

func isStandIn(c byte) bool { _, stand := standsFor(c, 0); return stand }

// intersects reports whether some string matches both the policy's
// resource pattern a (IAM's * and ?, and unresolved) and the pattern b of
// an ARN of a table (its stand-ins field, generated and streamLabel): whether a can name a resource
// whose ARN has the pattern b.
func intersects(a, b string) bool {
	// seen[i*(len(b)+1)+j] marks a state already explored, which failed;
	// it is made on the first wildcard, as most comparisons fail on a
	// literal character before any.
	var seen []bool
	var walk func(i, j int) bool
	walk = func(i, j int) bool {
		for {
			if seen != nil {
				k := i*(len(b)+1) + j
				if seen[k] {
					return false
				}
				seen[k] = true
			} else if (i < len(a) && isWild(a[i])) || (j < len(b) && isStandIn(b[j])) {
				seen = make([]bool, (len(a)+1)*(len(b)+1))
				seen[i*(len(b)+1)+j] = true
			}
			if i == len(a) && j == len(b) {
				return true
			}
			if i < len(a) && isWild(a[i]) {
				// a's wildcard ends, or takes b's next character or stand-in.
				return walk(i+1, j) || (j < len(b) && walk(i, j+1))
			}
			if j < len(b) {
				if _, stand := standsFor(b[j], 0); stand {
					// b's stand-in ends, or stands for a's next character.
					if walk(i, j+1) {
						return true
					}
					if i == len(a) {
						return false
					}
					ok, _ := standsFor(b[j], a[i])
					return (a[i] == '?' || ok) && walk(i+1, j)
				}
			}
			if i == len(a) || j == len(b) || (a[i] != b[j] && a[i] != '?' && b[j] != '?') {
				return false
			}
			i, j = i+1, j+1 // literal characters that match: no branch
		}
	}
	return walk(0, 0)
}

// printable shows a pattern with its stand-ins spelled out.
func printable(p string) string {
	return strings.NewReplacer(unresolved, "<unresolved>", generated, "<generated>", field, "*", otherRef, "<other>").Replace(p)
}

// evaluator turns CloudFormation values of the app's templates into
// patterns, following references within a template, to a nested stack's
// outputs and parameters, and across stacks through exports.
type evaluator struct {
	tables  *tableSet
	outputs map[string]outputRef
	// policies are the customer managed policies of the assembly with a
	// literal ManagedPolicyName, by name: a principal may attach one by
	// its ARN, written out.
	policies map[string]policyRef
}

type policyRef struct {
	s  *stackTemplate
	id string
}

// eval returns the patterns v can take in template s.
func (e *evaluator) eval(v any, s *stackTemplate, depth int) []string {
	if depth > 20 {
		return []string{unresolved}
	}
	switch v := v.(type) {
	case string:
		return []string{dynamicRefs.ReplaceAllString(v, unresolved)}
	case float64, bool:
		return []string{fmt.Sprint(v)}
	case map[string]any:
		if len(v) != 1 {
			return []string{unresolved}
		}
		for fn, arg := range v {
			return e.intrinsic(fn, arg, s, depth+1)
		}
	}
	return []string{unresolved}
}

func (e *evaluator) intrinsic(fn string, arg any, s *stackTemplate, depth int) []string {
	switch fn {
	case "Ref":
		name, _ := arg.(string)
		return e.ref(name, s, depth)
	case "Fn::GetAtt":
		var id, attr string
		switch a := arg.(type) {
		case string:
			id, attr, _ = strings.Cut(a, ".")
		case []any:
			if len(a) == 2 {
				id, _ = a[0].(string)
				attr, _ = a[1].(string)
			}
		}
		return e.getAtt(id, attr, s, depth)
	case "Fn::ImportValue":
		names := e.eval(arg, s, depth)
		var out []string
		for _, n := range names {
			ref, ok := e.outputs[n]
			if !ok {
				return []string{unresolved} // an export from outside the app
			}
			out = append(out, e.output(ref, depth)...)
		}
		return out
	case "Fn::GetStackOutput":
		m, _ := arg.(map[string]any)
		name, _ := m["OutputName"].(string)
		if ref, ok := e.outputs[name]; ok {
			return e.output(ref, depth)
		}
		return []string{unresolved}
	case "Fn::Join":
		parts := asAnyList(arg)
		if len(parts) != 2 {
			return []string{unresolved}
		}
		sep, ok := parts[0].(string)
		if !ok {
			return []string{unresolved}
		}
		list, ok := e.evalList(parts[1], s, depth)
		if !ok {
			return []string{unresolved}
		}
		out := []string{""}
		for i, alts := range list {
			var next []string
			for _, prefix := range out {
				for _, a := range alts {
					if i > 0 {
						next = append(next, prefix+sep+a)
					} else {
						next = append(next, prefix+a)
					}
				}
			}
			if len(next) > maxAlternatives {
				return []string{unresolved}
			}
			out = next
		}
		return out
	case "Fn::Sub":
		var str string
		vars := map[string]any{}
		switch a := arg.(type) {
		case string:
			str = a
		case []any:
			if len(a) != 2 {
				return []string{unresolved}
			}
			str, _ = a[0].(string)
			vars, _ = a[1].(map[string]any)
		default:
			return []string{unresolved}
		}
		return e.sub(str, vars, s, depth)
	case "Fn::Select":
		parts := asAnyList(arg)
		if len(parts) != 2 {
			return []string{unresolved}
		}
		idx := -1
		switch i := parts[0].(type) {
		case float64:
			idx = int(i)
		case string:
			if n, err := strconv.Atoi(i); err == nil {
				idx = n
			}
		}
		list, ok := e.evalList(parts[1], s, depth)
		if !ok || idx < 0 || idx >= len(list) {
			return []string{unresolved}
		}
		return list[idx]
	case "Fn::If":
		parts := asAnyList(arg)
		if len(parts) != 3 {
			return []string{unresolved}
		}
		out := append(e.eval(parts[1], s, depth), e.eval(parts[2], s, depth)...)
		var kept []string
		for _, p := range out {
			if p != noValue {
				kept = append(kept, p)
			}
		}
		return kept
	}
	return []string{unresolved}
}

// dynamicRefs are CloudFormation's dynamic references ({{resolve:ssm:...}},
// {{resolve:secretsmanager:...}}): resolved at deploy time, unknown here.
var dynamicRefs = regexp.MustCompile(`\{\{resolve:[^}]*\}\}`)

// noValue is what AWS::NoValue evaluates to; callers drop it.
const noValue = "\x06"

// evalList returns the elements of a list value, each with the patterns it
// can take, or false where the list itself cannot be known.
func (e *evaluator) evalList(v any, s *stackTemplate, depth int) ([][]string, bool) {
	switch v := v.(type) {
	case []any:
		out := make([][]string, 0, len(v))
		for _, x := range v {
			out = append(out, e.eval(x, s, depth+1))
		}
		return out, true
	case map[string]any:
		if split, ok := v["Fn::Split"]; ok && len(v) == 1 {
			parts := asAnyList(split)
			if len(parts) != 2 {
				return nil, false
			}
			sep, _ := parts[0].(string)
			src := e.eval(parts[1], s, depth+1)
			if sep == "" || len(src) != 1 || strings.ContainsAny(src[0], "*?"+unresolved+generated) {
				return nil, false
			}
			var out [][]string
			for _, p := range strings.Split(src[0], sep) {
				out = append(out, []string{p})
			}
			return out, true
		}
	}
	return nil, false
}

// sub fills in an Fn::Sub string.
func (e *evaluator) sub(str string, vars map[string]any, s *stackTemplate, depth int) []string {
	out := []string{""}
	add := func(alts []string) bool {
		var next []string
		for _, p := range out {
			for _, a := range alts {
				next = append(next, p+a)
			}
		}
		out = next
		return len(out) <= maxAlternatives
	}
	for {
		i := strings.Index(str, "${")
		if i < 0 {
			add([]string{str})
			return out
		}
		j := strings.Index(str[i:], "}")
		if j < 0 {
			add([]string{str})
			return out
		}
		add([]string{str[:i]})
		name := str[i+2 : i+j]
		str = str[i+j+1:]
		var alts []string
		switch {
		case strings.HasPrefix(name, "!"):
			alts = []string{"${" + name[1:] + "}"}
		case vars[name] != nil:
			alts = e.eval(vars[name], s, depth)
		default:
			if id, attr, ok := strings.Cut(name, "."); ok {
				alts = e.getAtt(id, attr, s, depth)
			} else {
				alts = e.ref(name, s, depth)
			}
		}
		if !add(alts) {
			return []string{unresolved}
		}
	}
}

// ref is what {"Ref": name} can be in template s.
func (e *evaluator) ref(name string, s *stackTemplate, depth int) []string {
	switch name {
	case "AWS::NoValue":
		return []string{noValue}
	case "AWS::Region":
		return []string{orStar(s.region)}
	case "AWS::AccountId":
		return []string{orStar(s.account)}
	case "AWS::StackName":
		if s.parent == nil && s.name != "" {
			return []string{s.name}
		}
		return []string{"*"}
	}
	if strings.HasPrefix(name, "AWS::") {
		return []string{"*"} // Partition, URLSuffix, StackId, NotificationARNs
	}
	if _, ok := s.params[name]; ok {
		if s.parent != nil {
			if v, ok := s.parentParams[name]; ok {
				return e.eval(v, s.parent, depth)
			}
		}
		return []string{unresolved} // given at deploy, or read from SSM
	}
	r, ok := s.res[name]
	if !ok {
		return []string{unresolved}
	}
	if gt := e.tables.in(s, name); gt != nil {
		return []string{gt.name}
	}
	switch typ, _ := r["Type"].(string); {
	case isCustomResource(typ):
		return []string{unresolved}
	case typ == "AWS::DynamoDB::Table":
		if n, ok := mapGet(r["Properties"], "TableName").(string); ok {
			return []string{n}
		}
	}
	return []string{otherRef}
}

// getAtt is what {"Fn::GetAtt": [id, attr]} can be in template s.
func (e *evaluator) getAtt(id, attr string, s *stackTemplate, depth int) []string {
	r, ok := s.res[id]
	if !ok {
		return []string{unresolved}
	}
	if gt := e.tables.in(s, id); gt != nil {
		return []string{gt.attribute(attr)}
	}
	typ, _ := r["Type"].(string)
	switch {
	case isCustomResource(typ), typ == "AWS::SSM::Parameter":
		return []string{unresolved}
	case typ == "AWS::CloudFormation::Stack":
		name, ok := strings.CutPrefix(attr, "Outputs.")
		child := s.children[id]
		if !ok || child == nil {
			return []string{unresolved}
		}
		o, ok := child.outputs[name].(map[string]any)
		if !ok {
			return []string{unresolved}
		}
		return e.eval(o["Value"], child, depth)
	case typ == "AWS::DynamoDB::Table":
		if n, ok := mapGet(r["Properties"], "TableName").(string); ok && attr == "Arn" {
			return []string{"arn:*:dynamodb:*:*:table/" + n}
		}
	}
	return []string{otherRef}
}

// output is what a stack output or export refers to.
func (e *evaluator) output(ref outputRef, depth int) []string {
	o, ok := ref.stack.outputs[ref.name].(map[string]any)
	if !ok {
		return []string{unresolved}
	}
	return e.eval(o["Value"], ref.stack, depth)
}

func isCustomResource(typ string) bool {
	return strings.HasPrefix(typ, "Custom::") || typ == "AWS::CloudFormation::CustomResource"
}

func orStar(s string) string {
	if s == "" {
		return "*"
	}
	return s
}

// policyDoc returns a policy document as a map: a JSON string (as
// CloudFormation accepts for some properties) is decoded.
func policyDoc(v any) any {
	if s, ok := v.(string); ok {
		var doc any
		if err := json.Unmarshal([]byte(s), &doc); err != nil {
			return nil
		}
		return doc
	}
	return v
}
