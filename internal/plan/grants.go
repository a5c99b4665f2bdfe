package plan

import "github.com/appendonly/appendonly/check"

// Access is what a grant lets a principal do with the table.
type Access int

// The accesses, which combine.
const (
	Append Access = 1 << iota
	Read
	Stream
)

// Refs are the ARNs a principal's statements on the table name, as tokens
// or as written: "" for what the table does not have.
type Refs struct {
	Table, GlobalTable string
	Stream             string // the table's stream
	Key                string // its customer managed key
}

// Allow are the identity-policy statements that give access a.
func (r Refs) Allow(a Access) []Statement {
	allow := func(sid string, actions []string, resources ...string) Statement {
		return Statement{Sid: sid, Effect: "Allow", Actions: actions, Resources: resources}
	}
	var out []Statement
	if a&Append != 0 {
		out = append(out, allow(check.SidAppend, check.AppendActions(), r.Table))
	}
	if a&Read != 0 {
		out = append(out, allow(check.SidRead, check.ReadActions(), r.Table, r.Table+"/index/*"))
	}
	if a&Stream != 0 {
		out = append(out, allow(check.SidReadStream, check.StreamReadActions(), r.Stream))
	}
	if r.Key != "" {
		if a&Append != 0 {
			out = append(out, allow(check.SidUseKeyToAppend, check.KeyAppendActions(), r.Key))
		} else {
			out = append(out, allow(check.SidUseKeyToRead, check.KeyReadActions(), r.Key))
		}
	}
	return out
}

// Deny are the identity-policy statements every principal the construct
// creates or grants to carries: no item mutation, no data-losing change of
// the table, no loss of its key.
func (r Refs) Deny() []Statement {
	out := []Statement{
		{Sid: check.SidDenyItemMutations, Effect: "Deny", Actions: check.ItemMutationActions(),
			Resources: []string{r.Table, r.Table + "/*"}}, // indexes, streams, backups, exports
		{Sid: check.SidDenyDataLoss, Effect: "Deny", Actions: check.DataLossControlActions(),
			Resources: []string{r.Table, r.Table + "/*", r.GlobalTable}},
	}
	if r.Key != "" {
		out = append(out, Statement{Sid: check.SidDenyKeyLoss, Effect: "Deny", Actions: check.KeyDenyActions(), Resources: []string{r.Key}})
	}
	return out
}
