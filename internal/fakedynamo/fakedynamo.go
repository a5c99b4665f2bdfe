// Package fakedynamo is a fake of DynamoDB's JSON protocol for tests: an
// http.Handler that a real AWS SDK for Go v2 client talks to (through
// httptest), so that the client's serialization, error handling and
// paginators are exercised. It is not DynamoDB.
//
// What it models, from DynamoDB's documentation, and what the ledger package
// relies on:
//   - ExecuteStatement and ExecuteTransaction with PartiQL INSERT of the form
//     INSERT INTO "table" VALUE {'name': ?, ...}, values as parameters. An
//     INSERT whose key exists fails with DuplicateItemException and writes
//     nothing; a transaction is all or nothing and fails with
//     TransactionCanceledException, one cancellation reason per statement
//     (DuplicateItem or None).
//   - Query on the partition key (KeyConditionExpression "#name = :value" or
//     "name = :value"), in sort key order (ascending, or descending with
//     ScanIndexForward false), with Limit, LastEvaluatedKey and
//     ExclusiveStartKey.
//   - Scan with Segment and TotalSegments (each item in exactly one segment),
//     Limit, pagination, and a ProjectionExpression of attribute names.
//   - GetItem by key, and DescribeTable (name, ARN, key schema, status).
//
// What it does not model: any other PartiQL, condition, filter or update
// expressions, indexes, streams, capacity and throttling, item and page size
// limits (PageItems stands in for the 1 MB page), eventual consistency
// (every read is consistent), authentication and signatures (requests are
// not checked), or any other operation (an error names it).
package fakedynamo

import (
	"encoding/json"
	"fmt"
	"hash/fnv"
	"io"
	"math/big"
	"net/http"
	"regexp"
	"sort"
	"strings"
	"sync"
)

// Item is an item as DynamoDB's JSON protocol writes it: attribute name to
// attribute value ({"S": "x"}, {"N": "1"}, ...).
type Item = map[string]any

// Table is a table's key schema.
type Table struct {
	PartitionKey string
	SortKey      string // "" for none
	// KeyTypes are the key attributes' types, S, N or B, as DescribeTable
	// reports them in AttributeDefinitions. Default: S.
	KeyTypes map[string]string
}

// Server is the fake. The zero value is not usable: use New.
type Server struct {
	// PageItems caps the items of one Query or Scan page, standing in for
	// DynamoDB's 1 MB page. Default: 1000.
	PageItems int

	mu     sync.Mutex
	tables map[string]*table
	tokens map[string]string // ExecuteTransaction ClientRequestToken -> request
	stream []map[string]any  // stream records, as Lambda delivers them
}

type table struct {
	schema Table
	items  map[string]Item // by key
	// order caches the items in key order; nil after a write.
	order []Item
	// sortNum caches each numeric sort key's value, by the key's text.
	sortNum map[string]*big.Rat
}

// record adds a stream record of a write to table name, as DynamoDB Streams
// with NEW_AND_OLD_IMAGES writes it and Lambda delivers it.
func (s *Server) record(name string, t *table, event string, oldItem, newItem Item) {
	keys := Item{}
	src := newItem
	if src == nil {
		src = oldItem
	}
	for _, k := range []string{t.schema.PartitionKey, t.schema.SortKey} {
		if k != "" {
			keys[k] = src[k]
		}
	}
	n := len(s.stream) + 1
	change := map[string]any{"ApproximateCreationDateTime": 1764547200 + n, "Keys": copyItem(keys),
		"SequenceNumber": fmt.Sprintf("%021d", n), "SizeBytes": 1, "StreamViewType": "NEW_AND_OLD_IMAGES"}
	if newItem != nil {
		change["NewImage"] = copyItem(newItem)
	}
	if oldItem != nil {
		change["OldImage"] = copyItem(oldItem)
	}
	s.stream = append(s.stream, map[string]any{"eventID": fmt.Sprintf("%032x", n), "eventName": event, "eventSource": "aws:dynamodb",
		"eventSourceARN": "arn:aws:dynamodb:us-east-1:111122223333:table/" + name + "/stream/2026-12-01T00:00:00.000", "dynamodb": change})
}

// StreamEvent returns stream records from..to-1 (to <= 0: all from on) as
// the JSON of a Lambda DynamoDB event, for the journal's sequencer.
func (s *Server) StreamEvent(from, to int) []byte {
	s.mu.Lock()
	defer s.mu.Unlock()
	if to <= 0 || to > len(s.stream) {
		to = len(s.stream)
	}
	data, _ := json.Marshal(map[string]any{"Records": s.stream[min(from, to):to]})
	return data
}

