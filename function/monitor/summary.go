package monitor

import (
	"time"
)

// Summary is the run summary (docs/operations.md): printed by `run --json`
// and returned by the FC handler.
type Summary struct {
	At            time.Time   `json:"at"`
	Period        PeriodJSON  `json:"period"`
	Templates     int         `json:"templates"`
	APICalls      int64       `json:"api_calls"`
	Retries       int64       `json:"retries"`
	Alerts        []AlertJSON `json:"alerts"`
	Notifications Counts      `json:"notifications"`
	Errors        []Error     `json:"errors"`
	// Learning counts the template-languages some rule cannot judge yet
	// for lack of history: nothing can fire for them.
	Learning int `json:"learning"`
}

// PeriodJSON is the evaluated period.
type PeriodJSON struct {
	Start time.Time `json:"start"`
	End   time.Time `json:"end"`
}

// AlertJSON is one alert of the summary.
type AlertJSON struct {
	Rule     string `json:"rule"`
	Template string `json:"template"`
	// TemplateName is omitted when the name is unknown.
	TemplateName string `json:"template_name,omitempty"`
	Language     string `json:"language"`
	// ButtonText is the button's text as the API reports it, also when the
	// rule selects the button by type (Button); omitted when unknown.
	ButtonText string   `json:"button_text,omitempty"`
	Button     string   `json:"button,omitempty"`
	Severity   string   `json:"severity"`
	State      string   `json:"state"`
	Value      float64  `json:"value"`
	Baseline   *float64 `json:"baseline,omitempty"`
	Silenced   string   `json:"silenced,omitempty"`
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
	// HeldBack were due but not sent because the ledger could not record
	// them (an FC retry would not help: they go out once it can).
	HeldBack int `json:"held_back,omitempty"`
}

// Undelivered reports whether anything is still owed to a channel: an FC
// retry is worth it.
func (c Counts) Undelivered() bool { return c.Pending > 0 || c.HealthPending > 0 }

// OK reports whether the run checked everything and delivered everything:
// exit 0, and no FC retry needed.
// Warnings do not count: what they are about was checked.
func (s *Summary) OK() bool {
	for _, e := range s.Errors {
		if !e.Warning {
			return false
		}
	}
	return !s.Notifications.Undelivered()
}

func newSummary(ev *Evaluation) *Summary {
	s := &Summary{At: ev.At, Period: PeriodJSON{Start: ev.Period.Start, End: ev.Period.End},
		Templates: ev.Templates, APICalls: ev.Calls, Retries: ev.Retries,
		Alerts: []AlertJSON{}, Errors: ev.Errors, Learning: ev.Learning}
	if s.Errors == nil {
		s.Errors = []Error{}
	}
	if e, ok := noData(ev); ok {
		s.Errors = append(s.Errors, e)
	}
	for i := range ev.Results {
		r := &ev.Results[i]
		a := AlertJSON{Rule: r.Rule.Name, Template: r.Key.Template, TemplateName: r.TemplateName,
			Language: r.Key.Language, Button: r.Button, ButtonText: r.ButtonText,
			Severity: r.Rule.Severity, State: r.State, Value: clean(r.Value), Silenced: r.Silenced}
		if r.HasBaseline {
			b := clean(r.Baseline)
			a.Baseline = &b
		}
		s.Alerts = append(s.Alerts, a)
	}
	return s
}
