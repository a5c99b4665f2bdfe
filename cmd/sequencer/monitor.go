package main

import (
	"context"
	"errors"
	"fmt"
	"io"

	"golang.org/x/mod/sumdb/note"

	"github.com/appendonly/appendonly/journal"
	"github.com/appendonly/appendonly/ledger"
)

// monitor verifies, on a schedule, what the journal gained since the
// checkpoint it verified last (journal.Verifier.Since), reading the new
// items by key (the table named by its ARN, across accounts too), and
// reports the metric appendonly/JournalVerified, 1 or 0. It keeps each
// checkpoint it verified as a version of journal.MonitorCheckpointPath in
// the journal's bucket, which Object Lock keeps and only it may write; on a
// problem it keeps the old one, so that every run reports the problem
// again. With no checkpoint kept, it verifies the whole journal.
type monitor struct {
	store    journal.Store
	verifier note.Verifier
	table    string // the table's ARN, the journal's origin
	db       ledger.ItemGetter
	metrics  io.Writer
	logs     io.Writer
}

// run checks once; an error is a store or table it could not read, and
// reports no metric, which the monitor's alarm treats as a problem.
func (m *monitor) run(ctx context.Context) error {
	kept, err := m.store.Get(ctx, journal.MonitorCheckpointPath)
	if errors.Is(err, journal.ErrNotExist) {
		kept = nil
	} else if err != nil {
		return err
	}
	var problems []journal.Problem
	inc, err := (&journal.Verifier{Store: m.store, Key: m.verifier}).Since(ctx, kept)
	switch {
	case errors.Is(err, journal.ErrNotACheckpoint):
		problems = append(problems, journal.Problem{What: "forged checkpoint", Index: -1,
			Detail: fmt.Sprintf("the checkpoint the monitor kept, %s, does not verify: %v", journal.MonitorCheckpointPath, err)})
	case err != nil:
		return err
	default:
		found, err := journal.CompareItems(inc, func(key []byte) ([]byte, bool, error) {
			return ledger.ReadItem(ctx, m.db, m.table, key)
		})
		if err != nil {
			return err
		}
		problems = append(append(problems, inc.Problems...), found...)
	}
	for _, p := range problems {
		fmt.Fprintln(m.logs, "monitor:", p)
	}
	if len(problems) > 0 {
		writeMetric(m.metrics, m.table, "JournalVerified", 0)
		return nil
	}
	if inc.Signed != nil && (kept == nil || inc.Latest.Size > inc.From.Size) {
		if err := m.store.AddVersion(ctx, journal.MonitorCheckpointPath, inc.Signed); err != nil {
			return err
		}
	}
	fmt.Fprintf(m.logs, "monitor: %d entries appended since the checkpoint of %d verified, up to %d\n", len(inc.Entries), inc.From.Size, inc.Latest.Size)
	writeMetric(m.metrics, m.table, "JournalVerified", 1)
	return nil
}