// StreamLen is the number of stream records so far.
func (s *Server) StreamLen() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.stream)
}

// Modify replaces an item and records a MODIFY stream record, as UpdateItem
// does for someone who lifted the table's deny.
func (s *Server) Modify(tableName string, item Item) {
	s.mu.Lock()
	defer s.mu.Unlock()
	t := s.tables[tableName]
	old := t.items[t.key(item)]
	t.put(copyItem(item))
	s.record(tableName, t, "MODIFY", old, item)
}

// Remove deletes an item and records a REMOVE stream record.
func (s *Server) Remove(tableName string, item Item) {
	s.mu.Lock()
	defer s.mu.Unlock()
	t := s.tables[tableName]
	old := t.items[t.key(item)]
	t.remove(t.key(item))
	s.record(tableName, t, "REMOVE", old, nil)
}

func (t *table) put(item Item) {
	t.items[t.key(item)] = item
	t.order = nil
}

func (t *table) remove(key string) {
	delete(t.items, key)
	t.order = nil
}

// New returns a fake with the given tables.
func New(tables map[string]Table) *Server {
	s := &Server{tables: map[string]*table{}}
	for name, t := range tables {
		s.tables[name] = &table{schema: t, items: map[string]Item{}, sortNum: map[string]*big.Rat{}}
	}
	return s
}

// Items returns a copy of every item of a table, in key order.
func (s *Server) Items(tableName string) []Item {
	s.mu.Lock()
	defer s.mu.Unlock()
	t := s.tables[tableName]
	var out []Item
	for _, it := range t.sorted() {
		out = append(out, copyItem(it))
	}
	return out
}

// Put writes an item, overwriting any with its key, behind the API's back:
// what someone who can change items (a break-glass role, the root user
// after lifting the resource policy) could do. For tamper tests.
func (s *Server) Put(tableName string, item Item) {
	s.mu.Lock()
	defer s.mu.Unlock()
	t := s.tables[tableName]
	t.put(copyItem(item))
}

// Delete removes the item with the key of item, behind the API's back.
func (s *Server) Delete(tableName string, item Item) {
	s.mu.Lock()
	defer s.mu.Unlock()
	t := s.tables[tableName]
	t.remove(t.key(item))
}

func copyItem(it Item) Item {
	data, _ := json.Marshal(it)
	var out Item
	_ = json.Unmarshal(data, &out)
	return out
}

// scalar returns the type and text of a key attribute value.
func scalar(v any) (typ, text string) {
	m, _ := v.(map[string]any)
	for _, t := range []string{"S", "N", "B"} {
		if s, ok := m[t].(string); ok {
			return t, s
		}
	}
	return "", ""
}

func (t *table) key(item Item) string {
	_, pk := scalar(item[t.schema.PartitionKey])
	k := pk
	if t.schema.SortKey != "" {
		_, sk := scalar(item[t.schema.SortKey])
		k += "\x00" + sk
	}
	return k
}

// less orders items by partition key, then sort key (numbers by value).
func (t *table) less(a, b Item) bool {
	_, pa := scalar(a[t.schema.PartitionKey])
	_, pb := scalar(b[t.schema.PartitionKey])
	if pa != pb {
		return pa < pb
	}
	if t.schema.SortKey == "" {
		return false
	}
	ta, sa := scalar(a[t.schema.SortKey])
	_, sb := scalar(b[t.schema.SortKey])
	if ta == "N" {
		ra, rb := t.num(sa), t.num(sb)
		if ra != nil && rb != nil {
			return ra.Cmp(rb) < 0
		}
	}
	return sa < sb
}

func (t *table) num(text string) *big.Rat {
	r, ok := t.sortNum[text]
	if !ok {
		r, _ = new(big.Rat).SetString(text)
		t.sortNum[text] = r
	}
	return r
}

// sorted returns the items in key order (the caller must not change it).
func (t *table) sorted() []Item {
	if t.order != nil {
		return t.order
	}
	out := make([]Item, 0, len(t.items))
	for _, it := range t.items {
		out = append(out, it)
	}
	sort.Slice(out, func(i, j int) bool { return t.less(out[i], out[j]) })
	t.order = out
	return out
}

