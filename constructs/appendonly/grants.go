package appendonly

import (
	"fmt"
	"github.com/appendonly/appendonly/internal/plan"
	"strings"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsiam"
	"github.com/aws/constructs-go/constructs/v10"
	"github.com/aws/jsii-runtime-go"
)

// IAM's limits on what grants write, in characters of policy JSON without
// whitespace (the way IAM counts).
const (
	// MaxManagedPolicyChars is IAM's limit on one customer managed policy.
	MaxManagedPolicyChars = 6144
	// MaxManagedPoliciesPerPrincipal is IAM's default quota of managed
	// policies attached to one role, user or group.
	MaxManagedPoliciesPerPrincipal = 10
	// MaxRoleInlineChars, MaxUserInlineChars and MaxGroupInlineChars are
	// IAM's limits on the inline policies of one role, user or group. The
	// role's is 10,240; CDK moves a role's inline statements into extra
	// managed policies above its own estimate of 10,000, so the construct
	// keeps below that.
	MaxRoleInlineChars  = 10000
	MaxUserInlineChars  = 2048
	MaxGroupInlineChars = 5120
)

// A principal's book: what the construct's grants have written to one IAM
// role, user or group, across every table.
//
// The allow statements of a grant go into the principal's inline policy, as
// every CDK grant does, where CDK's policy minimization merges the same
// statement across tables. The deny statements, the bulk of each grant, go
// into customer managed policies the construct creates beside the principal
// and fills table after table: each deny statement is written once per
// policy and each further table adds only its ARNs. Before it writes, the
// construct counts the characters the deployed policies will hold, with an
// upper bound for every ARN that is not known until deployment, and reports
// an error at synth, naming the limit, rather than write a policy that IAM
// would reject at deploy.
type book struct {
	principal    awsiam.IPrincipal
	scope        constructs.Construct
	idPrefix     string
	kind         string // role, user or group
	inlineLimit  int
	inlineUsed   int
	cdkEstimate  int // CDK's own estimate of the inline policy's size
	arnEstimate  int // what CDK counts for an ARN it cannot resolve
	denyPolicies []*denyPolicy
	// otherPolicies counts the managed policies already attached that the
	// construct knows of: its own, on a principal NewTable created.
	otherPolicies int
	granted       map[string]bool // table ARN token and access, once each
	denied        map[string]bool // table ARN token: its denies are written
	failed        bool
}

type denyPolicy struct {
	policy     awsiam.ManagedPolicy
	statements map[string]awsiam.PolicyStatement
	used       int
}

// countAttached records that NewTable attached n managed policies to p.
func (r *registry) countAttached(p awsiam.IPrincipal, n int) {
	r.attached[p] += n
}

// bookFor returns the book of principal, or nil for a principal that is not
// an IAM role, user or group the construct can attach policies to.
func (r *registry) bookFor(principal awsiam.IPrincipal) *book {
	if b, ok := r.books[principal]; ok {
		return b
	}
	b := &book{principal: principal, granted: map[string]bool{}, denied: map[string]bool{}, otherPolicies: r.attached[principal]}
	// The deny policies live beside the principal, in its stack, so that they
	// only ever refer to the tables: a reference back would make a cycle.
	switch c := principal.(type) {
	case constructs.Construct:
		b.scope, b.idPrefix = c, "AppendOnlyDeny"
	case constructs.IConstruct:
		b.scope, b.idPrefix = awscdk.Stack_Of(c), "AppendOnlyDeny"+*c.Node().Addr()
	default:
		return nil
	}
	switch principal.(type) {
	case awsiam.IRole:
		b.kind, b.inlineLimit = "role", MaxRoleInlineChars
	case awsiam.IUser:
		b.kind, b.inlineLimit = "user", MaxUserInlineChars
	case awsiam.IGroup:
		b.kind, b.inlineLimit = "group", MaxGroupInlineChars
	default:
		return nil
	}
	b.arnEstimate = defaultCDKArnEstimate
	if v, ok := b.scope.Node().TryGetContext(jsii.String(cdkArnEstimateContext)).(float64); ok {
		b.arnEstimate = int(v)
	}
	r.books[principal] = b
	return b
}

// CDK estimates the size of a policy before it splits one (aws-iam's
// PolicyStatement._estimateSize): an unresolved ARN counts as 150 characters
// unless the context key @aws-cdk/aws-iam.arnSizeEstimate says otherwise.
const (
	cdkArnEstimateContext = "@aws-cdk/aws-iam.arnSizeEstimate"
	defaultCDKArnEstimate = 150
)

func (b *book) cdkArnEstimate(r string) int {
	if plan.IsToken(r) {
		return b.arnEstimate
	}
	return len(r)
}

// resourceChars is the upper bound of the characters resources will take
// once deployed: each ARN, its quotes and a comma.
func (t *Table) resourceChars(resources []string) int {
	n := 0
	for _, r := range resources {
		n += t.arnBound(r) + 3
	}
	return n
}

