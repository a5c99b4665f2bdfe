// Package ledger appends to append-only DynamoDB tables with the AWS SDK
// for Go v2 and no dependency on the CDK, so that a Lambda function that
// imports it stays small, and holds the canonical encoding of an item that
// the journal (package journal) hashes and archives.
//
// Append writes an item with a parameterized PartiQL INSERT, which fails
// with DuplicateItemException instead of overwriting; AppendAll writes up
// to 100 items in one all-or-nothing transaction. A duplicate key comes back
// as an error for which errors.Is(err, ErrDuplicateItem) holds. Both are
// idempotent under the SDK's retries (a ClientRequestToken).
//
// Encode is the canonical encoding: the same bytes for the same item
// however its attributes, map keys and set elements are ordered and
// whatever form its numbers were written in, so that what DynamoDB returns
// encodes as what was appended. It refuses what it cannot represent
// faithfully: a string that is not valid UTF-8, which the SDK would store
// changed. Decode reads it back.
package ledger