// apiError is an error response of the JSON protocol.
type apiError struct {
	typ     string
	message string
	extra   map[string]any
}

func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	op := strings.TrimPrefix(r.Header.Get("X-Amz-Target"), "DynamoDB_20120810.")
	body, err := io.ReadAll(r.Body)
	var in map[string]any
	if err == nil {
		err = json.Unmarshal(body, &in)
	}
	var out any
	var aerr *apiError
	if err != nil {
		aerr = &apiError{typ: "SerializationException", message: err.Error()}
	} else {
		s.mu.Lock()
		out, aerr = s.handle(op, in)
		s.mu.Unlock()
	}
	w.Header().Set("Content-Type", "application/x-amz-json-1.0")
	if aerr != nil {
		resp := map[string]any{"__type": "com.amazonaws.dynamodb.v20120810#" + aerr.typ, "message": aerr.message}
		for k, v := range aerr.extra {
			resp[k] = v
		}
		w.WriteHeader(http.StatusBadRequest)
		_ = json.NewEncoder(w).Encode(resp)
		return
	}
	_ = json.NewEncoder(w).Encode(out)
}

func (s *Server) handle(op string, in map[string]any) (any, *apiError) {
	switch op {
	case "ExecuteStatement":
		t, item, aerr := s.parseInsert(in["Statement"], in["Parameters"])
		if aerr != nil {
			return nil, aerr
		}
		if _, exists := t.items[t.key(item)]; exists {
			return nil, &apiError{typ: "DuplicateItemException", message: "Duplicate primary key exists in table"}
		}
		t.put(item)
		s.record(tableNameOf(in["Statement"]), t, "INSERT", nil, item)
		return map[string]any{"Items": []any{}}, nil
	case "ExecuteTransaction":
		return s.transaction(in)
	case "Query":
		return s.query(in)
	case "Scan":
		return s.scan(in)
	case "DescribeTable":
		t, aerr := s.table(in)
		if aerr != nil {
			return nil, aerr
		}
		name, _ := in["TableName"].(string)
		keys := []any{map[string]any{"AttributeName": t.schema.PartitionKey, "KeyType": "HASH"}}
		if t.schema.SortKey != "" {
			keys = append(keys, map[string]any{"AttributeName": t.schema.SortKey, "KeyType": "RANGE"})
		}
		var defs []any
		for _, k := range []string{t.schema.PartitionKey, t.schema.SortKey} {
			if k != "" {
				typ := t.schema.KeyTypes[k]
				if typ == "" {
					typ = "S"
				}
				defs = append(defs, map[string]any{"AttributeName": k, "AttributeType": typ})
			}
		}
		return map[string]any{"Table": map[string]any{
			"TableName": name, "TableStatus": "ACTIVE", "KeySchema": keys, "AttributeDefinitions": defs, "ItemCount": len(t.items),
			"TableArn": "arn:aws:dynamodb:us-east-1:111122223333:table/" + name,
		}}, nil
	case "GetItem":
		t, aerr := s.table(in)
		if aerr != nil {
			return nil, aerr
		}
		key, _ := in["Key"].(map[string]any)
		if it, ok := t.items[t.key(key)]; ok {
			return map[string]any{"Item": it}, nil
		}
		return map[string]any{}, nil
	}
	return nil, &apiError{typ: "UnknownOperationException", message: "fakedynamo does not model " + op}
}

func (s *Server) table(in map[string]any) (*table, *apiError) {
	name, _ := in["TableName"].(string)
	t, ok := s.tables[name]
	if !ok {
		return nil, &apiError{typ: "ResourceNotFoundException", message: "Requested resource not found: Table: " + name + " not found"}
	}
	return t, nil
}

var (
	insertRe = regexp.MustCompile(`^INSERT INTO "((?:[^"]|"")+)" VALUE \{(.*)\}$`)
	fieldRe  = regexp.MustCompile(`^'((?:[^']|'')*)': \?$`)
)

