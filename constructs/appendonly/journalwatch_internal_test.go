package appendonly

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// matches is EventBridge's content filtering, for the operators the
// journal's rules use: exact values, prefix, suffix, anything-but (a list
// or a prefix), $or, and a pattern object over an array of objects, which
// matches when any element does. A field the pattern names must be in the
// event.
func matches(pattern map[string]any, event map[string]any) bool {
	for k, p := range pattern {
		if k == "$or" {
			found := false
			for _, alt := range p.([]any) {
				found = found || matches(alt.(map[string]any), event)
			}
			if !found {
				return false
			}
			continue
		}
		v, ok := event[k]
		if !ok {
			return false
		}
		switch p := p.(type) {
		case map[string]any:
			switch v := v.(type) {
			case map[string]any:
				if !matches(p, v) {
					return false
				}
			case []any:
				found := false
				for _, el := range v {
					if m, ok := el.(map[string]any); ok && matches(p, m) {
						found = true
					}
				}
				if !found {
					return false
				}
			default:
				return false
			}
		case []any:
			values := []any{v}
			if list, ok := v.([]any); ok {
				values = list
			}
			found := false
			for _, want := range p {
				for _, got := range values {
					found = found || matchValue(want, got)
				}
			}
			if !found {
				return false
			}
		}
	}
	return true
}

func matchValue(want, got any) bool {
	op, ok := want.(map[string]any)
	if !ok {
		return want == got
	}
	s, _ := got.(string)
	for name, arg := range op {
		switch name {
		case "prefix":
			return strings.HasPrefix(s, arg.(string))
		case "suffix":
			return strings.HasSuffix(s, arg.(string))
		case "anything-but":
			switch arg := arg.(type) {
			case []any:
				for _, a := range arg {
					if a == got {
						return false
					}
				}
				return true
			case map[string]any:
				return !strings.HasPrefix(s, arg["prefix"].(string))
			default:
				return arg != got
			}
		}
	}
	panic("operator not modelled: " + toJSON(op))
}

func toJSON(v any) string { b, _ := json.Marshal(v); return string(b) }

// resolveRefs replaces {"Ref": X} and {"Fn::GetAtt": [X, A]} by "<X>" and
// "<X.A>", as a deployed rule holds the resources' names and ARNs.
func resolveRefs(v any) any {
	switch v := v.(type) {
	case map[string]any:
		if ref, ok := v["Ref"].(string); ok && len(v) == 1 {
			return "<" + ref + ">"
		}
		if att, ok := v["Fn::GetAtt"].([]any); ok && len(v) == 1 {
			return "<" + att[0].(string) + "." + att[1].(string) + ">"
		}
		out := map[string]any{}
		for k, x := range v {
			out[k] = resolveRefs(x)
		}
		return out
	case []any:
		out := make([]any, len(v))
		for i, x := range v {
			out[i] = resolveRefs(x)
		}
		return out
	}
	return v
}

