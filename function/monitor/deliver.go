package monitor

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"sort"
	"time"

	"github.com/cams-alert/cams-alert/function/alert"
	"github.com/cams-alert/cams-alert/function/ledger"
	"github.com/cams-alert/cams-alert/function/notify"
)

// Channel is one destination and its own send_resolved switch.
type Channel struct {
	Notifier notify.Notifier
	// SendResolved, when set, overrides the rule's send_resolved.
	SendResolved *bool
}

// Delivery is how the decide and deliver stages are wired.
type Delivery struct {
	Channels map[string]Channel
	// Default channels take rules that name none, and the health message.
	Default  []string
	StateDir string
	// DryRun consults a copy of the ledger and changes nothing on disk; the
	// channels are expected to be console notifiers.
	DryRun   bool
	Location *time.Location
	Log      *slog.Logger
	// Sleep waits between retries (tests make it instant).
	Sleep func(context.Context, time.Duration) error
}

// Summary is the run summary of SPEC §4: printed by `run --json` and returned
// by the FC handler.
type Summary struct {
	At            time.Time   `json:"at"`
	Period        PeriodJSON  `json:"period"`
	Templates     int         `json:"templates"`
	APICalls      int64       `json:"api_calls"`
	Retries       int64       `json:"retries"`
	Alerts        []AlertJSON `json:"alerts"`
	Notifications Counts      `json:"notifications"`
	Errors        []Error     `json:"errors"`
}

// PeriodJSON is the evaluated period.
type PeriodJSON struct {
	Start time.Time `json:"start"`
	End   time.Time `json:"end"`
}

// AlertJSON is one alert of the summary.
type AlertJSON struct {
	Rule     string   `json:"rule"`
	Template string   `json:"template"`
	Language string   `json:"language"`
	Button   string   `json:"button,omitempty"`
	Severity string   `json:"severity"`
	State    string   `json:"state"`
	Value    float64  `json:"value"`
	Baseline *float64 `json:"baseline,omitempty"`
	Silenced string   `json:"silenced,omitempty"`
}

// Counts are notifications (one alert to one channel) by outcome.
type Counts struct {
	Sent    int `json:"sent"`
	Failed  int `json:"failed"`
	Pending int `json:"pending"`
}

// OK reports whether the run checked everything and delivered everything:
// exit 0, and no FC retry needed.
func (s *Summary) OK() bool { return len(s.Errors) == 0 && s.Notifications.Pending == 0 }

const healthKey = "health"

