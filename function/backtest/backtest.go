// Package backtest replays the rules over past periods: for each of the last
// N evaluated periods it judges the series exactly as a run at the end of
// that period would (rules.Set.Evaluate), and folds the results into alert
// episodes: when each alert fired, when it resolved, and how bad it got.
// It sends nothing and keeps no state.
package backtest

import (
	"fmt"
	"io"
	"math"
	"sort"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/cams-alert/cams-alert/function/alert"
	"github.com/cams-alert/cams-alert/function/metrics"
	"github.com/cams-alert/cams-alert/function/rules"
)

// Episode is one alert from the period it fired to the period it resolved.
type Episode struct {
	Rule        string              `json:"rule"`
	Severity    string              `json:"severity"`
	Granularity metrics.Granularity `json:"granularity"`
	Template    string              `json:"template"`
	Language    string              `json:"language"`
	Button      string              `json:"button,omitempty"`
	// FiredAt is the start of the period in which the alert fired (it may be
	// before the replayed range when it was already firing then).
	FiredAt time.Time `json:"fired_at"`
	// ResolvedAt is the start of the period in which it resolved; nil while
	// it is still firing at the end of the range.
	ResolvedAt *time.Time `json:"resolved_at,omitempty"`
	// Duration is how long it fired: to ResolvedAt, or to the end of the
	// last replayed period when still firing.
	Duration        time.Duration `json:"-"`
	DurationSeconds int64         `json:"duration_seconds"`
	StillFiring     bool          `json:"still_firing"`
	// Periods counts the replayed periods in which it was reported firing.
	Periods int `json:"firing_periods"`
	// Peak is the worst value while firing (lowest for drop, below, zero and
	// absent; highest for rise and above), with its baseline and period.
	Metric      string    `json:"metric"`
	IsRate      bool      `json:"is_rate"`
	Peak        float64   `json:"peak"`
	Baseline    float64   `json:"baseline"`
	HasBaseline bool      `json:"has_baseline"`
	PeakAt      time.Time `json:"peak_at"`
	// Summary is the alert line at the peak.
	Summary string `json:"summary"`
	// Detail explains the peak: for drop and rise, what the series' history
	// expected, the range it allowed and its day-to-day variation.
	Detail string `json:"detail,omitempty"`
	// Expected, Low and High (drop and rise at the peak; HasRange false
	// without a confidence) and Dispersion: see rules.Stats.
	Expected   float64 `json:"expected,omitempty"`
	Low        float64 `json:"expected_low,omitempty"`
	High       float64 `json:"expected_high,omitempty"`
	HasRange   bool    `json:"has_range,omitempty"`
	Dispersion float64 `json:"dispersion,omitempty"`
	// Silenced is the reason a silence muted it when it fired.
	Silenced string `json:"silenced,omitempty"`

	cond string
}

// Periods is how many periods of granularity g make `days` days.
func Periods(g metrics.Granularity, days int) int {
	return days * int(24*time.Hour/g.Step())
}

// Windows returns the n evaluated periods ending with latest, oldest first.
func Windows(grid metrics.Grid, latest metrics.Window, n int) []metrics.Window {
	out := make([]metrics.Window, 0, max(n, 0))
	for i := n - 1; i >= 0; i-- {
		out = append(out, grid.Back(latest, i))
	}
	return out
}

type key struct {
	rule, template, language, button string
}

