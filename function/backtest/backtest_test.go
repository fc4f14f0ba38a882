package backtest

import (
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/cams-alert/cams-alert/function/metrics"
	"github.com/cams-alert/cams-alert/function/rules"
)

const testRules = `
rules:
  - {name: read-drop, metric: read_rate, condition: drop, by: 30%, baseline: 7d, min_delivered: 100, severity: critical}
  - {name: stopped, condition: absent, baseline: 14, min_sent: 100}
`

var day0 = time.Date(2026, 11, 2, 0, 0, 0, 0, time.FixedZone("+08:00", 8*3600))

func loadSet(t *testing.T) *rules.Set {
	t.Helper()
	s, err := rules.LoadBytes("r.yaml", []byte(testRules), nil)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// daily builds a series from read counts (sent 1000, delivered 1000); -1 is
// a period with no data.
func daily(template string, reads ...int64) *metrics.Series {
	s := &metrics.Series{Key: metrics.Key{Template: template, Language: "en"}, Granularity: metrics.Daily}
	for i, r := range reads {
		if r < 0 {
			continue
		}
		st := day0.AddDate(0, 0, i)
		s.Periods = append(s.Periods, metrics.Period{Start: st, End: st.Add(24 * time.Hour), Sent: 1000, Delivered: 1000, Read: r})
	}
	return s
}

func rep(v int64, n int) []int64 {
	out := make([]int64, n)
	for i := range out {
		out[i] = v
	}
	return out
}

func cat(parts ...[]int64) []int64 {
	var out []int64
	for _, p := range parts {
		out = append(out, p...)
	}
	return out
}

// windows returns the last n daily windows ending with day `last` (1-based).
func windows(last, n int) []metrics.Window {
	grid := metrics.GridFor(metrics.Daily, day0.Location(), daily("x", 1))
	latest := grid.Latest(day0.AddDate(0, 0, last))
	return Windows(grid, latest, n)
}

func day(n int) time.Time { return day0.AddDate(0, 0, n-1) }

func TestRun(t *testing.T) {
	set := loadSet(t)
	type want struct {
		rule     string
		fired    int // day
		resolved int // day; 0 = still firing
		periods  int
		peak     float64
		duration time.Duration
	}
	for _, tc := range []struct {
		name    string
		reads   []int64
		last, n int
		want    []want
	}{
		{"quiet", rep(600, 20), 20, 10, nil},
		{"one-day collapse", cat(rep(600, 10), []int64{100}, rep(600, 5)), 16, 10,
			[]want{{"read-drop", 11, 12, 1, 0.1, 24 * time.Hour}}},
		{"three-day collapse, worst in the middle", cat(rep(600, 10), []int64{300, 100, 200}, rep(600, 3)), 16, 10,
			[]want{{"read-drop", 11, 14, 3, 0.1, 3 * 24 * time.Hour}}},
		{"still firing at the end", cat(rep(600, 10), []int64{300, 250}), 12, 5,
			[]want{{"read-drop", 11, 0, 2, 0.25, 2 * 24 * time.Hour}}},
		{"two episodes", cat(rep(600, 10), []int64{100, 600, 600, 100, 600}), 15, 10,
			[]want{{"read-drop", 11, 12, 1, 0.1, 24 * time.Hour}, {"read-drop", 14, 15, 1, 0.1, 24 * time.Hour}}},
		{"fired before the range, resolved in it", cat(rep(600, 10), []int64{100, 100, 100, 600}), 14, 2,
			[]want{{"read-drop", 11, 14, 1, 0.1, 3 * 24 * time.Hour}}},
		{"a gap neither fires nor resolves", cat(rep(600, 10), []int64{100, -1, -1, 600}), 14, 10,
			// a daily sender's gap is also a stop
			[]want{{"read-drop", 11, 14, 1, 0.1, 3 * 24 * time.Hour}, {"stopped", 12, 14, 2, 0, 2 * 24 * time.Hour}}},
		{"sends stop", cat(rep(600, 20), rep(-1, 3)), 23, 5,
			[]want{{"stopped", 21, 0, 3, 0, 3 * 24 * time.Hour}}},
		{"sends stop and come back", cat(rep(600, 20), rep(-1, 2), []int64{600}), 23, 5,
			[]want{{"stopped", 21, 23, 2, 0, 2 * 24 * time.Hour}}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			eps := Run(set, []*metrics.Series{daily("T1", tc.reads...)}, windows(tc.last, tc.n))
			if len(eps) != len(tc.want) {
				t.Fatalf("%d episodes, want %d: %+v", len(eps), len(tc.want), eps)
			}
			for i, w := range tc.want {
				ep := eps[i]
				if ep.Rule != w.rule || !ep.FiredAt.Equal(day(w.fired)) || ep.Periods != w.periods || ep.Duration != w.duration {
					t.Errorf("episode %d: %s fired %s periods %d duration %s, want %s day %d periods %d duration %s",
						i, ep.Rule, ep.FiredAt, ep.Periods, ep.Duration, w.rule, w.fired, w.periods, w.duration)
				}
				switch {
				case w.resolved == 0 && (!ep.StillFiring || ep.ResolvedAt != nil):
					t.Errorf("episode %d: want still firing, got resolved %v", i, ep.ResolvedAt)
				case w.resolved > 0 && (ep.StillFiring || ep.ResolvedAt == nil || !ep.ResolvedAt.Equal(day(w.resolved))):
					t.Errorf("episode %d: resolved %v, want day %d", i, ep.ResolvedAt, w.resolved)
				}
				if w.periods > 0 && (ep.Peak < w.peak-1e-9 || ep.Peak > w.peak+1e-9) {
					t.Errorf("episode %d: peak %v, want %v", i, ep.Peak, w.peak)
				}
				// backtest is read by people: the metric by its name, as in messages
				if w.rule == "read-drop" && !strings.HasPrefix(ep.Summary, "read rate ") {
					t.Errorf("episode %d: summary %q, want it to start with the metric's name, read rate", i, ep.Summary)
				}
			}
		})
	}
}

