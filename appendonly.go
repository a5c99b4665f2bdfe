// Command appendonly is a CDK app that reproduces the AWS re:Post article
// "Using DynamoDB as an Append-Only Database" with the appendonly construct:
// a table Music (partition key Artist, sort key SongTitle), the managed policy
// AppendOnlyDynamoDB and the IAM user AppendUser.
package main

import (
	"fmt"
	"os"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsdynamodb"
	"github.com/aws/constructs-go/constructs/v10"
	"github.com/aws/jsii-runtime-go"

	"github.com/appendonly/appendonly/constructs/appendonly"
)

// StackName is the name of the example stack.
const StackName = "AppendOnlyMusicStack"

// NewMusicStack creates the article's stack: an environment-agnostic stack
// whose table is append-only for every principal.
func NewMusicStack(scope constructs.Construct, id string, props *awscdk.StackProps) (awscdk.Stack, error) {
	stack := awscdk.NewStack(scope, jsii.String(id), props)
	music, err := appendonly.NewTable(stack, "Music", &appendonly.Props{
		TableProps: &awsdynamodb.TableProps{
			TableName:    jsii.String("Music"),
			PartitionKey: &awsdynamodb.Attribute{Name: jsii.String("Artist"), Type: awsdynamodb.AttributeType_STRING},
			SortKey:      &awsdynamodb.Attribute{Name: jsii.String("SongTitle"), Type: awsdynamodb.AttributeType_STRING},
		},
		ManagedPolicyName: "AppendOnlyDynamoDB",
		User:              &appendonly.UserProps{UserName: "AppendUser"},
	})
	if err != nil {
		return nil, err
	}
	awscdk.NewCfnOutput(stack, jsii.String("TableName"), &awscdk.CfnOutputProps{
		Value:       music.DynamoTable().TableName(),
		Description: jsii.String("The append-only table"),
	})
	awscdk.NewCfnOutput(stack, jsii.String("PolicyArn"), &awscdk.CfnOutputProps{
		Value:       music.ManagedPolicy().ManagedPolicyArn(),
		Description: jsii.String("The append-only managed policy"),
	})
	awscdk.NewCfnOutput(stack, jsii.String("UserName"), &awscdk.CfnOutputProps{
		Value:       music.User().UserName(),
		Description: jsii.String("The IAM user that appends; create its access key after deployment"),
	})
	return stack, nil
}

// musicStackProps are the props main gives the stack.
func musicStackProps() *awscdk.StackProps {
	return &awscdk.StackProps{
		Description: jsii.String("appendonly: the DynamoDB table Music, append-only for every principal"),
	}
}

func main() {
	defer jsii.Close()

	app := awscdk.NewApp(nil)
	_, err := NewMusicStack(app, StackName, musicStackProps())
	if err == nil {
		err = synth(app)
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		jsii.Close()
		os.Exit(1)
	}
}

// synth synthesizes app, returning CDK's synthesis errors (a limit exceeded,
// an error annotation) as an error rather than a stack trace.
func synth(app awscdk.App) (err error) {
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("cdk synth failed: %v", r)
		}
	}()
	app.Synth(nil)
	return nil
}
