// Package alert holds the decided alert line that the ledger stores and the
// notifiers render: the output of evaluation and lifecycle.
package alert

import "time"

// Severities in order, most severe first.
var Severities = []string{"critical", "warning", "info"}

// SeverityRank orders severities: lower is more severe; unknown sorts last.
func SeverityRank(s string) int {
	for i, v := range Severities {
		if v == s {
			return i
		}
	}
	return len(Severities)
}

// States of an alert in a digest.
const (
	Firing   = "firing"
	Resolved = "resolved"
)

// Item is one alert line: everything a reader needs to trust it.
type Item struct {
	Rule     string `json:"rule"`
	Template string `json:"template"`
	// TemplateName is the template's name (ListChatappTemplate), "" when unknown.
	TemplateName string `json:"template_name,omitempty"`
	Language     string `json:"language"`
	// Button is the rule's button selector: a text or "type:url_button".
	Button string `json:"button,omitempty"`
	// ButtonText is the button's text as the API reports it, whatever the
	// rule selected the button by.
	ButtonText string `json:"button_text,omitempty"`
	// Condition is the rule's condition (drop, rise, above, below, zero,
	// absent, expr): what the message says happened.
	Condition string  `json:"condition,omitempty"`
	Threshold float64 `json:"threshold,omitempty"`
	Severity  string  `json:"severity"`
	State     string  `json:"state"` // Firing or Resolved
	Metric    string  `json:"metric"`
	// IsRate makes Value and Baseline render as percentages.
	IsRate      bool    `json:"is_rate"`
	Value       float64 `json:"value"`
	Baseline    float64 `json:"baseline,omitempty"`
	HasBaseline bool    `json:"has_baseline"`
	// Volume is the evaluated period's delivered count (sent for
	// delivery_rate and sent rules): the weight behind Value.
	Volume int64 `json:"volume"`
	// Trend is a short sparkline of recent periods, oldest first (e.g. "▇▇▆▁").
	Trend string `json:"trend,omitempty"`
	// Recent is the metric over the last sending periods, oldest first,
	// ending with the evaluated one: the numbers behind Trend.
	Recent []float64 `json:"recent,omitempty"`
	// Summary is the rule's rendered summary line (plain text: notifiers
	// escape it for their markup).
	Summary string `json:"summary"`
	// CustomSummary marks a summary the rule's author wrote: messages show
	// it instead of the line they write themselves in the channel's locale.
	CustomSummary bool `json:"custom_summary,omitempty"`
	// Since is when the alert started firing; for a resolved alert, Duration
	// is how long it lasted.
	Since    time.Time     `json:"since,omitempty"`
	Duration time.Duration `json:"duration,omitempty"`
	// Repeat marks a reminder for an alert that is still firing.
	Repeat bool `json:"repeat,omitempty"`
}

// Change returns the relative change of Value against Baseline, and false
// when there is no baseline or it is 0.
func (it *Item) Change() (float64, bool) {
	if !it.HasBaseline || it.Baseline == 0 {
		return 0, false
	}
	return (it.Value - it.Baseline) / it.Baseline, true
}

// Problem is one monitor-health line: a template that could not be checked or
// a channel that could not be reached.
type Problem struct {
	Template string `json:"template,omitempty"`
	// TemplateName is the template's name, "" when unknown.
	TemplateName string `json:"template_name,omitempty"`
	Channel      string `json:"channel,omitempty"`
	Code         string `json:"code"`
	Message      string `json:"message"`
	// Warning is set when the template was checked but the API's answer
	// needed repair (e.g. buckets of another span dropped).
	Warning bool `json:"warning,omitempty"`
	// More > 0 makes this a fold line: that many further templates share
	// Code (and Warning) and are listed only in the run summary's errors.
	More int `json:"more,omitempty"`
}

// Silenced is an alert that would have been notified but is held back by a
// silence: digests sent anyway list it, so that a quiet alert is never
// mistaken for a healthy one.
type Silenced struct {
	Item Item
	// Reason says why and by whom (the silence's reason).
	Reason string
	Until  time.Time
}

// Key identifies the alert across runs: (rule, template, language[, button]).
func (it *Item) Key() string {
	k := it.Rule + "|" + it.Template + "|" + it.Language
	if it.Button != "" {
		k += "|" + it.Button
	}
	return k
}
