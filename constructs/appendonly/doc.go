// Package appendonly provides an AWS CDK construct that turns an Amazon
// DynamoDB table into an append-only database.
//
// Writers append with PartiQL INSERT, which fails with DuplicateItemException
// instead of overwriting an existing item. Every other way of changing data
// (PutItem, UpdateItem, DeleteItem, BatchWriteItem, PartiQL UPDATE and
// DELETE, TTL, and the table changes that lose data) is explicitly denied:
// in the construct's managed policy and grants, and by default also in the
// table's own resource policy, so that it binds every principal in the
// account, administrators included.
//
// NewTable validates its props in plain Go and returns an error naming each
// invalid prop before it creates anything.
package appendonly
