package rules

import (
	"errors"
	"math"
	"path"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/cams-alert/cams-alert/function/alert"
	"github.com/cams-alert/cams-alert/function/metrics"
	"github.com/expr-lang/expr/vm"
)

// Result is the judgement of one rule on one series for one evaluated period.
type Result struct {
	Rule *Rule
	Key  metrics.Key
	// Button is the rule's button selector ("" for rules without one).
	Button string
	// State is alert.Firing or alert.Resolved (Evaluate returns no others).
	State string
	// Value is the metric in the evaluated period (0 for absent).
	Value float64
	// Baseline is the baseline statistic (absent: the mean sent of the
	// sending periods the pattern was learned from).
	Baseline    float64
	HasBaseline bool
	// Volume is the evaluated period's delivered count (sent for
	// delivery_rate and sent rules; absent: the usual sent count).
	Volume int64
	// Trend is a sparkline of the metric over the last sending periods up to
	// the evaluated one, oldest first; Recent holds its numbers.
	Trend  string
	Recent []float64
	// ButtonText is the text of the rule's button as the API reports it.
	ButtonText string
	Summary    string
	// Since is the start of the period in which the current firing run began
	// to fire; Duration (resolved only) is how long it fired.
	Since    time.Time
	Duration time.Duration
	// Detail explains absent and zero alerts ("sends every weekday; none
	// since Tue 24 Nov").
	Detail string
	// Period is the evaluated period.
	Period metrics.Window
	// Stats (drop and rise) is what the series' history expected of the
	// period and how far it may move: why a drop did or did not fire.
	// Its String is the explanation rule tests and backtest show.
	Stats *Stats
}

// Item converts the result to the alert line notifiers render.
func (r *Result) Item() alert.Item {
	return alert.Item{
		Rule:        r.Rule.Name,
		Template:    r.Key.Template,
		Language:    r.Key.Language,
		Button:      r.Button,
		ButtonText:  r.ButtonText,
		Condition:   r.Rule.Condition,
		Threshold:   r.Rule.Threshold,
		Severity:    r.Rule.Severity,
		State:       r.State,
		Metric:      r.Rule.Metric,
		IsRate:      metrics.IsRate(r.Rule.Metric),
		Value:       r.Value,
		Baseline:    r.Baseline,
		HasBaseline: r.HasBaseline,
		Volume:      r.Volume,
		Trend:       r.Trend,
		Recent:      r.Recent,
		Summary:     r.Summary,
		// a rule without its own summary has the condition's default
		CustomSummary: r.Rule.Summary != nil && r.Rule.Summary != defaultSummary(r.Rule.Condition),
		Since:         r.Since,
		Duration:      r.Duration,
	}
}

// matches reports whether the rule applies to the series key.
func (r *Rule) matches(k metrics.Key) bool {
	return (r.allTpl || anyGlob(r.Match.Templates, k.Template)) &&
		(r.allLang || anyGlob(r.Match.Languages, k.Language))
}

func anyGlob(globs []string, s string) bool {
	for _, g := range globs {
		if g == s {
			return true
		}
		if ok, _ := path.Match(g, s); ok {
			return true
		}
	}
	return false
}

// Evaluate judges every rule whose granularity and match fit the series for
// the evaluated period w (the period starting at w.Start; the series may
// have no period there). Periods after w are ignored. It returns only the
// alerts that are firing in w or resolved in w. Safe for concurrent use.
// A rule whose expression fails at run time is left out: EvaluateAll says so.
func (s *Set) Evaluate(series *metrics.Series, w metrics.Window) []Result {
	out, _ := s.EvaluateAll(series, w)
	return out
}

