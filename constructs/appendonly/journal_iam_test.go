package appendonly_test

import (
	"encoding/json"
	"slices"
	"strings"
	"testing"

	"github.com/appendonly/appendonly/constructs/appendonly"
	"github.com/appendonly/appendonly/internal/cdktest"
	"github.com/appendonly/appendonly/internal/iamsim"
)

// sequencerID is the logical id of the journal's sequencer: the function
// told the table's stream.
func sequencerID(t *testing.T, tmpl cdktest.Template) string {
	t.Helper()
	for id, fn := range tmpl.Resources("AWS::Lambda::Function") {
		if env, _ := json.Marshal(props(fn)["Environment"]); strings.Contains(string(env), "JOURNAL_STREAM") {
			return id
		}
	}
	t.Fatal("no sequencer in the template")
	return ""
}

// readmeSCP is the organization policy the README gives for the journal's
// sequencer, between its markers, with its placeholders filled in.
func readmeSCP(t *testing.T, fn, mapping, role, monitor, monitorRole, deployer string) iamsim.NamedPolicy {
	t.Helper()
	_, block, ok := strings.Cut(cdktest.Doc(t, "docs/journal.md"), "<!-- sequencer-scp:begin -->")
	block, _, ok2 := strings.Cut(block, "<!-- sequencer-scp:end -->")
	if !ok || !ok2 {
		t.Fatal("the README has no sequencer-scp block")
	}
	block = strings.TrimSpace(block)
	block = strings.TrimSuffix(strings.TrimPrefix(block, "```json"), "```")
	block = strings.NewReplacer("<SequencerFunctionArn>", fn, "<SequencerMappingArn>", mapping, "<SequencerRoleArn>", role,
		"<MonitorFunctionArn>", monitor, "<MonitorRoleArn>", monitorRole, "<DeployerRoleArn>", deployer).Replace(block)
	var policy iamsim.Policy
	if err := json.Unmarshal([]byte(block), &policy); err != nil {
		t.Fatalf("the README's organization policy is not JSON: %v\n%s", err, block)
	}
	stmt := policy["Statement"].([]any)[0].(map[string]any)
	var actions []string
	for _, a := range stmt["Action"].([]any) {
		actions = append(actions, a.(string))
	}
	if !slices.Equal(actions, appendonly.SequencerControlActions()) {
		t.Errorf("the README's organization policy denies %v, want SequencerControlActions %v", actions, appendonly.SequencerControlActions())
	}
	return iamsim.NamedPolicy{Name: "JournalSequencerGuard", Policy: policy}
}

