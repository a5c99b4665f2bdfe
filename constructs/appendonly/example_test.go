package appendonly_test

import (
	"encoding/json"
	"fmt"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsdynamodb"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsiam"
	"github.com/aws/aws-cdk-go/awscdk/v2/awslambda"
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

// A Lambda function appends to the ledger by the table's real name, which
// CloudFormation generates: the function reads it from an environment
// variable set from DynamoTable().TableName(). PartiQL INSERT with `?`
// parameters appends; the values are never built into the statement.
func ExampleTable_GrantAppend_lambda() {
	app := awscdk.NewApp(nil)
	stack := awscdk.NewStack(app, jsii.String("Payments"), nil)
	ledger, err := appendonly.NewTable(stack, "Ledger", &appendonly.Props{
		TableProps: &awsdynamodb.TableProps{
			PartitionKey: &awsdynamodb.Attribute{Name: jsii.String("account"), Type: awsdynamodb.AttributeType_STRING},
			SortKey:      &awsdynamodb.Attribute{Name: jsii.String("at"), Type: awsdynamodb.AttributeType_NUMBER},
		},
	})
	if err != nil {
		panic(err)
	}
	writer := awslambda.NewFunction(stack, jsii.String("Writer"), &awslambda.FunctionProps{
		Runtime: awslambda.Runtime_NODEJS_22_X(),
		Handler: jsii.String("index.handler"),
		Code: awslambda.Code_FromInline(jsii.String(`
const { DynamoDBClient, ExecuteStatementCommand } = require('@aws-sdk/client-dynamodb');
const db = new DynamoDBClient({});
exports.handler = async (event) => {
  await db.send(new ExecuteStatementCommand({
    Statement: 'INSERT INTO "' + process.env.LEDGER_TABLE + '" VALUE {\'account\': ?, \'at\': ?, \'amount\': ?}',
    Parameters: [{ S: event.account }, { N: String(event.at) }, { N: String(event.amount) }],
  }));
};`)),
		Environment: &map[string]*string{"LEDGER_TABLE": ledger.DynamoTable().TableName()},
	})
	ledger.GrantAppend(writer)
	app.Synth(nil)

	// What LEDGER_TABLE holds in the template: the table's Ref, which
	// CloudFormation resolves to the name it generated.
	ref, _ := json.Marshal(stack.Resolve(ledger.DynamoTable().TableName()))
	fmt.Println(string(ref))
	// Output: {"Ref":"Ledger0B0DA0A5"}
}
