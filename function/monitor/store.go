package monitor

import (
	"errors"
	"fmt"
	"log/slog"
	"path/filepath"
	"time"

	"github.com/cams-alert/cams-alert/function/alert"
	"github.com/cams-alert/cams-alert/function/ledger"
)

// Ledger is what the decide and send stages need of the notification log:
// *ledger.Ledger on disk, or ledger.NewMemory in tests and dry runs.
type Ledger interface {
	Entries() []ledger.Entry
	Pending() []ledger.Entry
	Sent(alertKey, channel string, period time.Time, transition string) bool
	MarkPending(e ledger.Entry)
	MarkSent(alertKey, channel string, period time.Time, transition string, at time.Time)
	Drop(alertKey, channel string, period time.Time, transition string) bool
	Prune(before time.Time) ledger.PruneResult
	// Save records the changes; a notification whose write-ahead Save
	// failed is not sent.
	Save() error
}

// dryLedger is a ledger read from disk whose changes stay in memory: a dry
// run decides exactly as a real one would and writes nothing.
type dryLedger struct{ *ledger.Ledger }

func (dryLedger) Save() error { return nil }

// unwritable is a ledger that can be read (or is empty) but not recorded
// in: every Save fails with why, so the send stage holds alerts back.
type unwritable struct {
	Ledger
	err error
}

func (u unwritable) Save() error { return u.err }

// openLedger opens the ledger under the run lock. A dry run reads it without
// touching the disk. A STATE_DIR that can be read but not written gives the
// ledger as it is on disk, unwritable: what it says was sent is not sent
// again, and nothing is sent that could not be recorded.
func openLedger(dl *Delivery, now time.Time, log *slog.Logger) (Ledger, func(), []alert.Problem, error) {
	if dl.DryRun {
		l, err := ledger.OpenReadOnly(dl.StateDir)
		if l == nil {
			return dryLedger{ledger.NewMemory(now)}, func() {}, []alert.Problem{{Code: "Ledger.Unreadable", Message: "the notification ledger cannot be read (" +
				err.Error() + "); the dry run shows every notification as due"}}, nil
		}
		return dryLedger{l}, func() {}, corrupt(err, log), nil
	}
	unlock, err := dl.LedgerOptions.Lock(dl.StateDir)
	if err != nil {
		var le *ledger.LockedError
		if errors.As(err, &le) {
			return nil, func() {}, nil, fmt.Errorf("another run holds the ledger: %w", err)
		}
		// A STATE_DIR that cannot take the lock cannot take the ledger
		// either: Open below says so.
		unlock = func() {}
	}
	l, err := dl.LedgerOptions.Open(dl.StateDir, now)
	if l != nil {
		return l, unlock, corrupt(err, log), nil
	}
	werr := fmt.Errorf("STATE_DIR cannot be used: %w", err)
	if ro, rerr := ledger.OpenReadOnly(dl.StateDir); ro != nil && rerr == nil {
		return unwritable{ro, werr}, unlock, nil, nil
	}
	// Not even readable (ledger.json is a directory, or corrupt where it
	// cannot be moved aside): nothing is known to be sent, and nothing can
	// be recorded.
	return unwritable{ledger.NewMemory(now), werr}, unlock, nil, nil
}

// corrupt turns Open's *ledger.CorruptError into a health problem; any other
// error (none today) is not Open's to return with a ledger.
func corrupt(err error, log *slog.Logger) []alert.Problem {
	var ce *ledger.CorruptError
	if !errors.As(err, &ce) {
		return nil
	}
	msg := "the notification ledger " + filepath.Base(ce.Path) + " is unreadable (" + ce.Err.Error() + ")"
	if ce.KeptAs != "" {
		msg += " and was kept aside as " + filepath.Base(ce.KeptAs) + "; a new one was started"
	}
	msg += ": alerts already sent may be sent once more"
	log.Error("ledger is corrupt; started afresh", "kept_as", ce.KeptAs, "error", err)
	return []alert.Problem{{Code: "Ledger.Corrupt", Message: msg}}
}