// TestNobodyButTheStreamSpeaksAsTheSequencer evaluates the synthesized
// journal with iam-simulate: every way of making the sequencer speak for
// someone else or stop (invoking it, changing its code, configuration,
// concurrency or permissions, its mapping, its role) is explicitly denied
// to the construct's own principal, even with lambda:* and iam:* from
// another policy. An administrator of the account is allowed them, unless
// the README's organization policy is in force, which leaves them to the
// deployer alone: the reason the journal belongs in an account of its own.
func TestNobodyButTheStreamSpeaksAsTheSequencer(t *testing.T) {
	stack := newStack(t)
	p := minimalProps()
	p.User = &appendonly.UserProps{}
	p.Journal = &appendonly.JournalProps{}
	mustNewTable(t, stack, p)
	tmpl := cdktest.Synth(t, stack)
	env := iamsim.NewEnv(iamsim.Template(tmpl))
	arn := func(typ string) string {
		id, _ := tmpl.Only(t, typ)
		a, err := env.Arn(id)
		if err != nil {
			t.Fatal(err)
		}
		return a
	}
	mapping := arn("AWS::Lambda::EventSourceMapping")
	fn, _ := env.Arn(sequencerID(t, tmpl))
	var role, monitor, monitorRole string
	for id := range tmpl.Resources("AWS::IAM::Role") {
		switch {
		case strings.Contains(id, "SequencerRole"):
			role, _ = env.Arn(id)
		case strings.Contains(id, "MonitorRole"):
			monitorRole, _ = env.Arn(id)
		}
	}
	for id, f := range tmpl.Resources("AWS::Lambda::Function") {
		if e, _ := json.Marshal(props(f)["Environment"]); strings.Contains(string(e), `"APPENDONLY_FUNCTION":"monitor"`) {
			monitor, _ = env.Arn(id)
		}
	}
	userID, _ := tmpl.Only(t, "AWS::IAM::User")
	user, _ := env.Arn(userID)
	userPolicies, err := env.IdentityPolicies(userID)
	if err != nil {
		t.Fatal(err)
	}
	admin := []iamsim.NamedPolicy{iamsim.AllowAll("lambda"), iamsim.AllowAll("iam")}
	scp := readmeSCP(t, fn, mapping, role, monitor, monitorRole, deployerArn)
	// The sequencer, its mapping and role; the monitor and its role.
	targets := []struct{ fn, mapping, role string }{{fn, mapping, role}, {monitor, "", monitorRole}}
	var sims []iamsim.Simulation
	var want []string
	for _, tg := range targets {
		for _, action := range appendonly.SequencerControlActions() {
			resource := tg.fn
			switch {
			case strings.HasPrefix(action, "iam:"):
				resource = tg.role
			case strings.HasSuffix(action, "EventSourceMapping"):
				resource = tg.mapping
			}
			if resource == "" {
				continue // the monitor has no mapping
			}
			req := func(principal string) iamsim.Request {
				return iamsim.Request{Principal: principal, Action: action, Resource: resource}
			}
			for _, c := range []struct {
				sim  iamsim.Simulation
				want string
			}{
				{iamsim.Simulation{Request: req(user), IdentityPolicies: append(slices.Clone(userPolicies), admin...)}, iamsim.ExplicitlyDenied},
				{iamsim.Simulation{Request: req(roleArn("Administrator")), IdentityPolicies: admin}, iamsim.Allowed},
				{iamsim.Simulation{Request: req(roleArn("Administrator")), IdentityPolicies: admin, SCPs: []iamsim.NamedPolicy{iamsim.FullAWSAccess, scp}}, iamsim.ExplicitlyDenied},
				{iamsim.Simulation{Request: req(deployerArn), IdentityPolicies: admin, SCPs: []iamsim.NamedPolicy{iamsim.FullAWSAccess, scp}}, iamsim.Allowed},
			} {
				sims = append(sims, c.sim)
				want = append(want, c.want)
			}
		}
	}
	if monitor == "" || monitorRole == "" {
		t.Fatal("no monitor or monitor role in the template")
	}
	runner, err := iamsim.NewRunner()
	if err != nil {
		t.Fatal(err)
	}
	got, err := runner.Decide(sims)
	if err != nil {
		t.Fatal(err)
	}
	for i := range sims {
		if got[i] != want[i] {
			r := sims[i].Request
			t.Errorf("%s %s on %s (SCP %v): %s, want %s", r.Principal, r.Action, r.Resource, sims[i].SCPs != nil, got[i], want[i])
		}
	}
}

