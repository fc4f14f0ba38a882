package monitor

import (
	"context"
	"log/slog"
	"slices"
	"sort"
	"time"

	"github.com/cams-alert/cams-alert/function/alert"
	"github.com/cams-alert/cams-alert/function/ledger"
	"github.com/cams-alert/cams-alert/function/notify"
)

// CodeLedgerUnwritable is the problem (and summary error) of a run whose
// notifications could not be recorded: the alerts were held back.
const CodeLedgerUnwritable = "Ledger.Unwritable"

// SendStage posts one digest per channel of what the decide stage left
// pending, within each channel's share of the deadline, and records each
// delivery in the ledger. A notification is posted only after its pending
// entry was saved (write-ahead): one that cannot be recorded could be sent
// again by every run and every FC retry, so it is held back instead.
type SendStage struct {
	Channels map[string]Channel
	// Default channels get the health message.
	Default  []string
	Location *time.Location
	Log      *slog.Logger
	// Sleep waits between retries (tests make it instant).
	Sleep func(context.Context, time.Duration) error
}

// sending is one run of the send stage.
type sending struct {
	*SendStage
	ev        *Evaluation
	led       Ledger
	at        time.Time
	sum       *Summary
	log       *slog.Logger
	health    HealthBook
	problems  []alert.Problem
	isDefault map[string]bool
	failed    map[string]bool // channels whose digest failed
	// healthFailed are channels whose health message failed in this run.
	healthFailed map[string]bool
	// toldSilenced are channels whose digest in this run listed the
	// silenced alerts: a follow-up does not repeat them.
	toldSilenced map[string]bool
	// unwritable is why the ledger cannot record (nil while it can).
	unwritable error
}

// Run sends what dec left pending in led and fills sum's counts and errors.
func (s *SendStage) Run(ctx context.Context, ev *Evaluation, led Ledger, dec *Decision, at time.Time, sum *Summary) {
	r := &sending{SendStage: s, ev: ev, led: led, at: at, sum: sum, log: logger(s.Log), health: dec.Health,
		problems: slices.Clone(dec.Problems), isDefault: map[string]bool{}, failed: map[string]bool{}, healthFailed: map[string]bool{},
		toldSilenced: map[string]bool{}}
	for _, ch := range s.Default {
		r.isDefault[ch] = true
	}
	r.save() // the write-ahead of everything decided
	names := r.order()
	for i, name := range names {
		var entries []ledger.Entry
		for _, e := range led.Pending() {
			if e.Channel == name && e.Item != nil {
				entries = append(entries, e)
			}
		}
		var health []alert.Problem
		if r.isDefault[name] && len(r.health.Untold(led, name, r.problems)) > 0 {
			// the whole picture, when any of it is news
			health = slices.Clone(r.problems)
		}
		hello := r.hello(name)
		if len(entries) == 0 && len(health) == 0 && hello == nil {
			continue
		}
		r.post(ctx, name, entries, health, hello, len(names)-i-1)
	}
	// A default channel that went out before another channel failed (or
	// before any problem was known) hears about it in a short health-only
	// follow-up with only what it has not heard.
	for i, name := range names {
		if !r.isDefault[name] || r.failed[name] {
			continue
		}
		if news := r.health.Untold(led, name, r.problems); len(news) > 0 {
			r.post(ctx, name, nil, news, nil, len(names)-i-1)
		}
	}
	r.finish()
}

// order is the channels in delivery order: channels that only take alerts
// first, so the health message on the default channels can say which of
// them failed.
func (r *sending) order() []string {
	names := make([]string, 0, len(r.Channels))
	for n := range r.Channels {
		names = append(names, n)
	}
	sort.Slice(names, func(i, j int) bool {
		if r.isDefault[names[i]] != r.isDefault[names[j]] {
			return !r.isDefault[names[i]]
		}
		return names[i] < names[j]
	})
	return names
}

// save writes the ledger. The first failure makes the run loud: an error
// on stderr and in the summary, and a problem for the health message.
func (r *sending) save() bool {
	err := r.led.Save()
	if err == nil {
		return true
	}
	if r.unwritable != nil {
		return false // said already
	}
	r.unwritable = err
	msg := "cannot record notifications (" + err.Error() + "): alerts are held back, not sent, until STATE_DIR " +
		"is writable again (one that could not be recorded would be sent again by every run); they go out then"
	r.problems = append(r.problems, alert.Problem{Code: CodeLedgerUnwritable, Message: msg})
	r.sum.Errors = append(r.sum.Errors, Error{Code: CodeLedgerUnwritable, Message: msg})
	r.log.Error("notification ledger cannot be written: alert notifications are held back", "error", err)
	return false
}