// arnBound is the length a resource string will have at most once deployed.
func (t *Table) arnBound(r string) int {
	t.readBounds()
	for _, ref := range []struct {
		token string
		bound int
	}{
		{t.refs.Stream, t.bounds.stream},
		{t.refs.Table, t.bounds.table},
		{t.refs.GlobalTable, t.bounds.globalTable},
		{t.refs.Key, t.bounds.key},
		{t.refs.sequencer, plan.MaxFunctionArn},
		{t.refs.sequencerMapping, plan.MaxMappingArn},
		{t.refs.sequencerRole, plan.MaxRoleArn},
		{t.refs.monitor, plan.MaxFunctionArn},
		{t.refs.monitorRole, plan.MaxRoleArn},
		{t.refs.remover, plan.MaxFunctionArn},
		{t.refs.removerRole, plan.MaxRoleArn},
	} {
		if ref.token != "" && strings.HasPrefix(r, ref.token) {
			return len(r) - len(ref.token) + ref.bound
		}
	}
	if plan.IsToken(r) {
		return plan.MaxUnknownArn
	}
	return len(r)
}

// readBounds works out, once per table, how long its ARNs can be.
func (t *Table) readBounds() {
	if t.bounds.table != 0 {
		return
	}
	name := plan.MaxTableNameLength
	switch tn := *t.table.TableName(); {
	case t.literalName != "":
		name = len(t.literalName)
	case !plan.IsToken(tn):
		name = len(tn)
	case t.cfnTable != nil:
		stack := t.stack
		stackName := plan.MaxStackName
		if sn := *stack.StackName(); !plan.IsToken(sn) {
			stackName = len(sn)
		}
		if id, ok := stack.Resolve(stack.GetLogicalId(t.cfnTable)).(string); ok {
			name = min(plan.MaxTableNameLength, stackName+len(id)+plan.GeneratedNameExtra)
		}
	}
	bound := func(ref string, b int) int {
		if ref != "" && !plan.IsToken(ref) {
			return len(ref)
		}
		return b
	}
	t.bounds.table = bound(t.refs.Table, plan.MaxTableArnPrefix+name)
	t.bounds.globalTable = bound(t.refs.GlobalTable, plan.MaxGlobalArnPrefix+name)
	t.bounds.stream = bound(t.refs.Stream, t.bounds.table+plan.StreamSuffix)
	t.bounds.key = bound(t.refs.Key, plan.MaxKeyArn)
}

// grant gives grantee the access a asks for and the deny statements.
func (t *Table) grant(grantee awsiam.IGrantable, a plan.Access) awsiam.Grant {
	principal := grantee.GrantPrincipal()
	b := t.registry.bookFor(principal)
	if b == nil {
		// Not an IAM identity the construct can attach policies to: every
		// statement goes through the principal, as a CDK grant does.
		return t.grantInline(grantee, principal, a)
	}
	allows, denies := t.refs.Allow(a), t.denyStatements()
	key := fmt.Sprintf("%s|%d", t.refs.Table, a)
	if b.failed {
		awscdk.Annotations_Of(b.scope).AddError(jsii.String(fmt.Sprintf(
			"appendonly: not granting the %s append-only access to table %s: an earlier grant to it already went over an IAM limit (see the error above).",
			b.kind, *t.Node().Path())))
		return awsiam.Grant_Drop(grantee, jsii.String("append-only access to "+t.refs.Table))
	}
	if b.granted[key] {
		return t.grantInline(grantee, nil, a) // CDK drops the repeated statements
	}

	// Each table's allows are counted as statements of their own: that is
	// what the inline policy holds without CDK's policy minimization, and an
	// upper bound of what it holds with it, which merges statements only up
	// to 2,000 characters by CDK's estimate, repeating each statement's
	// overhead.
	inline, estimate := 0, 0
	for _, s := range allows {
		inline += plan.StatementChars(s) + t.resourceChars(s.Resources)
		estimate += plan.CDKStatementEstimate(s)
		for _, r := range s.Resources {
			estimate += b.cdkArnEstimate(r) + 3
		}
	}
	if b.inlineUsed == 0 {
		inline += plan.EmptyPolicyChars
	}
	if b.inlineUsed+inline > b.inlineLimit {
		t.failGrant(b, fmt.Sprintf("its inline policy would reach %d characters, over the limit of %d for a %s",
			b.inlineUsed+inline, b.inlineLimit, b.kind))
		return awsiam.Grant_Drop(grantee, jsii.String("append-only access to "+t.refs.Table))
	}
	// CDK moves a role's inline statements into extra managed policies once
	// its own estimate passes 10,000; those count against the quota of 10,
	// which the construct could then no longer keep, so it stops before.
	if b.kind == "role" && b.cdkEstimate+estimate > MaxRoleInlineChars {
		t.failGrant(b, fmt.Sprintf("CDK would split its inline policy (estimated at %d characters, over %d) into managed policies that count against IAM's quota of %d for a role",
			b.cdkEstimate+estimate, MaxRoleInlineChars, MaxManagedPoliciesPerPrincipal))
		return awsiam.Grant_Drop(grantee, jsii.String("append-only access to "+t.refs.Table))
	}

	if !b.denied[t.refs.Table] {
		if why := t.addDenies(b, denies); why != "" {
			t.failGrant(b, why)
			return awsiam.Grant_Drop(grantee, jsii.String("append-only access to "+t.refs.Table))
		}
		b.denied[t.refs.Table] = true
	}

	b.inlineUsed += inline
	b.cdkEstimate += estimate
	b.granted[key] = true
	return t.grantInline(grantee, nil, a)
}

