package check

import (
	"encoding/json"
	"fmt"
	"strings"
)

// A policy document inside a resource, and where.
type docAt struct {
	doc      any
	location string
	label    string
	// resourcePolicy is set for the table's own resource policy, where a
	// statement's Resource is the table whatever it says.
	resourcePolicy bool
}

// policiesOf returns the policy documents resource r holds.
func policiesOf(r map[string]any) []docAt {
	props, _ := r["Properties"].(map[string]any)
	typ, _ := r["Type"].(string)
	kind := strings.TrimPrefix(typ, "AWS::IAM::")
	switch typ {
	case "AWS::IAM::Policy", "AWS::IAM::ManagedPolicy", "AWS::IAM::RolePolicy", "AWS::IAM::UserPolicy", "AWS::IAM::GroupPolicy":
		return []docAt{{doc: props["PolicyDocument"], location: "Properties/PolicyDocument", label: kind}}
	case "AWS::IAM::Role", "AWS::IAM::User", "AWS::IAM::Group":
		var out []docAt
		for i, p := range asAnyList(props["Policies"]) {
			m, _ := p.(map[string]any)
			out = append(out, docAt{doc: m["PolicyDocument"], location: fmt.Sprintf("Properties/Policies/%d/PolicyDocument", i),
				label: fmt.Sprintf("inline policy %v of the %s", m["PolicyName"], strings.ToLower(kind))})
		}
		return out
	case "AWS::SSO::PermissionSet":
		if props["InlinePolicy"] != nil {
			return []docAt{{doc: props["InlinePolicy"], location: "Properties/InlinePolicy", label: "inline policy of the permission set"}}
		}
	}
	return nil
}

// managedPolicyArnsOf returns the managed policy ARNs resource r attaches.
func managedPolicyArnsOf(r map[string]any) (values []any, location string) {
	props, _ := r["Properties"].(map[string]any)
	switch r["Type"] {
	case "AWS::IAM::Role", "AWS::IAM::User", "AWS::IAM::Group":
		return asAnyList(props["ManagedPolicyArns"]), "Properties/ManagedPolicyArns"
	case "AWS::SSO::PermissionSet":
		return asAnyList(props["ManagedPolicies"]), "Properties/ManagedPolicies"
	}
	return nil, ""
}

// checkResource checks every policy resource id of template s holds or
// attaches.
func (e *evaluator) checkResource(s *stackTemplate, id string) []violation {
	r := s.res[id]
	docs := policiesOf(r)
	if gt := e.tables.in(s, id); gt != nil && gt.identityOnly {
		if rp := mapGet(mapGet(r, "Properties"), "ResourcePolicy"); rp != nil {
			docs = append(docs, docAt{doc: mapGet(rp, "PolicyDocument"), location: "Properties/ResourcePolicy/PolicyDocument",
				label: "the resource policy of the table", resourcePolicy: true})
		}
	}
	arns, arnLocation := managedPolicyArnsOf(r)
	if len(docs) == 0 && len(arns) == 0 {
		return nil
	}
	out := e.grants(s, id, r, docs, arns, arnLocation)
	// An acknowledgement is looked for only where there is something to
	// acknowledge: finding the principals a policy is attached to reads the
	// whole template.
	if len(out) > 0 && e.acknowledged(s, id, r) {
		return nil
	}
	return out
}

