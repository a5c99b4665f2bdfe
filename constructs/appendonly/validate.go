package appendonly

import (
	"errors"
	"fmt"
	"regexp"
	"strings"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsdynamodb"
)

// Limits from the DynamoDB and IAM documentation.
const (
	maxKeyAttributeNameBytes = 255
	minTableNameLength       = 3
	maxTableNameLength       = 255
	maxUserNameLength        = 64
	maxRoleNameLength        = 64
	maxGroupNameLength       = 128
	maxPolicyNameLength      = 128
	maxRecoveryPeriodDays    = 35
	// MaxResourcePolicyBytes is DynamoDB's limit on a table's resource
	// policy, whitespace included.
	MaxResourcePolicyBytes = 20 * 1024
)

var (
	tableNamePattern = regexp.MustCompile(`^[a-zA-Z0-9_.-]+$`)
	iamNamePattern   = regexp.MustCompile(`^[\w+=,.@-]+$`)
)

// validate checks props in plain Go, before any jsii call, and reports every
// problem at once, each naming the prop and what is allowed.
func validate(props *Props) error {
	if props == nil {
		return errors.New("props: required: set TableProps (with a PartitionKey) or ExistingTable")
	}
	var errs []error
	add := func(format string, args ...any) {
		errs = append(errs, fmt.Errorf(format, args...))
	}

	switch {
	case props.TableProps != nil && props.ExistingTable != nil:
		add("TableProps and ExistingTable: set one, not both: TableProps creates a new table, ExistingTable uses one you already have")
	case props.TableProps == nil && props.ExistingTable == nil:
		add("TableProps: required unless ExistingTable is set: give at least a PartitionKey")
	}
	if props.TableProps != nil {
		errs = append(errs, validateTableProps(props.TableProps, props.UnsafeAllowTableRemoval)...)
	}

	switch props.Enforcement {
	case EnforceTableWide:
		if props.ExistingTable != nil {
			add("Enforcement: EnforceTableWide needs a table the construct creates, to attach its resource policy; with ExistingTable set Enforcement to EnforceIdentityOnlyOthersCanModify, which binds only the principals this construct creates or grants to")
		}
	case EnforceIdentityOnlyOthersCanModify:
		if len(props.ExemptPrincipalArns) > 0 {
			add("ExemptPrincipalArns: only with Enforcement EnforceTableWide: in %s mode there is no table-wide deny to be exempt from", props.Enforcement)
		}
	default:
		add("Enforcement: %d is not a mode: use EnforceTableWide (the default) or EnforceIdentityOnlyOthersCanModify", int(props.Enforcement))
	}
	errs = append(errs, validatePrincipalArns("ExemptPrincipalArns", props.ExemptPrincipalArns)...)
	if len(props.DeployerPrincipalArns) > 0 && props.Enforcement != EnforceTableWide {
		add("DeployerPrincipalArns: only with Enforcement EnforceTableWide: in %s mode the table has no resource policy to let the deployer through", props.Enforcement)
	}
	errs = append(errs, validatePrincipalArns("DeployerPrincipalArns", props.DeployerPrincipalArns)...)

	if props.Backup != nil {
		errs = append(errs, validateBackup(props.Backup)...)
	}
	if props.Journal != nil {
		errs = append(errs, validateJournal(props)...)
	}
	if props.User != nil && props.Role != nil {
		add("User and Role: set one, not both: the construct creates one append principal; grant others with GrantAppend")
	}
	if props.User != nil {
		checkIAMName(add, "User.UserName", props.User.UserName, maxUserNameLength)
		checkIAMName(add, "User.GroupName", props.User.GroupName, maxGroupNameLength)
	}
	if props.Role != nil {
		if props.Role.AssumedBy == nil {
			add("Role.AssumedBy: required: the principal trusted to assume the role, such as awsiam.NewAccountRootPrincipal()")
		}
		checkIAMName(add, "Role.RoleName", props.Role.RoleName, maxRoleNameLength)
	}
	checkIAMName(add, "ManagedPolicyName", props.ManagedPolicyName, maxPolicyNameLength)
	return errors.Join(errs...)
}

