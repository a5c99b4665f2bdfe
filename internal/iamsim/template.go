package iamsim

import (
	"crypto/sha256"
	"errors"
	"fmt"
	"sort"
	"strings"
)

// The fixed environment the templates are resolved in.
const (
	Partition = "aws"
	Region    = "us-east-1"
	Account   = "111122223333"
	// StreamLabel is the label of every table's stream.
	StreamLabel = "2026-01-01T00:00:00.000"
)

// Template is a synthesized CloudFormation template, decoded from JSON.
type Template = map[string]any

// Env resolves CloudFormation intrinsics in one template to concrete values.
// A resource's physical name is its name property (TableName, RoleName, ...)
// when the template sets one, and its logical id otherwise.
type Env struct {
	resources map[string]map[string]any
}

// NewEnv returns an Env for tmpl.
func NewEnv(tmpl Template) *Env {
	e := &Env{resources: map[string]map[string]any{}}
	res, _ := tmpl["Resources"].(map[string]any)
	for id, r := range res {
		e.resources[id], _ = r.(map[string]any)
	}
	return e
}

var nameProperty = map[string]string{
	"AWS::DynamoDB::Table":    "TableName",
	"AWS::IAM::Role":          "RoleName",
	"AWS::IAM::User":          "UserName",
	"AWS::IAM::Group":         "GroupName",
	"AWS::IAM::ManagedPolicy": "ManagedPolicyName",
	"AWS::Lambda::Function":   "FunctionName",
	"AWS::S3::Bucket":         "BucketName",
}

func (e *Env) resource(id string) (typ string, props map[string]any, err error) {
	r, ok := e.resources[id]
	if !ok {
		return "", nil, fmt.Errorf("iamsim: no resource %q in the template", id)
	}
	typ, _ = r["Type"].(string)
	props, _ = r["Properties"].(map[string]any)
	return typ, props, nil
}

// Name is the physical name of the resource with logical id id.
func (e *Env) Name(id string) (string, error) {
	typ, props, err := e.resource(id)
	if err != nil {
		return "", err
	}
	if p, ok := nameProperty[typ]; ok {
		if v, ok := props[p]; ok {
			name, err := e.Resolve(v)
			if err != nil {
				return "", err
			}
			if s, ok := name.(string); ok {
				return s, nil
			}
		}
	}
	return id, nil
}

// Arn is the ARN of the resource with logical id id.
func (e *Env) Arn(id string) (string, error) {
	typ, _, err := e.resource(id)
	if err != nil {
		return "", err
	}
	name, err := e.Name(id)
	if err != nil {
		return "", err
	}
	switch typ {
	case "AWS::DynamoDB::Table":
		return TableArn(name), nil
	case "AWS::IAM::Role":
		return fmt.Sprintf("arn:%s:iam::%s:role/%s", Partition, Account, name), nil
	case "AWS::IAM::User":
		return fmt.Sprintf("arn:%s:iam::%s:user/%s", Partition, Account, name), nil
	case "AWS::IAM::Group":
		return fmt.Sprintf("arn:%s:iam::%s:group/%s", Partition, Account, name), nil
	case "AWS::IAM::ManagedPolicy":
		return fmt.Sprintf("arn:%s:iam::%s:policy/%s", Partition, Account, name), nil
	case "AWS::KMS::Key":
		return KeyArn(name), nil
	case "AWS::Lambda::Function":
		return fmt.Sprintf("arn:%s:lambda:%s:%s:function:%s", Partition, Region, Account, name), nil
	case "AWS::S3::Bucket":
		return fmt.Sprintf("arn:%s:s3:::%s", Partition, strings.ToLower(name)), nil
	case "AWS::Logs::LogGroup":
		return fmt.Sprintf("arn:%s:logs:%s:%s:log-group:%s:*", Partition, Region, Account, name), nil
	case "AWS::SNS::Topic":
		return fmt.Sprintf("arn:%s:sns:%s:%s:%s", Partition, Region, Account, name), nil
	case "AWS::Lambda::EventSourceMapping":
		return fmt.Sprintf("arn:%s:lambda:%s:%s:event-source-mapping:%s", Partition, Region, Account, mappingUUID(id)), nil
	}
	return "", fmt.Errorf("iamsim: no ARN for %s %s", typ, id)
}

// TableArn is the ARN of the table named name in the test environment.
func TableArn(name string) string {
	return fmt.Sprintf("arn:%s:dynamodb:%s:%s:table/%s", Partition, Region, Account, name)
}

// KeyArn is the ARN of the KMS key with id keyID in the test environment.
func KeyArn(keyID string) string {
	return fmt.Sprintf("arn:%s:kms:%s:%s:key/%s", Partition, Region, Account, keyID)
}