// Run evaluates the set over the series at each window (oldest first) and
// returns the episodes, in the order they fired. Each window sees only the
// periods that end at or before its end, as a run at that moment would.
func Run(set *rules.Set, series []*metrics.Series, windows []metrics.Window) []Episode {
	var out []Episode
	for _, s := range series {
		if s == nil {
			continue
		}
		open := map[key]*Episode{}
		var order []key
		closeEp := func(k key) {
			out = append(out, *open[k])
			delete(open, k)
		}
		for _, w := range windows {
			cut := *s
			cut.Periods = s.Periods[:s.Upto(w.End)]
			for _, r := range set.Evaluate(&cut, w) {
				k := key{r.Rule.Name, r.Key.Template, r.Key.Language, r.Button}
				ep := open[k]
				if ep != nil && !ep.FiredAt.Equal(r.Since) {
					// A new firing run the engine reports without a
					// resolution in between: close the old one here.
					t := w.Start
					ep.ResolvedAt, ep.Duration = &t, w.Start.Sub(ep.FiredAt)
					closeEp(k)
					ep = nil
				}
				if ep == nil {
					ep = newEpisode(s.Granularity, &r)
					open[k] = ep
					order = append(order, k)
				}
				switch r.State {
				case alert.Firing:
					ep.Periods++
					ep.peak(&r)
					if reason, ok := set.Silenced(&r, w.End); ok && ep.Silenced == "" {
						ep.Silenced = reason
					}
				case alert.Resolved:
					t := w.Start
					ep.ResolvedAt, ep.Duration = &t, r.Duration
					if ep.Duration == 0 {
						ep.Duration = w.Start.Sub(ep.FiredAt)
					}
					closeEp(k)
				}
			}
		}
		if len(windows) > 0 {
			end := windows[len(windows)-1].End
			for _, k := range order {
				if ep := open[k]; ep != nil {
					ep.StillFiring = true
					ep.Duration = end.Sub(ep.FiredAt)
					closeEp(k)
				}
			}
		}
	}
	for i := range out {
		out[i].DurationSeconds = int64(out[i].Duration / time.Second)
	}
	sort.SliceStable(out, func(i, j int) bool { return out[i].FiredAt.Before(out[j].FiredAt) })
	return out
}

func newEpisode(g metrics.Granularity, r *rules.Result) *Episode {
	if g == "" {
		g = metrics.Daily
	}
	m := r.Rule.Metric
	if r.Rule.Condition == rules.Absent {
		m = metrics.Sent
	}
	return &Episode{
		Rule: r.Rule.Name, Severity: r.Rule.Severity, Granularity: g,
		Template: r.Key.Template, Language: r.Key.Language, Button: r.Button,
		FiredAt: r.Since, Metric: m, IsRate: metrics.IsRate(m),
		Peak: math.NaN(), cond: r.Rule.Condition,
	}
}

// peak keeps the worst result.
func (ep *Episode) peak(r *rules.Result) {
	worse := math.IsNaN(ep.Peak)
	if !worse {
		switch ep.cond {
		case rules.Rise, rules.Above:
			worse = r.Value > ep.Peak
		case rules.Expr:
			if r.HasBaseline && ep.HasBaseline {
				worse = math.Abs(r.Value-r.Baseline) > math.Abs(ep.Peak-ep.Baseline)
			}
		default:
			worse = r.Value < ep.Peak
		}
	}
	if worse {
		ep.Peak, ep.Baseline, ep.HasBaseline = r.Value, r.Baseline, r.HasBaseline
		ep.PeakAt, ep.Summary, ep.Detail = r.Period.Start, r.Summary, r.Detail
		if st := r.Stats; st != nil {
			ep.Detail = st.String()
			ep.Expected, ep.Low, ep.High, ep.HasRange, ep.Dispersion = st.Expected, st.Low, st.High, st.HasRange, st.Dispersion
		}
	}
}

// Range is the replayed periods of one granularity.
type Range struct {
	Granularity metrics.Granularity `json:"granularity"`
	Periods     int                 `json:"periods"`
	Start       time.Time           `json:"start"` // of the first period
	End         time.Time           `json:"end"`   // of the last period
	last        time.Time           // start of the last period
}

// Report is a whole backtest.
type Report struct {
	At        time.Time      `json:"at"`
	Days      int            `json:"days"`
	Location  *time.Location `json:"-"`
	Ranges    []Range        `json:"ranges"`
	Templates int            `json:"templates"`
	Episodes  []Episode      `json:"episodes"`
	// Unchecked lists the templates that could not be fetched.
	Unchecked []string `json:"errors"`
}

