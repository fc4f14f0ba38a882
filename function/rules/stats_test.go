package rules

import (
	"math"
	"math/rand/v2"
	"strings"
	"testing"
	"time"

	"github.com/cams-alert/cams-alert/function/alert"
	"github.com/cams-alert/cams-alert/function/metrics"
)

// weekly builds `weeks` weeks from Monday of a sender of 10,000 delivered a
// day whose read rate moves from day to day (wobble, repeated) and is
// `weekend` lower on Saturdays and Sundays.
func weekly(weeks int, base, weekend float64, wobble []float64) []row {
	var rows []row
	for d := range weeks * 7 {
		rate := base * (1 + wobble[d%len(wobble)])
		if d%7 >= 5 {
			rate *= 1 - weekend
		}
		rows = append(rows, row{10500, 10000, int64(rate * 10000), 300})
	}
	return rows
}

// wobble is ±10% day-to-day movement that does not repeat weekly.
var wobble = []float64{0.04, -0.06, 0.09, -0.02, 0.05, -0.09, 0.01, 0.07, -0.04, 0.0, -0.07}

func TestSeasonality(t *testing.T) {
	// 5 weeks: the last day (index 33) is a Saturday, 34 a Sunday.
	hist := weekly(5, 0.6, 0.35, wobble)
	sat, wed := 33, 30
	withRead := func(i int, rate float64) *metrics.Series {
		rows := append([]row(nil), hist[:i+1]...)
		rows[i].r = int64(rate * float64(rows[i].d))
		return daily(rows)
	}
	for _, tc := range []struct {
		name   string
		rule   string
		series *metrics.Series
		day    int
		fires  bool
		season string
	}{
		{"a quiet Saturday is expected", "seasonality: auto, confidence: 0.999", daily(hist[:sat+1]), sat, false, "weekday"},
		{"without seasonality it is a drop", "seasonality: off", daily(hist[:sat+1]), sat, true, ""},
		{"a collapse on a Saturday still fires", "confidence: 0.999", withRead(sat, 0.2), sat, true, "weekday"},
		{"a collapse on a Wednesday fires", "confidence: 0.999", withRead(wed, 0.3), wed, true, "weekday"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s := mustLoad(t, `rules:
  - {name: r, metric: read_rate, condition: drop, by: 25%, baseline: 7d, baseline_stat: median, `+tc.rule+`}
`)
			state, res := stateAt(t, s, tc.series, tc.day)
			st := s.Explain(tc.series, dayWindow(tc.day))["r"]
			if (state == alert.Firing) != tc.fires {
				t.Fatalf("state %q, want firing %v (%s)", state, tc.fires, st)
			}
			if st == nil {
				t.Fatal("no statistics")
			}
			if st.Seasonal != tc.season {
				t.Errorf("seasonal %q, want %q (%s)", st.Seasonal, tc.season, st)
			}
			if tc.season != "" && tc.day == sat && (st.Factor > 0.85 || st.Factor < 0.6) {
				t.Errorf("Saturday factor %.2f, want about 0.7 (%s)", st.Factor, st)
			}
			if st.Holds != tc.fires {
				t.Errorf("explained holds %v, want %v", st.Holds, tc.fires)
			}
			if tc.fires && (res.Stats == nil || !strings.Contains(res.Stats.String(), "expected ")) {
				t.Errorf("the alert does not carry its statistics: %+v", res.Stats)
			}
		})
	}
}

