// Package quality measures how good the shipped rules' alerts are: it
// generates synthetic campaign traffic with labelled incidents (function/sim),
// runs a rule set over it through the same calls the monitor makes
// (rules.Load, then Set.Evaluate on each day's window with the history a run
// fetches), and reports recall over detectable incidents and false alerts per
// 1,000 template-days. It is a test tool behind `make quality` and is not
// linked into dist/main.
package quality

import (
	"fmt"
	"math"
	"sort"
	"strings"
	"time"

	"github.com/cams-alert/cams-alert/function/alert"
	"github.com/cams-alert/cams-alert/function/metrics"
	"github.com/cams-alert/cams-alert/function/rules"
	"github.com/cams-alert/cams-alert/function/sim"
)

// Config is one benchmark setup; Run draws one dataset per seed from it.
type Config struct {
	RulesPath string
	// Templates is how many template/language series to generate.
	Templates int
	// Days of data; the last EvalDays are evaluated, the rest is history.
	Days, EvalDays int
	// IncidentShare is the share of series given an incident that starts in
	// the evaluated days and lasts IncidentMinDays..IncidentMaxDays.
	IncidentShare                    float64
	IncidentMinDays, IncidentMaxDays int
	// Profile names the traffic model (see Profiles).
	Profile string
	// Drift is the day-to-day drift of every series' rates (sim.Spec.Drift).
	Drift float64
	// ReadJitter, ClickJitter and WeekendRead model overdispersed campaign
	// traffic with weekly seasonality (sim.Spec, fields of the same names).
	ReadJitter, ClickJitter, WeekendRead float64
	Start                                time.Time
}

// Profiles are the traffic models `make quality` holds the rules to:
//
//   - binomial: every series has fixed rates with 3% lognormal drift a day;
//     the counts are binomial around them.
//   - real: campaign traffic as measured on real templates: on top of the
//     drift, each sending day multiplies the read probability by a factor
//     drawn uniformly from [0.85, 1.15] and the click probabilities by one
//     from [0.75, 1.25] (each send reaches another audience segment), and
//     read rates are 15% lower on Saturdays and Sundays. Incidents and
//     their labels are the same as in binomial.
var Profiles = []string{"binomial", "real"}

// ProfileConfig returns the configuration of a named profile.
func ProfileConfig(name string) (Config, error) {
	cfg := DefaultConfig()
	switch name {
	case "binomial":
	case "real":
		cfg.Profile = name
		cfg.ReadJitter, cfg.ClickJitter, cfg.WeekendRead = 0.15, 0.25, 0.15
	default:
		return cfg, fmt.Errorf("unknown profile %q (want %s)", name, strings.Join(Profiles, " or "))
	}
	return cfg, nil
}

// DefaultConfig is the binomial profile, what `make quality` runs first.
func DefaultConfig() Config {
	return Config{
		Profile:         "binomial",
		RulesPath:       "rules",
		Templates:       2000,
		Days:            60,
		EvalDays:        30,
		IncidentShare:   0.25,
		IncidentMinDays: 2,
		IncidentMaxDays: 14,
		Drift:           0.03,
		Start:           time.Date(2026, 9, 1, 0, 0, 0, 0, time.FixedZone("CST", 8*3600)),
	}
}

// Labelling constants: what a competent detector could see on an
// incident's first day (see docs/quality.md, "Detectable incidents").
const (
	// A rate collapse is detectable when a one-sided two-proportion z-test
	// at 99% confidence, fed the expected rates and the day's real
	// denominators (against the 7 sending days before), would see it with
	// 95% power: expected z ≥ z(0.99) + z(0.95).
	LabelZ = 2.3263478740408408 + 1.6448536269514722
	// LabelBaselineDays is the baseline the label's z-test compares with.
	LabelBaselineDays = 7
	// Click death is detectable when the day's reads predict at least this
	// many clicks (of all buttons; of the URL button for a dead URL button).
	// A healthy day shows 0 of λ expected clicks with probability e^-λ: at
	// 10 that is 4.5e-5, so a detector that keeps to 1 false alert per 1,000
	// template-days across a template's buttons can afford to judge it; at 5
	// (0.7%) none can.
	LabelMinClicks = 10.0
	// Sends stopped is detectable when the series' pattern (daily or
	// weekdays) planned a send that day, whatever its volume: a regular
	// sender that stops leaves no noise to hide in. (LabelMinSent is the
	// least mean sent per sending day over the 28 days before; 0: any.)
	LabelMinSent   = 0.0
	LabelSentDays  = 28
	readCollapse   = 0.4 // sim: the read rate is multiplied by this
	deliveryFactor = 0.5 // sim: the delivery rate is multiplied by this
)

