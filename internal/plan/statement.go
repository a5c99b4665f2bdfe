package plan

import "encoding/json"

// Statement is an IAM policy statement in plain Go. The construct builds its
// policies from these and converts each document in one jsii call, which
// keeps its round trips to the jsii kernel few.
type Statement struct {
	Sid       string
	Effect    string
	Principal any // for resource policies
	Actions   []string
	Resources []string
	// NotResources replaces Resources: every resource but these.
	NotResources []string
	Condition    map[string]any
}

// JSON is the statement as CDK renders it: a list of one is a single value.
func (s Statement) JSON() map[string]any {
	m := map[string]any{
		"Sid":    s.Sid,
		"Effect": s.Effect,
		"Action": oneOrList(s.Actions),
	}
	if s.NotResources != nil {
		m["NotResource"] = oneOrList(s.NotResources)
	} else {
		m["Resource"] = oneOrList(s.Resources)
	}
	if s.Principal != nil {
		m["Principal"] = s.Principal
	}
	if s.Condition != nil {
		m["Condition"] = s.Condition
	}
	return m
}

// Document is the policy document holding stmts.
func Document(stmts []Statement) map[string]any {
	list := make([]any, len(stmts))
	for i, s := range stmts {
		list[i] = s.JSON()
	}
	return map[string]any{"Version": "2012-10-17", "Statement": list}
}

func oneOrList(l []string) any {
	if len(l) == 1 {
		return l[0]
	}
	return l
}

// ArnNotLike is a condition that holds for every principal but arns.
func ArnNotLike(arns []string) map[string]any {
	return map[string]any{"ArnNotLike": map[string]any{"aws:PrincipalArn": arns}}
}

// Map returns f of each string of in, in a new slice.
func Map(in []string, f func(string) string) []string {
	out := make([]string, len(in))
	for i, s := range in {
		out[i] = f(s)
	}
	return out
}

// Concat returns the lists one after the other, in a new slice.
func Concat(lists ...[]string) []string {
	var out []string
	for _, l := range lists {
		out = append(out, l...)
	}
	return out
}

// EmptyPolicyChars is the size of a policy document without statements.
const EmptyPolicyChars = len(`{"Version":"2012-10-17","Statement":[]}`)

// StatementChars is the size of s without its resources, plus the comma that
// separates it from the next.
func StatementChars(s Statement) int {
	s.Resources = nil
	data, _ := json.Marshal(s.JSON())
	return len(data) - len(`"Resource":null`) + 1
}

// CDKStatementEstimate is CDK's estimate of s without its resources
// (aws-iam's PolicyStatement._estimateSize), which decides when CDK splits a
// role's inline policy.
func CDKStatementEstimate(s Statement) int {
	n := len(`"Effect": "` + s.Effect + `",`)
	n += len("Action") + 5
	for _, a := range s.Actions {
		n += len(a) + 3
	}
	return n + len("Resource") + 5
}
