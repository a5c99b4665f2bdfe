package appendonly

import "github.com/appendonly/appendonly/check"

// The IAM action lists live in package check, which reads templates with
// them; the functions below return copies, so that no caller can change
// what another table gets.

// AppendActions returns a copy of the actions that append: PartiQL INSERT,
// which fails with DuplicateItemException when the key exists.
func AppendActions() []string { return check.AppendActions() }

// ReadActions returns a copy of the actions that read items and describe the
// table.
func ReadActions() []string { return check.ReadActions() }

// StreamReadActions returns a copy of the actions that read the table's
// change feed.
func StreamReadActions() []string { return check.StreamReadActions() }

// ItemMutationActions returns a copy of the actions that change or remove an
// existing item: PutItem, UpdateItem, DeleteItem, BatchWriteItem and PartiQL
// UPDATE and DELETE.
func ItemMutationActions() []string { return check.ItemMutationActions() }

// DataLossControlActions returns a copy of the table-level actions that lose
// or rewrite data, which the construct's principals are denied.
func DataLossControlActions() []string { return check.DataLossControlActions() }

// DenyActions returns a copy of every action the construct denies to the
// principals it creates or grants to: ItemMutationActions followed by
// DataLossControlActions.
func DenyActions() []string { return check.DenyActions() }

// TableWideDenyActions returns a copy of what the table's resource policy
// denies to every principal, the deployer included, in EnforceTableWide
// mode (DeleteTable, added unless UnsafeAllowTableRemoval, not among them).
func TableWideDenyActions() []string { return check.TableWideDenyActions() }

// TableProtectionActions returns a copy of what the table's resource policy
// denies to every principal but the deployer and the exempt principals in
// EnforceTableWide mode.
func TableProtectionActions() []string { return check.TableProtectionActions() }

// KeyAppendActions returns a copy of the KMS actions a writer gets on a
// customer managed key.
func KeyAppendActions() []string { return check.KeyAppendActions() }

// KeyReadActions returns a copy of the KMS actions a reader gets on a
// customer managed key.
func KeyReadActions() []string { return check.KeyReadActions() }

// KeyDenyActions returns a copy of the KMS actions that make a customer
// managed key unusable, which are denied on the table's key.
func KeyDenyActions() []string { return check.KeyDenyActions() }

// SequencerControlActions returns a copy of what the construct's
// principals are denied on the journal's sequencer, its event source
// mapping and its role, and on the monitor and its role.
func SequencerControlActions() []string { return check.SequencerControlActions() }

// JournalReplicationActions returns a copy of what the journal's bucket
// policy denies to everyone: replication into the bucket.
func JournalReplicationActions() []string { return check.JournalReplicationActions() }

// JournalDeleteActions returns a copy of what the journal's bucket policy
// denies to everyone but the exempt principals.
func JournalDeleteActions() []string { return check.JournalDeleteActions() }

// JournalProtectionActions returns a copy of what the journal's bucket
// policy denies to everyone but the deployer and the exempt principals.
func JournalProtectionActions() []string { return check.JournalProtectionActions() }

// VaultDenyActions returns a copy of what the vault's access policy denies.
func VaultDenyActions() []string { return check.VaultDenyActions() }
