package rules

import (
	"strings"
	"testing"
	"time"

	"github.com/cams-alert/cams-alert/function/alert"
	"github.com/cams-alert/cams-alert/function/metrics"
)

var (
	cst = time.FixedZone("CST", 8*3600)
	// day0 is Mon 2 Nov 2026 00:00 +08:00, the start of the API's first DAILY bucket.
	day0 = time.Date(2026, 11, 2, 0, 0, 0, 0, cst).UTC()
)

func dayWindow(i int) metrics.Window {
	s := day0.Add(time.Duration(i) * 24 * time.Hour)
	return metrics.Window{Start: s, End: s.Add(24 * time.Hour)}
}

// row is one period: sent, delivered, read, clicks; sent < 0 means missing.
type row struct{ s, d, r, c int64 }

var gap = row{s: -1}

func rep(r row, n int) []row {
	out := make([]row, n)
	for i := range out {
		out[i] = r
	}
	return out
}

func times(rows []row, n int) []row {
	var out []row
	for i := 0; i < n; i++ {
		out = append(out, rows...)
	}
	return out
}

func cat(parts ...[]row) []row {
	var out []row
	for _, p := range parts {
		out = append(out, p...)
	}
	return out
}

func daily(rows []row, buttons ...metrics.Button) *metrics.Series {
	s := &metrics.Series{Key: metrics.Key{Template: "T1", Language: "en"}, Granularity: metrics.Daily}
	for i, r := range rows {
		if r.s < 0 {
			continue
		}
		w := dayWindow(i)
		p := metrics.Period{Start: w.Start, End: w.End, Sent: r.s, Delivered: r.d, Read: r.r, Clicks: r.c}
		for _, b := range buttons {
			b.Count = r.c
			p.Buttons = append(p.Buttons, b)
		}
		s.Periods = append(s.Periods, p)
	}
	return s
}

func mustLoad(t testing.TB, y string) *Set {
	t.Helper()
	s, err := LoadBytes("test.yaml", []byte(y), func(string) (string, bool) { return "", false })
	if err != nil {
		t.Fatalf("load: %v", err)
	}
	s.Location = cst
	return s
}

// stateAt returns the state of the only rule at day i ("" when no result).
func stateAt(t testing.TB, s *Set, ser *metrics.Series, i int) (string, *Result) {
	t.Helper()
	res := s.Evaluate(ser, dayWindow(i))
	if len(res) > 1 {
		t.Fatalf("day %d: %d results", i, len(res))
	}
	if len(res) == 0 {
		return "", nil
	}
	return res[0].State, &res[0]
}

// timeline evaluates every day and renders states as one letter per day:
// F firing, R resolved, . nothing.
func timeline(t testing.TB, s *Set, ser *metrics.Series, days int) string {
	var b strings.Builder
	for i := 0; i < days; i++ {
		st, _ := stateAt(t, s, ser, i)
		switch st {
		case alert.Firing:
			b.WriteByte('F')
		case alert.Resolved:
			b.WriteByte('R')
		default:
			b.WriteByte('.')
		}
	}
	return b.String()
}

