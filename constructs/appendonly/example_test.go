package appendonly_test

import (
	"fmt"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsdynamodb"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsiam"
	"github.com/aws/jsii-runtime-go"

	"github.com/appendonly/appendonly/constructs/appendonly"
)

// A ledger that every principal in the account can only append to, with a
// role that appends and reads, and a Lambda function's role that only reads.
func ExampleNewTable() {
	app := awscdk.NewApp(nil)
	stack := awscdk.NewStack(app, jsii.String("Ledgers"), nil)

	ledger, err := appendonly.NewTable(stack, "Ledger", &appendonly.Props{
		TableProps: &awsdynamodb.TableProps{
			PartitionKey: &awsdynamodb.Attribute{Name: jsii.String("account"), Type: awsdynamodb.AttributeType_STRING},
			SortKey:      &awsdynamodb.Attribute{Name: jsii.String("at"), Type: awsdynamodb.AttributeType_NUMBER},
		},
		Role: &appendonly.RoleProps{AssumedBy: awsiam.NewAccountRootPrincipal()},
	})
	if err != nil {
		panic(err)
	}
	reporter := awsiam.NewRole(stack, jsii.String("Reporter"), &awsiam.RoleProps{
		AssumedBy: awsiam.NewServicePrincipal(jsii.String("lambda.amazonaws.com"), nil),
	})
	ledger.GrantRead(reporter)
	app.Synth(nil)
}

// Every invalid prop is reported at once, by name, before anything is
// created.
func ExampleNewTable_invalidProps() {
	_, err := appendonly.NewTable(nil, "Ledger", &appendonly.Props{
		TableProps: &awsdynamodb.TableProps{
			PartitionKey:        &awsdynamodb.Attribute{Name: jsii.String("account"), Type: awsdynamodb.AttributeType_STRING},
			TimeToLiveAttribute: jsii.String("expires"),
			RemovalPolicy:       awscdk.RemovalPolicy_DESTROY,
		},
	})
	fmt.Println(err)
	// Output:
	// appendonly.NewTable "Ledger": invalid props:
	// TableProps.TimeToLiveAttribute: not allowed: DynamoDB deletes expired items itself, whatever the IAM policies say; leave it unset
	// TableProps.RemovalPolicy: DESTROY would delete the table and its items with the stack: leave it unset or RETAIN, or set UnsafeAllowTableRemoval for a throw-away stack
}