// Resolve returns v with every intrinsic function replaced by its value. An
// intrinsic it does not know is an error, never a guess.
func (e *Env) Resolve(v any) (any, error) {
	switch v := v.(type) {
	case []any:
		out := make([]any, len(v))
		for i, x := range v {
			r, err := e.Resolve(x)
			if err != nil {
				return nil, err
			}
			out[i] = r
		}
		return out, nil
	case map[string]any:
		if len(v) == 1 {
			for k, arg := range v {
				if strings.HasPrefix(k, "Fn::") || k == "Ref" {
					return e.intrinsic(k, arg)
				}
			}
		}
		out := make(map[string]any, len(v))
		for k, x := range v {
			r, err := e.Resolve(x)
			if err != nil {
				return nil, err
			}
			out[k] = r
		}
		return out, nil
	}
	return v, nil
}

func (e *Env) intrinsic(fn string, arg any) (any, error) {
	switch fn {
	case "Ref":
		id, _ := arg.(string)
		switch id {
		case "AWS::Partition":
			return Partition, nil
		case "AWS::Region":
			return Region, nil
		case "AWS::AccountId":
			return Account, nil
		case "AWS::URLSuffix":
			return "amazonaws.com", nil
		}
		typ, _, err := e.resource(id)
		if err != nil {
			return nil, err
		}
		switch typ {
		case "AWS::IAM::ManagedPolicy":
			return e.Arn(id)
		case "AWS::S3::Bucket":
			name, err := e.Name(id)
			return strings.ToLower(name), err
		case "AWS::Lambda::EventSourceMapping":
			return mappingUUID(id), nil
		}
		return e.Name(id)
	case "Fn::GetAtt":
		parts, _ := arg.([]any)
		if len(parts) != 2 {
			return nil, fmt.Errorf("iamsim: Fn::GetAtt %v: want [id, attribute]", arg)
		}
		id, _ := parts[0].(string)
		attr, _ := parts[1].(string)
		switch attr {
		case "Arn", "EventSourceMappingArn":
			return e.Arn(id)
		case "StreamArn":
			arn, err := e.Arn(id)
			if err != nil {
				return nil, err
			}
			return arn + "/stream/" + StreamLabel, nil
		}
		return nil, fmt.Errorf("iamsim: Fn::GetAtt %s.%s is not known", id, attr)
	case "Fn::Join":
		parts, _ := arg.([]any)
		if len(parts) != 2 {
			return nil, fmt.Errorf("iamsim: Fn::Join %v: want [separator, list]", arg)
		}
		sep, _ := parts[0].(string)
		list, err := e.Resolve(parts[1])
		if err != nil {
			return nil, err
		}
		items, _ := list.([]any)
		strs := make([]string, len(items))
		for i, x := range items {
			s, ok := x.(string)
			if !ok {
				return nil, fmt.Errorf("iamsim: Fn::Join of %v, which is not a string", x)
			}
			strs[i] = s
		}
		return strings.Join(strs, sep), nil
	case "Fn::Sub":
		tmpl, ok := arg.(string)
		if !ok {
			return nil, fmt.Errorf("iamsim: Fn::Sub %v: only the one-string form is supported", arg)
		}
		var b strings.Builder
		for {
			i := strings.Index(tmpl, "${")
			if i < 0 {
				b.WriteString(tmpl)
				return b.String(), nil
			}
			j := strings.Index(tmpl[i:], "}")
			if j < 0 {
				return nil, fmt.Errorf("iamsim: Fn::Sub %q: unclosed ${", arg)
			}
			b.WriteString(tmpl[:i])
			name := tmpl[i+2 : i+j]
			var v any
			var err error
			if id, attr, ok := strings.Cut(name, "."); ok {
				v, err = e.intrinsic("Fn::GetAtt", []any{id, attr})
			} else {
				v, err = e.intrinsic("Ref", name)
			}
			if err != nil {
				return nil, err
			}
			b.WriteString(fmt.Sprint(v))
			tmpl = tmpl[i+j+1:]
		}
	}
	return nil, fmt.Errorf("iamsim: intrinsic %s is not supported", fn)
}

// mappingUUID is the id an event source mapping gets in the test
// environment: a UUID made from its logical id.
func mappingUUID(id string) string {
	h := sha256.Sum256([]byte(id))
	return fmt.Sprintf("%x-%x-%x-%x-%x", h[0:4], h[4:6], h[6:8], h[8:10], h[10:16])
}

