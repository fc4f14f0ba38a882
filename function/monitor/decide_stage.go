package monitor

import (
	"log/slog"
	"time"

	"github.com/cams-alert/cams-alert/function/alert"
	"github.com/cams-alert/cams-alert/function/ledger"
	"github.com/cams-alert/cams-alert/function/rules"
)

// DecideStage works out what is due, in the ledger and in memory only: per
// alert, channel, period and transition, given what the ledger says was
// sent and the silences in force. It sends nothing and touches no disk.
type DecideStage struct {
	// Channels are the configured channels (and their send_resolved).
	Channels map[string]Channel
	// Default channels take rules that name none.
	Default []string
	// Silences in force: the rules' own and those set from the chat,
	// merged by the caller. Expired ones mute nothing.
	Silences []rules.Silence
	Log      *slog.Logger
}

// Decision is what the decide stage hands to the send stage: the due
// notifications are pending in the ledger; these are the health problems
// known before sending.
type Decision struct {
	Problems []alert.Problem
	Health   HealthBook
}

// Silence marks the results that a silence in force at at mutes (the
// summary shows them with the reason; nothing is sent for them). Run does
// it too; callers that report the results before deciding call it first.
func (s *DecideStage) Silence(results []Result, at time.Time) {
	if len(s.Silences) == 0 {
		return
	}
	set := &rules.Set{Silences: s.Silences}
	for i := range results {
		r := &results[i]
		if r.Silenced != "" {
			continue
		}
		if sl := set.Silence(&r.Result, at); sl != nil {
			r.Silenced, r.Silence = sl.Why(), sl
		}
	}
}

// Run decides for one evaluation at evaluation time at; now (the wall
// clock) only ages pending notifications. known are problems found before
// (opening the ledger).
func (s *DecideStage) Run(ev *Evaluation, led Ledger, known []alert.Problem, at, now time.Time) *Decision {
	log := logger(s.Log)
	d := &Decision{Health: HealthBook{Period: ev.Period.Start}}
	if d.Health.Period.IsZero() {
		d.Health.Period = at
	}
	d.Problems = append(d.Problems, templateProblems(ev.Errors, ev.Names)...)
	if e, ok := noData(ev); ok {
		d.Problems = append(d.Problems, alert.Problem{Code: e.Code, Message: e.Message})
	}
	d.Problems = append(d.Problems, known...)

	// Forget old deliveries, and give up on notifications undelivered for
	// too long, first: this run's health message reports them.
	before := now
	if at.Before(before) {
		before = at
	}
	pr := led.Prune(before.Add(-Retention))
	d.Problems = append(d.Problems, abandoned(pr.Abandoned, pr.MaxAge, log)...)

	s.Silence(ev.Results, at)
	hist := index(led)
	for i := range ev.Results {
		s.due(&ev.Results[i], ev, hist, led, at, log)
	}
	for _, e := range led.Pending() {
		if _, ok := s.Channels[e.Channel]; !ok {
			log.Warn("dropping a pending notification for a channel no longer configured", "channel", e.Channel, "alert", e.Alert)
			led.Drop(e.Alert, e.Channel, e.Period, e.Transition)
		}
	}
	return d
}

