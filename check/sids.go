package check

// The Sids of the statements the construct writes: in the policies it
// protects (which the check finds by them) and in the grants it gives.
const (
	SidAppend                      = "AppendNewItemsWithPartiQLInsert"
	SidDenyDataLoss                = "DenyTableChangesThatLoseData"
	SidDenyItemMutations           = "DenyOverwriteUpdateAndDeleteOfItems"
	SidDenyKeyLoss                 = "DenyDisablingOrDeletingTableKey"
	SidDenySequencerControl        = "DenyControllingJournalSequencer"
	SidJournalDescribesTable       = "AllowJournalAccountDescribingTable"
	SidJournalMonitorOwnPrefix     = "DenyMonitorWritingOutsideItsPrefix"
	SidJournalMonitorReads         = "AllowJournalMonitorReadingItems"
	SidJournalNoDelete             = "DenyEveryoneDeletingOrUnlockingJournal"
	SidJournalNoReplicationIn      = "DenyEveryoneReplicatingIntoJournal"
	SidJournalProtect              = "DenyEveryoneButDeployerChangingJournalProtection"
	SidJournalReadsStream          = "AllowJournalSequencerReadingStream"
	SidJournalSignOnlyBySequencer  = "DenyEveryoneButSequencerSigning"
	SidJournalWriteOnlyBySequencer = "DenyEveryoneButSequencerWritingJournal"
	SidKeyGrantsForAWS             = "DenyCreatingGrantsExceptForAWSResources"
	SidKeyProtect                  = "DenyEveryoneButDeployerDisablingOrDeletingKey"
	SidRead                        = "ReadItems"
	SidReadStream                  = "ReadChangeStream"
	SidTableWideProtect            = "DenyEveryoneButDeployerChangingTableProtection"
	SidUseKeyToAppend              = "UseTableKeyToAppend"
	SidUseKeyToRead                = "UseTableKeyToRead"
	SidVaultProtect                = "DenyEveryoneDeletingOrShorteningRecoveryPoints"
)
