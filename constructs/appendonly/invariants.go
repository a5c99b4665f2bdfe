package appendonly

import (
	"encoding/json"
	"fmt"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/jsii-runtime-go"

	"github.com/appendonly/appendonly/check"
)

// protected is what one resource the construct protects must look like in
// the final template: the construct writes it so, and the guard checks
// that nothing the app did afterwards (an override, an aspect, a removal
// policy) changed it. What the check knows of each kind (its type, where
// its policy is, why each property matters) is in package check.
type protected struct {
	what string            // the kind, as package check names it: "table", "key", ...
	el   awscdk.CfnElement // its logical id is resolved at check
	// stack holds it when it is not the table's: a journal in another
	// account.
	stack  awscdk.Stack
	retain bool // DeletionPolicy and UpdateReplacePolicy Retain
	props  []wantProp
	stmts  []statement // the statements its policy must hold as written
}

// wantProp is one property a protected resource must have.
type wantProp struct {
	path  []string // under Properties
	value any      // what it must be, as JSON; nil: absent, or not enabled
}

// tableRecord is what the registry keeps of a table the construct created:
// where it is, and what it and its protecting resources must look like.
type tableRecord struct {
	stack       awscdk.Stack
	stackPath   string
	mode        Enforcement
	exempt      []string
	literalName string
	protected   []protected // the table first
}

// resolve asks the jsii kernel, once per stack, for the logical ids and
// statements of every protected resource.
func (r *registry) resolve() (out []check.Table, err error) {
	defer func() {
		if p := recover(); p != nil {
			err = fmt.Errorf("resolving the protected resources: %v", p)
		}
	}()
	// Each protected resource is resolved in its own stack, every stack
	// once.
	type slot struct{ rec, res int }
	byStack := map[awscdk.Stack][]slot{}
	var order []awscdk.Stack
	out = make([]check.Table, len(r.tables))
	for i, rec := range r.tables {
		out[i] = check.Table{StackPath: rec.stackPath, IdentityOnly: rec.mode == EnforceIdentityOnlyOthersCanModify, Exempt: rec.exempt,
			Name: rec.literalName, Protected: make([]check.Protected, len(rec.protected))}
		for k, p := range rec.protected {
			cp := check.Protected{What: p.what, Type: check.TypeOf(p.what), Retain: p.retain, Props: p.wants()}
			stack := rec.stack
			if p.stack != nil {
				stack = p.stack
				cp.StackPath = r.stackPath(p.stack)
			}
			out[i].Protected[k] = cp
			if _, ok := byStack[stack]; !ok {
				order = append(order, stack)
			}
			byStack[stack] = append(byStack[stack], slot{i, k})
		}
	}
	for _, stack := range order {
		var in []any
		for _, sl := range byStack[stack] {
			p := r.tables[sl.rec].protected[sl.res]
			stmts := make([]any, len(p.stmts))
			for k, s := range p.stmts {
				stmts[k] = s.json()
			}
			in = append(in, map[string]any{"id": p.el.LogicalId(), "stmts": stmts})
		}
		resolved, _ := stack.Resolve(in).([]any)
		if len(resolved) != len(in) {
			return nil, fmt.Errorf("resolving the protected resources of %s: the kernel returned %d of %d", r.stackPath(stack), len(resolved), len(in))
		}
		for n, sl := range byStack[stack] {
			m, _ := resolved[n].(map[string]any)
			out[sl.rec].Protected[sl.res].ID, _ = m["id"].(string)
			out[sl.rec].Protected[sl.res].Statements, _ = m["stmts"].([]any)
		}
	}
	return out, nil
}

func (p protected) wants() []check.Want {
	var out []check.Want
	for _, w := range p.props {
		out = append(out, check.Want{Path: w.path, Value: w.value})
	}
	return out
}

// describe writes what the check needs into the template (check.TableKey
// on the table, check.ProtectedKey on each resource that protects it), so
// that the cloud assembly alone says what is protected and how. CDK
// resolves the logical ids at synth, and a describer the statements'
// digests, each in its own stack.
func (r *registry) describe(rec tableRecord) {
	var parts []any
	for _, p := range rec.protected {
		p.el.(awscdk.CfnResource).AddMetadata(jsii.String(check.ProtectedKey), awscdk.Lazy_UncachedAny(&describer{p: p}, nil))
		if p.stack != nil {
			parts = append(parts, awscdk.Fn_Join(jsii.String("/"), &[]*string{jsii.String(r.stackPath(p.stack)), p.el.LogicalId()}))
		} else {
			parts = append(parts, p.el.LogicalId())
		}
	}
	md := map[string]any{"v": check.MetadataVersion, "mode": rec.mode.String(), "parts": parts}
	rec.protected[0].el.(awscdk.CfnResource).AddMetadata(jsii.String(check.TableKey), md)
}

// describer produces a protected resource's check.ProtectedMetadata at
// synth, its statements resolved and digested.
type describer struct{ p protected }

// Produce implements awscdk.IAnyProducer.
func (d *describer) Produce(ctx awscdk.IResolveContext) any {
	stmts := make([]any, len(d.p.stmts))
	for k, s := range d.p.stmts {
		stmts[k] = s.json()
	}
	resolved, _ := ctx.Resolve(stmts, nil).([]any)
	data, _ := json.Marshal(check.Describe(check.Protected{What: d.p.what, Retain: d.p.retain, Props: d.p.wants(), Statements: resolved}))
	var md map[string]any
	_ = json.Unmarshal(data, &md)
	return md
}
