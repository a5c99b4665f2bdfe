package ledger_test

import (
	"context"
	"errors"
	"fmt"
	"log"

	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/appendonly/appendonly/ledger"
)

// Appending a payment to an append-only table: a duplicate key is an error
// to recognise, never an overwrite.
func ExampleAppendValue() {
	cfg, err := config.LoadDefaultConfig(context.Background())
	if err != nil {
		log.Fatal(err)
	}
	db := dynamodb.NewFromConfig(cfg)
	type payment struct {
		Account string `dynamodbav:"account"`
		At      int64  `dynamodbav:"at"`
		Amount  string `dynamodbav:"amount"`
	}
	err = ledger.AppendValue(context.Background(), db, "Ledger", payment{"acme", 1767225600, "12.50"})
	if errors.Is(err, ledger.ErrDuplicateItem) {
		fmt.Println("already recorded; nothing was written")
	}
}

// Appending to a hash chain, keeping its digest elsewhere, and verifying it
// later against that digest.
func ExampleChain() {
	cfg, err := config.LoadDefaultConfig(context.Background())
	if err != nil {
		log.Fatal(err)
	}
	chain := &ledger.Chain{DB: dynamodb.NewFromConfig(cfg), Table: "AuditLog"}
	ctx := context.Background()
	link, err := chain.Append(ctx, "orders", map[string]types.AttributeValue{
		"event": &types.AttributeValueMemberS{Value: "order 1234 paid"},
	})
	if err != nil {
		log.Fatal(err)
	}
	digest := ledger.Digest(link).String() // keep it where the writers cannot change it
	d, _ := ledger.ParseDigest(digest)
	if _, err := chain.Verify(ctx, "orders", &d); err != nil {
		var brk *ledger.BreakError
		if errors.As(err, &brk) {
			fmt.Println("tampered with at item", brk.Seq)
		}
	}
}