func TestConditions(t *testing.T) {
	ok := row{1000, 1000, 600, 50}
	tests := []struct {
		name string
		rule string
		rows []row
		want string
	}{
		{
			name: "above is strict: a tie does not fire",
			rule: "{name: r, metric: read_rate, condition: above, threshold: 0.6}",
			rows: []row{{1000, 1000, 600, 0}, {1000, 1000, 601, 0}, {1000, 1000, 600, 0}},
			want: ".FR",
		},
		{
			name: "below is strict",
			rule: "{name: r, metric: read_rate, condition: below, threshold: 0.2}",
			rows: []row{{1000, 1000, 200, 0}, {1000, 1000, 199, 0}, {1000, 1000, 200, 0}},
			want: ".FR",
		},
		{
			name: "threshold as a percentage",
			rule: "{name: r, metric: read_rate, condition: below, threshold: \"20%\"}",
			rows: []row{{1000, 1000, 199, 0}},
			want: "F",
		},
		{
			name: "zero denominator: rate undefined, not evaluated, state carries",
			rule: "{name: r, metric: read_rate, condition: below, threshold: 0.5}",
			rows: []row{{1000, 1000, 100, 0}, {1000, 0, 0, 0}, {0, 0, 0, 0}, {1000, 1000, 100, 0}, {1000, 1000, 900, 0}},
			want: "F..FR",
		},
		{
			name: "missing periods neither fire nor resolve",
			rule: "{name: r, metric: read_rate, condition: below, threshold: 0.5}",
			rows: []row{ok, {1000, 1000, 100, 0}, gap, gap, {1000, 1000, 100, 0}, gap, ok},
			want: ".F..F.R",
		},
		{
			name: "for counts consecutive evaluated periods across gaps",
			rule: "{name: r, metric: read_rate, condition: below, threshold: 0.5, for: 2}",
			rows: []row{ok, {1000, 1000, 100, 0}, gap, {1000, 1000, 100, 0}, {1000, 1000, 100, 0}, ok},
			want: "...FFR",
		},
		{
			name: "for: a broken run does not fire",
			rule: "{name: r, metric: read_rate, condition: below, threshold: 0.5, for: 2}",
			rows: []row{{1000, 1000, 100, 0}, ok, {1000, 1000, 100, 0}, ok},
			want: "....",
		},
		{
			name: "volume guard: a small period is not evaluated",
			rule: "{name: r, metric: read_rate, condition: below, threshold: 0.5, min_delivered: 500}",
			rows: []row{{1000, 1000, 100, 0}, {100, 100, 90, 0}, {1000, 1000, 900, 0}},
			want: "F.R",
		},
		{
			name: "drop relative: a tie at the limit fires",
			rule: "{name: r, metric: read_rate, condition: drop, by: 50%, baseline: 4}",
			rows: cat(rep(ok, 4), []row{{1000, 1000, 300, 0}, {1000, 1000, 500, 0}}),
			want: "....FR",
		},
		{
			name: "drop relative: just above the limit does not fire",
			rule: "{name: r, metric: read_rate, condition: drop, by: 50%, baseline: 4}",
			rows: cat(rep(ok, 4), []row{{1000, 1000, 301, 0}}),
			want: ".....",
		},
		{
			name: "drop absolute: 0.1 below the baseline fires (tie)",
			rule: "{name: r, metric: read_rate, condition: drop, by: 0.1, baseline: 4}",
			rows: cat(rep(ok, 4), []row{{1000, 1000, 500, 0}, {1000, 1000, 600, 0}}),
			want: "....FR",
		},
		{
			name: "rise relative and absolute",
			rule: "{name: r, metric: sent, condition: rise, by: 100%, baseline: 3}",
			rows: cat(rep(ok, 3), []row{{2000, 2000, 0, 0}, {1999, 0, 0, 0}}),
			want: "...FR",
		},
		{
			name: "baseline shorter than asked: needs half the periods",
			rule: "{name: r, metric: read_rate, condition: drop, by: 30%, baseline: 8}",
			rows: []row{ok, ok, ok, {1000, 1000, 100, 0}, ok, {1000, 1000, 100, 0}},
			want: ".....F",
		},
		{
			name: "baseline counts sending periods: a burst sender's gaps do not dilute it",
			rule: "{name: r, metric: sent, condition: drop, by: 50%, baseline: 3}",
			rows: []row{ok, gap, gap, ok, gap, gap, ok, gap, gap, {500, 500, 0, 0}},
			want: ".........F",
		},
		{
			name: "baseline guard: the baseline's mean delivered must reach min_delivered",
			rule: "{name: r, metric: read_rate, condition: drop, by: 30%, baseline: 2, min_delivered: 500}",
			rows: []row{{100, 100, 60, 0}, {100, 100, 60, 0}, {1000, 1000, 100, 0}},
			want: "...",
		},
		{
			name: "relative drop from a zero baseline is not evaluated",
			rule: "{name: r, metric: clicks, condition: drop, by: 50%, baseline: 2}",
			rows: []row{{1000, 1000, 0, 0}, {1000, 1000, 0, 0}, {1000, 1000, 0, 0}},
			want: "...",
		},
		{
			name: "confidence: a small sample's drop is not significant",
			rule: "{name: r, metric: read_rate, condition: drop, by: 30%, baseline: 3, confidence: 0.99}",
			rows: cat(rep(row{20, 20, 12, 0}, 3), []row{{20, 20, 7, 0}}),
			want: "....",
		},
		{
			name: "confidence: the same drop on volume fires",
			rule: "{name: r, metric: read_rate, condition: drop, by: 30%, baseline: 3, confidence: 0.99}",
			rows: cat(rep(row{2000, 2000, 1200, 0}, 3), []row{{2000, 2000, 700, 0}}),
			want: "...F",
		},
		{
			// 19/20 → 15/20 scores p ≈ 0.005 without the continuity
			// correction; with it p ≈ 0.016, close to Fisher's exact test.
			name: "confidence: small counts get the continuity correction",
			rule: "{name: r, metric: delivery_rate, condition: drop, by: 15%, baseline: 3, confidence: 0.99}",
			rows: cat(rep(row{20, 19, 10, 0}, 3), []row{{20, 15, 8, 0}}),
			want: "....",
		},
		{
			name: "confidence: the same drop at ten times the volume fires",
			rule: "{name: r, metric: delivery_rate, condition: drop, by: 15%, baseline: 3, confidence: 0.99}",
			rows: cat(rep(row{200, 190, 100, 0}, 3), []row{{200, 150, 80, 0}}),
			want: "...F",
		},
		{
			name: "zero fires on a count of 0 with deliveries",
			rule: "{name: r, metric: clicks, condition: zero, min_delivered: 100}",
			rows: []row{ok, {1000, 1000, 500, 0}, {50, 50, 10, 0}, {1000, 0, 0, 0}, ok},
			want: ".F..R",
		},
		{
			name: "zero with min_expected: the baseline rate must predict enough",
			rule: "{name: r, metric: clicks, condition: zero, min_expected: 10, baseline: 3}",
			// baseline click rate 5%: 100 delivered predict 5 (<10), 1000 predict 50.
			rows: cat(rep(row{1000, 1000, 500, 50}, 3), []row{{100, 100, 50, 0}, {1000, 1000, 500, 0}}),
			want: "....F",
		},
		{
			name: "expr over the period's variables",
			rule: "{name: r, expr: \"clicks == 0 && delivered >= 100\"}",
			rows: []row{ok, {1000, 1000, 500, 0}, {50, 50, 0, 0}, ok},
			want: ".FR.",
		},
		{
			name: "expr reading an undefined rate is not evaluated",
			rule: "{name: r, expr: \"read_rate < 0.5\"}",
			rows: []row{{1000, 1000, 100, 0}, {1000, 0, 0, 0}, {1000, 1000, 900, 0}},
			want: "F.R",
		},
		{
			name: "expr with baseline variables",
			rule: "{name: r, expr: \"read_rate < baseline_read_rate * 0.5\", baseline: 2}",
			rows: []row{ok, ok, {1000, 1000, 200, 0}, {1000, 1000, 590, 0}},
			want: "..FR",
		},
		{
			name: "expr dividing by zero is not evaluated, never +Inf",
			rule: "{name: r, expr: \"sent / delivered > 2\"}",
			rows: []row{{1000, 100, 0, 0}, {1000, 0, 0, 0}, {1000, 1000, 0, 0}},
			want: "F.R",
		},
		{
			name: "expr with baseline variables keeps the baseline volume guard",
			rule: "{name: r, expr: \"read_rate < baseline_read_rate * 0.5\", baseline: 4, min_delivered: 200}",
			// the period has volume but the baseline's mean delivered is 10
			rows: []row{{10, 10, 6, 0}, {10, 10, 6, 0}, {10, 10, 6, 0}, {10, 10, 6, 0}, {1000, 1000, 100, 0}},
			want: ".....",
		},
		{
			name: "expr over $env needs no button",
			rule: "{name: r, expr: \"$env.clicks == 0 && $env.delivered >= 100\"}",
			// $env may read any variable, baselines too: it needs them all
			rows: append(rep(ok, 4), row{1000, 1000, 500, 0}),
			want: "....F",
		},
		{
			name: "median baseline resists one outlier",
			rule: "{name: r, metric: sent, condition: drop, by: 50%, baseline: 3, baseline_stat: median}",
			rows: []row{{1000, 1000, 0, 0}, {1000, 1000, 0, 0}, {100000, 1000, 0, 0}, {1000, 1000, 0, 0}, {600, 600, 0, 0}},
			want: ".....",
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			s := mustLoad(t, "rules:\n  - "+tc.rule+"\n")
			ser := daily(tc.rows)
			if got := timeline(t, s, ser, len(tc.rows)); got != tc.want {
				t.Errorf("timeline %q, want %q", got, tc.want)
			}
		})
	}
}