// RuleFor is the shipped rule that must catch each incident kind.
var RuleFor = map[string]string{
	sim.ReadCollapse:     "read-rate-drop",
	sim.DeliveryCollapse: "delivery-rate-drop",
	sim.ClickDeath:       "zero-clicks",
	sim.DeadURLButton:    "dead-url-button",
	sim.SendsStopped:     "sends-stopped",
}

// Kinds lists the incident kinds in report order.
var Kinds = []string{sim.ReadCollapse, sim.DeliveryCollapse, sim.ClickDeath, sim.DeadURLButton, sim.SendsStopped}

// Bands are the volume bands (nominal sent per sending day) of the report.
var Bands = []Band{{"20–100", 0, 100}, {"100–1k", 100, 1000}, {"1k–10k", 1000, 10000}, {"10k–50k", 10000, math.MaxInt}}

// Band is a range of nominal daily volume, [Lo, Hi).
type Band struct {
	Name   string
	Lo, Hi int
}

// BandOf returns the index of the band of a nominal volume.
func BandOf(volume int) int {
	for i, b := range Bands {
		if volume >= b.Lo && volume < b.Hi {
			return i
		}
	}
	return len(Bands) - 1
}

// Incident is one labelled incident and what the rules made of it.
type Incident struct {
	Seed     uint64
	Kind     string
	Template string
	Language string
	Pattern  sim.Pattern
	Volume   int // nominal sent per sending day
	// Day is the incident's first day, First and Second its first two
	// observable days (rates and clicks: days the series sent; sends
	// stopped: days its pattern planned a send), -1 when there is none in
	// the data.
	Day, First, Second int
	// Detectable is the label; Why explains it ("z 7.4 ≥ 3.97").
	Detectable bool
	Why        string
	// Detected: the matching rule fired on the first or second observable
	// day. DetectedDay is the first day it fired while the incident covered
	// the series (-1: never).
	Detected    bool
	DetectedDay int
	// On the first observable day: the metric's value, its baseline (the
	// rule's statistic over the sending days before) and the volume.
	Value, Baseline float64
	VolumeOn        int64
	Metric          string
}

// Alert is one new firing alert (its first firing day).
type Alert struct {
	Seed                                       uint64
	Rule, Severity, Template, Language, Button string
	Pattern                                    sim.Pattern
	Volume                                     int // nominal
	Day                                        int
	Date                                       time.Time
	Value, Baseline                            float64
	VolumeOn                                   int64
	Summary, Detail                            string
	// Incident is the kind of the incident covering the series that day
	// ("" for a false alert).
	Incident string
}

// Report is the outcome for one seed.
type Report struct {
	Seed         uint64
	Config       Config
	Series       int
	TemplateDays int
	// TemplateDaysBy counts template-days per volume band and per pattern.
	TemplateDaysBy      [4]int
	TemplateDaysPattern map[sim.Pattern]int
	Incidents           []*Incident
	Alerts              []Alert // every new firing alert in the evaluated days
	Evaluations         int64
	// RuleNames lists every rule of the set, in its order: the report
	// counts false alerts of each, the user's own rules too.
	RuleNames []string
}

// Detectable returns the detectable incidents.
func (r *Report) Detectable() []*Incident {
	var out []*Incident
	for _, in := range r.Incidents {
		if in.Detectable {
			out = append(out, in)
		}
	}
	return out
}

// Recall is the share of detectable incidents detected on their first or
// second observable day.
func (r *Report) Recall() float64 {
	n, hit := 0, 0
	for _, in := range r.Incidents {
		if in.Detectable {
			n++
			if in.Detected {
				hit++
			}
		}
	}
	if n == 0 {
		return 1
	}
	return float64(hit) / float64(n)
}