// Deliver decides what is due for each channel, records it in the ledger as
// pending, posts one digest per channel, and marks what was accepted. A crash
// between a post and the ledger write can repeat that one digest, never more.
func Deliver(ctx context.Context, ev *Evaluation, dl *Delivery, now time.Time) (*Summary, error) {
	log := dl.Log
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	sum := newSummary(ev)
	var problems []alert.Problem
	for _, e := range ev.Errors {
		problems = append(problems, alert.Problem{Template: e.Template, Code: e.Code, Message: e.Message})
	}
	if ev.Templates > 0 && ev.Empty == ev.Templates {
		problems = append(problems, alert.Problem{Code: "NoData", Message: fmt.Sprintf(
			"all %d templates returned no metrics: is the WhatsApp ROI metric enabled for this space "+
				"(EnableWhatsappROIMetric)? Metrics appear a day after it is enabled, and only for sends after that", ev.Templates)})
	}

	led, done, lprobs, err := openLedger(dl, now)
	problems = append(problems, lprobs...)
	if err != nil {
		var ce *ledger.CorruptError
		if !errors.As(err, &ce) {
			return sum, err
		}
		log.Error("ledger was corrupt; kept aside and started afresh", "kept_as", ce.KeptAs)
		problems = append(problems, alert.Problem{Code: "Ledger.Corrupt", Message: fmt.Sprintf(
			"the notification ledger was unreadable and was kept aside as %s; alerts already sent may be sent once more", filepath.Base(ce.KeptAs))})
	}
	defer done()

	// Decide: every transition due, recorded as pending before anything is sent.
	for i := range ev.Results {
		r := &ev.Results[i]
		if r.Silenced != "" {
			continue
		}
		item := Item(r)
		chans := r.Rule.Notify
		if len(chans) == 0 {
			chans = dl.Default
		}
		for _, ch := range chans {
			c, ok := dl.Channels[ch]
			if !ok {
				continue
			}
			if e, due := due(led, &item, r, ch, c, ev.Period.Start, ev.At); due {
				led.MarkPending(e)
			}
		}
	}
	for _, e := range led.Pending() {
		if _, ok := dl.Channels[e.Channel]; !ok {
			log.Warn("dropping a pending notification for a channel no longer configured", "channel", e.Channel, "alert", e.Alert)
			led.Drop(e.Alert, e.Channel, e.Period, e.Transition)
		}
	}
	if err := save(led); err != nil && len(lprobs) == 0 {
		problems = append(problems, alert.Problem{Code: "Ledger.Unwritable", Message: "cannot record notifications (" +
			err.Error() + "); alerts are still sent but a rerun may repeat them"})
		log.Error("ledger not saved", "error", err)
	}

	// Deliver: channels that only take alerts first, so the health message on
	// the default channels can say which of them failed.
	isDefault := map[string]bool{}
	for _, ch := range dl.Default {
		isDefault[ch] = true
	}
	names := make([]string, 0, len(dl.Channels))
	for n := range dl.Channels {
		names = append(names, n)
	}
	sort.Slice(names, func(i, j int) bool {
		if isDefault[names[i]] != isDefault[names[j]] {
			return !isDefault[names[i]]
		}
		return names[i] < names[j]
	})
	for _, name := range names {
		c := dl.Channels[name]
		var entries []ledger.Entry
		for _, e := range led.Pending() {
			if e.Channel == name && e.Item != nil {
				entries = append(entries, e)
			}
		}
		d := &notify.Digest{PeriodStart: ev.Period.Start, PeriodEnd: ev.Period.End, Location: dl.Location}
		for _, e := range entries {
			it := *e.Item
			it.Repeat = e.Transition == "repeat"
			d.Items = append(d.Items, it)
		}
		sendHealth := isDefault[name] && len(problems) > 0 && !led.Sent(healthKey, name, ev.Period.Start, healthKey)
		if sendHealth {
			d.Health = problems
		}
		if len(d.Items) == 0 && !sendHealth {
			continue
		}
		d.Title = title(d)
		d.Sort()
		err := notify.Send(ctx, c.Notifier, d, dl.Sleep)
		if err != nil {
			log.Error("delivery failed; notifications stay pending", "channel", name, "error", err)
			sum.Notifications.Failed += len(entries)
			for _, e := range entries {
				e.LastError = err.Error()
				led.MarkPending(e)
			}
			problems = append(problems, alert.Problem{Channel: name, Code: "Delivery.Failed", Message: err.Error()})
		} else {
			sum.Notifications.Sent += len(entries)
			for _, e := range entries {
				led.MarkSent(e.Alert, e.Channel, e.Period, e.Transition, now)
			}
			if sendHealth {
				led.MarkSent(healthKey, name, ev.Period.Start, healthKey, now)
			}
			log.Info("delivered", "channel", name, "alerts", len(entries), "health", sendHealth)
		}
		// Saved after every digest: a crash repeats at most this one.
		if err := save(led); err != nil {
			log.Error("ledger not saved", "error", err)
		}
	}
	led.Prune(now.Add(-90 * 24 * time.Hour))
	if err := save(led); err != nil {
		log.Error("ledger not saved", "error", err)
	}
	for _, e := range led.Pending() {
		if e.Item != nil {
			sum.Notifications.Pending++
		}
	}
	return sum, nil
}