// post delivers one digest; later is how many channels may still follow it
// in this run, each of which keeps ChannelReserve of the time left: one
// platform's rate block must not starve the others (and with them the
// health message that says it is blocked).
func (r *sending) post(ctx context.Context, name string, entries []ledger.Entry, health []alert.Problem,
	hello *notify.Learning, later int) {
	for _, e := range r.health.Entries(name, health) {
		r.led.MarkPending(e)
	}
	if (len(entries) > 0 || len(health) > 0) && !r.save() {
		if len(entries) > 0 {
			r.log.Warn("alert notifications held back: they cannot be recorded", "channel", name, "alerts", len(entries))
			entries = nil
		}
		if health = r.health.Untold(r.led, name, r.problems); !r.isDefault[name] || len(health) == 0 {
			return
		}
		// The health message still goes out, once per run: it says why
		// nothing else does.
	}
	d := r.digest(entries, health)
	d.Learning = hello
	if !r.toldSilenced[name] {
		d.Silenced = r.silencedFor(name)
		r.toldSilenced[name] = true
	}
	d.Actions = r.Channels[name].Actions
	sctx, cancel := channelContext(ctx, later)
	err := notify.Send(sctx, r.Channels[name].Notifier, d, r.Sleep)
	cancel()
	if err != nil {
		r.failedPost(name, entries, health, err)
	} else {
		r.sum.Notifications.Sent += len(entries)
		for _, e := range entries {
			r.led.MarkSent(e.Alert, e.Channel, e.Period, e.Transition, r.at)
		}
		for _, h := range r.health.Entries(name, health) {
			r.led.MarkSent(h.Alert, name, r.health.Period, ledger.Health, r.at)
		}
		if hello != nil {
			r.greeted(name)
		}
		r.log.Info("delivered", "channel", name, "alerts", len(entries), "health", len(health))
	}
	// Saved after every digest: a crash repeats at most this one.
	r.save()
}

func (r *sending) failedPost(name string, entries []ledger.Entry, health []alert.Problem, err error) {
	r.log.Error("delivery failed; notifications stay pending", "channel", name, "alerts", len(entries), "error", err)
	r.failed[name] = true
	r.sum.Notifications.Failed += len(entries)
	for _, e := range entries {
		e.LastError = err.Error()
		r.led.MarkPending(e)
	}
	for _, h := range r.health.Entries(name, health) {
		h.LastError = err.Error()
		r.led.MarkPending(h)
		r.healthFailed[name] = true
	}
	r.problems = append(r.problems, alert.Problem{Channel: name, Code: "Delivery.Failed", Message: err.Error()})
}

func (r *sending) digest(entries []ledger.Entry, health []alert.Problem) *notify.Digest {
	d := &notify.Digest{PeriodStart: r.ev.Period.Start, PeriodEnd: r.ev.Period.End, Location: r.Location, Health: health}
	for _, e := range entries {
		it := *e.Item
		it.Repeat = e.Transition == ledger.Repeat
		d.Items = append(d.Items, it)
	}
	d.Sort()
	return d
}

// silencedFor lists the firing alerts of channel name that a silence held
// back in this run.
func (r *sending) silencedFor(name string) []alert.Silenced {
	var out []alert.Silenced
	for i := range r.ev.Results {
		res := &r.ev.Results[i]
		if res.Silence == nil || res.State != alert.Firing || !slices.Contains(res.Rule.Channels(r.Default), name) {
			continue
		}
		out = append(out, alert.Silenced{Item: Item(res), Reason: res.Silence.Reason, Until: res.Silence.Until})
	}
	return out
}

// greetingKey is the ledger's alert key of a channel's greeting.
const greetingKey = "greeting"

// hello is the learning note of a channel's first message: how many
// templates are watched and from when the rules can judge them, so that
// silence is not mistaken for health. nil once the channel was greeted; a
// channel that heard from the product before greetings existed counts as
// greeted (and is recorded so).
func (r *sending) hello(name string) *notify.Learning {
	if r.ev.Templates == 0 {
		return nil // nothing watched: the health message says why
	}
	heard := false
	for _, e := range r.led.Entries() {
		if e.Channel != name || e.Status != ledger.StatusSent {
			continue
		}
		if e.Transition == ledger.Greeting {
			return nil
		}
		heard = true
	}
	if heard {
		r.greeted(name)
		return nil
	}
	from := r.ev.Period.Start // ready now
	if r.ev.Learning > 0 {
		from = r.ev.LearningFrom
	}
	return &notify.Learning{Templates: r.ev.Templates, From: from}
}

func (r *sending) greeted(name string) {
	period := r.ev.Period.Start
	if period.IsZero() {
		period = r.at
	}
	r.led.MarkSent(greetingKey, name, period, ledger.Greeting, r.at)
}

// finish drops health messages no longer owed and counts what is.
func (r *sending) finish() {
	// A health message is about now: one that failed in an earlier run is
	// not owed later (a rerun of the period sends a fresh one if problems
	// remain). One that failed in this run counts as pending.
	for _, e := range r.led.Pending() {
		if e.Transition == ledger.Health && !(r.healthFailed[e.Channel] && e.Period.Equal(r.health.Period)) {
			r.led.Drop(e.Alert, e.Channel, e.Period, e.Transition)
		}
	}
	r.save()
	owed := map[string]bool{} // channels owed a health message
	for _, e := range r.led.Pending() {
		switch {
		case e.Transition == ledger.Health:
			owed[e.Channel] = true
		case e.Item == nil:
		case r.unwritable != nil:
			// Not recorded anywhere: no retry could deliver it safely.
			r.sum.Notifications.HeldBack++
		default:
			r.sum.Notifications.Pending++
		}
	}
	r.sum.Notifications.HealthPending = len(owed)
}

// ChannelReserve is the time one channel's digest keeps for itself while an
// earlier one waits out a rate limit: a few attempts at a platform's usual
// latency, and its pacing.
const ChannelReserve = 20 * time.Second

// channelContext bounds one channel's delivery so that the later channels
// that may follow keep their reserve. Without a deadline nothing is bounded.
func channelContext(ctx context.Context, later int) (context.Context, context.CancelFunc) {
	dl, ok := ctx.Deadline()
	if !ok || later <= 0 {
		return context.WithCancel(ctx)
	}
	own := time.Until(dl) - time.Duration(later)*ChannelReserve
	// never less than one channel's reserve (or what is left, if less)
	own = max(own, min(ChannelReserve, time.Until(dl)))
	return context.WithTimeout(ctx, own)
}