func TestWindows(t *testing.T) {
	ws := windows(10, 3)
	if len(ws) != 3 || !ws[0].Start.Equal(day(8)) || !ws[2].Start.Equal(day(10)) || !ws[2].End.Equal(day(11)) {
		t.Errorf("windows %v", ws)
	}
	if Periods(metrics.Daily, 14) != 14 || Periods(metrics.HalfHour, 2) != 96 {
		t.Error("Periods")
	}
}

func TestReport(t *testing.T) {
	set := loadSet(t)
	ws := windows(16, 10)
	r := &Report{At: day(17), Days: 10, Location: day0.Location()}
	r.Add(metrics.Daily, ws, Run(set, []*metrics.Series{
		daily("T1", cat(rep(600, 10), []int64{100}, rep(600, 5))...),
		daily("T2", cat(rep(600, 14), []int64{200, 150})...),
	}, ws))
	r.Templates = 2
	r.Sort()
	var b strings.Builder
	r.Print(&b, set)
	out := b.String()
	for _, want := range []string{
		"backtest: 10 DAILY periods, Sun 8 Nov → Tue 17 Nov (+08:00), 2 templates, 2 rules",
		"read-drop (critical, read_rate drop)",
		"TEMPLATE  LANG  BUTTON  FIRED       RESOLVED      DURATION  PEAK   BASELINE  WHY",
		// why it fired: what the history expected, and the limit
		"T1        en    -       Thu 12 Nov  Fri 13 Nov    1d        10.0%  60.0%     expected 60.0%, fires below 42.0%",
		"T2        en    -       Mon 16 Nov  still firing  2d        15.0%  54.3%",
		"stopped (warning, absent): no alerts",
		"2 episodes: 1 still firing, 1 resolved · 2 templates, 0 not fetched",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("output lacks %q:\n%s", want, out)
		}
	}
	js, err := json.Marshal(r)
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{`"rule":"read-drop"`, `"still_firing":true`, `"resolved_at":"2026-11-13T00:00:00+08:00"`, `"duration_seconds":86400`, `"detail":"expected 60.0%, fires below 42.0%"`, `"expected":0.6`} {
		if !strings.Contains(string(js), want) {
			t.Errorf("JSON lacks %s: %s", want, js)
		}
	}
}

func TestDuration(t *testing.T) {
	for d, want := range map[time.Duration]string{
		0: "0m", 30 * time.Minute: "30m", 36 * time.Hour: "1d 12h", 48 * time.Hour: "2d", 90 * time.Minute: "1h 30m", time.Second: "<1m",
	} {
		if got := Duration(d); got != want {
			t.Errorf("Duration(%s) = %q, want %q", d, got, want)
		}
	}
}
