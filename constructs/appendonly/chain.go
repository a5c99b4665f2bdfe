package appendonly

import (
	"github.com/aws/aws-cdk-go/awscdk/v2/awsdynamodb"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsiam"
	"github.com/aws/jsii-runtime-go"
)

// Chain tables: what the runtime package github.com/appendonly/appendonly/ledger
// needs of a table that holds hash chains (ledger.Chain, the appendonly
// command).
const (
	// ChainKey is the partition key of a chain table: the chain's name.
	ChainKey = "chain"
	// SequenceKey is the sort key of a chain table: the item's position in
	// its chain, from 1.
	SequenceKey = "seq"
)

// ChainTableProps returns TableProps for a table of hash chains: partition
// key ChainKey (string), sort key SequenceKey (number). Set other fields on
// the result as for any table; it is a new value on each call.
func ChainTableProps() *awsdynamodb.TableProps {
	return &awsdynamodb.TableProps{
		PartitionKey: &awsdynamodb.Attribute{Name: jsii.String(ChainKey), Type: awsdynamodb.AttributeType_STRING},
		SortKey:      &awsdynamodb.Attribute{Name: jsii.String(SequenceKey), Type: awsdynamodb.AttributeType_NUMBER},
	}
}

// GrantChainAppend lets grantee append to the table's chains: PartiQL
// INSERT, and the reads an append needs (the consistent Query of a chain's
// tail) and that verification needs. It carries the same denies as
// GrantAppend.
func (t *Table) GrantChainAppend(grantee awsiam.IGrantable) awsiam.Grant {
	return t.grant(grantee, accessAppend|accessRead)
}