// False returns the false alerts.
func (r *Report) False() []Alert {
	var out []Alert
	for _, a := range r.Alerts {
		if a.Incident == "" {
			out = append(out, a)
		}
	}
	return out
}

// FalsePer1000 is false alerts per 1,000 template-days.
func (r *Report) FalsePer1000() float64 {
	return 1000 * float64(len(r.False())) / float64(max(1, r.TemplateDays))
}

// Run generates the dataset of one seed and evaluates the rules over it.
func Run(cfg Config, seed uint64) (*Report, error) {
	set, err := rules.Load(cfg.RulesPath, nil)
	if err != nil {
		return nil, err
	}
	set.Location = cfg.Start.Location()
	for _, name := range RuleFor {
		if findRule(set, name) == nil {
			return nil, fmt.Errorf("%s: no rule %q (the benchmark matches incidents to it)", cfg.RulesPath, name)
		}
	}
	ds := sim.Generate(seed, simOptions(cfg))
	rep := &Report{Seed: seed, Config: cfg, Series: len(ds.Series), TemplateDaysPattern: map[sim.Pattern]int{}}
	for _, r := range set.Rules {
		rep.RuleNames = append(rep.RuleNames, r.Name)
	}
	evalFrom := cfg.Days - cfg.EvalDays
	lookback := set.Lookback(metrics.Daily)
	for i, s := range ds.Series {
		spec := ds.Specs[i]
		rep.TemplateDays += cfg.EvalDays
		rep.TemplateDaysBy[BandOf(spec.Volume)] += cfg.EvalDays
		rep.TemplateDaysPattern[spec.Pattern] += cfg.EvalDays
		var inc *Incident
		cover := [2]int{-1, -1}
		if spec.Incident != nil && spec.Incident.Day >= evalFrom {
			inc, cover = label(ds, spec, s, set)
			inc.Seed = seed
			rep.Incidents = append(rep.Incidents, inc)
		}
		seen := map[episode]bool{}
		firing := map[string]map[int]bool{} // rule → days it was firing
		for d := evalFrom; d < cfg.Days; d++ {
			w := window(cfg.Start, d)
			sub := history(s, w, lookback)
			res := set.Evaluate(sub, w)
			rep.Evaluations += int64(len(set.Rules))
			for k := range res {
				r := &res[k]
				if r.State != alert.Firing {
					continue
				}
				if firing[r.Rule.Name] == nil {
					firing[r.Rule.Name] = map[int]bool{}
				}
				firing[r.Rule.Name][d] = true
				ep := episode{r.Rule.Name, r.Button, r.Since.UnixMilli()}
				if seen[ep] {
					continue
				}
				seen[ep] = true
				since := dayOf(cfg.Start, r.Since)
				if since < evalFrom {
					continue // began before the evaluated days: warm-up
				}
				a := newAlert(seed, r, spec, cfg.Start, since)
				if inc != nil && since >= cover[0] && since < cover[1] {
					a.Incident = inc.Kind
				}
				rep.Alerts = append(rep.Alerts, a)
			}
		}
		if inc != nil {
			hits := firing[RuleFor[inc.Kind]]
			inc.Detected = (inc.First >= 0 && hits[inc.First]) || (inc.Second >= 0 && hits[inc.Second])
			inc.DetectedDay = -1
			for d := max(cover[0], evalFrom); d < cover[1]; d++ {
				if hits[d] {
					inc.DetectedDay = d
					break
				}
			}
		}
	}
	return rep, nil
}

// newAlert records a new firing alert of series spec that began on day since.
func newAlert(seed uint64, r *rules.Result, spec *sim.Spec, start time.Time, since int) Alert {
	a := Alert{Seed: seed, Rule: r.Rule.Name, Severity: r.Rule.Severity, Template: r.Key.Template, Language: r.Key.Language,
		Button: r.Button, Pattern: spec.Pattern, Volume: spec.Volume, Day: since,
		Date: start.AddDate(0, 0, since), Value: r.Value, Baseline: r.Baseline,
		VolumeOn: r.Volume, Summary: r.Summary, Detail: r.Detail}
	if r.Stats != nil {
		a.Detail = r.Stats.String()
	}
	return a
}

