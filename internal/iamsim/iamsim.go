// Package iamsim evaluates the IAM policies of a synthesized CloudFormation
// template offline, with the npm package @cloud-copilot/iam-simulate
// (AGPL-3.0, a test-only tool run as a separate Node.js process; it is never
// linked into or shipped with the Go module).
//
// The policies are taken from the template, not from the construct's Go
// constants, and the CloudFormation intrinsics in them are replaced with
// concrete ARNs in a fixed test account and Region (see Env).
package iamsim

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"

	"github.com/appendonly/appendonly/internal/cdktest"
)

// Decisions iam-simulate returns.
const (
	Allowed          = "Allowed"
	ExplicitlyDenied = "ExplicitlyDenied"
	ImplicitlyDenied = "ImplicitlyDenied"
)

// Policy is an IAM policy document.
type Policy = map[string]any

// NamedPolicy is an identity policy with the name iam-simulate reports.
type NamedPolicy struct {
	Name   string `json:"name"`
	Policy Policy `json:"policy"`
}

// Request is one API request to authorize.
type Request struct {
	Principal string            // the principal's ARN
	Action    string            // such as dynamodb:PutItem
	Resource  string            // a concrete ARN, or * for wildcard-only actions
	Context   map[string]string // extra request context; aws:PrincipalArn and aws:PrincipalAccount are filled in
}

// Simulation is a request with the policies that decide it.
type Simulation struct {
	Request          Request
	IdentityPolicies []NamedPolicy
	ResourcePolicy   Policy // nil when the resource has none
	// SCPs are the organization's service control policies at its root:
	// each must allow the request (give FullAWSAccess beside a deny) and
	// none deny it. None: the account is in no organization.
	SCPs []NamedPolicy
}

// FullAWSAccess is the service control policy AWS Organizations attaches by
// default, which allows everything; SCPs with a deny go beside it.
var FullAWSAccess = NamedPolicy{Name: "FullAWSAccess", Policy: Policy{
	"Version":   "2012-10-17",
	"Statement": []any{map[string]any{"Effect": "Allow", "Action": "*", "Resource": "*"}},
}}

// Action is an IAM action as iam-data describes it.
type Action struct {
	Action        string   `json:"action"`
	ResourceTypes []string `json:"resourceTypes"`
	WildcardOnly  bool     `json:"wildcardOnly"`
}

// Runner runs simulations in Node.js, resolving the npm packages from the
// repository's node_modules.
type Runner struct {
	root string // the repository root, which holds node_modules
}

// NewRunner returns a Runner for this repository. It fails, saying what is
// missing, when Node.js or the npm packages are not installed.
func NewRunner() (*Runner, error) {
	root, err := cdktest.RepoRoot()
	if err != nil {
		return nil, err
	}
	if _, err := exec.LookPath("node"); err != nil {
		return nil, errors.New("iamsim: node not found on PATH: run the tests through make, which puts the pinned Node.js 22 first on PATH, or install Node.js 22")
	}
	pkg := filepath.Join(root, "node_modules", "@cloud-copilot", "iam-simulate", "package.json")
	if _, err := os.Stat(pkg); err != nil {
		return nil, fmt.Errorf("iamsim: %s not found: run `make deps` (npm ci) first", pkg)
	}
	return &Runner{root: root}, nil
}

// AllowAll is an identity policy that allows every action of service on
// every resource: an administrator's, or what another policy might add.
func AllowAll(service string) NamedPolicy {
	return NamedPolicy{Name: "Allow" + service + "Everything", Policy: Policy{
		"Version":   "2012-10-17",
		"Statement": []any{map[string]any{"Effect": "Allow", "Action": service + ":*", "Resource": "*"}},
	}}
}