func TestButtonRules(t *testing.T) {
	s := mustLoad(t, `rules:
  - {name: b, metric: clicks, condition: zero, button: "Shop now", min_delivered: 100}
  - {name: u, metric: click_rate, condition: below, threshold: 0.01, button: "type:url_button"}
`)
	shop := metrics.Button{Type: metrics.QuickReply, Text: "Shop now"}
	ser := daily([]row{{1000, 1000, 500, 20}, {1000, 1000, 500, 0}}, shop)
	res := s.Evaluate(ser, dayWindow(1))
	if len(res) != 1 || res[0].Rule.Name != "b" || res[0].Button != "Shop now" || res[0].State != alert.Firing {
		t.Fatalf("got %+v", res)
	}
	// A template without the button never fires its button rules.
	plain := daily([]row{{1000, 1000, 500, 20}, {1000, 1000, 500, 0}})
	if res := s.Evaluate(plain, dayWindow(1)); len(res) != 0 {
		t.Fatalf("template without the button: %+v", res)
	}
	// The API omits a zero-count button: the period still counts as 0 clicks.
	ser.Periods[1].Buttons = nil
	if res := s.Evaluate(ser, dayWindow(1)); len(res) != 1 || res[0].Rule.Name != "b" {
		t.Fatalf("omitted button: %+v", res)
	}
}