func simOptions(cfg Config) sim.Options {
	return sim.Options{
		Templates: cfg.Templates, Days: cfg.Days, Start: cfg.Start,
		IncidentShare: cfg.IncidentShare, IncidentWindow: cfg.EvalDays,
		IncidentMinDays: cfg.IncidentMinDays, IncidentMaxDays: cfg.IncidentMaxDays,
		Drift: cfg.Drift, ReadJitter: cfg.ReadJitter, ClickJitter: cfg.ClickJitter, WeekendRead: cfg.WeekendRead,
	}
}

type episode struct {
	rule, button string
	since        int64
}

func findRule(set *rules.Set, name string) *rules.Rule {
	for _, r := range set.Rules {
		if r.Name == name {
			return r
		}
	}
	return nil
}

func window(start time.Time, d int) metrics.Window {
	return metrics.Window{Start: start.AddDate(0, 0, d), End: start.AddDate(0, 0, d+1)}
}

func dayOf(start, t time.Time) int {
	return int(math.Round(t.Sub(start).Hours() / 24))
}

// history is what a run evaluating window w fetches: the periods of the
// `lookback`+2 days up to w's end (the monitor's query), nothing later.
func history(s *metrics.Series, w metrics.Window, lookback int) *metrics.Series {
	from := w.End.AddDate(0, 0, -(lookback + 2))
	ps := s.Periods
	lo := sort.Search(len(ps), func(i int) bool { return !ps[i].Start.Before(from) })
	hi := sort.Search(len(ps), func(i int) bool { return ps[i].End.After(w.End) })
	cp := *s
	cp.Periods = ps[lo:max(lo, hi)]
	return &cp
}

// label derives the incident's observable days, its detectability and the
// days it covers the series: from its first day until the series' first
// sending day after it ended (an alert on a gap the incident caused is the
// incident's, not a false alert).
func label(ds *sim.Dataset, spec *sim.Spec, s *metrics.Series, set *rules.Set) (*Incident, [2]int) {
	in := spec.Incident
	inc := &Incident{Kind: in.Kind, Template: spec.Code, Language: spec.Language, Pattern: spec.Pattern,
		Volume: spec.Volume, Day: in.Day, First: -1, Second: -1, DetectedDay: -1}
	byDay := map[int]int{}
	for i := range s.Periods {
		byDay[dayOf(ds.Start, s.Periods[i].Start)] = i
	}
	end := ds.Days
	for d := in.Day; d < ds.Days; d++ {
		if !in.Active(d) {
			if _, ok := byDay[d]; ok {
				end = d
				break
			}
			continue
		}
		var obs bool
		if in.Kind == sim.SendsStopped {
			obs = spec.Sends(ds.Start, d)
		} else {
			_, obs = byDay[d]
		}
		if obs {
			if inc.First < 0 {
				inc.First = d
			} else if inc.Second < 0 {
				inc.Second = d
			}
		}
	}
	cover := [2]int{in.Day, end}
	if inc.First < 0 {
		inc.Why = "no observable day in the data"
		return inc, cover
	}
	f := inc.First
	// prev: the sending periods before the first observable day, newest first.
	var prev []*metrics.Period
	for i := len(s.Periods) - 1; i >= 0; i-- {
		if dayOf(ds.Start, s.Periods[i].Start) < f {
			prev = append(prev, &s.Periods[i])
		}
	}
	switch in.Kind {
	case sim.ReadCollapse, sim.DeliveryCollapse:
		labelRate(inc, spec, &s.Periods[byDay[f]], prev, set)
	case sim.ClickDeath, sim.DeadURLButton:
		labelClicks(inc, spec, &s.Periods[byDay[f]], prev, set)
	case sim.SendsStopped:
		labelStopped(inc, ds, spec, prev)
	}
	return inc, cover
}