// addDenies writes the table's deny statements into the principal's last
// deny policy if they fit, else into a new one. It returns why it could not.
func (t *Table) addDenies(b *book, denies []plan.Statement) string {
	dp := b.lastDenyPolicy()
	if dp == nil || dp.used+t.denyChars(dp, denies) > MaxManagedPolicyChars {
		if b.otherPolicies+len(b.denyPolicies) == MaxManagedPoliciesPerPrincipal {
			return fmt.Sprintf("its deny statements would need more than %d managed policies, IAM's default quota for a %s",
				MaxManagedPoliciesPerPrincipal, b.kind)
		}
		dp = b.newDenyPolicy()
		if dp.used+t.denyChars(dp, denies) > MaxManagedPolicyChars {
			return fmt.Sprintf("one table's deny statements would exceed IAM's limit of %d characters for a managed policy", MaxManagedPolicyChars)
		}
	}
	dp.used += t.denyChars(dp, denies)
	for _, s := range denies {
		if stmt, ok := dp.statements[s.Sid]; ok {
			stmt.AddResources(*jsii.Strings(s.Resources...)...)
			continue
		}
		stmt := awsiam.PolicyStatement_FromJson(s.JSON())
		dp.statements[s.Sid] = stmt
		dp.policy.AddStatements(stmt)
	}
	return ""
}

func (t *Table) denyChars(dp *denyPolicy, denies []plan.Statement) int {
	n := 0
	for _, s := range denies {
		if _, ok := dp.statements[s.Sid]; !ok {
			n += plan.StatementChars(s)
		}
		n += t.resourceChars(s.Resources)
	}
	return n
}

func (b *book) lastDenyPolicy() *denyPolicy {
	if len(b.denyPolicies) == 0 {
		return nil
	}
	return b.denyPolicies[len(b.denyPolicies)-1]
}

func (b *book) newDenyPolicy() *denyPolicy {
	id := fmt.Sprintf("%s%d", b.idPrefix, len(b.denyPolicies)+1)
	mp := awsiam.NewManagedPolicy(b.scope, jsii.String(id), &awsiam.ManagedPolicyProps{
		Description: jsii.String("Explicit denies that keep the DynamoDB tables granted to this principal append-only."),
	})
	switch p := b.principal.(type) {
	case awsiam.IRole:
		mp.AttachToRole(p)
	case awsiam.IUser:
		mp.AttachToUser(p)
	case awsiam.IGroup:
		mp.AttachToGroup(p)
	}
	dp := &denyPolicy{policy: mp, statements: map[string]awsiam.PolicyStatement{}, used: plan.EmptyPolicyChars}
	b.denyPolicies = append(b.denyPolicies, dp)
	return dp
}

// failGrant records on the grantee, as an error that fails synthesis, why
// the table cannot be granted to it.
func (t *Table) failGrant(b *book, why string) {
	b.failed = true
	awscdk.Annotations_Of(b.scope).AddError(jsii.String(fmt.Sprintf(
		"appendonly: cannot grant the %s append-only access to table %s: %s. "+
			"Grant fewer tables to one principal, or split the tables among several roles.", b.kind, *t.Node().Path(), why)))
}

// grantInline adds the allow statements through the principal, as every CDK
// grant does, and, when principal is not nil, the deny statements too.
func (t *Table) grantInline(grantee awsiam.IGrantable, principal awsiam.IPrincipal, a plan.Access) awsiam.Grant {
	var grant awsiam.Grant
	for _, s := range t.refs.Allow(a) {
		g := awsiam.Grant_AddToPrincipal(&awsiam.GrantOnPrincipalOptions{
			Grantee:      grantee,
			Actions:      jsii.Strings(s.Actions...),
			ResourceArns: jsii.Strings(s.Resources...),
		})
		if grant == nil {
			grant = g
		} else {
			grant = grant.Combine(g)
		}
	}
	if principal != nil {
		for _, s := range t.denyStatements() {
			principal.AddToPrincipalPolicy(awsiam.PolicyStatement_FromJson(s.JSON()))
		}
	}
	return grant
}