// EvaluateAll is Evaluate, and the rules that could not be evaluated on the
// series (at most one error per rule).
func (s *Set) EvaluateAll(series *metrics.Series, w metrics.Window) ([]Result, []*EvalError) {
	if series == nil {
		return nil, nil
	}
	g := series.Granularity
	if g == "" {
		g = metrics.Daily
	}
	ps := series.Periods
	// i: first period starting at or after w.Start.
	lo, hi := 0, len(ps)
	for lo < hi {
		m := int(uint(lo+hi) >> 1)
		if ps[m].Start.Before(w.Start) {
			lo = m + 1
		} else {
			hi = m
		}
	}
	cur := -1
	if lo < len(ps) && ps[lo].Start.Equal(w.Start) {
		cur = lo
	}
	var out []Result
	var errs []*EvalError
	var ev evaluator
	defer ev.release()
	for _, r := range s.Rules {
		if r.Granularity != g || !r.matches(series.Key) {
			continue
		}
		ev.r, ev.ps = r, ps
		var res Result
		var ok bool
		if r.Condition == Absent {
			ok = ev.absent(s, series, g, w, lo, cur, &res)
		} else {
			ok = ev.rule(cur, &res)
		}
		if ev.err != nil {
			errs = append(errs, &EvalError{Rule: r, Key: series.Key.String(), Err: ev.err})
			ev.err = nil
		}
		if !ok {
			continue
		}
		res.Rule, res.Key, res.Button, res.Period = r, series.Key, r.Button, w
		res.ButtonText = buttonText(ps, max(cur, lo-1), r.Button)
		res.Summary = render(r, &SummaryData{
			Rule: r.Name, Condition: r.Condition, Severity: r.Severity, State: res.State,
			Template: series.Template, TemplateName: series.TemplateName, Language: series.Language,
			Button: r.Button, ButtonText: res.ButtonText,
			Metric: r.Metric, MetricName: metrics.Label(r.Metric), IsRate: metrics.IsRate(r.Metric), Value: res.Value,
			Baseline: res.Baseline, HasBaseline: res.HasBaseline, Threshold: r.Threshold,
			Volume: res.Volume, VolumeOf: volumeOf(r), Trend: res.Trend, Detail: res.Detail,
			Expr: r.ExprSource,
		})
		out = append(out, res)
	}
	return out, errs
}

func volumeOf(r *Rule) string {
	if r.Metric == metrics.Sent || r.Metric == metrics.DeliveryRate || r.Condition == Absent {
		return "sent"
	}
	return "delivered"
}

// evaluator holds per-call scratch state.
type evaluator struct {
	r   *Rule
	ps  []metrics.Period
	vm  *vm.VM
	env exprEnv
	err error      // the first run-time failure of the rule's expression
	hs  *histories // drop and rise: recent histories (pooled)
	h   *history   // the latest expect call's, for spread
}

var vmPool = sync.Pool{New: func() any { return new(vm.VM) }}

func (ev *evaluator) release() {
	if ev.vm != nil {
		vmPool.Put(ev.vm)
		ev.vm = nil
	}
	if ev.hs != nil {
		historyPool.Put(ev.hs)
		ev.hs, ev.h = nil, nil
	}
}

// judgement is the rule's verdict on one period.
type judgement struct {
	evaluated bool
	holds     bool
	value     float64
	base      baseStats
	expected  float64     // zero: the count the baseline rate predicts
	exp       expectation // drop, rise: what the series' history predicts
}

// baseStats summarises the baseline periods of one metric.
type baseStats struct {
	n             int     // periods found
	stat          float64 // mean or median of the metric
	num, den      int64   // pooled counts (rates: numerator, denominator)
	meanSent      float64
	meanDelivered float64
}

// sending reports whether a period carries any traffic.
func sending(p *metrics.Period) bool { return p.Sent > 0 || p.Delivered > 0 }

const medianBuf = 64

// baseline computes the statistic of metric over the (up to) n sending
// periods before index j that have the metric defined.
func baseline(ps []metrics.Period, j int, metric, button string, n int, stat string) baseStats {
	var b baseStats
	var buf [medianBuf]float64
	var vals []float64
	if stat == "median" {
		vals = buf[:0]
		if n > medianBuf {
			vals = make([]float64, 0, n)
		}
	}
	var sum, sumSent, sumDel float64
	for k := j - 1; k >= 0 && b.n < n; k-- {
		p := &ps[k]
		if !sending(p) {
			continue
		}
		v, ok := p.Value(metric, button)
		if !ok {
			continue
		}
		b.n++
		sum += v
		sumSent += float64(p.Sent)
		sumDel += float64(p.Delivered)
		if vals != nil || stat == "median" {
			vals = append(vals, v)
		}
		num, den := countsOf(p, metric, button)
		b.num += num
		b.den += den
	}
	if b.n == 0 {
		return b
	}
	fn := float64(b.n)
	b.meanSent, b.meanDelivered = sumSent/fn, sumDel/fn
	if stat == "median" {
		b.stat = median(vals)
	} else {
		b.stat = sum / fn
	}
	return b
}