// baseline_button_clicks is the baseline of the rule's button, not of all
// clicks: steady data does not fire, a halving does.
func TestExprButtonBaseline(t *testing.T) {
	s := mustLoad(t, `rules:
  - {name: b, expr: "button_clicks < baseline_button_clicks * 0.5", button: "Shop now", baseline: 3}
`)
	shop := metrics.Button{Type: metrics.QuickReply, Text: "Shop now"}
	other := metrics.Button{Type: metrics.QuickReply, Text: "Other"}
	ser := daily(rep(row{1000, 1000, 500, 20}, 6), shop)
	for i := range ser.Periods {
		o := other
		o.Count = 100
		ser.Periods[i].Buttons = append(ser.Periods[i].Buttons, o)
		ser.Periods[i].Clicks += 100
	}
	ser.Periods[5].Buttons[0].Count = 5
	ser.Periods[5].Clicks = 105
	if got := timeline(t, s, ser, 6); got != ".....F" {
		t.Errorf("timeline %q, want .....F", got)
	}
}

func TestResultFields(t *testing.T) {
	s := mustLoad(t, `rules:
  - {name: read-rate-drop, metric: read_rate, condition: drop, by: 30%, baseline: 3, min_delivered: 200}
`)
	rows := cat(rep(row{1000, 1000, 603, 0}, 3), []row{{1000, 950, 200, 0}, gap, {1000, 950, 199, 0}, {1000, 1000, 600, 0}})
	ser := daily(rows)
	st, r := stateAt(t, s, ser, 3)
	if st != alert.Firing {
		t.Fatalf("day 3: %q", st)
	}
	if want := "read rate 21.1% vs 60.3% baseline (-65%) on 950 delivered"; r.Summary != want {
		t.Errorf("summary %q, want %q", r.Summary, want)
	}
	if !r.HasBaseline || r.Volume != 950 || !r.Since.Equal(dayWindow(3).Start) || r.Key.Language != "en" {
		t.Errorf("result %+v", r)
	}
	if r.Trend != "███▁" {
		t.Errorf("trend %q", r.Trend)
	}
	st, r = stateAt(t, s, ser, 5)
	if st != alert.Firing || !r.Since.Equal(dayWindow(3).Start) {
		t.Errorf("day 5: %q since %v", st, r)
	}
	st, r = stateAt(t, s, ser, 6)
	if st != alert.Resolved || !r.Since.Equal(dayWindow(3).Start) || r.Duration != 72*time.Hour {
		t.Errorf("day 6: %q %+v", st, r)
	}
	it := r.Item()
	if it.Rule != "read-rate-drop" || it.State != alert.Resolved || !it.IsRate || it.Template != "T1" {
		t.Errorf("item %+v", it)
	}
	// Periods after the evaluated one are ignored (backtests).
	if st, _ := stateAt(t, s, ser, 3); st != alert.Firing {
		t.Errorf("later data changed day 3")
	}
}