// grants are the write grants of resource id: its policy documents docs,
// and the managed policies arns (at arnLocation) it attaches.
func (e *evaluator) grants(s *stackTemplate, id string, r map[string]any, docs []docAt, arns []any, arnLocation string) []violation {
	var out []violation
	for _, p := range docs {
		out = append(out, e.checkPolicy(s, id, r, p)...)
	}
	for i, v := range arns {
		for _, arn := range e.eval(v, s, 0) {
			if arn == noValue {
				continue
			}
			if p, ok := e.attachedByName(arn); ok && hasAcknowledgement(p.s.res[p.id]) && !hasAcknowledgement(r) {
				// The policy's acknowledgement binds the principals it
				// names, not one that attaches it by its ARN.
				doc := mapGet(p.s.res[p.id]["Properties"], "PolicyDocument")
				out = append(out, e.checkPolicy(s, id, r, docAt{doc: doc, location: fmt.Sprintf("%s/%d", arnLocation, i),
					label: fmt.Sprintf("the acknowledged managed policy %s, attached by name to", pathOf(p.s.path, p.id))})...)
				continue
			}
			name, ok := awsManagedPolicyName(arn)
			if !ok && strings.Contains(arn, unresolved) {
				// A parameter (whatever its default), an import, a dynamic
				// reference: any managed policy, AmazonDynamoDBFullAccess
				// among them.
				out = append(out, violation{rule: ruleWriteGrant, severity: fatal, file: s.file, logicalID: id, location: fmt.Sprintf("%s/%d", arnLocation, i),
					message: fmt.Sprintf("appendonly: %s attaches a managed policy the check cannot name (%s): it may be one that writes to an append-only table, such as AmazonDynamoDBFullAccess.",
						pathOf(s.path, id), printable(arn)),
					fix: "Attach the managed policy by a value the app defines. " + ackFix(s, id, r)})
				continue
			}
			if !ok {
				continue
			}
			actions, writes := awsManagedWriters[name]
			if !writes {
				continue
			}
			out = append(out, e.checkStar(s, id, r, fmt.Sprintf("%s/%d", arnLocation, i),
				fmt.Sprintf("the AWS managed policy %s attached to %s", name, pathOf(s.path, id)), actions)...)
		}
	}
	return out
}

// awsManagedPolicyName returns the path and name of an AWS managed policy's
// ARN, as in service-role/AWSLambdaDynamoDBExecutionRole.
func awsManagedPolicyName(arn string) (string, bool) {
	f := strings.SplitN(arn, ":", 6)
	if len(f) != 6 || f[0] != "arn" || f[2] != "iam" || f[4] != "aws" {
		return "", false
	}
	return strings.TrimPrefix(f[5], "policy/"), strings.HasPrefix(f[5], "policy/")
}

// checkStar reports an allow of actions on every resource: an error for
// each table in EnforceIdentityOnlyOthersCanModify mode, a warning naming
// those in EnforceTableWide mode.
func (e *evaluator) checkStar(s *stackTemplate, id string, r map[string]any, location, label string, actions []string) []violation {
	var out []violation
	var warned []string
	for ti := range e.tables.list {
		gt := &e.tables.list[ti]
		switch {
		case e.exempt(gt, s, r):
		case gt.identityOnly:
			out = append(out, violation{rule: ruleWriteGrantOnStar, severity: fatal, file: s.file, logicalID: id, location: location,
				message: fmt.Sprintf("appendonly: %s allows %s on Resource \"*\", which includes the append-only table %s: "+
					"in EnforceIdentityOnlyOthersCanModify mode nothing else stops it.", label, summarize(actions), gt.label),
				fix: "Name the resources the statement needs instead of \"*\", or attach a policy that does not write. " + ackFix(s, id, r),
			})
		default:
			warned = append(warned, gt.label)
		}
	}
	if len(warned) > 0 {
		out = append(out, violation{rule: ruleWriteGrantOnStar, severity: "warning", file: s.file, logicalID: id, location: location,
			message: fmt.Sprintf("appendonly: %s allows item writes on Resource \"*\", which includes the append-only tables %s: "+
				"their resource policies deny the writes, so they fail at run time.", label, strings.Join(uniq(warned), ", ")),
			fix: "Name the resources the statement needs instead of \"*\".",
		})
	}
	return out
}

// ackFix says how to acknowledge the write of resource id, naming the
// constructs to pass: the principals a policy is attached to, or the
// resource itself.
func ackFix(s *stackTemplate, id string, r map[string]any) string {
	var names []string
	if principals, _ := attachedTo(s, id, r); len(principals) > 0 {
		for _, p := range principals {
			names = append(names, ownerOf(s.path, p))
		}
	} else {
		names = []string{ownerOf(s.path, id)}
	}
	return fmt.Sprintf("If this principal truly must write, acknowledge it with appendonly.UnsafeAcknowledgeWriteGrant on %s "+
		"(CDK's acknowledgement of this rule does not lift it).", strings.Join(uniq(names), " and "))
}

