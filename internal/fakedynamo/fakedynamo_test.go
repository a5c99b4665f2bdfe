package fakedynamo

import (
	"context"
	"errors"
	"fmt"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
)

// The fake against the documented behaviours the ledger package relies on.

func s(v string) types.AttributeValue { return &types.AttributeValueMemberS{Value: v} }
func n(v int) types.AttributeValue    { return &types.AttributeValueMemberN{Value: fmt.Sprint(v)} }

func insert(t *testing.T, db *dynamodb.Client, chain string, seq int) error {
	t.Helper()
	_, err := db.ExecuteStatement(context.Background(), &dynamodb.ExecuteStatementInput{
		Statement:  aws.String(`INSERT INTO "Ledger" VALUE {'chain': ?, 'seq': ?}`),
		Parameters: []types.AttributeValue{s(chain), n(seq)},
	})
	return err
}

func newFake(t *testing.T) (*Server, *dynamodb.Client) {
	f := New(map[string]Table{"Ledger": {PartitionKey: "chain", SortKey: "seq"}})
	db, _ := f.Start(t)
	return f, db
}

func TestInsertOfAnExistingKeyFailsWithDuplicateItemException(t *testing.T) {
	f, db := newFake(t)
	if err := insert(t, db, "a", 1); err != nil {
		t.Fatal(err)
	}
	err := insert(t, db, "a", 1)
	var dup *types.DuplicateItemException
	if !errors.As(err, &dup) {
		t.Fatalf("second INSERT: got %v, want DuplicateItemException", err)
	}
	if got := len(f.Items("Ledger")); got != 1 {
		t.Errorf("got %d items, want 1", got)
	}
}

func TestTransactionIsAllOrNothing(t *testing.T) {
	f, db := newFake(t)
	if err := insert(t, db, "a", 2); err != nil {
		t.Fatal(err)
	}
	stmt := func(seq int) types.ParameterizedStatement {
		return types.ParameterizedStatement{Statement: aws.String(`INSERT INTO "Ledger" VALUE {'chain': ?, 'seq': ?}`), Parameters: []types.AttributeValue{s("a"), n(seq)}}
	}
	_, err := db.ExecuteTransaction(context.Background(), &dynamodb.ExecuteTransactionInput{
		TransactStatements: []types.ParameterizedStatement{stmt(1), stmt(2), stmt(3)},
	})
	var canceled *types.TransactionCanceledException
	if !errors.As(err, &canceled) {
		t.Fatalf("got %v, want TransactionCanceledException", err)
	}
	var codes []string
	for _, r := range canceled.CancellationReasons {
		codes = append(codes, aws.ToString(r.Code))
	}
	if fmt.Sprint(codes) != "[None DuplicateItem None]" {
		t.Errorf("got reasons %v, want [None DuplicateItem None]", codes)
	}
	if got := len(f.Items("Ledger")); got != 1 {
		t.Errorf("got %d items, want 1: a canceled transaction writes nothing", got)
	}
}

func TestQueryIsInSortKeyOrderAndPages(t *testing.T) {
	f, db := newFake(t)
	f.PageItems = 4
	for _, seq := range []int{10, 2, 1, 9, 3, 100, 5, 4, 8, 7, 6} { // numeric, not string, order
		if err := insert(t, db, "a", seq); err != nil {
			t.Fatal(err)
		}
	}
	if err := insert(t, db, "b", 1); err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		forward bool
		limit   int32
		want    string
	}{
		{true, 0, "[1 2 3 4 5 6 7 8 9 10 100]"},
		{false, 0, "[100 10 9 8 7 6 5 4 3 2 1]"},
		{false, 1, "[100 10 9 8 7 6 5 4 3 2 1]"},
		{true, 3, "[1 2 3 4 5 6 7 8 9 10 100]"},
	} {
		in := &dynamodb.QueryInput{
			TableName: aws.String("Ledger"), KeyConditionExpression: aws.String("#c = :c"),
			ExpressionAttributeNames:  map[string]string{"#c": "chain"},
			ExpressionAttributeValues: map[string]types.AttributeValue{":c": s("a")},
			ScanIndexForward:          aws.Bool(c.forward), ConsistentRead: aws.Bool(true),
		}
		if c.limit > 0 {
			in.Limit = aws.Int32(c.limit)
		}
		var got []string
		pages := 0
		p := dynamodb.NewQueryPaginator(db, in)
		for p.HasMorePages() {
			page, err := p.NextPage(context.Background())
			if err != nil {
				t.Fatal(err)
			}
			pages++
			for _, it := range page.Items {
				got = append(got, it["seq"].(*types.AttributeValueMemberN).Value)
			}
		}
		if fmt.Sprint(got) != c.want {
			t.Errorf("forward %v, limit %d: got %v, want %s", c.forward, c.limit, got, c.want)
		}
		if pages < 3 {
			t.Errorf("forward %v, limit %d: got %d pages, want the 11 items over several", c.forward, c.limit, pages)
		}
	}
}

func TestScanSegmentsHoldEachItemOnce(t *testing.T) {
	_, db := newFake(t)
	for i := 0; i < 50; i++ {
		if err := insert(t, db, fmt.Sprintf("chain-%d", i%7), i); err != nil {
			t.Fatal(err)
		}
	}
	seen := map[string]int{}
	for seg := int32(0); seg < 4; seg++ {
		p := dynamodb.NewScanPaginator(db, &dynamodb.ScanInput{TableName: aws.String("Ledger"), Segment: aws.Int32(seg), TotalSegments: aws.Int32(4), Limit: aws.Int32(5)})
		for p.HasMorePages() {
			page, err := p.NextPage(context.Background())
			if err != nil {
				t.Fatal(err)
			}
			for _, it := range page.Items {
				seen[it["chain"].(*types.AttributeValueMemberS).Value+"/"+it["seq"].(*types.AttributeValueMemberN).Value]++
			}
		}
	}
	if len(seen) != 50 {
		t.Errorf("the segments held %d distinct items, want 50", len(seen))
	}
	for k, c := range seen {
		if c != 1 {
			t.Errorf("%s: in %d segments, want 1", k, c)
		}
	}
}

func TestUnknownTableAndOperation(t *testing.T) {
	_, db := newFake(t)
	_, err := db.ExecuteStatement(context.Background(), &dynamodb.ExecuteStatementInput{
		Statement: aws.String(`INSERT INTO "Nope" VALUE {'chain': ?}`), Parameters: []types.AttributeValue{s("a")},
	})
	var nf *types.ResourceNotFoundException
	if !errors.As(err, &nf) {
		t.Errorf("got %v, want ResourceNotFoundException", err)
	}
	if _, err := db.UpdateTable(context.Background(), &dynamodb.UpdateTableInput{TableName: aws.String("Ledger")}); err == nil {
		t.Error("UpdateTable: got no error from an operation the fake does not model")
	}
}