// due records as pending what one result owes each of its channels, and
// drops the pending notifications it supersedes.
func (s *DecideStage) due(r *Result, ev *Evaluation, hist map[string][]ledger.Entry, led Ledger, at time.Time, log *slog.Logger) {
	if r.Silenced != "" {
		return
	}
	item := Item(r)
	period := r.Period.Start
	if period.IsZero() {
		period = ev.Period.Start
	}
	for _, ch := range r.Rule.Channels(s.Default) {
		c, ok := s.Channels[ch]
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

// HealthBook dedups the health message: a default channel hears each kind
// of problem once per period, so that a rerun or an FC retry that meets a
// new problem still says so, while one that meets the same ones stays
// quiet. The ledger keeps one health entry per (kind, channel, period).
type HealthBook struct {
	Period time.Time
}

// Entry is the ledger entry of problem p told to channel ch.
func (h HealthBook) Entry(ch string, p alert.Problem) ledger.Entry {
	return ledger.Entry{Alert: ledger.Health + "|" + problemKind(p), Channel: ch, Period: h.Period, Transition: ledger.Health}
}

// Entries is one entry per kind of problem in ps (a thousand templates
// denied are one entry).
func (h HealthBook) Entries(ch string, ps []alert.Problem) []ledger.Entry {
	var out []ledger.Entry
	seen := map[string]bool{}
	for _, p := range ps {
		if e := h.Entry(ch, p); !seen[e.Alert] {
			seen[e.Alert] = true
			out = append(out, e)
		}
	}
	return out
}

// Untold are the problems of ps that channel ch has not heard this period.
func (h HealthBook) Untold(led Ledger, ch string, ps []alert.Problem) []alert.Problem {
	var out []alert.Problem
	for _, p := range ps {
		if e := h.Entry(ch, p); !led.Sent(e.Alert, ch, h.Period, ledger.Health) {
			out = append(out, p)
		}
	}
	return out
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
func index(led Ledger) map[string][]ledger.Entry {
	m := map[string][]ledger.Entry{}
	for _, e := range led.Entries() {
		k := histKey(e.Alert, e.Channel)
		m[k] = append(m[k], e)
	}
	return m
}

func logger(l *slog.Logger) *slog.Logger {
	if l == nil {
		return slog.New(slog.DiscardHandler)
	}
	return l
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
	h := history{entries: hist, item: item, ch: ch, since: item.Since}
	if h.since.IsZero() {
		h.since = period
	}
	switch item.State {
	case alert.Firing:
		return h.firing(repeatEvery, period, at)
	case alert.Resolved:
		return h.resolved(sendResolved, period)
	}
	return nil, nil
}

// history is one alert's ledger entries on one channel.
type history struct {
	entries []ledger.Entry
	item    *alert.Item
	ch      string
	since   time.Time // the period this firing run started in
}

func (h *history) find(p time.Time, transition string) (ledger.Entry, bool) {
	for _, e := range h.entries {
		if e.Transition == transition && e.Period.Equal(p) {
			return e, true
		}
	}
	return ledger.Entry{}, false
}

func (h *history) entry(p time.Time, transition string) ledger.Entry {
	return ledger.Entry{Alert: h.item.Key(), Channel: h.ch, Period: p, Transition: transition, Item: h.item}
}

// stalePending are the undelivered notifications of transition but keep's.
func (h *history) stalePending(transition string, keep time.Time) []ledger.Entry {
	var out []ledger.Entry
	for _, e := range h.entries {
		if e.Transition == transition && e.Status == ledger.StatusPending && !e.Period.Equal(keep) {
			out = append(out, e)
		}
	}
	return out
}

// announced: a firing or reminder of this firing run was sent, or is
// pending and goes out first.
func (h *history) announced() bool {
	for _, e := range h.entries {
		if (e.Transition == ledger.Firing || e.Transition == ledger.Repeat) && !e.Period.Before(h.since) {
			return true
		}
	}
	return false
}

func (h *history) firing(repeatEvery time.Duration, period, at time.Time) (mark, drop []ledger.Entry) {
	fe, ok := h.find(h.since, ledger.Firing)
	if !ok {
		return []ledger.Entry{h.entry(h.since, ledger.Firing)}, nil
	}
	if fe.Status != ledger.StatusSent || repeatEvery <= 0 {
		return nil, nil // still pending: it goes out as it is
	}
	var last time.Time
	for _, e := range h.entries {
		if e.Status == ledger.StatusSent && !e.Period.Before(h.since) &&
			(e.Transition == ledger.Firing || e.Transition == ledger.Repeat) && e.SentAt.After(last) {
			last = e.SentAt
		}
	}
	if at.Sub(last) < repeatEvery-repeatEvery/10 {
		return nil, nil
	}
	if _, ok := h.find(period, ledger.Repeat); ok {
		return nil, nil // sent, or pending and going out
	}
	return []ledger.Entry{h.entry(period, ledger.Repeat)}, h.stalePending(ledger.Repeat, period)
}

func (h *history) resolved(sendResolved bool, period time.Time) (mark, drop []ledger.Entry) {
	drop = h.stalePending(ledger.Repeat, time.Time{})
	if !sendResolved || !h.announced() {
		return nil, drop // never announced here: a resolution would puzzle
	}
	if _, ok := h.find(period, ledger.Resolved); ok {
		return nil, drop
	}
	return []ledger.Entry{h.entry(period, ledger.Resolved)}, drop
}