func TestDispersion(t *testing.T) {
	// The same 25% drop at 10,000 delivered a day: certain for a series
	// whose rate never moves, ordinary for one that moves ±10% a day.
	steady := weekly(4, 0.5, 0, []float64{0})
	moving := weekly(4, 0.5, 0, []float64{0.1, -0.1, 0.05, -0.08, 0.1, -0.03, -0.1, 0.08, 0.02})
	for _, tc := range []struct {
		name     string
		rows     []row
		fires    bool
		minDisp  float64
		maxDisp  float64
		minWidth float64 // High − Low
	}{
		{"steady: binomial noise only", steady, true, 0, 1.5, 0},
		{"moving: its own variation", moving, false, 20, 1e9, 0.2},
	} {
		t.Run(tc.name, func(t *testing.T) {
			rows := append([]row(nil), tc.rows...)
			rows[len(rows)-1].r = 3800 // 0.38 vs about 0.5: 24% lower
			ser := daily(rows)
			s := mustLoad(t, `rules:
  - {name: r, metric: read_rate, condition: drop, by: 20%, baseline: 7d, baseline_stat: median, confidence: 0.999, seasonality: off}
`)
			last := len(rows) - 1
			state, _ := stateAt(t, s, ser, last)
			st := s.Explain(ser, dayWindow(last))["r"]
			if (state == alert.Firing) != tc.fires {
				t.Errorf("state %q, want firing %v (%s)", state, tc.fires, st)
			}
			if st == nil || !st.HasRange {
				t.Fatalf("no range: %+v", st)
			}
			if st.Dispersion < tc.minDisp || st.Dispersion > tc.maxDisp {
				t.Errorf("dispersion %.1f, want %.1f..%.1f", st.Dispersion, tc.minDisp, tc.maxDisp)
			}
			if st.High-st.Low < tc.minWidth {
				t.Errorf("range %.3f–%.3f narrower than %.2f", st.Low, st.High, tc.minWidth)
			}
		})
	}
}

func TestOutlierDoesNotWidenTheRange(t *testing.T) {
	// A collapse on day 25 stays in the history; the next one, a week
	// later, must still fire.
	rows := weekly(5, 0.5, 0, []float64{0.03, -0.02, 0.01, -0.03, 0.02})
	rows[25].r = 1000
	rows[32].r = 2500
	s := mustLoad(t, `rules:
  - {name: r, metric: read_rate, condition: drop, by: 30%, baseline: 7d, baseline_stat: median, confidence: 0.999}
`)
	if state, _ := stateAt(t, s, daily(rows[:33]), 32); state != alert.Firing {
		t.Errorf("second collapse: state %q; %s", state, s.Explain(daily(rows[:33]), dayWindow(32))["r"])
	}
}

func TestTimeOfDay(t *testing.T) {
	// Half-hourly sends for 8 days; the night half hours (00:00–06:00)
	// read 40% less than the day's.
	start := day0
	var ser metrics.Series
	ser.Key, ser.Granularity = metrics.Key{Template: "T1", Language: "en"}, metrics.HalfHour
	n := 8 * 48
	for i := range n {
		slot := i % 48
		rate := 0.6 * (1 + wobble[i%len(wobble)])
		if slot < 12 {
			rate *= 0.6
		}
		st := start.Add(time.Duration(i) * 30 * time.Minute)
		ser.Periods = append(ser.Periods, metrics.Period{Start: st, End: st.Add(30 * time.Minute),
			Sent: 2100, Delivered: 2000, Read: int64(rate * 2000)})
	}
	s := mustLoad(t, `rules:
  - {name: r, metric: read_rate, condition: drop, by: 30%, baseline: 12, granularity: HALF_HOUR, confidence: 0.999}
`)
	night := n - 48 + 2 // 01:00 on the last day: the 6 hours before were day and evening
	w := metrics.Window{Start: ser.Periods[night].Start, End: ser.Periods[night].End}
	cut := ser
	cut.Periods = ser.Periods[:night+1]
	if res := s.Evaluate(&cut, w); len(res) != 0 {
		t.Errorf("a normal night half hour fired: %s", res[0].Detail)
	}
	st := s.Explain(&cut, w)["r"]
	if st == nil || st.Seasonal != "half hour of the day" || st.Factor > 0.8 {
		t.Errorf("statistics %+v", st)
	}
	cut.Periods = append([]metrics.Period(nil), cut.Periods...)
	cut.Periods[night].Read /= 3
	if res := s.Evaluate(&cut, w); len(res) != 1 || res[0].State != alert.Firing {
		t.Errorf("a night collapse did not fire: %+v", s.Explain(&cut, w)["r"])
	}
}