// TestJournalRulesMatchChangesNotReads runs the journal's EventBridge rules,
// as synthesized, over CloudTrail events: each change of the sequencer, its
// mapping and role, the bucket and the key is matched; the sequencer's own
// reads and writes, the schedule's and the mapping's invocations are not.
func TestJournalRulesMatchChangesNotReads(t *testing.T) {
	data, err := os.ReadFile(filepath.Join("testdata", "configurations", "Journal.template.json"))
	if err != nil {
		t.Fatal(err)
	}
	var tmpl struct {
		Resources map[string]struct {
			Type       string
			Properties map[string]any
		}
	}
	if err := json.Unmarshal(data, &tmpl); err != nil {
		t.Fatal(err)
	}
	var rules []map[string]any
	for _, r := range tmpl.Resources {
		if p, ok := r.Properties["EventPattern"]; ok && r.Type == "AWS::Events::Rule" {
			rules = append(rules, resolveRefs(p).(map[string]any))
		}
	}
	if len(rules) != 3 {
		t.Fatalf("%d rules on management events, want 3", len(rules))
	}
	const (
		fn      = "<LedgerSequencer361EEF22>"
		fnArn   = "arn:aws:lambda:us-east-1:111122223333:function:" + fn
		mapping = "<LedgerSequencerStream4A39ADBC>"
		role    = "<LedgerSequencerRoleDA12E9D6>"
		bucket  = "<LedgerJournalBucket6A00F86C>"
		key     = "<LedgerJournalKeyA4B27522.Arn>"
	)
	event := func(source, name string, readOnly bool, detail map[string]any) map[string]any {
		detail["eventName"], detail["readOnly"] = name, readOnly
		detail["eventSource"] = strings.TrimPrefix(source, "aws.") + ".amazonaws.com"
		return map[string]any{"source": source, "detail-type": "AWS API Call via CloudTrail", "detail": detail}
	}
	params := func(kv ...string) map[string]any {
		m := map[string]any{}
		for i := 0; i < len(kv); i += 2 {
			m[kv[i]] = kv[i+1]
		}
		return map[string]any{"requestParameters": m}
	}
	keyEvent := func(name string) map[string]any {
		return event("aws.kms", name, false, map[string]any{"resources": []any{map[string]any{"ARN": key, "type": "AWS::KMS::Key"}}})
	}
	for _, c := range []struct {
		name  string
		event map[string]any
		want  bool
	}{
		{"its code changed", event("aws.lambda", "UpdateFunctionCode20150331v2", false, params("functionName", fnArn)), true},
		{"its configuration changed, by name", event("aws.lambda", "UpdateFunctionConfiguration20150331v2", false, params("functionName", fn)), true},
		{"its concurrency set", event("aws.lambda", "PutFunctionConcurrency20171031", false, params("functionName", fn)), true},
		{"the monitor's code changed", event("aws.lambda", "UpdateFunctionCode20150331v2", false, params("functionName", "<LedgerMonitor6AF5761B>")), true},
		{"an invoke permission added", event("aws.lambda", "AddPermission20150331v2", false, params("functionName", fn)), true},
		{"its mapping disabled", event("aws.lambda", "UpdateEventSourceMapping20150331", false, params("uUID", mapping)), true},
		{"its mapping deleted", event("aws.lambda", "DeleteEventSourceMapping20150331", false, params("uUID", mapping)), true},
		{"its role's trust widened", event("aws.iam", "UpdateAssumeRolePolicy", false, params("roleName", role)), true},
		{"a policy put on its role", event("aws.iam", "PutRolePolicy", false, params("roleName", role)), true},
		{"the bucket policy deleted", event("aws.s3", "DeleteBucketPolicy", false, params("bucketName", bucket)), true},
		{"replication put on the bucket", event("aws.s3", "PutBucketReplication", false, params("bucketName", bucket)), true},
		{"an object version deleted", event("aws.s3", "DeleteObject", false, params("bucketName", bucket, "key", "checkpoint")), true},
		{"the key disabled", keyEvent("DisableKey"), true},
		{"the key's policy put", keyEvent("PutKeyPolicy"), true},

		{"the feed check reading its concurrency", event("aws.lambda", "GetFunctionConcurrency", true, params("functionName", fn)), false},
		{"the schedule invoking it", event("aws.lambda", "Invoke", false, params("functionName", fnArn)), false},
		{"another function changed", event("aws.lambda", "UpdateFunctionCode20150331v2", false, params("functionName", "Other")), false},
		{"its role read", event("aws.iam", "GetRole", true, params("roleName", role)), false},
		{"the sequencer writing", event("aws.s3", "PutObject", false, params("bucketName", bucket, "key", "checkpoint")), false},
		{"the sequencer listing versions", event("aws.s3", "ListObjectVersions", true, params("bucketName", bucket)), false},
		{"another bucket's policy deleted", event("aws.s3", "DeleteBucketPolicy", false, params("bucketName", "other")), false},
		{"the sequencer signing", keyEvent("Sign"), false},
	} {
		got := false
		for _, r := range rules {
			got = got || matches(r, c.event)
		}
		if got != c.want {
			t.Errorf("%s: matched %v, want %v", c.name, got, c.want)
		}
	}
}