// Add records one template's episodes at granularity g over windows.
func (r *Report) Add(g metrics.Granularity, windows []metrics.Window, eps []Episode) {
	if len(windows) > 0 {
		found := false
		for _, rg := range r.Ranges {
			found = found || rg.Granularity == g
		}
		if !found {
			r.Ranges = append(r.Ranges, Range{Granularity: g, Periods: len(windows),
				Start: windows[0].Start, End: windows[len(windows)-1].End, last: windows[len(windows)-1].Start})
		}
	}
	r.Episodes = append(r.Episodes, eps...)
}

// Sort orders the episodes by rule name, then when they fired, template,
// language and button, and shows their times in the report's Location.
func (r *Report) Sort() {
	sort.SliceStable(r.Episodes, func(i, j int) bool {
		a, b := &r.Episodes[i], &r.Episodes[j]
		switch {
		case a.Rule != b.Rule:
			return a.Rule < b.Rule
		case !a.FiredAt.Equal(b.FiredAt):
			return a.FiredAt.Before(b.FiredAt)
		case a.Template != b.Template:
			return a.Template < b.Template
		case a.Language != b.Language:
			return a.Language < b.Language
		}
		return a.Button < b.Button
	})
	loc := r.Location
	if loc == nil {
		loc = time.UTC
	}
	for i := range r.Ranges {
		r.Ranges[i].Start, r.Ranges[i].End = r.Ranges[i].Start.In(loc), r.Ranges[i].End.In(loc)
	}
	for i := range r.Episodes {
		ep := &r.Episodes[i]
		ep.FiredAt, ep.PeakAt = ep.FiredAt.In(loc), ep.PeakAt.In(loc)
		if ep.ResolvedAt != nil {
			t := ep.ResolvedAt.In(loc)
			ep.ResolvedAt = &t
		}
		if math.IsNaN(ep.Peak) || math.IsInf(ep.Peak, 0) { // JSON has no NaN
			ep.Peak = 0
		}
		if math.IsNaN(ep.Baseline) || math.IsInf(ep.Baseline, 0) {
			ep.Baseline, ep.HasBaseline = 0, false
		}
	}
	if r.Unchecked == nil {
		r.Unchecked = []string{}
	}
	if r.Episodes == nil {
		r.Episodes = []Episode{}
	}
}

// Print writes one table per rule of set (in the set's order; a rule with
// no episode says so), then a one-line total.
func (r *Report) Print(w io.Writer, set *rules.Set) {
	loc := r.Location
	if loc == nil {
		loc = time.UTC
	}
	for _, rg := range r.Ranges {
		fmt.Fprintf(w, "backtest: %d %s periods, %s → %s (%s), %d templates, %d rules\n",
			rg.Periods, rg.Granularity, stamp(rg.Start, rg.Granularity, loc), stamp(rg.last, rg.Granularity, loc),
			loc, r.Templates, len(set.Rules))
	}
	if len(r.Ranges) == 0 {
		fmt.Fprintf(w, "backtest: no data in the last %d days before %s\n", r.Days, r.At.In(loc).Format(time.RFC3339))
	}
	byRule := map[string][]Episode{}
	for _, ep := range r.Episodes {
		byRule[ep.Rule] = append(byRule[ep.Rule], ep)
	}
	firing, resolved := 0, 0
	for _, rule := range set.Rules {
		eps := byRule[rule.Name]
		fmt.Fprintf(w, "\n%s (%s, %s)", rule.Name, rule.Severity, describeRule(rule))
		if len(eps) == 0 {
			fmt.Fprintln(w, ": no alerts")
			continue
		}
		fmt.Fprintln(w)
		tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
		fmt.Fprintln(tw, "  TEMPLATE\tLANG\tBUTTON\tFIRED\tRESOLVED\tDURATION\tPEAK\tBASELINE\tWHY")
		for _, ep := range eps {
			res := "still firing"
			if ep.ResolvedAt != nil {
				res = stamp(*ep.ResolvedAt, ep.Granularity, loc)
				resolved++
			} else {
				firing++
			}
			button := ep.Button
			if button == "" {
				button = "-"
			}
			base := "-"
			if ep.HasBaseline {
				base = format(ep.Baseline, ep.IsRate)
			}
			peak := format(ep.Peak, ep.IsRate)
			if ep.Periods == 0 { // fired before the range and resolved in it
				peak = "-"
			}
			if ep.Silenced != "" {
				res += " (silenced)"
			}
			why := ep.Detail
			if why == "" || ep.Periods == 0 {
				why = "-"
			}
			fmt.Fprintf(tw, "  %s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n", ep.Template, ep.Language, button,
				stamp(ep.FiredAt, ep.Granularity, loc), res, Duration(ep.Duration), peak, base, why)
		}
		_ = tw.Flush()
	}
	fmt.Fprintf(w, "\n%s: %d still firing, %d resolved · %s, %d not fetched\n",
		plural(len(r.Episodes), "episode"), firing, resolved, plural(r.Templates, "template"), len(r.Unchecked))
}

