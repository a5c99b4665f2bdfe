package plan

import (
	"fmt"
	"regexp"
	"strings"
)

// Limits from the DynamoDB and IAM documentation.
const (
	MaxKeyAttributeNameBytes = 255
	MinTableNameLength       = 3
	MaxTableNameLength       = 255
	MaxUserNameLength        = 64
	MaxRoleNameLength        = 64
	MaxGroupNameLength       = 128
	MaxPolicyNameLength      = 128
	MaxRecoveryPeriodDays    = 35
	// MaxResourcePolicyBytes is DynamoDB's limit on a table's resource
	// policy, whitespace included.
	MaxResourcePolicyBytes = 20 * 1024
	// MaxDays is the longest retention the construct accepts anywhere: 100
	// years.
	MaxDays = 36500
)

var (
	tableNamePattern  = regexp.MustCompile(`^[a-zA-Z0-9_.-]+$`)
	iamNamePattern    = regexp.MustCompile(`^[\w+=,.@-]+$`)
	accountPattern    = regexp.MustCompile(`^([0-9]{12}|\$\{AWS::AccountId\})$`)
	bucketNamePattern = regexp.MustCompile(`^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$`)
	hidePlaceholders  = strings.NewReplacer("${AWS::Partition}", "\x00P", "${AWS::AccountId}", "\x00A", "${AWS::Region}", "\x00R")
	showPlaceholders  = strings.NewReplacer("\x00P", "${AWS::Partition}", "\x00A", "${AWS::AccountId}", "\x00R", "${AWS::Region}")
)

// Errors collects errors, each naming a prop and what is allowed.
type Errors []error

// Add appends an error.
func (e *Errors) Add(format string, args ...any) { *e = append(*e, fmt.Errorf(format, args...)) }

// PrincipalArns checks ARNs that go into an ArnNotLike condition on
// aws:PrincipalArn: each must name IAM roles or users of one account, and no
// wildcard may stand for a whole account or every role or user in it.
func PrincipalArns(prop string, arns []string) Errors {
	var errs Errors
	for i, arn := range arns {
		if msg := PrincipalArnProblem(arn); msg != "" {
			errs.Add("%s[%d]: %s", prop, i, msg)
		}
	}
	return errs
}