func TestSeasonalityField(t *testing.T) {
	for _, tc := range []struct {
		yaml, want string
	}{
		{"{name: r, metric: read_rate, condition: drop, by: 30%, seasonality: weekly}", `test.yaml:2:73: rule r: unknown seasonality "weekly" (want auto or off)`},
		{"{name: r, metric: read_rate, condition: drop, by: 30%, seasonality: 1}", `test.yaml:2:73: rule r: unknown seasonality "1" (want auto or off)`},
	} {
		_, err := LoadBytes("test.yaml", []byte("rules:\n  - "+tc.yaml+"\n"), nil)
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: error %v, want %q", tc.yaml, err, tc.want)
		}
	}
	s, err := LoadBytes("test.yaml", []byte("rules:\n  - {name: r, metric: read_rate, condition: below, threshold: 0.1, seasonality: off}\n"), nil)
	if err != nil || len(s.Warnings) != 1 || !strings.Contains(s.Warnings[0].Msg, "seasonality is not used by condition below") {
		t.Errorf("err %v, warnings %v", err, s.Warnings)
	}
	s = mustLoad(t, "rules:\n  - {name: r, metric: read_rate, condition: rise, by: 30%}\n")
	if s.Rules[0].Seasonality != SeasonAuto {
		t.Errorf("default seasonality %q", s.Rules[0].Seasonality)
	}
}

// TestStatsOnRoughData: drop and rise over random series full of zeros,
// gaps and spikes never panic, and what they report is finite.
func TestStatsOnRoughData(t *testing.T) {
	s := mustLoad(t, `rules:
  - {name: rd, metric: read_rate, condition: drop, by: 30%, confidence: 0.99}
  - {name: cr, metric: clicks, condition: rise, by: 5, baseline_stat: median}
  - {name: sd, metric: sent, condition: drop, by: 50%}
  - {name: kr, metric: click_rate, condition: rise, by: 50%, confidence: 0.999, button: "Go"}
`)
	rng := rand.New(rand.NewPCG(1, 2))
	for n := range 300 {
		var rows []row
		for range 40 {
			switch rng.IntN(5) {
			case 0:
				rows = append(rows, gap)
			case 1:
				rows = append(rows, row{int64(rng.IntN(3)), 0, 0, 0})
			default:
				sent := int64(rng.IntN(5000))
				del := sent * int64(rng.IntN(101)) / 100
				read := del * int64(rng.IntN(101)) / 100
				rows = append(rows, row{sent, del, read, read * int64(rng.IntN(3)) / 10})
			}
		}
		ser := daily(rows, metrics.Button{Type: metrics.URLButton, Text: "Go"})
		for d := 20; d < 40; d++ {
			for _, r := range s.Evaluate(ser, dayWindow(d)) {
				if st := r.Stats; st != nil && !finite(st.Expected, st.Low, st.High, st.Limit, st.Dispersion, st.Factor) {
					t.Fatalf("series %d day %d %s: %+v", n, d, r.Rule.Name, st)
				}
			}
			for name, st := range s.Explain(ser, dayWindow(d)) {
				if !finite(st.Expected, st.Low, st.High, st.Limit, st.Dispersion, st.Factor) {
					t.Fatalf("series %d day %d %s explained: %+v", n, d, name, st)
				}
			}
		}
	}
}

func finite(vs ...float64) bool {
	for _, v := range vs {
		if math.IsNaN(v) || math.IsInf(v, 0) {
			return false
		}
	}
	return true
}

func TestGroupThatIsAlwaysZero(t *testing.T) {
	// No clicks at weekends, ever: a Saturday expects none; a Wednesday's
	// collapse still fires.
	var rows []row
	for d := range 5 * 7 {
		c := int64(100 + 7*(d%3))
		if d%7 >= 5 {
			c = 0
		}
		rows = append(rows, row{1050, 1000, 600, c})
	}
	s := mustLoad(t, `rules:
  - {name: r, metric: clicks, condition: drop, by: 50%, baseline: 7d}
`)
	sat, wed := 33, 30
	if state, res := stateAt(t, s, daily(rows[:sat+1]), sat); state != "" {
		t.Errorf("a Saturday without clicks: %s %+v", state, res.Stats)
	}
	rows[wed].c = 20
	state, res := stateAt(t, s, daily(rows[:wed+1]), wed)
	if state != alert.Firing || res.Stats == nil || !finite(res.Stats.Expected) || res.Stats.Expected < 90 {
		t.Errorf("a Wednesday collapse: %q %+v", state, res)
	}
}
