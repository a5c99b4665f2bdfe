package appendonly

import (
	"fmt"

	"github.com/aws/aws-cdk-go/awscdk/v2"

	"github.com/appendonly/appendonly/check"
)

// protected is what one resource the construct protects must look like in
// the final template: the construct writes it so, and the guard checks
// that nothing the app did afterwards (an override, an aspect, a removal
// policy) changed it.
type protected struct {
	what string            // how messages name it: "table", "key", ...
	el   awscdk.CfnElement // its logical id is resolved at check
	// stack holds it when it is not the table's: a journal in another
	// account.
	stack   awscdk.Stack
	typ     string // its CloudFormation type
	retain  bool   // DeletionPolicy and UpdateReplacePolicy Retain
	props   []wantProp
	docPath []string    // where its policy document is, under Properties
	stmts   []statement // the statements the document must hold as written
	docProp string      // the props that change those statements
}

// wantProp is one property a protected resource must have.
type wantProp struct {
	path  []string // under Properties
	value any      // what it must be, as JSON; nil: absent, or not enabled
	prop  string   // the prop that legitimately changes it, or ""
	why   string   // what breaks if it changes
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
			cp := check.Protected{What: p.what, Type: p.typ, Retain: p.retain, DocPath: p.docPath, DocProp: p.docProp}
			for _, w := range p.props {
				cp.Props = append(cp.Props, check.Want{Path: w.path, Value: w.value, Prop: w.prop, Why: w.why})
			}
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
