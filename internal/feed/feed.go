// Package feed checks that the journal's feed runs: that the table's
// DynamoDB stream reaches the sequencer, every record, with nothing in
// between that stops, filters or drops records. The sequencer runs the
// check on a schedule and reports a metric whose absence, like a failed
// check, raises the journal's feed alarm: a feed that stops or thins is
// never silent.
package feed

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodbstreams"
	streamtypes "github.com/aws/aws-sdk-go-v2/service/dynamodbstreams/types"
	"github.com/aws/aws-sdk-go-v2/service/lambda"
	lambdatypes "github.com/aws/aws-sdk-go-v2/service/lambda/types"
)

// LambdaAPI is the part of the Lambda client the check calls.
type LambdaAPI interface {
	ListEventSourceMappings(ctx context.Context, in *lambda.ListEventSourceMappingsInput, opts ...func(*lambda.Options)) (*lambda.ListEventSourceMappingsOutput, error)
	GetFunctionConcurrency(ctx context.Context, in *lambda.GetFunctionConcurrencyInput, opts ...func(*lambda.Options)) (*lambda.GetFunctionConcurrencyOutput, error)
}

// StreamsAPI is the part of the DynamoDB Streams client the check calls.
type StreamsAPI interface {
	DescribeStream(ctx context.Context, in *dynamodbstreams.DescribeStreamInput, opts ...func(*dynamodbstreams.Options)) (*dynamodbstreams.DescribeStreamOutput, error)
}

// Checker checks one journal's feed.
type Checker struct {
	Lambda  LambdaAPI
	Streams StreamsAPI
	// Function is the sequencer's name or ARN, Stream the table's stream
	// ARN, as deployed.
	Function, Stream string
}

// Check returns what stops or thins the feed, one finding each; none when
// the feed runs whole. A call the check cannot make is a finding too: the
// alarm cannot tell a check that could not look from a feed that stopped.
func (c *Checker) Check(ctx context.Context) []string {
	var findings []string
	add := func(format string, args ...any) { findings = append(findings, fmt.Sprintf(format, args...)) }

	var feeding, others []lambdatypes.EventSourceMappingConfiguration
	p := lambda.NewListEventSourceMappingsPaginator(c.Lambda, &lambda.ListEventSourceMappingsInput{FunctionName: aws.String(c.Function)})
	for p.HasMorePages() {
		page, err := p.NextPage(ctx)
		if err != nil {
			add("the sequencer's event source mappings cannot be listed: %v", err)
			break
		}
		for _, m := range page.EventSourceMappings {
			if aws.ToString(m.EventSourceArn) == c.Stream {
				feeding = append(feeding, m)
			} else {
				others = append(others, m)
			}
		}
	}
	if len(feeding) == 0 && len(findings) == 0 {
		add("no event source mapping feeds the sequencer from the table's stream %s: it was deleted or moved to another source", c.Stream)
	}
	for _, m := range feeding {
		id := aws.ToString(m.UUID)
		switch state := aws.ToString(m.State); state {
		case "Enabled", "Enabling", "Creating", "Updating":
		default:
			add("the event source mapping %s is %s: no record reaches the sequencer", id, state)
		}
		if m.FilterCriteria != nil && len(m.FilterCriteria.Filters) > 0 {
			add("the event source mapping %s has %d filter(s): the records they drop are never journaled", id, len(m.FilterCriteria.Filters))
		}
		if v := aws.ToInt32(m.MaximumRetryAttempts); m.MaximumRetryAttempts != nil && v != -1 {
			add("the event source mapping %s gives up after %d retries: a batch that keeps failing is dropped", id, v)
		}
		if v := aws.ToInt32(m.MaximumRecordAgeInSeconds); m.MaximumRecordAgeInSeconds != nil && v != -1 {
			add("the event source mapping %s drops records older than %d seconds", id, v)
		}
		if r := aws.ToString(m.LastProcessingResult); strings.HasPrefix(r, "PROBLEM") {
			add("the event source mapping %s: %s", id, r)
		}
	}
	for _, m := range others {
		add("the event source mapping %s feeds the sequencer from %s, not the table's stream: its records are refused", aws.ToString(m.UUID), aws.ToString(m.EventSourceArn))
	}

	conc, err := c.Lambda.GetFunctionConcurrency(ctx, &lambda.GetFunctionConcurrencyInput{FunctionName: aws.String(c.Function)})
	switch {
	case err != nil:
		add("the sequencer's concurrency cannot be read: %v", err)
	case conc.ReservedConcurrentExecutions != nil && *conc.ReservedConcurrentExecutions == 0:
		add("the sequencer's reserved concurrency is 0: it cannot run")
	}

	out, err := c.Streams.DescribeStream(ctx, &dynamodbstreams.DescribeStreamInput{StreamArn: aws.String(c.Stream), Limit: aws.Int32(1)})
	var nf *streamtypes.ResourceNotFoundException
	switch {
	case errors.As(err, &nf):
		add("the table's stream %s no longer exists", c.Stream)
	case err != nil:
		add("the table's stream %s cannot be described: %v (its resource policy removed?)", c.Stream, err)
	default:
		switch s := out.StreamDescription.StreamStatus; s {
		case streamtypes.StreamStatusEnabled, streamtypes.StreamStatusEnabling:
		default:
			add("the table's stream %s is %s: the stream was turned off or replaced, and a new one feeds nothing", c.Stream, s)
		}
	}
	return findings
}