// due decides whether item is owed to channel ch, and as which transition.
func due(led *ledger.Ledger, item *alert.Item, r *Result, ch string, c Channel, period, at time.Time) (ledger.Entry, bool) {
	key := item.Key()
	e := ledger.Entry{Alert: key, Channel: ch, Period: period, Item: item}
	switch item.State {
	case alert.Firing:
		since := item.Since
		if since.IsZero() {
			since = period
		}
		if !led.Sent(key, ch, since, alert.Firing) {
			e.Period, e.Transition = since, alert.Firing
			_, pending := led.Get(key, ch, since, alert.Firing)
			return e, !pending
		}
		every := r.Rule.RepeatEvery
		last, ok := led.LastSent(key, ch)
		// A daily timer drifts by seconds; a tenth of the interval of slack
		// keeps a 24h repeat from slipping to 48h.
		if every > 0 && ok && at.Sub(last) >= every-every/10 && !led.Sent(key, ch, period, "repeat") {
			e.Transition = "repeat"
			return e, true
		}
	case alert.Resolved:
		want := r.Rule.SendResolved
		if c.SendResolved != nil {
			want = *c.SendResolved
		}
		if !want {
			return e, false
		}
		if _, fired := led.LastSent(key, ch); !fired {
			return e, false // never announced here: a resolution would puzzle
		}
		if !led.Sent(key, ch, period, alert.Resolved) {
			e.Transition = alert.Resolved
			return e, true
		}
	}
	return e, false
}

// openLedger opens the ledger under the run lock. A dry run reads it without
// touching the disk. A STATE_DIR that cannot be written still lets the run
// send from an in-memory ledger: a monitor that goes silent because its disk
// broke is worse than one that may repeat itself, and the health message
// says so.
func openLedger(dl *Delivery, now time.Time) (*ledger.Ledger, func(), []alert.Problem, error) {
	if dl.DryRun {
		l, err := ledger.OpenReadOnly(dl.StateDir)
		if l == nil {
			l = memLedger()
		}
		return l, func() {}, nil, err
	}
	unlock, err := ledger.Lock(dl.StateDir)
	if err != nil {
		var le *ledger.LockedError
		if errors.As(err, &le) {
			return nil, func() {}, nil, fmt.Errorf("another run holds the ledger: %w", err)
		}
		unlock = func() {}
	}
	l, err := ledger.Open(dl.StateDir, now)
	if l != nil {
		return l, unlock, nil, err
	}
	return memLedger(), unlock, []alert.Problem{{Code: "Ledger.Unwritable", Message: "STATE_DIR cannot be used (" +
		err.Error() + "); alerts are sent anyway, but a rerun may repeat them"}}, nil
}

func newSummary(ev *Evaluation) *Summary {
	s := &Summary{At: ev.At, Period: PeriodJSON{Start: ev.Period.Start, End: ev.Period.End},
		Templates: ev.Templates, APICalls: ev.Calls, Retries: ev.Retries,
		Alerts: []AlertJSON{}, Errors: ev.Errors}
	if s.Errors == nil {
		s.Errors = []Error{}
	}
	for i := range ev.Results {
		r := &ev.Results[i]
		a := AlertJSON{Rule: r.Rule.Name, Template: r.Key.Template, Language: r.Key.Language, Button: r.Button,
			Severity: r.Rule.Severity, State: r.State, Value: clean(r.Value), Silenced: r.Silenced}
		if r.HasBaseline {
			b := clean(r.Baseline)
			a.Baseline = &b
		}
		s.Alerts = append(s.Alerts, a)
	}
	return s
}

func title(d *notify.Digest) string {
	var firing, resolved int
	for _, it := range d.Items {
		if it.State == alert.Firing {
			firing++
		} else {
			resolved++
		}
	}
	switch {
	case firing+resolved == 0:
		return "cams-alert: monitor health"
	case resolved == 0:
		return fmt.Sprintf("cams-alert: %d firing", firing)
	case firing == 0:
		return fmt.Sprintf("cams-alert: %d resolved", resolved)
	}
	return fmt.Sprintf("cams-alert: %d firing, %d resolved", firing, resolved)
}

// save writes the ledger; a read-only (dry-run or fallback) ledger is not an
// error here.
func save(l *ledger.Ledger) error {
	if err := l.Save(); err != nil && !errors.Is(err, ledger.ErrReadOnly) {
		return err
	}
	return nil
}

// memLedger is an empty ledger that lives only in memory.
func memLedger() *ledger.Ledger {
	l, _ := ledger.OpenReadOnly(filepath.Join(os.TempDir(), fmt.Sprintf("cams-alert-no-state-%d-%d", os.Getpid(), time.Now().UnixNano())))
	return l
}
