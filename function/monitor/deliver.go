package monitor

import (
	"context"
	"log/slog"
	"time"

	"github.com/cams-alert/cams-alert/function/alert"
	"github.com/cams-alert/cams-alert/function/ledger"
	"github.com/cams-alert/cams-alert/function/notify"
	"github.com/cams-alert/cams-alert/function/rules"
)

// Channel is one destination and its own send_resolved switch.
type Channel struct {
	Notifier notify.Notifier
	// SendResolved, when set, overrides the rule's send_resolved.
	SendResolved *bool
	// Actions gives the actions shown beside an alert (silence buttons or
	// links); nil: none.
	Actions func(it *alert.Item) []notify.Action
}

// Delivery is how the decide and send stages are wired.
type Delivery struct {
	Channels map[string]Channel
	// Default channels take rules that name none, and the health message.
	Default []string
	// Silences in force: the rules' own and those set from the chat,
	// merged by the caller.
	Silences []rules.Silence
	StateDir string
	// LedgerOptions are the ledger's file-system calls (tests inject
	// failures through them).
	LedgerOptions ledger.Options
	// DryRun consults a copy of the ledger and changes nothing on disk; the
	// channels are expected to be console notifiers.
	DryRun   bool
	Location *time.Location
	Log      *slog.Logger
	// Sleep waits between retries (tests make it instant).
	Sleep func(context.Context, time.Duration) error
}

// Retention is how long sent notifications are remembered: longer than any
// repeat_every and than any period someone reruns with `run --at`.
const Retention = 90 * 24 * time.Hour

// Deliver runs the decide and send stages on an evaluation against the
// ledger in StateDir (under its lock): what is due is recorded as pending,
// posted as one digest per channel, and marked sent once accepted. A crash
// between a post and the ledger write can repeat that one digest, never
// more.
//
// Times: repeat_every is measured in evaluation time (ev.At: the timer's
// trigger time, or `run --at`), and a delivery is stamped with ev.At, so a
// rerun or an FC retry of a moment judges exactly as the first run did. now
// (the wall clock) only ages pending notifications.
func Deliver(ctx context.Context, ev *Evaluation, dl *Delivery, now time.Time) (*Summary, error) {
	log := logger(dl.Log)
	at := ev.At
	if at.IsZero() {
		at = now
	}
	decide := &DecideStage{Channels: dl.Channels, Default: dl.Default, Silences: dl.Silences, Log: log}
	decide.Silence(ev.Results, at)
	sum := newSummary(ev)
	if dl.DryRun {
		// Nothing was sent: what the consoles printed would have been.
		defer func() {
			sum.Notifications.WouldSend, sum.Notifications.Sent = sum.Notifications.Sent, 0
		}()
	}
	led, done, known, err := openLedger(dl, now, log)
	if err != nil {
		return sum, err
	}
	defer done()
	dec := decide.Run(ev, led, known, at, now)
	send := &SendStage{Channels: dl.Channels, Default: dl.Default, Location: dl.Location, Log: log, Sleep: dl.Sleep}
	send.Run(ctx, ev, led, dec, at, sum)
	return sum, nil
}