func TestCustomSummaryFallback(t *testing.T) {
	s := mustLoad(t, `rules:
  - name: r
    metric: read_rate
    condition: below
    threshold: 0.5
    summary: "{{.Template}} ({{.Language}}): read rate {{percent .Value}} of {{num .Volume}}, {{change .Value .Threshold}} {{trend .Trend}}"
  - name: bad
    metric: read_rate
    condition: below
    threshold: 0.5
    summary: "{{index .Button 5}}"
`)
	res := s.Evaluate(daily([]row{{1000, 1000, 600, 0}, {12345, 12345, 1000, 0}}), dayWindow(1))
	if len(res) != 2 {
		t.Fatalf("%d results", len(res))
	}
	if want := "T1 (en): read rate 8.1% of 12,345, -84% █▁"; res[0].Summary != want {
		t.Errorf("summary %q, want %q", res[0].Summary, want)
	}
	// An execution error falls back to the default summary.
	if want := "read rate 8.1% is below 50.0% on 12,345 delivered"; res[1].Summary != want {
		t.Errorf("fallback %q, want %q", res[1].Summary, want)
	}
}

func TestAbsent(t *testing.T) {
	rule := "rules:\n  - {name: stopped, condition: absent}\n"
	s := mustLoad(t, rule)
	send := row{1000, 1000, 600, 50}
	weekdays := func(weeks int) []row {
		var out []row
		for i := 0; i < weeks; i++ {
			out = append(out, rep(send, 5)...)
			out = append(out, gap, gap)
		}
		return out
	}
	tests := []struct {
		name string
		rows []row
		from int    // first day checked
		want string // timeline from `from` to the end
	}{
		{
			name: "daily sender: the first missing day fires, sending again resolves",
			rows: cat(rep(send, 30), []row{gap, gap, send}),
			from: 29, want: ".FFR",
		},
		{
			name: "weekday sender: Saturday and Sunday do not fire",
			rows: weekdays(5), // days 0..34, Mon..Sun
			from: 28, want: ".......",
		},
		{
			name: "weekday sender: a missing Monday fires",
			rows: cat(weekdays(4), []row{gap, gap}),
			from: 26, want: "..FF",
		},
		{
			name: "burst sender on a third of days: planned gaps do not fire",
			rows: times(cat([]row{send}, rep(gap, 2), []row{send, send}, rep(gap, 4)), 5),
			from: 20, want: ".........................",
		},
		{
			name: "burst sender that really stops fires once the gap is clearly long",
			// sends every 3rd day (longest gap 3), then stops: fires when a 5-day gap is certain.
			rows: cat(times(cat([]row{send}, rep(gap, 2)), 10), rep(gap, 5)),
			from: 27, want: "....FFFF",
		},
		{
			name: "too little history is not evaluated",
			rows: cat(rep(send, 3), rep(gap, 5)),
			from: 0, want: "........",
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			ser := daily(tc.rows)
			var b strings.Builder
			for i := tc.from; i < len(tc.rows); i++ {
				st, _ := stateAt(t, s, ser, i)
				b.WriteString(map[string]string{"": ".", alert.Firing: "F", alert.Resolved: "R"}[st])
			}
			if got := b.String(); got != tc.want {
				t.Errorf("timeline from day %d: %q, want %q", tc.from, got, tc.want)
			}
		})
	}
	// Detail and fields of a weekday sender missing a Monday (day 28).
	ser := daily(cat(weekdays(4), []row{gap, gap}))
	st, r := stateAt(t, s, ser, 28)
	if st != alert.Firing {
		t.Fatalf("day 28: %q", st)
	}
	if want := "sends every weekday; none since Fri 27 Nov (usually 1,000 sent)"; r.Detail != want {
		t.Errorf("detail %q, want %q", r.Detail, want)
	}
	if want := "no sends: " + r.Detail; r.Summary != want {
		t.Errorf("summary %q", r.Summary)
	}
	if r.Key.Language != "en" || r.Baseline != 1000 || r.Volume != 1000 || !r.Since.Equal(dayWindow(28).Start) {
		t.Errorf("result %+v", r)
	}
	// min_sent: a series that usually sends less is not watched.
	s2 := mustLoad(t, "rules:\n  - {name: stopped, condition: absent, min_sent: 5000}\n")
	if st, _ := stateAt(t, s2, ser, 28); st != "" {
		t.Errorf("min_sent: %q", st)
	}
	// for: 2 fires on the second expected-but-missing period.
	s3 := mustLoad(t, "rules:\n  - {name: stopped, condition: absent, for: 2}\n")
	ser = daily(cat(rep(send, 30), rep(gap, 3), []row{send}))
	if got := timeline(t, s3, ser, 34)[29:]; got != "..FFR" {
		t.Errorf("for 2: %q", got)
	}
}