// countsOf returns the numerator and denominator behind a metric: a rate's
// counts, or for a count metric the count and the denominator it is usually
// taken over (clicks, read: delivered; delivered: sent; sent: 1 period).
func countsOf(p *metrics.Period, metric, button string) (num, den int64) {
	switch metric {
	case metrics.DeliveryRate, metrics.ReadRate, metrics.ClickRate:
		num, den, _ = p.Denominator(metric, button)
		return num, den
	case metrics.Clicks:
		c := p.Clicks
		if button != "" {
			c, _ = p.ButtonClicks(button)
		}
		return c, p.Delivered
	case metrics.Read:
		return p.Read, p.Delivered
	case metrics.Delivered:
		return p.Delivered, p.Sent
	case metrics.Sent:
		return p.Sent, 1
	}
	return 0, 0
}

func median(v []float64) float64 {
	// insertion sort: baselines are short.
	for i := 1; i < len(v); i++ {
		for k := i; k > 0 && v[k] < v[k-1]; k-- {
			v[k], v[k-1] = v[k-1], v[k]
		}
	}
	n := len(v)
	if n%2 == 1 {
		return v[n/2]
	}
	return (v[n/2-1] + v[n/2]) / 2
}

// minBaseline is how many baseline periods a rule needs: half the asked
// number, rounded up.
func minBaseline(n int) int { return (n + 1) / 2 }

// needsBaseline reports whether the rule's decision uses a baseline.
func (r *Rule) needsBaseline() bool {
	switch r.Condition {
	case Drop, Rise:
		return true
	case Zero:
		return r.MinExpected > 0
	case Expr:
		return r.exprVars&varBaselineAny != 0
	}
	return false
}

func tol(x float64) float64 { return 1e-9 * math.Max(1, math.Abs(x)) }

// judge evaluates a non-absent rule on period j.
func (ev *evaluator) judge(j int) (jd judgement) {
	r := ev.r
	p := &ev.ps[j]
	if !sending(p) {
		return jd
	}
	v, ok := p.Value(r.Metric, r.Button)
	if !ok && r.Condition != Expr {
		return jd
	}
	if p.Delivered < r.MinDelivered || p.Sent < r.MinSent {
		return jd
	}
	jd.value = v
	if r.needsBaseline() && r.Condition != Expr {
		if r.Condition == Drop || r.Condition == Rise {
			jd.base, jd.exp = ev.expect(j)
		} else {
			jd.base = baseline(ev.ps, j, r.Metric, r.Button, r.Baseline, r.BaselineStat)
		}
		if jd.base.n < minBaseline(r.Baseline) ||
			jd.base.meanDelivered < float64(r.MinDelivered) || jd.base.meanSent < float64(r.MinSent) {
			return jd
		}
	}
	switch r.Condition {
	case Above:
		jd.evaluated, jd.holds = true, v > r.Threshold+tol(r.Threshold)
	case Below:
		jd.evaluated, jd.holds = true, v < r.Threshold-tol(r.Threshold)
	case Zero:
		num, den := countsOf(p, r.Metric, r.Button)
		if den <= 0 {
			return jd
		}
		if r.MinExpected > 0 {
			if jd.base.den <= 0 {
				return jd
			}
			rate := float64(jd.base.num) / float64(jd.base.den)
			if r.Metric == metrics.Sent {
				rate = jd.base.stat
			}
			jd.expected = rate * float64(den)
			if jd.expected < r.MinExpected {
				return jd
			}
		}
		jd.evaluated, jd.holds = true, num == 0
	case Drop, Rise:
		ev.change(p, v, &jd)
	case Expr:
		jd.evaluated, jd.holds = ev.runExpr(j)
	}
	return jd
}