// checkPolicy checks one policy document.
func (e *evaluator) checkPolicy(s *stackTemplate, id string, r map[string]any, p docAt) []violation {
	label := p.label + " " + pathOf(s.path, id)
	doc, ok := e.document(p.doc, s)
	if !ok {
		return []violation{{rule: ruleWriteGrant, severity: fatal, file: s.file, logicalID: id, location: p.location,
			message: fmt.Sprintf("appendonly: %s: the guard cannot read this policy document, so it cannot tell whether it writes to an append-only table.", label),
			fix:     "Give the document as a JSON object (an iam.PolicyDocument), not a string built at deploy time. " + ackFix(s, id, r),
		}}
	}
	var out []violation
	var starWarn []string
	for i, stmt := range e.statements(mapGet(doc, "Statement"), s) {
		if !e.allows(stmt["Effect"], s) {
			continue
		}
		actions := e.allowedDenyActions(stmt, s)
		if len(actions) == 0 {
			continue
		}
		sid := fmt.Sprintf("#%d", i+1)
		if v, ok := stmt["Sid"].(string); ok && v != "" {
			sid = v
		}
		location := fmt.Sprintf("%s/Statement/%d", p.location, i)
		var patterns []string
		star, not := false, false
		switch {
		case p.resourcePolicy:
			// In a resource policy the statement can only name the table.
			patterns = []string{"*"}
		case stmt["NotResource"] != nil:
			not = true
			patterns = append(patterns, e.resourceValues(stmt["NotResource"], s)...)
		default:
			for _, v := range e.resourceValues(stmt["Resource"], s) {
				if v == "*" {
					star = true
				} else {
					patterns = append(patterns, v)
				}
			}
		}
		for ti := range e.tables.list {
			gt := &e.tables.list[ti]
			hit := ""
			switch {
			case p.resourcePolicy:
				if e.tables.in(s, id) == gt {
					hit = "the table itself"
				}
			case not:
				if !gt.excluded(patterns) {
					hit = "every resource but " + printable(strings.Join(patterns, ", "))
				}
			default:
				for _, pattern := range patterns {
					if gt.covered(pattern) {
						hit = printable(pattern)
						if strings.Contains(pattern, unresolved) {
							hit = "unresolved:" + hit
						}
						break
					}
				}
			}
			switch {
			case (hit != "" || star && gt.identityOnly) && e.exempt(gt, s, r):
			case strings.HasPrefix(hit, "unresolved:"):
				out = append(out, violation{rule: ruleWriteGrant, severity: fatal, file: s.file, logicalID: id, location: location,
					message: fmt.Sprintf("appendonly: %s, statement %s, allows %s on a resource the guard cannot resolve (%s), "+
						"which may be the append-only table %s: a write grant would let its principal overwrite, update or delete items.",
						label, sid, summarize(actions), strings.TrimPrefix(hit, "unresolved:"), gt.label),
					fix: "Name the resource with a value the app defines (the table's ARN, a literal ARN), or grant with the appendonly Table's GrantAppend, GrantRead or GrantStreamRead. " +
						"If the resource is another table, " + strings.TrimPrefix(ackFix(s, id, r), "If this principal truly must write, "),
				})
			case hit != "":
				out = append(out, violation{rule: ruleWriteGrant, severity: fatal, file: s.file, logicalID: id, location: location,
					message: fmt.Sprintf("appendonly: %s, statement %s, allows %s on the append-only table %s (resource %s): "+
						"a write grant would let its principal overwrite, update or delete items.",
						label, sid, summarize(actions), gt.label, hit),
					fix: "Grant with the appendonly Table's GrantAppend, GrantRead or GrantStreamRead instead. " + ackFix(s, id, r),
				})
			case star && gt.identityOnly:
				out = append(out, violation{rule: ruleWriteGrantOnStar, severity: fatal, file: s.file, logicalID: id, location: location,
					message: fmt.Sprintf("appendonly: %s, statement %s, allows %s on Resource \"*\", which includes the append-only table %s: "+
						"in EnforceIdentityOnlyOthersCanModify mode nothing else stops it.",
						label, sid, summarize(actions), gt.label),
					fix: "Name the resources the statement needs instead of \"*\". " + ackFix(s, id, r),
				})
			case star:
				starWarn = append(starWarn, gt.label)
			}
		}
	}
	if len(starWarn) > 0 {
		out = append(out, violation{rule: ruleWriteGrantOnStar, severity: "warning", file: s.file, logicalID: id, location: p.location,
			message: fmt.Sprintf("appendonly: %s allows item writes on Resource \"*\", which includes the append-only tables %s: "+
				"their resource policies deny the writes, so they fail at run time.", label, strings.Join(uniq(starWarn), ", ")),
			fix: "Name the resources the statement needs instead of \"*\".",
		})
	}
	return out
}

