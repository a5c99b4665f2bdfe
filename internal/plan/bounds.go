package plan

import (
	"encoding/json"
	"fmt"
	"strings"
)

// The longest values of the ARN parts nobody knows at synth time: every
// upper bound on an ARN's length is built from these.
const (
	longestPartition = "aws-us-gov"
	longestRegion    = "us-isof-south-1"
	sampleAccount    = "123456789012"
)

// Placeholders a principal ARN may hold, which CloudFormation fills in
// (Fn::Sub), and the longest value each can take.
var arnPlaceholders = []struct {
	name  string
	bound int
}{
	{"${AWS::Partition}", len(longestPartition)},
	{"${AWS::AccountId}", len(sampleAccount)},
	{"${AWS::Region}", len(longestRegion)},
	{"${AWS::URLSuffix}", len("amazonaws.com.cn")},
}

// Upper bounds on ARNs the construct cannot know at synth time.
const (
	// MaxPrincipalArn is the longest an IAM role or user ARN can be: the
	// longest partition, a 512-character path and a 64-character name.
	MaxPrincipalArn = len("arn:"+longestPartition+":iam::"+sampleAccount+":role") + 512 + 64
	// MaxUnknownArn is IAM's longest ARN, for a value nothing is known of.
	MaxUnknownArn = 2048

	MaxTableArnPrefix  = len("arn:" + longestPartition + ":dynamodb:" + longestRegion + ":" + sampleAccount + ":table/")
	MaxGlobalArnPrefix = len("arn:" + longestPartition + ":dynamodb::" + sampleAccount + ":global-table/")
	MaxKeyArn          = len("arn:" + longestPartition + ":kms:" + longestRegion + ":" + sampleAccount + ":key/mrk-0123456789abcdef0123456789abcdef")
	// The journal's sequencer, its mapping and its role: a function's name
	// and a role's (CloudFormation generates them) are at most 64
	// characters, a mapping's id is a UUID.
	MaxFunctionArn = len("arn:"+longestPartition+":lambda:"+longestRegion+":"+sampleAccount+":function:") + 64
	MaxMappingArn  = len("arn:" + longestPartition + ":lambda:" + longestRegion + ":" + sampleAccount + ":event-source-mapping:01234567-89ab-cdef-0123-456789abcdef")
	MaxRoleArn     = len("arn:"+longestPartition+":iam::"+sampleAccount+":role/") + 64
	StreamSuffix   = len("/stream/2026-01-01T00:00:00.000")
	MaxStackName   = 128
	// GeneratedNameExtra is what CloudFormation adds to a stack's name and a
	// logical id when it names a table itself: <stack>-<logical id>-<13
	// characters>.
	GeneratedNameExtra = 1 + 1 + 13
)

// IsToken reports whether s is a CDK token that resolves at deploy time. It
// is plain string inspection, so that no check of it calls the jsii kernel.
func IsToken(s string) bool {
	return strings.Contains(s, "${Token[")
}

// BoundedSize is the size in bytes of v as compact JSON once deployed, each
// value not known at synth time counted at the longest it can take:
// placeholders and tokens in strings, and CloudFormation intrinsics (v as
// Stack.Resolve returns it).
func BoundedSize(v any) int {
	data, err := json.Marshal(bound(v))
	if err != nil {
		return MaxUnknownArn * 10 // not JSON: count it as too large
	}
	n := len(data)
	s := string(data)
	for _, ph := range arnPlaceholders {
		c := strings.Count(s, ph.name)
		n += c * (ph.bound - len(ph.name))
	}
	for rest := s; ; {
		i := strings.Index(rest, "${Token[")
		if i < 0 {
			break
		}
		j := strings.Index(rest[i:], "]}")
		if j < 0 {
			break
		}
		n += MaxPrincipalArn - (j + 2)
		rest = rest[i+j+2:]
	}
	return n
}

// bound replaces each CloudFormation intrinsic in v with a string as long as
// the longest value it can take.
func bound(v any) any {
	switch v := v.(type) {
	case []any:
		out := make([]any, len(v))
		for i, x := range v {
			out[i] = bound(x)
		}
		return out
	case map[string]any:
		if n, ok := intrinsicBound(v); ok {
			return strings.Repeat("x", n)
		}
		out := make(map[string]any, len(v))
		for k, x := range v {
			out[k] = bound(x)
		}
		return out
	}
	return v
}

// intrinsicBound is the longest value the intrinsic m can take, and whether
// m is an intrinsic at all.
func intrinsicBound(m map[string]any) (int, bool) {
	if len(m) != 1 {
		return 0, false
	}
	for fn, arg := range m {
		switch {
		case fn == "Ref":
			for _, ph := range arnPlaceholders {
				if "${"+fmt.Sprint(arg)+"}" == ph.name {
					return ph.bound, true
				}
			}
			return MaxUnknownArn, true
		case fn == "Fn::Join":
			parts, _ := arg.([]any)
			if len(parts) != 2 {
				return MaxUnknownArn, true
			}
			sep, _ := parts[0].(string)
			list, _ := parts[1].([]any)
			n := len(sep) * max(len(list)-1, 0)
			for _, x := range list {
				switch x := x.(type) {
				case string:
					n += len(x)
				case map[string]any:
					b, ok := intrinsicBound(x)
					if !ok {
						b = MaxUnknownArn
					}
					n += b
				default:
					n += MaxUnknownArn
				}
			}
			return n, true
		case fn == "Fn::Sub":
			s, ok := arg.(string)
			if !ok {
				return MaxUnknownArn, true
			}
			n := len(s)
			for _, ph := range arnPlaceholders {
				n += strings.Count(s, ph.name) * (ph.bound - len(ph.name))
				s = strings.ReplaceAll(s, ph.name, "")
			}
			n += strings.Count(s, "${") * MaxUnknownArn
			return n, true
		case strings.HasPrefix(fn, "Fn::"):
			return MaxUnknownArn, true
		}
	}
	return 0, false
}

// ResourcePolicySize is the size the table's whole resource policy can
// reach once deployed: the caller's statements (callerDoc as Stack.Resolve
// returns it, nil for none) and the construct's.
func ResourcePolicySize(callerDoc any, ours []Statement) int {
	n := 0
	if m, ok := callerDoc.(map[string]any); ok && m != nil {
		n = BoundedSize(m)
	} else {
		n = EmptyPolicyChars
	}
	for _, s := range ours {
		n += BoundedSize(s.JSON()) + 1 // and a comma
	}
	if callerDoc == nil {
		n-- // no comma before the first statement
	}
	return n
}
