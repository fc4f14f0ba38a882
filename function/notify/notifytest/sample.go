package notifytest

import (
	"fmt"
	"time"

	"github.com/cams-alert/cams-alert/function/alert"
	"github.com/cams-alert/cams-alert/function/notify"
)

// SampleDigest is a two-alert digest (a critical read-rate drop firing and a
// resolved zero-clicks warning) for one day in Asia/Shanghai.
func SampleDigest() *notify.Digest {
	loc, err := time.LoadLocation("Asia/Shanghai")
	if err != nil {
		loc = time.FixedZone("UTC+8", 8*3600)
	}
	start := time.Date(2026, 5, 10, 0, 0, 0, 0, loc)
	return &notify.Digest{
		PeriodStart: start,
		PeriodEnd:   start.AddDate(0, 0, 1),
		Location:    loc,
		Items: []alert.Item{
			{
				Rule: "zero-clicks", Template: "1100AB02", Language: "es", Button: "Ver oferta",
				Severity: "warning", State: alert.Resolved, Condition: "zero", Metric: "clicks",
				Value: 37, Baseline: 41.5, HasBaseline: true, Volume: 18230, Trend: "▅▆▁▁▅",
				Summary:  "1100AB02 (es): button “Ver oferta” is clicked again",
				Since:    start.AddDate(0, 0, -2),
				Duration: 48 * time.Hour,
			},
			{
				Rule: "read-rate-drop", Template: "1100AB01", Language: "en",
				Severity: "critical", State: alert.Firing, Condition: "drop", Metric: "read_rate", IsRate: true,
				Value: 0.081, Baseline: 0.612, HasBaseline: true, Volume: 12480, Trend: "▇▇▆▇▇▇▁",
				Recent:  []float64{0.62, 0.61, 0.081},
				Summary: "1100AB01 (en): read rate 8.1%, was 61.2%",
				Since:   start,
			},
		},
	}
}

// ManyItems returns n firing items whose summaries are summaryLen bytes
// long, named T0000… in order of decreasing volume (so the digest's order is
// the index order).
func ManyItems(n, summaryLen int) []alert.Item {
	out := make([]alert.Item, n)
	for i := range out {
		sum := fmt.Sprintf("summary %04d ", i)
		for len(sum) < summaryLen {
			sum += "x"
		}
		out[i] = alert.Item{
			Rule: "clicks-drop", Template: fmt.Sprintf("T%04d", i), Language: "en",
			Severity: "warning", State: alert.Firing, Metric: "clicks",
			Value: 10, Baseline: 100, HasBaseline: true, Volume: int64(1000000 - i),
			Summary: sum[:summaryLen], CustomSummary: true,
		}
	}
	return out
}

// Scenario is a named digest the golden files and previews render.
type Scenario struct {
	Name   string
	Digest *notify.Digest
}

// Scenarios are one digest per state a channel sees: alerts firing (a
// template with two problems, one stopped), reminders, resolutions, a
// monitor-health message, and the learning note of a first message. The
// templates are named, one button is selected by type, so every field a
// message shows is exercised.
func Scenarios() []Scenario {
	loc, err := time.LoadLocation("Asia/Shanghai")
	if err != nil {
		loc = time.FixedZone("UTC+8", 8*3600)
	}
	day := time.Date(2026, 11, 23, 0, 0, 0, 0, loc)
	digest := func(items ...alert.Item) *notify.Digest {
		return &notify.Digest{PeriodStart: day, PeriodEnd: day.AddDate(0, 0, 1), Location: loc, Items: items}
	}
	readDrop := alert.Item{Rule: "read-rate-drop", Template: "1100SHOP0001", TemplateName: "black_friday_early_access",
		Language: "en", Severity: "critical", State: alert.Firing, Condition: "drop", Metric: "read_rate", IsRate: true,
		Value: 0.2461, Baseline: 0.6182, HasBaseline: true, Volume: 1368, Since: day,
		Recent: []float64{0.6214, 0.6097, 0.6182, 0.2461}, Trend: "███▁"}
	zeroClicks := alert.Item{Rule: "zero-clicks", Template: "1100SHOP0001", TemplateName: "black_friday_early_access",
		Language: "en", Button: "type:url_button", ButtonText: "Shop now", Severity: "warning", State: alert.Firing,
		Condition: "zero", Metric: "clicks", Value: 0, Baseline: 57.4, HasBaseline: true, Volume: 1368, Since: day,
		Recent: []float64{61, 54, 59, 0}, Trend: "██▇▁"}
	stopped := alert.Item{Rule: "sends-stopped", Template: "1100NEWS0002", TemplateName: "weekly_deals_digest",
		Language: "pt_BR", Severity: "critical", State: alert.Firing, Condition: "absent", Metric: "sent",
		Value: 0, Baseline: 1498, HasBaseline: true, Volume: 1498, Since: day,
		Recent: []float64{1512, 1480, 1498, 0}, Trend: "███▁"}
	clickRate := alert.Item{Rule: "click-rate-low", Template: "1100CART0003", Language: "es", Severity: "info",
		State: alert.Firing, Condition: "below", Metric: "click_rate", IsRate: true, Value: 0.0042, Threshold: 0.005,
		Volume: 9870, Since: day, Recent: []float64{0.0061, 0.0055, 0.0049, 0.0042}, Trend: "█▆▃▁"}

	firing := digest(zeroClicks, clickRate, stopped, readDrop)
	// held back by a silence from the chat: listed, never notified
	muted := []alert.Silenced{{Item: alert.Item{Rule: "read-rate-drop", Template: "1100PROMO0004", TemplateName: "flash_sale_reminder",
		Language: "id", Severity: "critical", State: alert.Firing, Condition: "drop", Metric: "read_rate", IsRate: true},
		Reason: "list cleanup this week by Slack @mei (U024BE7LH)", Until: day.AddDate(0, 0, 3).Add(9 * time.Hour)}}
	firing.Silenced = muted

	var reminders []alert.Item
	for _, it := range []alert.Item{readDrop, stopped} {
		it.Repeat = true
		it.Since = day.AddDate(0, 0, -2)
		it.Duration = 48 * time.Hour
		reminders = append(reminders, it)
	}

	back := func(it alert.Item, v float64, recent ...float64) alert.Item {
		it.State, it.Value, it.Recent = alert.Resolved, v, recent
		it.Since, it.Duration = day.AddDate(0, 0, -2), 48*time.Hour
		return it
	}
	resolved := digest(
		back(zeroClicks, 59, 0, 0, 59),
		back(stopped, 1394, 0, 0, 1394),
		back(readDrop, 0.5813, 0.2461, 0.2533, 0.5813),
	)

	health := digest()
	health.Health = []alert.Problem{
		{Template: "1100SHOP0009", TemplateName: "cyber_monday_preview", Code: "Forbidden.RAM", Message: "User not authorized to operate on the specified resource."},
		{Template: "1100BURST0004", Code: "Response.SpanMismatch", Message: "3 buckets dropped: 30m0s long, not DAILY buckets", Warning: true},
		{Code: "Forbidden.RAM", More: 12},
		{Channel: "ops-ding", Code: "310000", Message: "sign not match"},
	}
	health.Silenced = muted

	learning := digest()
	learning.Learning = &notify.Learning{Templates: 12, From: day.AddDate(0, 0, 7)}

	return []Scenario{
		{"firing", firing},
		{"reminder", digest(reminders...)},
		{"resolved", resolved},
		{"health", health},
		{"learning", learning},
	}
}