func plural(n int, noun string) string {
	if n == 1 {
		return "1 " + noun
	}
	return fmt.Sprintf("%d %ss", n, noun)
}

func describeRule(r *rules.Rule) string {
	if r.Condition == rules.Expr {
		return "expr " + strconv.Quote(r.ExprSource)
	}
	if r.Condition == rules.Absent {
		return "absent"
	}
	s := r.Metric
	if r.Button != "" {
		s += " of " + strconv.Quote(r.Button)
	}
	return s + " " + r.Condition
}

// stamp shows the start of a period: a date for DAILY, a date and time for
// HALF_HOUR.
func stamp(t time.Time, g metrics.Granularity, loc *time.Location) string {
	t = t.In(loc)
	if g == metrics.HalfHour || t.Hour() != 0 || t.Minute() != 0 {
		return t.Format("Mon 2 Jan 15:04")
	}
	return t.Format("Mon 2 Jan")
}

// format shows a value: a percentage for rates, a count otherwise.
func format(v float64, rate bool) string {
	switch {
	case math.IsNaN(v) || math.IsInf(v, 0):
		return fmt.Sprint(v)
	case rate:
		return strconv.FormatFloat(v*100, 'f', 1, 64) + "%"
	case math.Abs(v) >= 100 && math.Abs(v) < 1e15:
		return group(int64(math.Round(v)))
	case v == math.Trunc(v):
		return group(int64(v))
	}
	return strconv.FormatFloat(v, 'f', 1, 64)
}

func group(n int64) string {
	s := strconv.FormatInt(n, 10)
	neg := strings.HasPrefix(s, "-")
	s = strings.TrimPrefix(s, "-")
	var b strings.Builder
	for i, c := range s {
		if i > 0 && (len(s)-i)%3 == 0 {
			b.WriteByte(',')
		}
		b.WriteRune(c)
	}
	if neg {
		return "-" + b.String()
	}
	return b.String()
}

// Duration renders a duration in days, hours and minutes: "2d", "1d 12h",
// "30m".
func Duration(d time.Duration) string {
	if d <= 0 {
		return "0m"
	}
	days := d / (24 * time.Hour)
	d -= days * 24 * time.Hour
	h := d / time.Hour
	d -= h * time.Hour
	m := d / time.Minute
	var parts []string
	if days > 0 {
		parts = append(parts, fmt.Sprintf("%dd", days))
	}
	if h > 0 {
		parts = append(parts, fmt.Sprintf("%dh", h))
	}
	if m > 0 {
		parts = append(parts, fmt.Sprintf("%dm", m))
	}
	if len(parts) == 0 {
		return "<1m"
	}
	return strings.Join(parts, " ")
}
