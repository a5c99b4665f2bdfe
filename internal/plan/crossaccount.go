package plan

import (
	"crypto/sha256"
	"fmt"

	"github.com/appendonly/appendonly/check"
)

// CrossAccount is what the table's account and a journal in another account
// say of each other: only names, since CloudFormation cannot reference
// across accounts.
type CrossAccount struct {
	TableAccount, JournalAccount, Region, TableName string
	// Role names in the journal's account: the sequencer's, which the
	// stream's resource policy lets read the stream, and the stream
	// lookup's, which the table's lets describe the table.
	SequencerRole, LookupRole, MonitorRole string
}

// NewCrossAccount checks that the table's stack and the journal's can hold
// a journal in another account, and names what they share.
func NewCrossAccount(tableAccount, tableRegion, journalAccount, jRegion, tableName string) (*CrossAccount, error) {
	c := &CrossAccount{TableAccount: tableAccount, JournalAccount: journalAccount, Region: tableRegion, TableName: tableName}
	switch {
	case IsToken(c.TableAccount) || IsToken(c.Region) || IsToken(c.JournalAccount) || IsToken(jRegion):
		return nil, fmt.Errorf("Journal.Stack: the table's stack and the journal's both need an explicit env (account and Region): " +
			"each account's policies name the other")
	case c.JournalAccount == c.TableAccount:
		return nil, fmt.Errorf("Journal.Stack: the journal's stack is in the table's account %s: give a stack in another account, "+
			"or leave Stack unset to keep the journal beside the table", c.TableAccount)
	case jRegion != c.Region:
		return nil, fmt.Errorf("Journal.Stack: the journal's stack is in %s, the table's in %s: a Lambda function reads a stream of its own Region", jRegion, c.Region)
	}
	h := fmt.Sprintf("%x", sha256.Sum256([]byte(c.TableAccount+":"+c.Region+":"+tableName)))[:12]
	c.SequencerRole, c.LookupRole, c.MonitorRole = "appendonly-sequencer-"+h, "appendonly-stream-lookup-"+h, "appendonly-monitor-"+h
	return c, nil
}

// TableArn is the table's ARN, as the journal's template writes it.
func (c *CrossAccount) TableArn() string {
	return "arn:${AWS::Partition}:dynamodb:" + c.Region + ":" + c.TableAccount + ":table/" + c.TableName
}

// JournalRoot is the journal account's root principal.
func (c *CrossAccount) JournalRoot() string {
	return "arn:${AWS::Partition}:iam::" + c.JournalAccount + ":root"
}

// RoleArn is the ARN of the journal account's role name.
func (c *CrossAccount) RoleArn(name string) string {
	return "arn:${AWS::Partition}:iam::" + c.JournalAccount + ":role/" + name
}

// TableStatement lets the journal's stream lookup describe the table, to
// learn its stream's ARN at deploy: the table's resource policy, where "*"
// is the table itself.
func (c *CrossAccount) TableStatement(arn func(string) string) Statement {
	return Statement{Sid: check.SidJournalDescribesTable, Effect: "Allow", Principal: map[string]any{"AWS": arn(c.JournalRoot())},
		Actions: []string{"dynamodb:DescribeTable"}, Resources: []string{"*"},
		Condition: map[string]any{"ArnEquals": map[string]any{"aws:PrincipalArn": arn(c.RoleArn(c.LookupRole))}}}
}

// MonitorStatement lets the journal's monitor read the table's items by
// key, to compare them with what was journaled: the table's resource
// policy.
func (c *CrossAccount) MonitorStatement(arn func(string) string) Statement {
	return Statement{Sid: check.SidJournalMonitorReads, Effect: "Allow", Principal: map[string]any{"AWS": arn(c.JournalRoot())},
		Actions: []string{"dynamodb:GetItem"}, Resources: []string{"*"},
		Condition: map[string]any{"ArnEquals": map[string]any{"aws:PrincipalArn": arn(c.RoleArn(c.MonitorRole))}}}
}

// StreamStatement lets the journal's sequencer read the table's stream:
// the stream's resource policy, which Lambda's event source mapping in the
// journal's account reads it through.
func (c *CrossAccount) StreamStatement(arn func(string) string) Statement {
	return Statement{Sid: check.SidJournalReadsStream, Effect: "Allow", Principal: map[string]any{"AWS": arn(c.JournalRoot())},
		Actions: []string{"dynamodb:DescribeStream", "dynamodb:GetRecords", "dynamodb:GetShardIterator"}, Resources: []string{"*"},
		Condition: map[string]any{"ArnEquals": map[string]any{"aws:PrincipalArn": arn(c.RoleArn(c.SequencerRole))}}}
}