// change decides a drop or rise on period p with value v: its size against
// the expectation, and with a confidence its significance (stats.go).
func (ev *evaluator) change(p *metrics.Period, v float64, jd *judgement) {
	r := ev.r
	if jd.exp.ok {
		jd.base.stat = jd.exp.value // the history's expectation for this period
	}
	b := jd.base.stat
	if r.ByRelative && b <= 0 {
		return // no relative change from nothing
	}
	jd.evaluated = true
	var size bool
	switch {
	case r.Condition == Drop && r.ByRelative:
		lim := b * (1 - r.By)
		size = v <= lim+tol(lim)
	case r.Condition == Drop:
		size = b-v >= r.By-tol(r.By)
	case r.ByRelative:
		lim := b * (1 + r.By)
		size = v >= lim-tol(lim)
	default:
		size = v-b >= r.By-tol(r.By)
	}
	if size && r.Confidence > 0 {
		num, den, ok := p.Denominator(r.Metric, r.Button)
		if !ok || jd.base.den <= 0 {
			*jd = judgement{}
			return
		}
		ev.spread(&jd.exp, den)
		pv := testP(num, den, jd.base.num, jd.base.den, b, jd.exp.sd, r.Condition == Drop)
		size = pv < 1-r.Confidence
	}
	jd.holds = size
}

// runExpr evaluates an expr rule on period j; evaluated is false when a
// variable it reads is undefined.
func (ev *evaluator) runExpr(j int) (evaluated, holds bool) {
	r := ev.r
	p := &ev.ps[j]
	vars := r.exprVars
	e := &ev.env
	*e = exprEnv{
		Sent: int(p.Sent), Delivered: int(p.Delivered), Read: int(p.Read), Clicks: int(p.Clicks),
	}
	if vars&varDeliveryRate != 0 {
		if p.Sent <= 0 {
			return false, false
		}
		e.DeliveryRate = float64(p.Delivered) / float64(p.Sent)
	}
	if vars&(varReadRate|varClickRate) != 0 {
		if p.Delivered <= 0 {
			return false, false
		}
		e.ReadRate = float64(p.Read) / float64(p.Delivered)
		e.ClickRate = float64(p.Clicks) / float64(p.Delivered)
	}
	if vars&varButtonClicks != 0 {
		v, ok := p.Value(metrics.Clicks, r.Button)
		if !ok {
			return false, false
		}
		e.ButtonClicks = int(v)
	}
	if vars&varBaselineAny != 0 {
		for _, m := range []struct {
			bit    uint32
			metric string
			dst    *float64
		}{
			{varBaselineSent, metrics.Sent, &e.BaselineSent},
			{varBaselineDelivered, metrics.Delivered, &e.BaselineDelivered},
			{varBaselineRead, metrics.Read, &e.BaselineRead},
			{varBaselineClicks, metrics.Clicks, &e.BaselineClicks},
			{varBaselineDeliveryRate, metrics.DeliveryRate, &e.BaselineDeliveryRate},
			{varBaselineReadRate, metrics.ReadRate, &e.BaselineReadRate},
			{varBaselineClickRate, metrics.ClickRate, &e.BaselineClickRate},
			{varBaselineButtonClicks, metrics.Clicks, &e.BaselineButtonClicks},
		} {
			if vars&m.bit == 0 {
				continue
			}
			button := ""
			if m.bit == varBaselineButtonClicks {
				button = r.Button
			}
			b := baseline(ev.ps, j, m.metric, button, r.Baseline, r.BaselineStat)
			// the same guards as a drop or rise: enough baseline periods, and
			// enough volume in them on average
			if b.n < minBaseline(r.Baseline) ||
				b.meanDelivered < float64(r.MinDelivered) || b.meanSent < float64(r.MinSent) {
				return false, false
			}
			*m.dst = b.stat
		}
	}
	if ev.vm == nil {
		ev.vm = vmPool.Get().(*vm.VM)
	}
	out, err := ev.vm.Run(r.Expr, e)
	if err != nil {
		if ev.err == nil && !errors.Is(err, errDivZero) && !strings.Contains(err.Error(), errDivZero.Error()) {
			ev.err = errors.New(firstLine(err.Error()))
		}
		return false, false
	}
	b, ok := out.(bool)
	return ok, b
}

// prevEvaluated returns the latest period before j the rule could judge.
func (ev *evaluator) prevEvaluated(j int) (int, judgement) {
	for k := j - 1; k >= 0; k-- {
		if jd := ev.judge(k); jd.evaluated {
			return k, jd
		}
	}
	return -1, judgement{}
}