// PrincipalArnProblem says what is wrong with arn, or returns "".
func PrincipalArnProblem(arn string) string {
	if IsToken(arn) {
		return "" // resolved at deployment; CloudFormation and IAM check it
	}
	const example = "arn:aws:iam::111122223333:role/BreakGlass"
	if strings.TrimSpace(arn) == "" {
		return "empty: give an IAM role or user ARN such as " + example
	}
	// The placeholders hold colons: split the ARN with stand-ins for them.
	f := strings.SplitN(hidePlaceholders.Replace(arn), ":", 6)
	for i := range f {
		f[i] = showPlaceholders.Replace(f[i])
	}
	if len(f) != 6 || f[0] != "arn" {
		return fmt.Sprintf("%q is not an IAM principal ARN: give a role or user ARN such as %s", arn, example)
	}
	partition, service, region, account, resource := f[1], f[2], f[3], f[4], f[5]
	if service == "sts" {
		if name, ok := strings.CutPrefix(resource, "assumed-role/"); ok {
			role, _, _ := strings.Cut(name, "/")
			return fmt.Sprintf("%q is an assumed-role session, which aws:PrincipalArn never holds (it holds the role's ARN): give arn:%s:iam::%s:role/%s (with the role's path, if it has one)", arn, partition, account, role)
		}
		return fmt.Sprintf("%q is an STS session, which aws:PrincipalArn never holds: give the IAM role or user ARN behind it", arn)
	}
	if service != "iam" {
		return fmt.Sprintf("%q is not an IAM principal ARN: the service must be iam (a role or user ARN such as %s)", arn, example)
	}
	if strings.ContainsAny(partition, "*?") || partition == "" {
		return fmt.Sprintf("%q has a wildcard or empty partition: give one, such as aws, or ${AWS::Partition}", arn)
	}
	if region != "" {
		return fmt.Sprintf("%q has a Region: IAM ARNs have none (arn:<partition>:iam::<account>:role/<name>)", arn)
	}
	if strings.ContainsAny(account, "*?") {
		return fmt.Sprintf("%q exempts principals of every account: give the 12-digit account id, or ${AWS::AccountId}", arn)
	}
	if !accountPattern.MatchString(account) {
		return fmt.Sprintf("%q has account %q: give the 12-digit account id, or ${AWS::AccountId}", arn, account)
	}
	kind, name, ok := strings.Cut(resource, "/")
	if !ok || (kind != "role" && kind != "user") {
		return fmt.Sprintf("%q is not a role or user: give role/<name> or user/<name>; a wildcard may end a name prefix, as in role/BreakGlass*", arn)
	}
	if name == "" || strings.ContainsAny(name[:1], "*?") {
		return fmt.Sprintf("%q exempts every %s in the account: give a name, or a name prefix such as %s/BreakGlass*", arn, kind, kind)
	}
	// A wildcard in the path, or a name that is only a wildcard, covers a
	// whole path: every role AWS services create under service-role/, say.
	segments := strings.Split(name, "/")
	path, last := segments[:len(segments)-1], segments[len(segments)-1]
	for _, seg := range path {
		if seg == "" || strings.ContainsAny(seg, "*?") {
			return fmt.Sprintf("%q has a wildcard or an empty part in its path, so it exempts every %s under many paths: give the path in full and a name or name prefix, such as %s/legal/BreakGlass*", arn, kind, kind)
		}
	}
	if last == "" || strings.ContainsAny(last[:1], "*?") {
		return fmt.Sprintf("%q exempts every %s under the path /%s/: give a name or a name prefix after the path, such as %s/%s/BreakGlass*", arn, kind, strings.Join(path, "/"), kind, strings.Join(path, "/"))
	}
	return ""
}

// IAMName checks an IAM user, role, group or policy name; a token or ""
// passes.
func (e *Errors) IAMName(prop, name string, maxLen int) {
	if name == "" || IsToken(name) {
		return
	}
	if len(name) > maxLen || !iamNamePattern.MatchString(name) {
		e.Add("%s: %q is not a valid IAM name: 1 to %d characters of letters, digits and +=,.@_-", prop, name, maxLen)
	}
}

// TableName checks a table's name; a token passes.
func (e *Errors) TableName(prop, name string) {
	if IsToken(name) {
		return
	}
	if len(name) < MinTableNameLength || len(name) > MaxTableNameLength || !tableNamePattern.MatchString(name) {
		e.Add("%s: %q is not a valid table name: %d to %d characters of a-z, A-Z, 0-9, '_', '-' and '.'", prop, name, MinTableNameLength, MaxTableNameLength)
	}
}

// BucketName checks an S3 bucket's name; a token or "" passes.
func (e *Errors) BucketName(prop, name string) {
	if name == "" || IsToken(name) {
		return
	}
	if !bucketNamePattern.MatchString(name) || strings.Contains(name, "..") {
		e.Add("%s: %q is not a valid bucket name: 3 to 63 characters of a-z, 0-9, '.' and '-', starting and ending with a letter or digit", prop, name)
	}
}

// KeyAttribute checks a key attribute: its name and its type, as
// awsdynamodb.AttributeType spells it.
func (e *Errors) KeyAttribute(prop, name, typ string) {
	switch {
	case strings.TrimSpace(name) == "":
		e.Add("%s.Name: required: the attribute name, 1 to %d bytes", prop, MaxKeyAttributeNameBytes)
	case len(name) > MaxKeyAttributeNameBytes:
		e.Add("%s.Name: %d bytes is too long: at most %d", prop, len(name), MaxKeyAttributeNameBytes)
	}
	switch typ {
	case "STRING", "NUMBER", "BINARY":
	case "":
		e.Add("%s.Type: required: STRING, NUMBER or BINARY", prop)
	default:
		e.Add("%s.Type: %q is not allowed: STRING, NUMBER or BINARY", prop, typ)
	}
}
