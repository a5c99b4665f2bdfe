// Package ledger appends to append-only DynamoDB tables and keeps
// tamper-evident hash chains in them, with the AWS SDK for Go v2 and no
// dependency on the CDK: a Lambda function that imports it stays small.
//
// Append writes an item with a parameterized PartiQL INSERT, which fails
// with DuplicateItemException instead of overwriting; AppendAll writes up
// to 100 items in one all-or-nothing transaction. A duplicate key comes back
// as an error for which errors.Is(err, ErrDuplicateItem) holds.
//
// A Chain is a table whose partition key names a chain and whose numeric
// sort key is a sequence number starting at 1. Chain.Append reads the
// chain's tail with a consistent read and inserts the next item with the
// previous item's hash and its own: SHA-256 over the item's canonical
// encoding (Encode, version CanonicalVersion), without the hash itself. A
// writer that loses a race for a sequence number reads the tail again and
// retries. Chain.Tip returns a Digest, the chain's tip as one string to keep
// out of the writers' reach; Chain.Verify reads the chain in order, with
// constant memory, recomputes every hash and reports the first break, and
// against a saved digest also catches a chain rewritten consistently or cut
// short.
//
// What verification proves: that the chain is internally consistent, and,
// with a digest, that every item up to the digest's sequence number is the
// one that was there when the digest was taken. What it cannot prove alone:
// someone able to rewrite every item can recompute every hash; only a digest
// kept where they cannot reach it (a locked backup vault, an S3 Object Lock
// bucket, a ticket) catches that.
package ledger