// runStart walks back from j (a holding evaluated period) over evaluated
// periods and returns how many hold in a row, and the index of the period
// at which the run had held `for` times, i.e. when it started firing
// (-1 when the run is shorter than for).
func (ev *evaluator) runStart(j int) (run, firedAt int) {
	var idx []int // only for long runs; most runs end quickly
	var small [16]int
	idx = small[:0]
	for k := j; k >= 0; k-- {
		if k != j {
			jd := ev.judge(k)
			if !jd.evaluated {
				continue
			}
			if !jd.holds {
				break
			}
		}
		idx = append(idx, k)
	}
	run = len(idx)
	if run < ev.r.For {
		return run, -1
	}
	// idx is newest first; the run's For-th period is at len-For.
	return run, idx[run-ev.r.For]
}

// rule decides a non-absent rule at the evaluated period cur.
func (ev *evaluator) rule(cur int, res *Result) bool {
	if cur < 0 {
		return false // no data: not evaluated, the state carries over
	}
	r := ev.r
	if r.Button != "" && !ev.hasButton(cur) {
		return false // the template has no such button: nothing to judge
	}
	jd := ev.judge(cur)
	if !jd.evaluated {
		return false
	}
	if jd.holds {
		_, at := ev.runStart(cur)
		if at < 0 {
			return false
		}
		res.State = alert.Firing
		res.Since = ev.ps[at].Start
	} else {
		k, pj := ev.prevEvaluated(cur)
		if k < 0 || !pj.holds {
			return false
		}
		_, at := ev.runStart(k)
		if at < 0 {
			return false
		}
		res.State = alert.Resolved
		res.Since = ev.ps[at].Start
		res.Duration = ev.ps[cur].Start.Sub(res.Since)
	}
	p := &ev.ps[cur]
	res.Value = jd.value
	b := jd.base
	if b.n == 0 && r.Baseline > 0 {
		b = baseline(ev.ps, cur, r.Metric, r.Button, r.Baseline, r.BaselineStat)
		if b.n < minBaseline(r.Baseline) {
			b.n = 0
		}
	}
	if b.n > 0 {
		res.Baseline, res.HasBaseline = b.stat, true
	}
	if r.Metric == metrics.Sent || r.Metric == metrics.DeliveryRate {
		res.Volume = p.Sent
	} else {
		res.Volume = p.Delivered
	}
	if r.Condition == Zero && jd.expected > 0 {
		res.Detail = "the baseline predicts " + num(math.Round(jd.expected*10)/10) + " " + r.Metric
	}
	if r.Condition == Drop || r.Condition == Rise {
		res.Stats = ev.stats(cur, &jd)
	}
	res.Recent = ev.trend(cur)
	res.Trend = sparkline(res.Recent)
	return true
}

// buttonText is the text of the buttons sel selects, as the latest period
// before end that has them reports it: a type selector ("type:url_button")
// becomes the text people see. Several matching buttons join with " / ".
func buttonText(ps []metrics.Period, end int, sel string) string {
	typ, isType := metrics.ButtonType(sel)
	if !isType {
		return sel
	}
	for k := min(end, len(ps)-1); k >= 0; k-- {
		var texts []string
		for _, b := range ps[k].Buttons {
			if b.Type == typ && b.Text != "" && !slices.Contains(texts, b.Text) {
				texts = append(texts, b.Text)
			}
		}
		if len(texts) > 0 {
			return strings.Join(texts, " / ")
		}
	}
	return ""
}

// trend returns the metric over the last trendLen sending periods up to j.
func (ev *evaluator) trend(j int) []float64 {
	var buf [trendLen]float64
	n := 0
	for k := j; k >= 0 && n < trendLen; k-- {
		p := &ev.ps[k]
		if !sending(p) {
			continue
		}
		if v, ok := p.Value(ev.r.Metric, ev.r.Button); ok {
			buf[trendLen-1-n] = v
			n++
		}
	}
	return append([]float64(nil), buf[trendLen-n:]...)
}

// hasButton reports whether the rule's button appears in any period up to j.
func (ev *evaluator) hasButton(j int) bool {
	for k := j; k >= 0; k-- {
		if _, ok := ev.ps[k].ButtonClicks(ev.r.Button); ok {
			return true
		}
	}
	return false
}
