package monitor

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"slices"
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

// Counts are alert notifications (one alert to one channel) by outcome.
// Monitor-health messages are not alerts and are not counted in them: one
// still owed to a channel for its period is HealthPending.
type Counts struct {
	Sent          int `json:"sent"`
	Failed        int `json:"failed"`
	Pending       int `json:"pending"`
	HealthPending int `json:"health_pending,omitempty"`
	// WouldSend is what a dry run would have sent (Sent stays 0).
	WouldSend int `json:"would_send,omitempty"`
}

// Undelivered reports whether anything is still owed to a channel: an FC
// retry is worth it.
func (c Counts) Undelivered() bool { return c.Pending > 0 || c.HealthPending > 0 }

// OK reports whether the run checked everything and delivered everything:
// exit 0, and no FC retry needed.
func (s *Summary) OK() bool { return len(s.Errors) == 0 && !s.Notifications.Undelivered() }

const healthKey = ledger.Health

// Retention is how long sent notifications are remembered: longer than any
// repeat_every and than any period someone reruns with `run --at`.
const Retention = 90 * 24 * time.Hour

// Deliver decides what is due for each channel, records it in the ledger as
// pending, posts one digest per channel, and marks what was accepted. A crash
// between a post and the ledger write can repeat that one digest, never more.
//
// Times: repeat_every is measured in evaluation time (ev.At: the timer's
// trigger time, or `run --at`), and a delivery is stamped with ev.At, so a
// rerun or an FC retry of a moment judges exactly as the first run did. now
// (the wall clock) only ages pending notifications.
func Deliver(ctx context.Context, ev *Evaluation, dl *Delivery, now time.Time) (*Summary, error) {
	log := dl.Log
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	at := ev.At
	if at.IsZero() {
		at = now
	}
	sum := newSummary(ev)
	if dl.DryRun {
		// Nothing was sent: what the consoles printed would have been.
		defer func() {
			sum.Notifications.WouldSend, sum.Notifications.Sent = sum.Notifications.Sent, 0
		}()
	}
	var problems []alert.Problem
	problems = append(problems, templateProblems(ev.Errors)...)
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
		msg := "the notification ledger " + filepath.Base(ce.Path) + " is unreadable (" + ce.Err.Error() + ")"
		if ce.KeptAs != "" {
			msg += " and was kept aside as " + filepath.Base(ce.KeptAs) + "; a new one was started"
		}
		msg += ": alerts already sent may be sent once more"
		log.Error("ledger is corrupt; started afresh", "kept_as", ce.KeptAs, "error", err)
		problems = append(problems, alert.Problem{Code: "Ledger.Corrupt", Message: msg})
	}
	defer done()

	// Forget old deliveries, and give up on notifications undelivered for
	// too long, first: this run's health message reports them.
	before := now
	if at.Before(before) {
		before = at
	}
	pr := led.Prune(before.Add(-Retention))
	problems = append(problems, abandoned(pr.Abandoned, led.PendingMaxAge, log)...)

	// Decide: every transition due, recorded as pending before anything is sent.
	hist := index(led)
	for i := range ev.Results {
		r := &ev.Results[i]
		if r.Silenced != "" {
			continue
		}
		item := Item(r)
		period := r.Period.Start
		if period.IsZero() {
			period = ev.Period.Start
		}
		chans := r.Rule.Notify
		if len(chans) == 0 {
			chans = dl.Default
		}
		for _, ch := range chans {
			c, ok := dl.Channels[ch]
			if !ok {
				continue
			}
			mark, drop := decide(hist[histKey(item.Key(), ch)], &item, r.Rule.RepeatEvery, wantResolved(r, c), ch, period, at)
			for _, e := range drop {
				log.Info("superseded pending notification dropped", "channel", ch, "alert", e.Alert, "transition", e.Transition, "period", e.Period)
				led.Drop(e.Alert, e.Channel, e.Period, e.Transition)
			}
			for _, e := range mark {
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
	healthPeriod := ev.Period.Start
	if healthPeriod.IsZero() {
		healthPeriod = at
	}
	// A default channel hears each kind of problem once per period, so that
	// a rerun or an FC retry that meets a new problem still says so, while
	// one that meets the same ones stays quiet. The ledger keeps one health
	// entry per (kind, channel, period).
	healthEntry := func(ch string, p alert.Problem) ledger.Entry {
		return ledger.Entry{Alert: healthKey + "|" + problemKind(p), Channel: ch, Period: healthPeriod, Transition: ledger.Health}
	}
	// healthEntries is one entry per kind of problem in ps (a thousand
	// templates denied are one entry).
	healthEntries := func(ch string, ps []alert.Problem) []ledger.Entry {
		var out []ledger.Entry
		seen := map[string]bool{}
		for _, p := range ps {
			if e := healthEntry(ch, p); !seen[e.Alert] {
				seen[e.Alert] = true
				out = append(out, e)
			}
		}
		return out
	}
	untold := func(ch string) []alert.Problem {
		var out []alert.Problem
		for _, p := range problems {
			if e := healthEntry(ch, p); !led.Sent(e.Alert, ch, healthPeriod, ledger.Health) {
				out = append(out, p)
			}
		}
		return out
	}
	failed := map[string]bool{}
	healthFailed := map[string]bool{}
	// post delivers one digest; later is how many channels may still follow
	// it in this run, each of which keeps ChannelReserve of the time left:
	// one platform's rate block must not starve the others (and with them
	// the health message that says it is blocked).
	post := func(name string, entries []ledger.Entry, health []alert.Problem, later int) error {
		c := dl.Channels[name]
		d := &notify.Digest{PeriodStart: ev.Period.Start, PeriodEnd: ev.Period.End, Location: dl.Location, Health: health}
		for _, e := range entries {
			it := *e.Item
			it.Repeat = e.Transition == ledger.Repeat
			d.Items = append(d.Items, it)
		}
		d.Title = title(d)
		d.Sort()
		for _, e := range healthEntries(name, health) {
			led.MarkPending(e)
		}
		if len(health) > 0 {
			if err := save(led); err != nil {
				log.Error("ledger not saved", "error", err)
			}
		}
		sctx, cancel := channelContext(ctx, later)
		err := notify.Send(sctx, c.Notifier, d, dl.Sleep)
		cancel()
		if err != nil {
			log.Error("delivery failed; notifications stay pending", "channel", name, "alerts", len(entries), "error", err)
			failed[name] = true
			sum.Notifications.Failed += len(entries)
			for _, e := range entries {
				e.LastError = err.Error()
				led.MarkPending(e)
			}
			for _, h := range healthEntries(name, health) {
				h.LastError = err.Error()
				led.MarkPending(h)
				healthFailed[name] = true
			}
			problems = append(problems, alert.Problem{Channel: name, Code: "Delivery.Failed", Message: err.Error()})
		} else {
			sum.Notifications.Sent += len(entries)
			for _, e := range entries {
				led.MarkSent(e.Alert, e.Channel, e.Period, e.Transition, at)
			}
			for _, h := range healthEntries(name, health) {
				led.MarkSent(h.Alert, name, healthPeriod, ledger.Health, at)
			}
			log.Info("delivered", "channel", name, "alerts", len(entries), "health", len(health))
		}
		// Saved after every digest: a crash repeats at most this one.
		if err := save(led); err != nil {
			log.Error("ledger not saved", "error", err)
		}
		return err
	}
	for i, name := range names {
		var entries []ledger.Entry
		for _, e := range led.Pending() {
			if e.Channel == name && e.Item != nil {
				entries = append(entries, e)
			}
		}
		var health []alert.Problem
		if isDefault[name] && len(untold(name)) > 0 {
			// the whole picture, when any of it is news
			health = slices.Clone(problems)
		}
		if len(entries) == 0 && len(health) == 0 {
			continue
		}
		post(name, entries, health, len(names)-i-1)
	}
	// A default channel that went out before another channel failed (or
	// before any problem was known) hears about it in a short health-only
	// follow-up with only what it has not heard.
	for i, name := range names {
		if !isDefault[name] || failed[name] {
			continue
		}
		if news := untold(name); len(news) > 0 {
			post(name, nil, news, len(names)-i-1)
		}
	}
	// A health message is about now: one that failed in an earlier run is
	// not owed later (a rerun of the period sends a fresh one if problems
	// remain). One that failed in this run counts as pending.
	for _, e := range led.Pending() {
		if e.Transition == ledger.Health && !(healthFailed[e.Channel] && e.Period.Equal(healthPeriod)) {
			led.Drop(e.Alert, e.Channel, e.Period, e.Transition)
		}
	}
	if err := save(led); err != nil {
		log.Error("ledger not saved", "error", err)
	}
	owed := map[string]bool{} // channels owed a health message
	for _, e := range led.Pending() {
		switch {
		case e.Transition == ledger.Health:
			owed[e.Channel] = true
		case e.Item != nil:
			sum.Notifications.Pending++
		}
	}
	sum.Notifications.HealthPending = len(owed)
	return sum, nil
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

// problemKind is what makes a health problem news: its code, and the
// channel it is about. Templates are left out: a thousand templates denied
// are one kind of problem (the message folds them into a count anyway).
func problemKind(p alert.Problem) string {
	if p.Channel != "" {
		return p.Code + "@" + p.Channel
	}
	return p.Code
}

// wantResolved is the rule's send_resolved unless the channel overrides it.
func wantResolved(r *Result, c Channel) bool {
	if c.SendResolved != nil {
		return *c.SendResolved
	}
	return r.Rule.SendResolved
}

func histKey(alertKey, channel string) string { return alertKey + "\x00" + channel }

// index groups the ledger's entries by alert and channel.
func index(led *ledger.Ledger) map[string][]ledger.Entry {
	m := map[string][]ledger.Entry{}
	for _, e := range led.Entries() {
		k := histKey(e.Alert, e.Channel)
		m[k] = append(m[k], e)
	}
	return m
}

// decide works out what one alert owes one channel, given that alert's
// ledger history on the channel: the notifications to record as pending, and
// pending ones that this one supersedes.
//
//   - Firing: the firing notification of this firing run (keyed by the
//     period it started in, item.Since) once; then a reminder in the first
//     evaluated period at least repeatEvery (less a tenth of slack for timer
//     drift) after the last firing or reminder delivered in this run. A newer
//     reminder supersedes an undelivered older one.
//   - Resolved: a resolution (when wanted) only if this firing run was
//     announced on the channel, or its announcement is still pending and
//     goes out in the same digest; undelivered reminders are dropped.
func decide(hist []ledger.Entry, item *alert.Item, repeatEvery time.Duration, sendResolved bool,
	ch string, period, at time.Time) (mark, drop []ledger.Entry) {
	key := item.Key()
	since := item.Since
	if since.IsZero() {
		since = period
	}
	find := func(p time.Time, transition string) (ledger.Entry, bool) {
		for _, e := range hist {
			if e.Transition == transition && e.Period.Equal(p) {
				return e, true
			}
		}
		return ledger.Entry{}, false
	}
	entry := func(p time.Time, transition string) ledger.Entry {
		return ledger.Entry{Alert: key, Channel: ch, Period: p, Transition: transition, Item: item}
	}
	stalePending := func(transition string, keep time.Time) {
		for _, e := range hist {
			if e.Transition == transition && e.Status == ledger.StatusPending && !e.Period.Equal(keep) {
				drop = append(drop, e)
			}
		}
	}
	switch item.State {
	case alert.Firing:
		fe, ok := find(since, ledger.Firing)
		if !ok {
			return []ledger.Entry{entry(since, ledger.Firing)}, nil
		}
		if fe.Status != ledger.StatusSent || repeatEvery <= 0 {
			return nil, nil // still pending: it goes out as it is
		}
		var last time.Time
		for _, e := range hist {
			if e.Status == ledger.StatusSent && !e.Period.Before(since) &&
				(e.Transition == ledger.Firing || e.Transition == ledger.Repeat) && e.SentAt.After(last) {
				last = e.SentAt
			}
		}
		if at.Sub(last) < repeatEvery-repeatEvery/10 {
			return nil, nil
		}
		if _, ok := find(period, ledger.Repeat); ok {
			return nil, nil // sent, or pending and going out
		}
		stalePending(ledger.Repeat, period)
		return []ledger.Entry{entry(period, ledger.Repeat)}, drop
	case alert.Resolved:
		stalePending(ledger.Repeat, time.Time{})
		if !sendResolved {
			return nil, drop
		}
		announced := false
		for _, e := range hist {
			if (e.Transition == ledger.Firing || e.Transition == ledger.Repeat) && !e.Period.Before(since) {
				announced = true // sent, or pending and going out first
			}
		}
		if !announced {
			return nil, drop // never announced here: a resolution would puzzle
		}
		if _, ok := find(period, ledger.Resolved); ok {
			return nil, drop
		}
		return []ledger.Entry{entry(period, ledger.Resolved)}, drop
	}
	return nil, nil
}

// abandoned turns pending notifications given up on by Prune into health
// problems, one per channel.
func abandoned(es []ledger.Entry, maxAge time.Duration, log *slog.Logger) []alert.Problem {
	if maxAge <= 0 {
		maxAge = ledger.DefaultPendingMaxAge
	}
	byChan := map[string][]ledger.Entry{}
	var chans []string
	for _, e := range es {
		if e.Transition == ledger.Health {
			continue
		}
		if _, ok := byChan[e.Channel]; !ok {
			chans = append(chans, e.Channel)
		}
		byChan[e.Channel] = append(byChan[e.Channel], e)
	}
	sort.Strings(chans)
	var out []alert.Problem
	for _, ch := range chans {
		list := byChan[ch]
		last := list[len(list)-1]
		log.Error("gave up on undelivered notifications", "channel", ch, "count", len(list), "last_error", last.LastError)
		msg := fmt.Sprintf("%d notification(s) could not be delivered for %d days and were dropped", len(list), int(maxAge/(24*time.Hour)))
		if last.LastError != "" {
			msg += "; last error: " + last.LastError
		}
		out = append(out, alert.Problem{Channel: ch, Code: "Delivery.Abandoned", Message: msg})
	}
	return out
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
			return memLedger(), func() {}, []alert.Problem{{Code: "Ledger.Unreadable", Message: "the notification ledger cannot be read (" +
				err.Error() + "); the dry run shows every notification as due"}}, nil
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

// maxListed bounds how many templates of one error code the health message
// names one by one; an ISV account can have thousands cut off by the budget.
const maxListed = 10

// templateProblems turns fetch errors into health lines, folding the tail of
// any one code into a count so the message stays readable.
func templateProblems(errs []Error) []alert.Problem {
	var out []alert.Problem
	byCode := map[string][]string{}
	var order []string
	for _, e := range errs {
		n := len(byCode[e.Code])
		if n < maxListed {
			out = append(out, alert.Problem{Template: e.Template, Code: e.Code, Message: e.Message})
		}
		if n == 0 {
			order = append(order, e.Code)
		}
		byCode[e.Code] = append(byCode[e.Code], e.Template)
	}
	for _, code := range order {
		if rest := byCode[code][min(len(byCode[code]), maxListed):]; len(rest) > 0 {
			out = append(out, alert.Problem{Code: code, Message: fmt.Sprintf(
				"and %d more templates not checked for the same reason (all are listed in the run summary's errors)", len(rest))})
		}
	}
	return out
}
