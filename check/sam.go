package check

import (
	"fmt"
	"slices"
	"strings"
)

// samPolicyTemplates are the AWS SAM policy templates that write to the
// DynamoDB table they name (TableName).
var samPolicyTemplates = []string{"DynamoDBCrudPolicy", "DynamoDBWritePolicy"}

// checkTransformed checks what the check can read of a template with a
// Transform: the SAM policy templates and connectors that write to a
// table, and the AWS managed policies its functions name. What a macro or
// SAM makes of the rest is not read, so a template that holds a protected
// resource and a transform is refused (holdsProtected).
func (e *evaluator) checkTransformed(s *stackTemplate, holdsProtected bool) []violation {
	if s.transform == nil {
		return nil
	}
	var out []violation
	if holdsProtected {
		out = append(out, violation{rule: ruleInvariant, severity: fatal, file: s.file, location: "Transform",
			message: fmt.Sprintf("appendonly: the stack %s holds an append-only table or what protects it, and has the Transform %s: the check reads the template before the transform, so it cannot tell what will be deployed.",
				s.path, compact(s.transform)),
			fix: "Keep the append-only table and its protection in a stack without a transform or macro: move SAM resources and macros to a stack of their own."})
	}
	for _, id := range sortedKeys(s.res) {
		r := s.res[id]
		props, _ := r["Properties"].(map[string]any)
		if hasAcknowledgement(r) {
			continue
		}
		hit := func(location, what string, tableName any) {
			for _, name := range e.eval(tableName, s, 0) {
				for ti := range e.tables.list {
					gt := &e.tables.list[ti]
					if gt.covered("arn:*:dynamodb:*:*:table/" + name) {
						out = append(out, violation{rule: ruleWriteGrant, severity: fatal, file: s.file, logicalID: id, location: location,
							message: fmt.Sprintf("appendonly: the SAM %s %s writes to the append-only table %s (table %s).", what, pathOf(s.path, id), gt.label, printable(name)),
							fix:     "Grant with the appendonly Table's GrantAppend, GrantRead or GrantStreamRead instead (DynamoDBReadPolicy reads). " + ackFix(s, id, r)})
					}
				}
			}
		}
		switch r["Type"] {
		case "AWS::Serverless::Function", "AWS::Serverless::StateMachine":
			for i, p := range asAnyList(props["Policies"]) {
				location := fmt.Sprintf("Properties/Policies/%d", i)
				switch p := p.(type) {
				case string:
					if actions, ok := awsManagedWriters[p]; ok {
						for ti := range e.tables.list {
							out = append(out, violation{rule: ruleWriteGrant, severity: fatal, file: s.file, logicalID: id, location: location,
								message: fmt.Sprintf("appendonly: the SAM function %s attaches the AWS managed policy %s, which allows %s on every table, the append-only table %s included.",
									pathOf(s.path, id), p, summarize(actions), e.tables.list[ti].label),
								fix: "Grant with the appendonly Table's GrantAppend, GrantRead or GrantStreamRead instead. " + ackFix(s, id, r)})
						}
					}
				case map[string]any:
					for _, name := range samPolicyTemplates {
						if arg, ok := p[name]; ok {
							hit(location, "policy template "+name+" of", mapGet(arg, "TableName"))
						}
					}
					if _, ok := p["Statement"]; ok {
						out = append(out, e.checkPolicy(s, id, r, docAt{doc: p, location: location, label: "SAM inline policy of"})...)
					}
				}
			}
		case "AWS::Serverless::Connector":
			perms := asStrings(props["Permissions"])
			if !slices.Contains(perms, "Write") {
				continue
			}
			dest := mapGet(props, "Destination")
			for _, d := range asAnyList(dest) {
				if id2, ok := mapGet(d, "Id").(string); ok && e.tables.in(s, id2) != nil {
					hit("Properties/Destination", "connector", s.res[id2]["Properties"].(map[string]any)["TableName"])
					continue
				}
				if arn := mapGet(d, "Arn"); arn != nil {
					for _, a := range e.eval(arn, s, 0) {
						_, name, _ := strings.Cut(a, ":table/")
						hit("Properties/Destination", "connector", name)
					}
				}
			}
		}
	}
	return out
}