// The journal's writers can write, with and without exempt principals: the
// sequencer anywhere in the bucket, the monitor under its own prefix only;
// an exempt principal may delete a version, and with UnsafeRemoveWithStack
// the removal's role, an administrator may not. The bucket policy is
// simulated as synthesized.
func TestJournalWritersWriteWhateverIsExempt(t *testing.T) {
	runner, err := iamsim.NewRunner()
	if err != nil {
		t.Fatal(err)
	}
	breakGlass := roleArn("BreakGlass")
	for _, c := range []struct {
		exempt []string
		remove bool // UnsafeRemoveWithStack
	}{{nil, false}, {[]string{breakGlass}, false}, {nil, true}} {
		exempt, remove := c.exempt, c.remove
		stack := newStack(t)
		p := minimalProps()
		p.ExemptPrincipalArns = exempt
		p.Journal = &appendonly.JournalProps{UnsafeRemoveWithStack: c.remove}
		p.User = &appendonly.UserProps{}
		mustNewTable(t, stack, p)
		tmpl := cdktest.Synth(t, stack)
		env := iamsim.NewEnv(iamsim.Template(tmpl))
		bucketID, _ := tmpl.Only(t, "AWS::S3::Bucket")
		bucket, err := env.Arn(bucketID)
		if err != nil {
			t.Fatal(err)
		}
		_, bp := tmpl.Only(t, "AWS::S3::BucketPolicy")
		doc, err := env.Resolve(props(bp)["PolicyDocument"])
		if err != nil {
			t.Fatal(err)
		}
		policy, _ := doc.(map[string]any)
		identity := func(id string) []iamsim.NamedPolicy {
			pols, err := env.IdentityPolicies(id)
			if err != nil {
				t.Fatal(err)
			}
			return pols
		}
		var sequencer, monitor, remover string
		var seqPols, monPols, remPols []iamsim.NamedPolicy
		for id := range tmpl.Resources("AWS::IAM::Role") {
			switch {
			case strings.Contains(id, "JournalRemovalRole"):
				remover, _ = env.Arn(id)
				remPols = identity(id)
			case strings.Contains(id, "SequencerRole"):
				sequencer, _ = env.Arn(id)
				seqPols = identity(id)
			case strings.Contains(id, "MonitorRole"):
				monitor, _ = env.Arn(id)
				monPols = identity(id)
			}
		}
		s3Admin := []iamsim.NamedPolicy{iamsim.AllowAll("s3")}
		type tc struct {
			principal string
			pols      []iamsim.NamedPolicy
			action    string
			resource  string // an object of the bucket, or an ARN
			want      string
		}
		cases := []tc{
			{sequencer, seqPols, "s3:PutObject", "tile/0/000", iamsim.Allowed},
			{sequencer, seqPols, "s3:PutObject", "checkpoint", iamsim.Allowed},
			{monitor, monPols, "s3:PutObject", "appendonly/monitor/checkpoint", iamsim.Allowed},
			{monitor, monPols, "s3:PutObject", "checkpoint", iamsim.ExplicitlyDenied},
			{roleArn("Administrator"), s3Admin, "s3:PutObject", "checkpoint", iamsim.ExplicitlyDenied},
			{roleArn("Administrator"), s3Admin, "s3:DeleteObjectVersion", "checkpoint", iamsim.ExplicitlyDenied},
		}
		if exempt != nil {
			cases = append(cases, tc{breakGlass, s3Admin, "s3:DeleteObjectVersion", "checkpoint", iamsim.Allowed})
		}
		if c.remove != (remover != "") {
			t.Fatalf("UnsafeRemoveWithStack %v, removal role %q", c.remove, remover)
		}
		if c.remove {
			cases = append(cases, tc{remover, remPols, "s3:DeleteObjectVersion", "checkpoint", iamsim.Allowed},
				tc{remover, remPols, "s3:BypassGovernanceRetention", "checkpoint", iamsim.Allowed},
				tc{remover, remPols, "s3:PutObject", "checkpoint", iamsim.ExplicitlyDenied})
			// Invoked with a hand-made Delete, the removal empties the
			// bucket: the construct's user, with Lambda and IAM rights from
			// elsewhere, may neither invoke it nor pass its role; an
			// administrator may (the trust table says so).
			var fn string
			for id, f := range tmpl.Resources("AWS::Lambda::Function") {
				if e, _ := json.Marshal(props(f)["Environment"]); strings.Contains(string(e), `"APPENDONLY_FUNCTION":"empty-journal"`) {
					fn, _ = env.Arn(id)
				}
			}
			userID, _ := tmpl.Only(t, "AWS::IAM::User")
			user, _ := env.Arn(userID)
			admin := []iamsim.NamedPolicy{iamsim.AllowAll("lambda"), iamsim.AllowAll("iam")}
			cases = append(cases, tc{user, append(identity(userID), admin...), "lambda:InvokeFunction", fn, iamsim.ExplicitlyDenied},
				tc{user, append(identity(userID), admin...), "iam:PassRole", remover, iamsim.ExplicitlyDenied},
				tc{roleArn("Administrator"), admin, "lambda:InvokeFunction", fn, iamsim.Allowed})
		}
		var sims []iamsim.Simulation
		for _, c := range cases {
			sim := iamsim.Simulation{Request: iamsim.Request{Principal: c.principal, Action: c.action, Resource: c.resource}, IdentityPolicies: c.pols}
			if strings.HasPrefix(c.action, "s3:") {
				sim.Request.Resource, sim.ResourcePolicy = bucket+"/"+c.resource, policy
			}
			sims = append(sims, sim)
		}
		got, err := runner.Decide(sims)
		if err != nil {
			t.Fatal(err)
		}
		for i, c := range cases {
			if got[i] != c.want {
				t.Errorf("exempt %v, UnsafeRemoveWithStack %v: %s %s on %s: %s, want %s", exempt, remove, c.principal, c.action, c.resource, got[i], c.want)
			}
		}
	}
}