// labelRate labels a read or delivery collapse on its first observable
// period p; prev are the sending periods before it, newest first.
func labelRate(inc *Incident, spec *sim.Spec, p *metrics.Period, prev []*metrics.Period, set *rules.Set) {
	in := spec.Incident
	metric, p0, factor := metrics.ReadRate, spec.ReadRate, readCollapse
	if in.Kind == sim.DeliveryCollapse {
		metric, p0, factor = metrics.DeliveryRate, spec.DeliveryRate, deliveryFactor
	}
	_, n1, _ := p.Denominator(metric, "")
	var n0 int64
	for _, q := range prev[:min(len(prev), LabelBaselineDays)] {
		_, d, _ := q.Denominator(metric, "")
		n0 += d
	}
	z := expectedZ(p0, p0*factor, n1, n0)
	inc.Detectable = z >= LabelZ
	inc.Why = fmt.Sprintf("expected z %.2f (%s %.1f%% → %.1f%% on %d)", z, metric, 100*p0, 100*p0*factor, n1)
	inc.Metric = metric
	inc.Value, _ = p.Value(metric, "")
	inc.Baseline = medianOf(prev, metric, "", ruleBaseline(set, RuleFor[in.Kind]))
	inc.VolumeOn = n1
}

// labelClicks labels a click death or dead URL button on period p.
func labelClicks(inc *Incident, spec *sim.Spec, p *metrics.Period, prev []*metrics.Period, set *rules.Set) {
	in := spec.Incident
	rate, button := 0.0, ""
	for i, b := range spec.Buttons {
		if in.Kind == sim.ClickDeath || i == 0 {
			rate += b.Rate
		}
	}
	if in.Kind == sim.DeadURLButton {
		button = "type:" + metrics.URLButton
	}
	exp := float64(p.Read) * rate
	inc.Detectable = exp >= LabelMinClicks
	inc.Why = fmt.Sprintf("expected %.1f clicks on %d read", exp, p.Read)
	inc.Metric = metrics.Clicks
	inc.Value, _ = p.Value(metrics.Clicks, button)
	// the rule's prediction: the baseline's pooled click rate × delivered
	var c, del int64
	for _, q := range prev[:min(len(prev), ruleBaseline(set, RuleFor[in.Kind]))] {
		v, _ := q.Value(metrics.Clicks, button)
		c += int64(v)
		del += q.Delivered
	}
	if del > 0 {
		inc.Baseline = float64(c) / float64(del) * float64(p.Delivered)
	}
	inc.VolumeOn = p.Delivered
}

// labelStopped labels stopped sends: detectable for a regular sender.
func labelStopped(inc *Incident, ds *sim.Dataset, spec *sim.Spec, prev []*metrics.Period) {
	f := inc.First
	var sum float64
	var n int
	for _, q := range prev {
		if dayOf(ds.Start, q.Start) < f-LabelSentDays {
			break
		}
		sum += float64(q.Sent)
		n++
	}
	mean := 0.0
	if n > 0 {
		mean = sum / float64(n)
	}
	regular := spec.Pattern == sim.Daily || spec.Pattern == sim.Weekdays
	inc.Detectable = regular && mean >= LabelMinSent
	inc.Why = fmt.Sprintf("%s sender, %.0f sent per sending day", spec.Pattern, mean)
	inc.Metric = metrics.Sent
	inc.Baseline = mean
	inc.VolumeOn = int64(mean + 0.5)
}

func ruleBaseline(set *rules.Set, name string) int {
	if r := findRule(set, name); r != nil && r.Baseline > 0 {
		return r.Baseline
	}
	return LabelBaselineDays
}

// expectedZ is the pooled one-sided two-proportion z statistic for rates p0
// (baseline, n0) and p1 (day, n1) at their expected counts.
func expectedZ(p0, p1 float64, n1, n0 int64) float64 {
	if n1 <= 0 || n0 <= 0 {
		return 0
	}
	a, b := float64(n1), float64(n0)
	pp := (p1*a + p0*b) / (a + b)
	se := math.Sqrt(pp * (1 - pp) * (1/a + 1/b))
	if se == 0 {
		return 0
	}
	return (p0 - p1) / se
}

func medianOf(prev []*metrics.Period, metric, button string, n int) float64 {
	var v []float64
	for _, q := range prev {
		if len(v) == n {
			break
		}
		if x, ok := q.Value(metric, button); ok {
			v = append(v, x)
		}
	}
	if len(v) == 0 {
		return 0
	}
	sort.Float64s(v)
	if len(v)%2 == 1 {
		return v[len(v)/2]
	}
	return (v[len(v)/2-1] + v[len(v)/2]) / 2
}