// parseInsert parses INSERT INTO "table" VALUE {'a': ?, ...} with its
// parameters into the table and the item.
func (s *Server) parseInsert(stmtV, paramsV any) (*table, Item, *apiError) {
	stmt, _ := stmtV.(string)
	params, _ := paramsV.([]any)
	m := insertRe.FindStringSubmatch(stmt)
	if m == nil {
		return nil, nil, &apiError{typ: "ValidationException", message: "fakedynamo models only INSERT INTO \"t\" VALUE {'a': ?, ...}: " + stmt}
	}
	name := strings.ReplaceAll(m[1], `""`, `"`)
	t, ok := s.tables[name]
	if !ok {
		return nil, nil, &apiError{typ: "ResourceNotFoundException", message: "Requested resource not found: Table: " + name + " not found"}
	}
	item := Item{}
	fields := strings.Split(m[2], ", ")
	if len(fields) != len(params) {
		return nil, nil, &apiError{typ: "ValidationException", message: fmt.Sprintf("%d placeholders, %d parameters", len(fields), len(params))}
	}
	for i, f := range fields {
		fm := fieldRe.FindStringSubmatch(f)
		if fm == nil {
			return nil, nil, &apiError{typ: "ValidationException", message: "fakedynamo cannot parse " + f}
		}
		item[strings.ReplaceAll(fm[1], "''", "'")] = params[i]
	}
	for _, k := range []string{t.schema.PartitionKey, t.schema.SortKey} {
		if k == "" {
			continue
		}
		if typ, _ := scalar(item[k]); typ == "" {
			return nil, nil, &apiError{typ: "ValidationException", message: "One or more parameter values were invalid: Missing the key " + k + " in the item"}
		}
	}
	return t, item, nil
}

func tableNameOf(stmt any) string {
	m := insertRe.FindStringSubmatch(fmt.Sprint(stmt))
	if m == nil {
		return ""
	}
	return strings.ReplaceAll(m[1], `""`, `"`)
}

func (s *Server) transaction(in map[string]any) (any, *apiError) {
	stmts, _ := in["TransactStatements"].([]any)
	// A ClientRequestToken makes the call idempotent: the same request again
	// succeeds without writing; another request with the token is refused.
	token, _ := in["ClientRequestToken"].(string)
	done := false
	if token != "" {
		req, _ := json.Marshal(stmts)
		if prev, ok := s.tokens[token]; ok {
			if prev != string(req) {
				return nil, &apiError{typ: "IdempotentParameterMismatchException", message: "The request uses the same client token as a previous, but non-identical request."}
			}
			return map[string]any{"Responses": []any{}}, nil
		}
		defer func() {
			if s.tokens == nil {
				s.tokens = map[string]string{}
			}
			if done {
				s.tokens[token] = string(req)
			}
		}()
	}
	type write struct {
		t    *table
		item Item
	}
	writes := make([]write, len(stmts))
	reasons := make([]any, len(stmts))
	failed := false
	seen := map[*table]map[string]bool{}
	for i, st := range stmts {
		m, _ := st.(map[string]any)
		t, item, aerr := s.parseInsert(m["Statement"], m["Parameters"])
		if aerr != nil {
			return nil, aerr
		}
		k := t.key(item)
		if seen[t] == nil {
			seen[t] = map[string]bool{}
		}
		_, exists := t.items[k]
		switch {
		case seen[t][k]:
			return nil, &apiError{typ: "ValidationException", message: "Transaction request cannot include multiple operations on one item"}
		case exists:
			reasons[i] = map[string]any{"Code": "DuplicateItem", "Message": "Duplicate primary key exists in table"}
			failed = true
		default:
			reasons[i] = map[string]any{"Code": "None"}
		}
		seen[t][k] = true
		writes[i] = write{t, item}
	}
	if failed {
		codes := make([]string, len(reasons))
		for i, r := range reasons {
			codes[i] = r.(map[string]any)["Code"].(string)
		}
		return nil, &apiError{typ: "TransactionCanceledException",
			message: "Transaction cancelled, please refer cancellation reasons for specific reasons [" + strings.Join(codes, ", ") + "]",
			extra:   map[string]any{"CancellationReasons": reasons}}
	}
	for i, w := range writes {
		w.t.put(w.item)
		st, _ := stmts[i].(map[string]any)
		s.record(tableNameOf(st["Statement"]), w.t, "INSERT", nil, w.item)
	}
	done = true
	return map[string]any{"Responses": []any{}}, nil
}

var keyCondRe = regexp.MustCompile(`^\s*(#?[A-Za-z0-9_]+)\s*=\s*(:[A-Za-z0-9_]+)\s*$`)