// validatePrincipalArns checks ARNs that go into an ArnNotLike condition on
// aws:PrincipalArn: each must name IAM roles or users of one account, and no
// wildcard may stand for a whole account or every role or user in it.
func validatePrincipalArns(prop string, arns []string) []error {
	var errs []error
	for i, arn := range arns {
		if msg := principalArnProblem(arn); msg != "" {
			errs = append(errs, fmt.Errorf("%s[%d]: %s", prop, i, msg))
		}
	}
	return errs
}

var (
	accountPattern   = regexp.MustCompile(`^([0-9]{12}|\$\{AWS::AccountId\})$`)
	hidePlaceholders = strings.NewReplacer("${AWS::Partition}", "\x00P", "${AWS::AccountId}", "\x00A", "${AWS::Region}", "\x00R")
	showPlaceholders = strings.NewReplacer("\x00P", "${AWS::Partition}", "\x00A", "${AWS::AccountId}", "\x00R", "${AWS::Region}")
)

// principalArnProblem says what is wrong with arn, or returns "".
func principalArnProblem(arn string) string {
	if isToken(arn) {
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

// checkResourcePolicySize checks the table's whole resource policy, the
// caller's statements and the construct's, against DynamoDB's limit, each
// value not known until deployment counted at the longest it can take.
func checkResourcePolicySize(props *Props, prot protection, callerDoc any) error {
	n := resourcePolicySize(callerDoc, prot.resourceStatements(func(s string) string { return s }))
	if n <= MaxResourcePolicyBytes {
		return nil
	}
	if callerDoc != nil {
		return fmt.Errorf("TableProps.ResourcePolicy: with the construct's statements the table's resource policy can reach %d bytes once deployed, over DynamoDB's limit of %d (each value not known until deployment counted at its longest): shorten it, or exempt fewer principals", n, MaxResourcePolicyBytes)
	}
	return fmt.Errorf("ExemptPrincipalArns: %d ARNs make the table's resource policy up to %d bytes once deployed, over DynamoDB's limit of %d: exempt fewer principals, or use an IAM wildcard such as arn:aws:iam::111122223333:role/BreakGlass*", len(props.ExemptPrincipalArns), n, MaxResourcePolicyBytes)
}

func validateTableProps(tp *awsdynamodb.TableProps, unsafeRemoval bool) []error {
	var errs []error
	add := func(format string, args ...any) {
		errs = append(errs, fmt.Errorf(format, args...))
	}
	if tp.PartitionKey == nil {
		add("TableProps.PartitionKey: required: the name and type of the partition key attribute")
	} else {
		errs = append(errs, validateKey("TableProps.PartitionKey", tp.PartitionKey)...)
	}
	if tp.SortKey != nil {
		errs = append(errs, validateKey("TableProps.SortKey", tp.SortKey)...)
	}
	if name := deref(tp.TableName); tp.TableName != nil && !isToken(name) {
		if len(name) < minTableNameLength || len(name) > maxTableNameLength || !tableNamePattern.MatchString(name) {
			add("TableProps.TableName: %q is not a valid table name: %d to %d characters of a-z, A-Z, 0-9, '_', '-' and '.'", name, minTableNameLength, maxTableNameLength)
		}
	}
	if tp.TimeToLiveAttribute != nil {
		add("TableProps.TimeToLiveAttribute: not allowed: DynamoDB deletes expired items itself, whatever the IAM policies say; leave it unset")
	}
	if tp.ReplicationRegions != nil && len(*tp.ReplicationRegions) > 0 {
		add("TableProps.ReplicationRegions: not supported: a write to any replica replicates to every Region, and a table-wide deny would stop the replication role; leave it unset")
	}
	switch {
	case tp.RemovalPolicy == awscdk.RemovalPolicy_SNAPSHOT:
		add("TableProps.RemovalPolicy: SNAPSHOT is not supported for DynamoDB tables: leave it unset or RETAIN, or set DESTROY with UnsafeAllowTableRemoval for a throw-away stack")
	case tp.RemovalPolicy != "" && tp.RemovalPolicy != awscdk.RemovalPolicy_RETAIN && !unsafeRemoval:
		add("TableProps.RemovalPolicy: %s would delete the table and its items with the stack: leave it unset or RETAIN, or set UnsafeAllowTableRemoval for a throw-away stack", tp.RemovalPolicy)
	case tp.RemovalPolicy == awscdk.RemovalPolicy_DESTROY && tp.DeletionProtection != nil && *tp.DeletionProtection:
		add("TableProps.DeletionProtection: true contradicts RemovalPolicy DESTROY: `cdk destroy` would fail on the protected table; leave DeletionProtection unset (it follows the removal policy), or keep RETAIN")
	}
	if tp.DeletionProtection != nil && !*tp.DeletionProtection && !unsafeRemoval {
		add("TableProps.DeletionProtection: false lets anyone with UpdateTable switch it off and delete the table: leave it unset or true, or set UnsafeAllowTableRemoval for a throw-away stack")
	}
	//lint:ignore SA1019 users may still set the deprecated field; false must be rejected
	if tp.PointInTimeRecovery != nil && !*tp.PointInTimeRecovery {
		add("TableProps.PointInTimeRecovery: false is not allowed: point-in-time recovery is the way back from a mistake; leave it unset")
	}
	if spec := tp.PointInTimeRecoverySpecification; spec != nil {
		if spec.PointInTimeRecoveryEnabled == nil || !*spec.PointInTimeRecoveryEnabled {
			add("TableProps.PointInTimeRecoverySpecification.PointInTimeRecoveryEnabled: must be true: leave the specification unset for the default of %d days", DefaultRecoveryPeriodDays)
		}
		if d := spec.RecoveryPeriodInDays; d != nil && (*d < 1 || *d > maxRecoveryPeriodDays || *d != float64(int(*d))) {
			add("TableProps.PointInTimeRecoverySpecification.RecoveryPeriodInDays: %v is out of range: a whole number from 1 to %d", *d, maxRecoveryPeriodDays)
		}
	}
	if tp.EncryptionKey != nil && tp.Encryption != awsdynamodb.TableEncryption_CUSTOMER_MANAGED {
		add("TableProps.EncryptionKey: only with Encryption CUSTOMER_MANAGED (Encryption is %q)", string(tp.Encryption))
	}
	switch tp.Encryption {
	case "", awsdynamodb.TableEncryption_DEFAULT, awsdynamodb.TableEncryption_AWS_MANAGED, awsdynamodb.TableEncryption_CUSTOMER_MANAGED:
	default:
		add("TableProps.Encryption: %q is not allowed: DEFAULT, AWS_MANAGED or CUSTOMER_MANAGED", string(tp.Encryption))
	}
	switch tp.BillingMode {
	case "", awsdynamodb.BillingMode_PAY_PER_REQUEST, awsdynamodb.BillingMode_PROVISIONED:
	default:
		add("TableProps.BillingMode: %q is not allowed: PAY_PER_REQUEST or PROVISIONED", string(tp.BillingMode))
	}
	return errs
}

func validateKey(prop string, a *awsdynamodb.Attribute) []error {
	var errs []error
	name := deref(a.Name)
	switch {
	case strings.TrimSpace(name) == "":
		errs = append(errs, fmt.Errorf("%s.Name: required: the attribute name, 1 to %d bytes", prop, maxKeyAttributeNameBytes))
	case len(name) > maxKeyAttributeNameBytes:
		errs = append(errs, fmt.Errorf("%s.Name: %d bytes is too long: at most %d", prop, len(name), maxKeyAttributeNameBytes))
	}
	switch a.Type {
	case awsdynamodb.AttributeType_STRING, awsdynamodb.AttributeType_NUMBER, awsdynamodb.AttributeType_BINARY:
	case "":
		errs = append(errs, fmt.Errorf("%s.Type: required: STRING, NUMBER or BINARY", prop))
	default:
		errs = append(errs, fmt.Errorf("%s.Type: %q is not allowed: STRING, NUMBER or BINARY", prop, string(a.Type)))
	}
	return errs
}

func checkIAMName(add func(string, ...any), prop, name string, maxLen int) {
	if name == "" || isToken(name) {
		return
	}
	if len(name) > maxLen || !iamNamePattern.MatchString(name) {
		add("%s: %q is not a valid IAM name: 1 to %d characters of letters, digits and +=,.@_-", prop, name, maxLen)
	}
}

// isToken reports whether s is a CDK token that resolves at deploy time. It
// is plain string inspection so that validation makes no jsii call.
func isToken(s string) bool {
	return strings.Contains(s, "${Token[")
}

func deref(s *string) string {
	if s == nil {
		return ""
	}
	return *s
}