// refs returns the logical ids a list of {"Ref": id} values names.
func refs(v any) []string {
	var out []string
	list, _ := v.([]any)
	for _, x := range list {
		if m, ok := x.(map[string]any); ok {
			if id, ok := m["Ref"].(string); ok {
				out = append(out, id)
			}
		}
	}
	return out
}

// IdentityPolicies returns every identity policy that applies to the user or
// role with logical id principal: managed and inline policies attached to it
// and, for a user, to its groups. A managed policy the template does not
// define (an AWS managed one) is an error: its content is unknown here.
func (e *Env) IdentityPolicies(principal string) ([]NamedPolicy, error) {
	typ, props, err := e.resource(principal)
	if err != nil {
		return nil, err
	}
	holders := map[string]bool{principal: true}
	var listKey string
	switch typ {
	case "AWS::IAM::Role":
		listKey = "Roles"
	case "AWS::IAM::User":
		listKey = "Users"
		for _, g := range refs(props["Groups"]) {
			holders[g] = true
		}
		for id, r := range e.resources {
			if r["Type"] == "AWS::IAM::UserToGroupAddition" {
				p, _ := r["Properties"].(map[string]any)
				for _, u := range refs(p["Users"]) {
					if u == principal {
						if g, ok := p["GroupName"].(map[string]any); ok {
							if gid, ok := g["Ref"].(string); ok {
								holders[gid] = true
							}
						} else {
							return nil, fmt.Errorf("iamsim: %s names its group without a Ref", id)
						}
					}
				}
			}
		}
	default:
		return nil, fmt.Errorf("iamsim: %s is a %s, not a user or role", principal, typ)
	}

	var out []NamedPolicy
	add := func(name string, doc any) error {
		resolved, err := e.Resolve(doc)
		if err != nil {
			return err
		}
		p, ok := resolved.(map[string]any)
		if !ok {
			return fmt.Errorf("iamsim: policy %s is not an object", name)
		}
		out = append(out, NamedPolicy{Name: name, Policy: p})
		return nil
	}
	// attachedBy reports whether a policy resource names the principal, or
	// one of its groups, in its own attachment list.
	attachedBy := func(p map[string]any) bool {
		for _, id := range refs(p[listKey]) {
			if id == principal {
				return true
			}
		}
		for _, id := range refs(p["Groups"]) {
			if holders[id] {
				return true
			}
		}
		return false
	}
	ids := make([]string, 0, len(e.resources))
	for id := range e.resources {
		ids = append(ids, id)
	}
	sort.Strings(ids)
	for _, id := range ids {
		r := e.resources[id]
		p, _ := r["Properties"].(map[string]any)
		switch r["Type"] {
		case "AWS::IAM::ManagedPolicy", "AWS::IAM::Policy":
			if attachedBy(p) {
				if err := add(id, p["PolicyDocument"]); err != nil {
					return nil, err
				}
			}
		}
		if !holders[id] {
			continue
		}
		for i, inline := range asList(p["Policies"]) {
			m, _ := inline.(map[string]any)
			if err := add(fmt.Sprintf("%s.Policies[%d]", id, i), m["PolicyDocument"]); err != nil {
				return nil, err
			}
		}
		for _, arn := range asList(p["ManagedPolicyArns"]) {
			m, ok := arn.(map[string]any)
			ref, _ := m["Ref"].(string)
			if !ok || ref == "" {
				return nil, fmt.Errorf("iamsim: %s attaches managed policy %v, which the template does not define", id, arn)
			}
			rt, rp, err := e.resource(ref)
			if err != nil {
				return nil, err
			}
			if rt != "AWS::IAM::ManagedPolicy" {
				return nil, fmt.Errorf("iamsim: %s attaches %s, a %s", id, ref, rt)
			}
			if attachedBy(rp) {
				continue // counted once, from the policy's own attachment list
			}
			if err := add(ref, rp["PolicyDocument"]); err != nil {
				return nil, err
			}
		}
	}
	if len(out) == 0 {
		return nil, errors.New("iamsim: no identity policy applies to " + principal)
	}
	return out, nil
}

func asList(v any) []any {
	l, _ := v.([]any)
	return l
}

// ResourcePolicy returns the resolved resource policy of the DynamoDB table
// with logical id table, or nil when it has none.
func (e *Env) ResourcePolicy(table string) (Policy, error) {
	_, props, err := e.resource(table)
	if err != nil {
		return nil, err
	}
	rp, ok := props["ResourcePolicy"].(map[string]any)
	if !ok {
		return nil, nil
	}
	doc, err := e.Resolve(rp["PolicyDocument"])
	if err != nil {
		return nil, err
	}
	p, _ := doc.(map[string]any)
	return p, nil
}
