package appendonly

import (
	"errors"
	"fmt"
	"github.com/appendonly/appendonly/internal/plan"
)

// MaxResourcePolicyBytes is DynamoDB's limit on a table's resource policy,
// whitespace included.
const MaxResourcePolicyBytes = plan.MaxResourcePolicyBytes

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
		errs = append(errs, tableInput(props).Validate()...)
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
	errs = append(errs, plan.PrincipalArns("ExemptPrincipalArns", props.ExemptPrincipalArns)...)
	if len(props.DeployerPrincipalArns) > 0 && props.Enforcement != EnforceTableWide {
		add("DeployerPrincipalArns: only with Enforcement EnforceTableWide: in %s mode the table has no resource policy to let the deployer through", props.Enforcement)
	}
	errs = append(errs, plan.PrincipalArns("DeployerPrincipalArns", props.DeployerPrincipalArns)...)

	if props.Backup != nil {
		errs = append(errs, props.Backup.plan().Validate()...)
	}
	if props.Journal != nil {
		errs = append(errs, props.Journal.plan(props).Validate()...)
	}
	if props.User != nil && props.Role != nil {
		add("User and Role: set one, not both: the construct creates one append principal; grant others with GrantAppend")
	}
	var names plan.Errors
	if props.User != nil {
		names.IAMName("User.UserName", props.User.UserName, plan.MaxUserNameLength)
		names.IAMName("User.GroupName", props.User.GroupName, plan.MaxGroupNameLength)
	}
	if props.Role != nil {
		if props.Role.AssumedBy == nil {
			add("Role.AssumedBy: required: the principal trusted to assume the role, such as awsiam.NewAccountRootPrincipal()")
		}
		names.IAMName("Role.RoleName", props.Role.RoleName, plan.MaxRoleNameLength)
	}
	names.IAMName("ManagedPolicyName", props.ManagedPolicyName, plan.MaxPolicyNameLength)
	return errors.Join(append(errs, names...)...)
}

// checkResourcePolicySize checks the table's whole resource policy, the
// caller's statements and the construct's, against DynamoDB's limit, each
// value not known until deployment counted at the longest it can take.
func checkResourcePolicySize(props *Props, prot plan.Protection, callerDoc any) error {
	n := plan.ResourcePolicySize(callerDoc, prot.ResourceStatements(func(s string) string { return s }))
	if n <= MaxResourcePolicyBytes {
		return nil
	}
	if callerDoc != nil {
		return fmt.Errorf("TableProps.ResourcePolicy: with the construct's statements the table's resource policy can reach %d bytes once deployed, over DynamoDB's limit of %d (each value not known until deployment counted at its longest): shorten it, or exempt fewer principals", n, MaxResourcePolicyBytes)
	}
	return fmt.Errorf("ExemptPrincipalArns: %d ARNs make the table's resource policy up to %d bytes once deployed, over DynamoDB's limit of %d: exempt fewer principals, or use an IAM wildcard such as arn:aws:iam::111122223333:role/BreakGlass*", len(props.ExemptPrincipalArns), n, MaxResourcePolicyBytes)
}

func deref(s *string) string {
	if s == nil {
		return ""
	}
	return *s
}
