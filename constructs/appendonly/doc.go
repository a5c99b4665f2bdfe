// Package appendonly provides an AWS CDK construct that turns an Amazon
// DynamoDB table into an append-only database.
//
// Writers append with PartiQL INSERT, which fails with DuplicateItemException
// instead of overwriting an existing item. Every other way of changing data
// (PutItem, UpdateItem, DeleteItem, BatchWriteItem, PartiQL UPDATE and
// DELETE, TTL, and the table changes that lose data) is explicitly denied:
// in the construct's managed policy and grants, and by default also in the
// table's own resource policy, so that it binds every principal in the
// account, administrators and the deployer included. Only the stack's
// deployer (and exempt principals) may change the table's protection.
//
// NewTable validates its props in plain Go and returns an error naming each
// invalid prop before it creates anything. It also arms, once per app, a
// guard that fails synthesis when any IAM policy in the app grants a write on
// an append-only table. With Props.Backup the table is backed up to an AWS
// Backup vault under Vault Lock.
package appendonly
