package appendonly

import (
	"encoding/json"
	"fmt"
	"github.com/appendonly/appendonly/internal/plan"

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
	props  []check.Want
	stmts  []plan.Statement // the statements its policy must hold as written
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
	// ids are the protected resources' logical ids as tokens, asked of the
	// kernel once (describe) and resolved at synth.
	ids []string
	// produced is what the description's producers resolved at synth, which
	// the guard reuses rather than ask the kernel again.
	produced *produced
}

// produced holds, for each protected resource of a table, its logical id
// and statements as its description's producer resolved them.
type produced struct {
	ids   []string
	stmts [][]any
	done  []bool
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
			cp := check.Protected{What: p.what, Type: check.TypeOf(p.what), Retain: p.retain, Props: p.props}
			stack := rec.stack
			if r.elsewhere(rec, p) {
				stack = p.stack
				cp.StackPath = r.stackPath(p.stack)
			}
			if pr := rec.produced; pr != nil && pr.done[k] {
				cp.ID, cp.Statements = pr.ids[k], pr.stmts[k]
				out[i].Protected[k] = cp
				continue
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
				stmts[k] = s.JSON()
			}
			in = append(in, map[string]any{"id": r.tables[sl.rec].ids[sl.res], "stmts": stmts})
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

// describe writes what the check needs into the template, so that the
// cloud assembly alone says what is protected and how: on the table
// (check.TableKey) its mode, the logical ids of the resources that protect
// it and the description of those in its stack; on the first of those in
// another stack (a journal in another account, check.ProtectedKey) the
// description of the ones there. One producer a stack resolves the logical
// ids and statements once, at synth, in one call, and digests the
// statements.
func (r *registry) describe(rec *tableRecord) {
	for _, p := range rec.protected {
		rec.ids = append(rec.ids, *p.el.LogicalId())
	}
	n := len(rec.protected)
	rec.produced = &produced{ids: make([]string, n), stmts: make([][]any, n), done: make([]bool, n)}
	var here []int
	var elsewhere []awscdk.Stack
	there := map[awscdk.Stack][]int{}
	for k, p := range rec.protected {
		if !r.elsewhere(*rec, p) {
			here = append(here, k)
			continue
		}
		if _, ok := there[p.stack]; !ok {
			elsewhere = append(elsewhere, p.stack)
		}
		there[p.stack] = append(there[p.stack], k)
	}
	rec.protected[0].el.(awscdk.CfnResource).AddMetadata(jsii.String(check.TableKey), awscdk.Lazy_Any(&describer{r: r, stack: rec.stack, rec: rec, table: true, idx: here}, nil))
	for _, stack := range elsewhere {
		idx := there[stack]
		rec.protected[idx[0]].el.(awscdk.CfnResource).AddMetadata(jsii.String(check.ProtectedKey), awscdk.Lazy_Any(&describer{r: r, stack: stack, rec: rec, idx: idx}, nil))
	}
}

// elsewhere reports whether p is in a stack other than its table's.
func (r *registry) elsewhere(rec tableRecord, p protected) bool {
	return p.stack != nil && r.stackPath(p.stack) != rec.stackPath
}

// describer produces, at synth, the description of a table's protected
// resources in one stack (check.ProtectedMetadata by logical id), with the
// table's (check.TableMetadata) when table is set. It keeps what it
// resolved in rec.produced, for the guard.
type describer struct {
	r     *registry
	stack awscdk.Stack // where the description is
	rec   *tableRecord
	table bool
	idx   []int // the parts it describes, as indexes of rec.protected
}

// Produce implements awscdk.IStableAnyProducer: called once, at synth,
// after the app's code has run (overrides of logical ids included).
func (d *describer) Produce() any {
	in := map[string]any{}
	var parts []any
	var ids []string
	for _, i := range d.idx {
		p := d.rec.protected[i]
		ids = append(ids, d.rec.ids[i])
		stmts := make([]any, len(p.stmts))
		for k, s := range p.stmts {
			stmts[k] = s.JSON()
		}
		parts = append(parts, stmts)
	}
	in["ids"], in["stmts"] = ids, parts
	if d.table {
		in["all"] = d.rec.ids
	}
	resolved, _ := d.stack.Resolve(in).(map[string]any)
	rids, _ := resolved["ids"].([]any)
	rstmts, _ := resolved["stmts"].([]any)
	described := map[string]check.ProtectedMetadata{}
	pr := d.rec.produced
	for k, i := range d.idx {
		p := d.rec.protected[i]
		id, _ := rids[k].(string)
		st, _ := rstmts[k].([]any)
		described[id] = check.Describe(check.Protected{What: p.what, Retain: p.retain, Props: p.props, Statements: st})
		pr.ids[i], pr.stmts[i], pr.done[i] = id, st, true
	}
	var out any = described
	if d.table {
		all, _ := resolved["all"].([]any)
		md := check.TableMetadata{Version: check.MetadataVersion, Mode: d.rec.mode.String(), Protected: described}
		for k, p := range d.rec.protected {
			id, _ := all[k].(string)
			if d.r.elsewhere(*d.rec, p) {
				id = d.r.stackPath(p.stack) + "/" + id
			}
			md.Parts = append(md.Parts, id)
		}
		out = md
	}
	data, _ := json.Marshal(out)
	var v map[string]any
	_ = json.Unmarshal(data, &v)
	return v
}