type wireSimulation struct {
	Request struct {
		Principal string `json:"principal"`
		Action    string `json:"action"`
		Resource  struct {
			Resource  string `json:"resource"`
			AccountID string `json:"accountId"`
		} `json:"resource"`
		ContextVariables map[string]string `json:"contextVariables"`
	} `json:"request"`
	IdentityPolicies        []NamedPolicy `json:"identityPolicies"`
	ServiceControlPolicies  []any         `json:"serviceControlPolicies"`
	ResourceControlPolicies []any         `json:"resourceControlPolicies"`
	ResourcePolicy          Policy        `json:"resourcePolicy,omitempty"`
}

type wireResult struct {
	Decision string `json:"decision"`
	Errors   string `json:"errors"`
}

type wireOutput struct {
	Actions []Action     `json:"actions"`
	Results []wireResult `json:"results"`
}

// run sends one batch to a fresh Node.js process.
func (r *Runner) run(service string, sims []Simulation) (wireOutput, error) {
	in := struct {
		Service     string           `json:"service,omitempty"`
		Simulations []wireSimulation `json:"simulations"`
	}{Service: service}
	for _, s := range sims {
		var w wireSimulation
		w.Request.Principal = s.Request.Principal
		w.Request.Action = s.Request.Action
		w.Request.Resource.Resource = s.Request.Resource
		w.Request.Resource.AccountID = Account
		w.Request.ContextVariables = map[string]string{
			"aws:PrincipalArn":     s.Request.Principal,
			"aws:PrincipalAccount": Account,
		}
		for k, v := range s.Request.Context {
			w.Request.ContextVariables[k] = v
		}
		w.IdentityPolicies = s.IdentityPolicies
		if w.IdentityPolicies == nil {
			w.IdentityPolicies = []NamedPolicy{}
		}
		w.ServiceControlPolicies = []any{}
		if len(s.SCPs) > 0 {
			w.ServiceControlPolicies = []any{map[string]any{"orgIdentifier": "r-test", "policies": s.SCPs}}
		}
		w.ResourceControlPolicies = []any{}
		w.ResourcePolicy = s.ResourcePolicy
		in.Simulations = append(in.Simulations, w)
	}
	data, err := json.Marshal(in)
	if err != nil {
		return wireOutput{}, err
	}
	cmd := exec.Command("node", filepath.Join(r.root, "internal", "iamsim", "simulate.cjs"))
	cmd.Dir = r.root
	cmd.Stdin = bytes.NewReader(data)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		return wireOutput{}, fmt.Errorf("iamsim: node: %v: %s", err, stderr.String())
	}
	var out wireOutput
	if err := json.Unmarshal(stdout.Bytes(), &out); err != nil {
		return wireOutput{}, fmt.Errorf("iamsim: reading the simulator's output: %w", err)
	}
	if len(out.Results) != len(sims) {
		return wireOutput{}, fmt.Errorf("iamsim: got %d results for %d simulations", len(out.Results), len(sims))
	}
	return out, nil
}

// Actions lists every action of service that iam-data knows.
func (r *Runner) Actions(service string) ([]Action, error) {
	out, err := r.run(service, nil)
	if err != nil {
		return nil, err
	}
	if len(out.Actions) == 0 {
		return nil, fmt.Errorf("iamsim: iam-data knows no action of service %q", service)
	}
	return out.Actions, nil
}

// Decide runs every simulation and returns their decisions in order. A
// simulation the evaluator rejects (an unknown action, a resource of the
// wrong type, an invalid policy) is an error, never a decision.
func (r *Runner) Decide(sims []Simulation) ([]string, error) {
	out, err := r.run("", sims)
	if err != nil {
		return nil, err
	}
	decisions := make([]string, len(sims))
	var errs []error
	for i, res := range out.Results {
		if res.Errors != "" {
			errs = append(errs, fmt.Errorf("iamsim: %s %s on %s: %s", sims[i].Request.Principal, sims[i].Request.Action, sims[i].Request.Resource, res.Errors))
			continue
		}
		decisions[i] = res.Decision
	}
	return decisions, errors.Join(errs...)
}
