package appendonly

import (
	"time"

	"github.com/appendonly/appendonly/check"
	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsiam"
	"github.com/aws/constructs-go/constructs/v10"
	"github.com/aws/jsii-runtime-go"
)

// registryID is the id of the app's registry, a child of the construct
// tree's root.
const registryID = "AppendOnlyRegistry"

// registry is what the construct knows across one app: the append-only
// tables brought with ExistingTable, and what grants have written to each
// principal. It lives in the construct tree, one per app, so that two apps in
// one process never share it.
type registry struct {
	constructs.Construct
	books map[awsiam.IPrincipal]*book
	// attached counts the managed policies NewTable itself attached to the
	// principals it created, which count against the same quota as grants.
	attached map[awsiam.IPrincipal]int
	// existing are the tables brought with ExistingTable, which no
	// template holds.
	existing []check.Existing
	// tables are the tables the construct created, with what each of
	// their protected resources must look like.
	tables []tableRecord
	// stackPaths caches each stack's construct path.
	stackPaths map[awscdk.Stack]string
	// executionRoles caches each stack's CloudFormation execution role, and
	// templateArns each ARN's template form, so that NewTable asks the jsii
	// kernel for them once, not once per table.
	executionRoles map[awscdk.Stack]string
	templateArns   map[string]string
	// guardTime is how long the guard has taken, in all (BenchmarkGuard).
	guardTime time.Duration
}

func newRegistry() *registry {
	return &registry{
		books:          map[awsiam.IPrincipal]*book{},
		attached:       map[awsiam.IPrincipal]int{},
		executionRoles: map[awscdk.Stack]string{},
		templateArns:   map[string]string{},
		stackPaths:     map[awscdk.Stack]string{},
	}
}

// registryOf returns the registry of the app that holds c, creating it, and
// arming the guard, on first use.
func registryOf(c constructs.IConstruct) *registry {
	root := c.Node().Root()
	if r, ok := root.Node().TryFindChild(jsii.String(registryID)).(*registry); ok {
		return r
	}
	r := newRegistry()
	constructs.NewConstruct_Override(r, root.(constructs.Construct), jsii.String(registryID))
	awscdk.Validations_Of(root).AddPlugins(&guard{registry: r})
	return r
}

// String names the registry, and gives the type the pointer-receiver method
// jsii needs to treat it as an override.
func (r *registry) String() string { return "appendonly registry of " + *r.Node().Root().Node().Path() }

// stackPath returns the construct path of stack, asked of the kernel once.
func (r *registry) stackPath(stack awscdk.Stack) string {
	if p, ok := r.stackPaths[stack]; ok {
		return p
	}
	r.stackPaths[stack] = *stack.Node().Path()
	return r.stackPaths[stack]
}
