package ledger_test

import (
	"context"
	"errors"
	"fmt"
	"log"

	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"

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