func TestSilenced(t *testing.T) {
	s := mustLoad(t, `silences:
  - {match: {rule: zero-*, template: "1100AB*"}, until: "2026-12-01T00:00:00+08:00", reason: campaign paused}
  - {match: {language: fr}, until: "2026-11-10T00:00:00Z"}
rules:
  - {name: zero-clicks, metric: clicks, condition: zero}
`)
	r := &Result{Rule: s.Rules[0], Key: metrics.Key{Template: "1100AB42", Language: "en"}}
	before := time.Date(2026, 11, 30, 0, 0, 0, 0, time.UTC)
	if reason, ok := s.Silenced(r, before); !ok || !strings.HasPrefix(reason, "campaign paused") {
		t.Errorf("silenced = %q %v", reason, ok)
	}
	if _, ok := s.Silenced(r, time.Date(2026, 12, 1, 0, 0, 0, 0, cst)); ok {
		t.Error("expired silence still applies")
	}
	r.Key.Template = "2200"
	if _, ok := s.Silenced(r, before); ok {
		t.Error("other template silenced")
	}
	r.Key.Language = "fr"
	if _, ok := s.Silenced(r, time.Date(2026, 11, 9, 0, 0, 0, 0, time.UTC)); !ok {
		t.Error("language silence")
	}
}

func TestGranularityAndLookback(t *testing.T) {
	s := mustLoad(t, `rules:
  - {name: a, metric: read_rate, condition: drop, by: 30%, baseline: 7d}
  - {name: b, condition: absent}
  - {name: c, metric: sent, condition: rise, by: 50%, granularity: HALF_HOUR, baseline: 14}
`)
	if g := s.Granularities(); len(g) != 2 || g[0] != metrics.Daily || g[1] != metrics.HalfHour {
		t.Errorf("granularities %v", g)
	}
	if n := s.Lookback(metrics.Daily); n < 28+28 {
		t.Errorf("daily lookback %d, want at least 56 for absent", n)
	}
	// 7 days of half hours: the history a drop or rise learns the time of
	// day and the variation from
	if n := s.Lookback(metrics.HalfHour); n != 7*48+1+1 {
		t.Errorf("half-hour lookback %d", n)
	}
	// A daily series is not judged by the half-hour rule.
	ser := daily(rep(row{1000, 1000, 600, 0}, 3))
	ser.Granularity = metrics.HalfHour
	if res := s.Evaluate(ser, dayWindow(2)); len(res) != 0 {
		t.Errorf("%+v", res)
	}
}

func TestMatch(t *testing.T) {
	s := mustLoad(t, `rules:
  - {name: r, metric: read_rate, condition: below, threshold: 0.5, match: {templates: ["11*", "T?"], languages: [en, "pt_*"]}}
`)
	ser := daily([]row{{1000, 1000, 100, 0}})
	for _, tc := range []struct {
		tpl, lang string
		want      int
	}{{"T1", "en", 1}, {"1100", "pt_BR", 1}, {"T12", "en", 0}, {"T1", "fr", 0}} {
		ser.Key = metrics.Key{Template: tc.tpl, Language: tc.lang}
		if got := len(s.Evaluate(ser, dayWindow(0))); got != tc.want {
			t.Errorf("%s/%s: %d results, want %d", tc.tpl, tc.lang, got, tc.want)
		}
	}
}

func TestFormatting(t *testing.T) {
	for _, tc := range []struct{ got, want string }{
		{percent(0.123), "12.3%"},
		{change(0.21, 0.603), "-65%"},
		{change(1.2, 1), "+20%"},
		{change(1, 0), "n/a"},
		{num(1234567), "1,234,567"},
		{num(999), "999"},
		{num(-1234.25), "-1,234"},
		{num(12.25), "12"}, {num(4.5), "4.5"}, {change(1.001, 1), "+0.1%"}, {percent(0.0025), "0.25%"},
		{sparkline([]float64{1, 2, 3, 4, 5, 6, 7, 8}), "▁▂▃▄▅▆▇█"},
		{sparkline([]float64{5, 5}), "▄▄"},
	} {
		if tc.got != tc.want {
			t.Errorf("got %q, want %q", tc.got, tc.want)
		}
	}
}