func (s *Server) query(in map[string]any) (any, *apiError) {
	t, aerr := s.table(in)
	if aerr != nil {
		return nil, aerr
	}
	cond, _ := in["KeyConditionExpression"].(string)
	m := keyCondRe.FindStringSubmatch(cond)
	if m == nil {
		return nil, &apiError{typ: "ValidationException", message: "fakedynamo models only KeyConditionExpression \"#pk = :v\": " + cond}
	}
	name := m[1]
	if strings.HasPrefix(name, "#") {
		names, _ := in["ExpressionAttributeNames"].(map[string]any)
		name, _ = names[name].(string)
	}
	values, _ := in["ExpressionAttributeValues"].(map[string]any)
	if name != t.schema.PartitionKey {
		return nil, &apiError{typ: "ValidationException", message: "Query condition missed key schema element: " + t.schema.PartitionKey}
	}
	_, want := scalar(values[m[2]])
	all := t.sorted()
	pkOf := func(i int) string { _, pk := scalar(all[i][t.schema.PartitionKey]); return pk }
	lo := sort.Search(len(all), func(i int) bool { return pkOf(i) >= want })
	hi := sort.Search(len(all), func(i int) bool { return pkOf(i) > want })
	items := append([]Item(nil), all[lo:hi]...)
	if fwd, ok := in["ScanIndexForward"].(bool); ok && !fwd {
		for i, j := 0, len(items)-1; i < j; i, j = i+1, j-1 {
			items[i], items[j] = items[j], items[i]
		}
	}
	return s.page(t, items, in, nil), nil
}

func (s *Server) scan(in map[string]any) (any, *apiError) {
	t, aerr := s.table(in)
	if aerr != nil {
		return nil, aerr
	}
	total, segment := 1, 0
	if v, ok := in["TotalSegments"].(float64); ok {
		total = int(v)
	}
	if v, ok := in["Segment"].(float64); ok {
		segment = int(v)
	}
	if segment < 0 || total < 1 || segment >= total {
		return nil, &apiError{typ: "ValidationException", message: "Segment must be less than TotalSegments"}
	}
	var items []Item
	for _, it := range t.sorted() {
		_, pk := scalar(it[t.schema.PartitionKey])
		h := fnv.New32a()
		h.Write([]byte(pk))
		if int(h.Sum32()%uint32(total)) == segment {
			items = append(items, it)
		}
	}
	var projection []string
	if p, ok := in["ProjectionExpression"].(string); ok {
		names, _ := in["ExpressionAttributeNames"].(map[string]any)
		for _, f := range strings.Split(p, ",") {
			f = strings.TrimSpace(f)
			if n, ok := names[f].(string); ok {
				f = n
			}
			projection = append(projection, f)
		}
	}
	return s.page(t, items, in, projection), nil
}

// page returns the items after ExclusiveStartKey, at most Limit and
// PageItems of them, with LastEvaluatedKey when the page is cut.
func (s *Server) page(t *table, items []Item, in map[string]any, projection []string) map[string]any {
	if start, ok := in["ExclusiveStartKey"].(map[string]any); ok {
		// Items come in key order, or its reverse: skip to after the key.
		k := t.key(start)
		if len(items) > 1 && t.less(items[len(items)-1], items[0]) {
			i := sort.Search(len(items), func(i int) bool { return !t.less(start, items[i]) })
			if i < len(items) && t.key(items[i]) == k {
				i++
			}
			items = items[i:]
		} else {
			i := sort.Search(len(items), func(i int) bool { return !t.less(items[i], start) })
			if i < len(items) && t.key(items[i]) == k {
				i++
			}
			items = items[i:]
		}
	}
	limit := s.PageItems
	if limit <= 0 {
		limit = 1000
	}
	if v, ok := in["Limit"].(float64); ok && int(v) < limit {
		limit = int(v)
	}
	out := map[string]any{}
	if len(items) > limit || (len(items) == limit && in["Limit"] != nil) {
		items = items[:limit]
		last := items[len(items)-1]
		key := Item{t.schema.PartitionKey: last[t.schema.PartitionKey]}
		if t.schema.SortKey != "" {
			key[t.schema.SortKey] = last[t.schema.SortKey]
		}
		out["LastEvaluatedKey"] = key
	}
	list := make([]any, len(items))
	for i, it := range items {
		if projection != nil {
			p := Item{}
			for _, a := range projection {
				if v, ok := it[a]; ok {
					p[a] = v
				}
			}
			it = p
		}
		list[i] = it
	}
	out["Items"] = list
	out["Count"] = len(list)
	out["ScannedCount"] = len(list)
	return out
}