// document returns a policy document as a map: an object, or a JSON string
// (literal, or built with Fn::Join or Fn::Sub, its unknown parts kept as
// stand-ins).
func (e *evaluator) document(v any, s *stackTemplate) (map[string]any, bool) {
	if m, ok := v.(map[string]any); ok {
		if _, intrinsic := intrinsicName(m); !intrinsic {
			return m, true
		}
	}
	texts := e.eval(v, s, 0)
	if len(texts) != 1 {
		return nil, false
	}
	// The stand-ins are control characters, which JSON strings hold only
	// escaped.
	text := strings.NewReplacer(unresolved, `\u0004`, generated, `\u0005`, otherRef, `\u0001`, noValue, "").Replace(texts[0])
	var doc map[string]any
	if err := json.Unmarshal([]byte(text), &doc); err != nil {
		return nil, false
	}
	return doc, true
}

func intrinsicName(m map[string]any) (string, bool) {
	if len(m) != 1 {
		return "", false
	}
	for k := range m {
		return k, k == "Ref" || strings.HasPrefix(k, "Fn::")
	}
	return "", false
}

// resourceValues returns the patterns a statement's Resource (or
// NotResource) can take.
func (e *evaluator) resourceValues(v any, s *stackTemplate) []string {
	var out []string
	add := func(p string) {
		if p != noValue {
			out = append(out, p)
		}
	}
	if m, ok := v.(map[string]any); ok {
		if list, ok := e.evalList(m, s, 0); ok {
			for _, alts := range list {
				for _, p := range alts {
					add(p)
				}
			}
			return out
		}
	}
	for _, x := range asAnyList(v) {
		for _, p := range e.eval(x, s, 0) {
			add(p)
		}
	}
	return out
}

// acknowledged reports whether the resource carries the acknowledgement, or
// every principal a policy resource is attached to does. A managed policy
// is attached to the principals it names and to those whose
// ManagedPolicyArns name it; one exported to other stacks is not
// acknowledged by its principals here.
func (e *evaluator) acknowledged(s *stackTemplate, id string, r map[string]any) bool {
	if hasAcknowledgement(r) {
		return true
	}
	principals, known := attachedTo(s, id, r)
	if !known || len(principals) == 0 {
		return false
	}
	for _, p := range principals {
		if !hasAcknowledgement(s.res[p]) {
			return false
		}
	}
	return true
}

// attachedTo returns the logical ids of the principals a policy resource is
// attached to, and whether they are all known.
func attachedTo(s *stackTemplate, id string, r map[string]any) ([]string, bool) {
	props, _ := r["Properties"].(map[string]any)
	var out []string
	known := true
	switch r["Type"] {
	case "AWS::IAM::Policy", "AWS::IAM::ManagedPolicy", "AWS::IAM::RolePolicy", "AWS::IAM::UserPolicy", "AWS::IAM::GroupPolicy":
	default:
		return nil, false // a principal, a permission set: only its own acknowledgement counts
	}
	for _, key := range []string{"Roles", "Users", "Groups", "RoleName", "UserName", "GroupName"} {
		for _, v := range asAnyList(props[key]) {
			ref, _ := mapGet(v, "Ref").(string)
			if _, ok := s.res[ref]; !ok {
				known = false
				continue
			}
			out = append(out, ref)
		}
	}
	if r["Type"] == "AWS::IAM::ManagedPolicy" {
		for _, pid := range sortedKeys(s.res) {
			arns, _ := managedPolicyArnsOf(s.res[pid])
			for _, v := range arns {
				if mapGet(v, "Ref") == id {
					out = append(out, pid)
				}
			}
		}
		for _, o := range s.outputs {
			if data, _ := json.Marshal(o); strings.Contains(string(data), `"`+id+`"`) {
				known = false
			}
		}
	}
	return out, known
}

func hasAcknowledgement(r map[string]any) bool {
	md, _ := r["Metadata"].(map[string]any)
	_, ok := md[acknowledgedKey]
	return ok
}

