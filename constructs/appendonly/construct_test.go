package appendonly_test

import (
	"fmt"
	"slices"
	"testing"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/assertions"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsdynamodb"
	"github.com/aws/aws-cdk-go/awscdk/v2/awssqs"
	"github.com/aws/constructs-go/constructs/v10"
	"github.com/aws/jsii-runtime-go"

	"github.com/appendonly/appendonly/constructs/appendonly"
)

// Table is a construct like any CDK construct.

func TestTagsReachTheTable(t *testing.T) {
	tmpl := synthWith(t, func(stack awscdk.Stack) {
		p := minimalProps()
		p.User = &appendonly.UserProps{}
		ledger := mustNewTable(t, stack, p)
		awscdk.Tags_Of(ledger).Add(jsii.String("data-class"), jsii.String("ledger"), nil)
	})
	for _, typ := range []string{"AWS::DynamoDB::Table", "AWS::IAM::User"} {
		_, r := tmpl.Only(t, typ)
		tags := fmt.Sprint(props(r)["Tags"])
		if tags != fmt.Sprint([]any{map[string]any{"Key": "data-class", "Value": "ledger"}}) {
			t.Errorf("%s: got Tags %s, want data-class=ledger", typ, tags)
		}
	}
}

func TestADependencyOnTheTableReachesItsResources(t *testing.T) {
	tmpl := synthWith(t, func(stack awscdk.Stack) {
		ledger := mustNewTable(t, stack, minimalProps())
		queue := awssqs.NewQueue(stack, jsii.String("Consumer"), &awssqs.QueueProps{EnforceSSL: jsii.Bool(true)})
		queue.Node().AddDependency(ledger)
	})
	tableID, _ := tmpl.Only(t, "AWS::DynamoDB::Table")
	_, queue := tmpl.Only(t, "AWS::SQS::Queue")
	var deps []string
	for _, d := range queue["DependsOn"].([]any) {
		deps = append(deps, d.(string))
	}
	if !slices.Contains(deps, tableID) {
		t.Errorf("got DependsOn %v, want it to name the table %s", deps, tableID)
	}
}

func TestTableIsFoundInTheTree(t *testing.T) {
	stack := newStack(t)
	ledger := mustNewTable(t, stack, minimalProps())
	found := stack.Node().TryFindChild(jsii.String("Ledger"))
	if found == nil || *found.Node().Path() != *ledger.Node().Path() {
		t.Fatalf("got %v under the stack, want the table's construct", found)
	}
	if got := *ledger.DynamoTable().Node().Scope().Node().Path(); got != "Test/Ledger" {
		t.Errorf("the DynamoDB table's parent is %s, want Test/Ledger", got)
	}
}

// countingAspect counts the constructs it visits.
type countingAspect struct{ visited int }

func (a *countingAspect) Visit(node constructs.IConstruct) { a.visited++ }

func TestAspectsVisitTheTablesChildren(t *testing.T) {
	stack := newStack(t)
	ledger := mustNewTable(t, stack, minimalProps())
	aspect := &countingAspect{}
	awscdk.Aspects_Of(ledger).Add(aspect, nil)
	awscdk.App_Of(stack).Synth(nil)
	// The construct, the managed policy and its L1, the table and its L1:
	// at least five.
	if aspect.visited < 5 {
		t.Errorf("the aspect visited %d constructs, want the table construct and its children", aspect.visited)
	}
}

// The ExistingTable warning fails `cdk synth --strict` until acknowledged,
// the way CDK acknowledges any warning by the id it prints.
func TestExistingTableWarningCanBeAcknowledged(t *testing.T) {
	for _, ack := range []bool{false, true} {
		t.Run(fmt.Sprintf("acknowledged=%v", ack), func(t *testing.T) {
			stack := newStack(t)
			existing := awsdynamodb.Table_FromTableName(stack, jsii.String("Existing"), jsii.String("Orders"))
			ledger := mustNewTable(t, stack, &appendonly.Props{ExistingTable: existing, Enforcement: appendonly.EnforceIdentityOnlyOthersCanModify})
			if ack {
				awscdk.Annotations_Of(ledger).AcknowledgeWarning(jsii.String("appendonly:existingTableIdentityOnly"),
					jsii.String("Orders is shared with a legacy writer; identity-only is what we can have"))
			}
			warnings := assertions.Annotations_FromStack(stack).FindWarning(jsii.String("*"),
				assertions.Match_StringLikeRegexp(jsii.String("ExistingTable: append-only is enforced only")))
			want := 1
			if ack {
				want = 0
			}
			if got := len(*warnings); got != want {
				t.Errorf("got %d warnings, want %d", got, want)
			}
		})
	}
}
