package main

import (
	"context"
	"fmt"

	"github.com/aws/aws-lambda-go/cfn"
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
)

// tableDescriber is the part of the DynamoDB client the stream lookup
// calls.
type tableDescriber interface {
	DescribeTable(ctx context.Context, in *dynamodb.DescribeTableInput, opts ...func(*dynamodb.Options)) (*dynamodb.DescribeTableOutput, error)
}

// lookupStream answers the custom resource Custom::AppendOnlyTableStream of
// a journal in another account than its table: it describes the table,
// named by its ARN (the table's resource policy lets this function's role
// do that, and nothing else), and returns the ARN of its stream as the
// attribute StreamArn, which the journal's event source mapping and the
// sequencer's JOURNAL_STREAM take. The stream's ARN is its physical id: a
// new stream replaces the resource, and a delete does nothing.
func lookupStream(ctx context.Context, db tableDescriber, ev cfn.Event) (string, map[string]any, error) {
	if ev.RequestType == cfn.RequestDelete {
		return ev.PhysicalResourceID, nil, nil
	}
	arn, _ := ev.ResourceProperties["TableArn"].(string)
	if arn == "" {
		return "", nil, fmt.Errorf("the custom resource has no TableArn property")
	}
	out, err := db.DescribeTable(ctx, &dynamodb.DescribeTableInput{TableName: aws.String(arn)})
	if err != nil {
		return "", nil, fmt.Errorf("describing %s from the journal's account: %w (deploy the table's stack first: its resource policy lets this role describe it)", arn, err)
	}
	stream := aws.ToString(out.Table.LatestStreamArn)
	if spec := out.Table.StreamSpecification; stream == "" || spec == nil || !aws.ToBool(spec.StreamEnabled) {
		return "", nil, fmt.Errorf("the table %s has no stream enabled: the journal reads it", arn)
	}
	return stream, map[string]any{"StreamArn": stream}, nil
}