// exempt reports whether every principal the policy resource r is attached
// to, or that holds it inline, matches one of the table's
// ExemptPrincipalArns by its literal name.
func (e *evaluator) exempt(gt *guardedTable, s *stackTemplate, r map[string]any) bool {
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
			p, _ := s.res[id]["Properties"].(map[string]any)
			n, ok := p[strings.ToUpper(kind[:1])+kind[1:]+"Name"].(string)
			if !ok {
				n = generated
			}
			names = append(names, kind+"/"+n)
		default:
			names = append(names, kind+"/"+generated)
		}
	}
	switch r["Type"] {
	case "AWS::IAM::Role", "AWS::IAM::RolePolicy":
		nameOf("role", props["RoleName"])
	case "AWS::IAM::User", "AWS::IAM::UserPolicy":
		nameOf("user", props["UserName"])
	case "AWS::IAM::Policy", "AWS::IAM::ManagedPolicy":
		for _, v := range asAnyList(props["Roles"]) {
			nameOf("role", v)
		}
		for _, v := range asAnyList(props["Users"]) {
			nameOf("user", v)
		}
		if len(asAnyList(props["Groups"])) > 0 {
			return false // a group is not a principal an ARN can exempt
		}
	default:
		return false
	}
	if len(names) == 0 {
		return false
	}
	for _, n := range names {
		ok := false
		for _, ex := range gt.exempt {
			if f := strings.SplitN(ex, ":", 6); len(f) == 6 && !strings.Contains(n, generated) && glob(f[5], n) {
				ok = true
			}
		}
		if !ok {
			return false
		}
	}
	return true
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

// statements returns a document's statements, each branch of an Fn::If
// (around the list or a statement) taken as a statement the document may
// hold, AWS::NoValue dropped.
func (e *evaluator) statements(v any, s *stackTemplate) []map[string]any {
	var out []map[string]any
	var walk func(v any, depth int)
	walk = func(v any, depth int) {
		if depth > 10 {
			return
		}
		if m, ok := v.(map[string]any); ok {
			if args := asAnyList(m["Fn::If"]); len(m) == 1 && len(args) == 3 {
				walk(args[1], depth+1)
				walk(args[2], depth+1)
				return
			}
			if m["Ref"] == "AWS::NoValue" && len(m) == 1 {
				return
			}
			out = append(out, m)
			return
		}
		for _, x := range asAnyList(v) {
			if _, ok := x.([]any); ok {
				continue
			}
			walk(x, depth+1)
		}
	}
	walk(v, 0)
	return out
}

// allows reports whether a statement's Effect can be Allow: literally, or
// by a value the check cannot tell (an Fn::If, a parameter).
func (e *evaluator) allows(effect any, s *stackTemplate) bool {
	for _, v := range e.eval(effect, s, 0) {
		if v == "Allow" || strings.Contains(v, unresolved) {
			return true
		}
	}
	return false
}

// actionPatterns returns the action patterns a statement's Action or
// NotAction can take, however built (Fn::Join, Fn::Sub, Fn::If, a dynamic
// reference): a part the check cannot read matches any action.
func (e *evaluator) actionPatterns(v any, s *stackTemplate) []string {
	var out []string
	for _, p := range e.resourceValues(v, s) {
		out = append(out, strings.ReplaceAll(p, unresolved, "*"))
	}
	return out
}

// allowedDenyActions returns the actions of DenyActions that the statement
// allows, by Action or NotAction.
func (e *evaluator) allowedDenyActions(st map[string]any, s *stackTemplate) []string {
	return e.allowedOf(st, s, denyActions)
}

// allowedOf returns the actions of list that the statement's Action or
// NotAction covers.
func (e *evaluator) allowedOf(st map[string]any, s *stackTemplate, list []string) []string {
	var out []string
	if not, ok := st["NotAction"]; ok {
		// A NotAction the check cannot read excludes nothing it can name.
		var patterns []string
		for _, p := range e.resourceValues(not, s) {
			if !strings.Contains(p, unresolved) {
				patterns = append(patterns, p)
			}
		}
		for _, a := range list {
			if !matchesAny(patterns, a) {
				out = append(out, a)
			}
		}
		return out
	}
	patterns := e.actionPatterns(st["Action"], s)
	for _, a := range list {
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

// attachedByName finds the customer managed policy of the assembly an ARN
// attaching a policy by name (arn:...:iam::ACCOUNT:policy/PATH/NAME)
// names.
func (e *evaluator) attachedByName(arn string) (policyRef, bool) {
	_, rest, ok := strings.Cut(arn, ":policy/")
	if !ok || strings.Contains(arn, ":iam::aws:") {
		return policyRef{}, false
	}
	name := rest[strings.LastIndexByte(rest, '/')+1:]
	p, ok := e.policies[name]
	return p, ok
}
