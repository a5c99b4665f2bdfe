package check

import (
	"fmt"
	"strings"
)

// tableRules are the table's invariants that are rules rather than
// recorded values: a customer managed key is the one the construct
// protects, and no exempt principal is a role anyone may assume.
func tableRules(t Table, byPath map[string]*stackTemplate) []violation {
	s := byPath[t.StackPath]
	if s == nil || len(t.Protected) == 0 {
		return nil
	}
	id := t.Protected[0].ID
	r, ok := s.res[id]
	if !ok {
		return nil
	}
	label := pathOf(t.StackPath, id)
	var out []violation
	props, _ := r["Properties"].(map[string]any)
	for _, p := range t.Protected {
		if p.What != "key" || p.StackPath != "" {
			continue
		}
		key := mapGet(props["SSESpecification"], "KMSMasterKeyId")
		ga := asAnyList(mapGet(key, "Fn::GetAtt"))
		if mapGet(key, "Ref") != p.ID && (len(ga) == 0 || ga[0] != p.ID) {
			out = append(out, violation{rule: ruleInvariant, severity: fatal, file: s.file, logicalID: id, location: "Properties/SSESpecification",
				message: fmt.Sprintf("appendonly: the append-only table %s: its key is %s, not the key the construct protects (%s): a key whose policy lets an administrator disable or delete it takes every item with it.",
					label, compact(key), p.ID),
				fix: "Remove the override that changes SSESpecification. The prop that changes it is TableProps.EncryptionKey."})
		}
	}
	// The exempt principals that are roles of this app: none may be
	// assumed by anyone.
	for _, ex := range t.Exempt {
		f := strings.SplitN(ex, ":", 6)
		if len(f) != 6 || !strings.HasPrefix(f[5], "role/") {
			continue
		}
		for _, st := range byPath {
			for _, rid := range sortedKeys(st.res) {
				role := st.res[rid]
				rp, _ := role["Properties"].(map[string]any)
				name, ok := rp["RoleName"].(string)
				path, _ := rp["Path"].(string)
				if path == "" {
					path = "/"
				}
				if role["Type"] != "AWS::IAM::Role" || !ok || !glob(f[5], "role"+path+name) {
					continue
				}
				for _, stmt := range asAnyList(mapGet(rp["AssumeRolePolicyDocument"], "Statement")) {
					principal := mapGet(stmt, "Principal")
					if mapGet(stmt, "Effect") == "Allow" && mapGet(stmt, "Condition") == nil && (principal == "*" || mapGet(principal, "AWS") == "*") {
						out = append(out, violation{rule: ruleInvariant, severity: fatal, file: st.file, logicalID: rid, location: "Properties/AssumeRolePolicyDocument",
							message: fmt.Sprintf("appendonly: the role %s, exempt from the append-only table %s's denies, may be assumed by anyone (Principal %s, no condition): anyone could change the table's items.",
								pathOf(st.path, rid), label, compact(principal)),
							fix: "Name who may assume the break-glass role (an account, a role, with MFA), or remove it from ExemptPrincipalArns."})
					}
				}
			}
		}
	}
	return out
}
