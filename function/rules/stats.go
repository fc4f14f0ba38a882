package rules

import (
	"fmt"
	"math"
	"strings"
	"sync"
	"time"

	"github.com/cams-alert/cams-alert/function/metrics"
)

// The statistics behind drop and rise (docs/rules.md, "How drop and rise
// decide"). Real campaign rates are not binomial: each send reaches another
// audience segment, so a template's read rate moves by 10–15% from one
// sending day to the next, and weekends read differently from weekdays. A
// test that only knows sampling noise calls that ordinary movement
// significant at volume, and a baseline that ignores the weekday calls every
// quiet Saturday a drop. So each series is compared with what its own recent
// history predicts for the evaluated period:
//
//   - the history is the series' sending periods of the last 28 days (DAILY)
//     or 7 days (HALF_HOUR), and at least the baseline's periods;
//   - the periods are grouped by their place in the cycle: the weekday for
//     DAILY, the half hour of the day for HALF_HOUR (counted back from the
//     evaluated period, so no time zone is needed);
//   - seasonal (seasonality: auto) when the groups differ by more than their
//     own noise (a one-way analysis of variance: F > 1) and the evaluated
//     period's group has at least two periods. The groups' differences are
//     believed in proportion w = max(0, 1 − 1/F): each group gets a factor
//     f = 1 + w·(its mean / the history's mean − 1), the baseline statistic
//     runs over the values divided by their factors, and the expected value
//     is that statistic times the evaluated group's factor;
//   - the day-to-day variation is the residual variance of the history around
//     its (seasonal or flat) means, MS; for a rate, the part of it beyond
//     sampling noise is τ² = max(0, MS − p(1−p)·mean(1/n)), and the ratio
//     MS / (p(1−p)·mean(1/n)) is the dispersion shown to users (1: binomial);
//   - the evaluated period's rate is expected within e ± z·σ, where
//     σ² = e(1−e)/n + f²·τ² + var(e), var(e) = f²·MS·(c/k + w²/m): the
//     sampling noise of today's n, the series' own variation, and the
//     uncertainty of the expectation (k baseline periods, c = 1 for the mean
//     and π/2 for the median; m periods in the evaluated group). The test
//     uses the larger of σ and the pooled two-proportion standard error;
//   - one collapsed day in the history must not hide the next: residuals
//     beyond trimK robust standard deviations are left out of MS.

const (
	// minResidualDF is the least number of degrees of freedom the residual
	// variance needs before it is trusted.
	minResidualDF = 3
	// trimK: residuals beyond this many robust standard deviations are
	// left out of the observed variation (a normal day is beyond 3.5 once
	// in 2,000).
	trimK = 3.5
	// seasonBuf is the history a pooled scratch buffer holds without
	// growing: 28 days of DAILY periods plus a long baseline. A HALF_HOUR
	// history (7 × 48) grows it once.
	seasonBuf = 64
)

// Seasonality settings of a rule.
const (
	SeasonAuto = "auto"
	SeasonOff  = "off"
)

// seasonSpec is the cycle a granularity repeats over.
type seasonSpec struct {
	window  time.Duration // history the groups are learned from
	groups  int           // places in the cycle
	step    time.Duration // length of one place
	nameFor string        // what a group is called in details
}

func seasonOf(g metrics.Granularity) seasonSpec {
	if g == metrics.HalfHour {
		return seasonSpec{window: 7 * 24 * time.Hour, groups: 48, step: 30 * time.Minute, nameFor: "half hour of the day"}
	}
	return seasonSpec{window: 28 * 24 * time.Hour, groups: 7, step: 24 * time.Hour, nameFor: "weekday"}
}

// seasonPeriods is how many periods of g the history window spans.
func seasonPeriods(g metrics.Granularity) int {
	return int(seasonOf(g).window / g.Step())
}

// histPoint is one sending period of the history.
type histPoint struct {
	y     float64 // the metric
	den   float64 // its denominator (rates), 0 otherwise
	group int32   // place in the cycle; 0 is the evaluated period's
	inWin bool    // within the history window (else only in the baseline)
}

// history is the scratch state of an expect call, for spread, and its
// result: rules that watch the same metric share it within one Evaluate.
type history struct {
	key   histKey
	valid bool
	b     baseStats
	e     expectation
	buf   [seasonBuf]histPoint
	pts   []histPoint
	cy    cycle
	vals  [seasonBuf]float64
	vStat float64 // variance factor of the baseline statistic (c/k)
}

// expectation is what the series' history predicts for the evaluated period.
type expectation struct {
	ok       bool
	value    float64 // expected value of the metric
	seasonal bool
	factor   float64 // the evaluated group's factor (1 when not seasonal)
	// sd is the standard deviation of the period's value around value
	// (rates only; 0 when the history is too short to measure it), and
	// dispersion the history's variance over its sampling variance.
	sd, dispersion float64
	groupName      string
	spread         bool // spread has run
}

// cycle is what the history shows of the series' cycle (weekdays or half
// hours of the day).
type cycle struct {
	cnt    [48]int
	sum    [48]float64
	sq     [48]float64
	n      int     // periods in the window
	mean   float64 // their mean
	groups int     // non-empty groups
	// weight is how much of the groups' differences is believed:
	// max(0, 1 − 1/F) for the groups' F statistic, 0 when not seasonal.
	weight float64
}

// learn groups the history window's values by their place in the cycle
// and weighs the groups' differences against their noise (one pass: sums
// and sums of squares per group).
func (c *cycle) learn(pts []histPoint, groups int, on bool) {
	clear(c.cnt[:groups])
	clear(c.sum[:groups])
	clear(c.sq[:groups])
	c.n, c.groups, c.weight, c.mean = 0, 0, 0, 0
	var tot, sq float64
	for i := range pts {
		p := &pts[i]
		if p.inWin {
			c.cnt[p.group]++
			c.sum[p.group] += p.y
			c.sq[p.group] += p.y * p.y
			tot += p.y
			sq += p.y * p.y
			c.n++
		}
	}
	if c.n == 0 {
		return
	}
	c.mean = tot / float64(c.n)
	ssRaw, ssIn := max(0, sq-tot*c.mean), 0.0
	for g := range groups {
		if n := c.cnt[g]; n > 0 {
			c.groups++
			ssIn += max(0, c.sq[g]-c.sum[g]*c.sum[g]/float64(n))
		}
	}
	dfIn := c.n - c.groups
	if !on || c.cnt[0] < 2 || c.groups < 2 || dfIn < minResidualDF || c.mean <= 0 || ssRaw <= ssIn*(1+1e-9) {
		return
	}
	if ssIn <= 1e-12*ssRaw {
		c.weight = 1
		return
	}
	f := (ssRaw - ssIn) / float64(c.groups-1) / (ssIn / float64(dfIn))
	c.weight = max(0, 1-1/f)
}

// factor is group g's expected value over the history's mean.
func (c *cycle) factor(g int) float64 {
	if c.weight == 0 || c.cnt[g] < 2 {
		return 1
	}
	if c.sum[g] == 0 {
		// always 0 there (no clicks on Saturdays): it expects 0, and
		// says nothing of the level
		return 0
	}
	return min(10, max(0.05, 1+c.weight*(c.sum[g]/float64(c.cnt[g])/c.mean-1)))
}

// histKey is what an expectation depends on besides the series.
type histKey struct {
	j                        int
	metric, button, stat, ss string
	baseline                 int
}

// histories are two: a rule judges the evaluated period and then usually
// the one before it, and the next rule on the same metric asks for both
// again.
type histories [2]history

// historyPool keeps the scratch histories: an evaluator lives for one
// series, and a 4 KB buffer per series would cost more than the statistics.
var historyPool = sync.Pool{New: func() any { return new(histories) }}

// expect computes, in one pass over the sending periods before j, the
// baseline statistics of the rule (as baseline does) and the expectation
// for period j. It keeps the history in ev.h for spread.
func (ev *evaluator) expect(j int) (baseStats, expectation) {
	r := ev.r
	spec := seasonOf(r.Granularity)
	if ev.hs == nil {
		ev.hs = historyPool.Get().(*histories)
		ev.hs[0].valid, ev.hs[1].valid = false, false
	}
	h := &ev.hs[j&1]
	ev.h = h
	key := histKey{j: j, metric: r.Metric, button: r.Button, stat: r.BaselineStat, ss: r.Seasonality, baseline: r.Baseline}
	if h.valid && h.key == key {
		return h.b, h.e
	}
	h.key, h.valid = key, false
	var b baseStats
	if cap(h.pts) < seasonBuf {
		h.pts = h.buf[:0]
	}
	// reuses a longer buffer a HALF_HOUR history grew in an earlier call
	h.pts = ev.history(j, spec, h.pts[:0], &b)
	var e expectation
	if len(h.pts) == 0 {
		return b, e
	}
	cy := &h.cy
	cy.learn(h.pts, spec.groups, r.Seasonality != SeasonOff)
	e.factor, e.seasonal = cy.factor(0), cy.weight > 0
	if e.seasonal {
		e.groupName = spec.nameFor
	}
	// the baseline statistic over the newest periods, deseasonalised
	k := min(r.Baseline, len(h.pts))
	v := h.vals[:0]
	if k > seasonBuf {
		v = make([]float64, 0, k)
	}
	var plain float64
	for _, p := range h.pts[:k] {
		plain += p.y
		if !e.seasonal {
			v = append(v, p.y)
		} else if f := cy.factor(int(p.group)); f > 0 {
			v = append(v, p.y/f)
		}
	}
	fk := float64(k)
	b.n, b.meanSent, b.meanDelivered, b.stat = k, b.meanSent/fk, b.meanDelivered/fk, plain/fk
	level, c := 0.0, 1.0
	switch {
	case len(v) == 0:
	case r.BaselineStat == "median":
		level, c = median(v), math.Pi/2
		b.stat = level // equal to the plain median unless seasonal
	default:
		for _, x := range v {
			level += x
		}
		level /= float64(len(v))
	}
	h.vStat = c / float64(max(1, len(v)))
	e.ok, e.value = true, level*e.factor
	h.b, h.e, h.valid = b, e, true
	return b, e
}

// spread measures the variation of the history of the latest expect call
// around its expectation e and sets e.sd and e.dispersion for a period with
// denominator den. Only rates have them.
func (ev *evaluator) spread(e *expectation, den int64) {
	pts, cy := ev.h.pts, &ev.h.cy
	if !e.ok || !metrics.IsRate(ev.r.Metric) || den <= 0 || cy.n == 0 || e.spread {
		return
	}
	e.spread = true
	var res [seasonBuf]float64
	rs := res[:0]
	if len(pts) > seasonBuf {
		rs = make([]float64, 0, len(pts))
	}
	var invSum float64
	for _, p := range pts {
		if p.inWin {
			rs = append(rs, p.y-cy.mean*cy.factor(int(p.group)))
			if p.den > 0 {
				invSum += 1 / p.den
			}
		}
	}
	ss, kept := trimmedSS(rs)
	// the groups' means use up degrees of freedom, as far as they are believed
	df := float64(kept-1) - cy.weight*float64(cy.groups-1)
	if df < minResidualDF {
		return
	}
	ms := ss / df
	samp := cy.mean * (1 - cy.mean) * invSum / float64(cy.n)
	if samp > 0 {
		e.dispersion = ms / samp
	}
	between := max(0, ms-samp)
	f2 := e.factor * e.factor
	vExp := f2 * ms * ev.h.vStat
	if e.seasonal {
		vExp += f2 * ms * cy.weight * cy.weight / float64(cy.cnt[0])
	}
	p := min(1, max(0, e.value))
	e.sd = math.Sqrt(p*(1-p)/float64(den) + f2*between + vExp)
}

// trimmedSS is the sum of squares of the residuals rs and how many it kept,
// leaving out those beyond trimK robust standard deviations (1.4826 × the
// median absolute residual): one collapsed day in the history must not
// widen the expected range of the days after it.
func trimmedSS(rs []float64) (ss float64, kept int) {
	abs := make([]float64, 0, seasonBuf)
	for _, x := range rs {
		abs = append(abs, math.Abs(x))
	}
	lim := trimK * 1.4826 * median(abs)
	for _, x := range rs {
		if lim == 0 || math.Abs(x) <= lim {
			ss += x * x
			kept++
		}
	}
	return ss, kept
}

// history collects the sending periods before j that have the metric: all of
// those in the history window, and at least the rule's baseline, newest
// first. It sums the baseline's counts into b (meanSent and meanDelivered
// are sums; expect divides them).
func (ev *evaluator) history(j int, spec seasonSpec, pts []histPoint, b *baseStats) []histPoint {
	r := ev.r
	t := ev.ps[j].Start.Unix()
	win := int64(spec.window / time.Second)
	// places by multiplication: two integer divisions a period cost more
	// than the rest of the loop
	perStep, groups := 1/spec.step.Seconds(), float64(spec.groups)
	rate := metrics.IsRate(r.Metric)
	// the two common rates straight from their counts: countsOf and Value
	// would switch on the metric's name for every period
	read, deliv := r.Metric == metrics.ReadRate, r.Metric == metrics.DeliveryRate
	for k := j - 1; k >= 0; k-- {
		p := &ev.ps[k]
		back := t - p.Start.Unix()
		inWin := back <= win
		if !inWin && len(pts) >= r.Baseline {
			break
		}
		if !sending(p) {
			continue
		}
		hp := histPoint{inWin: inWin}
		var num, den int64
		switch {
		case read:
			num, den = p.Read, p.Delivered
		case deliv:
			num, den = p.Delivered, p.Sent
		default:
			num, den = countsOf(p, r.Metric, r.Button)
		}
		if read || deliv {
			if den <= 0 {
				continue
			}
			hp.y = float64(num) / float64(den)
		} else {
			y, ok := p.Value(r.Metric, r.Button)
			if !ok {
				continue
			}
			hp.y = y
		}
		// round to the nearest place: DST days are 23 or 25 hours long
		steps := math.Floor(float64(back)*perStep + 0.5)
		hp.group = int32(steps - groups*math.Floor(steps/groups))
		if rate {
			hp.den = float64(den)
		}
		if len(pts) < r.Baseline {
			b.num += num
			b.den += den
			b.meanSent += float64(p.Sent)
			b.meanDelivered += float64(p.Delivered)
		}
		pts = append(pts, hp)
	}
	return pts
}

// testP is the one-sided p-value that the period's rate x1/n1 is below
// (lower) or above the expected rate e: its deviation, shrunk by Yates'
// continuity correction ½(1/n1 + 1/n0), over the larger of the pooled
// two-proportion standard error (sampling noise of both sides, with the
// baseline's pooled counts x0/n0) and sd, the series' observed variation
// (expect). With sd 0 it is the plain two-proportion z-test.
//
// The correction matters for small counts near 0 or 1: at 20 sent and a 95%
// delivery rate, 5 undelivered scores p ≈ 0.0007 without it while its exact
// binomial probability is 0.003. At volume it vanishes.
func testP(x1, n1, x0, n0 int64, e, sd float64, lower bool) float64 {
	if n1 <= 0 || n0 <= 0 {
		return 1
	}
	a, b := float64(n1), float64(n0)
	pp := float64(x1+x0) / (a + b)
	se := math.Sqrt(max(pp*(1-pp)*(1/a+1/b), sd*sd))
	if se == 0 || math.IsNaN(se) {
		return 1
	}
	dev := e - float64(x1)/a // how far the period moved in the tested direction
	if !lower {
		dev = -dev
	}
	z := (dev - 0.5*(1/a+1/b)) / se
	return 0.5 * math.Erfc(z/math.Sqrt2) // 1 − Φ(z)
}

// zFor is the one-sided normal quantile of a confidence (0.99 → 2.33).
func zFor(confidence float64) float64 {
	return math.Sqrt2 * math.Erfinv(2*confidence-1)
}

// Stats explains a drop or rise rule's judgement of one period.
type Stats struct {
	Metric string
	// Value is the period's value (HasValue false: no data, or a volume
	// guard skipped it).
	Value    float64
	HasValue bool
	// Expected is what the history predicts for the period; Seasonal names
	// the cycle it was adjusted to ("weekday", "half hour of the day"; ""
	// when the history shows none or seasonality is off) and Factor the
	// period's factor in it.
	Expected float64
	Seasonal string
	Factor   float64
	// Low and High bound the range the period may move in without being
	// significant (rates with a confidence: Expected ∓ z·σ); Limit is the
	// value beyond which the rule's size (by) holds. A drop fires below
	// both Limit and Low, a rise above both Limit and High.
	Low, High, Limit float64
	HasRange         bool
	// Dispersion is the history's day-to-day variance over its sampling
	// variance (1: binomial; 0: not measured).
	Dispersion float64
	Holds      bool
}

// String is the one-line explanation alerts and rule tests show.
func (st *Stats) String() string {
	var b strings.Builder
	b.WriteString("expected " + fmtValue(st.Metric, st.Expected))
	if st.Seasonal != "" {
		fmt.Fprintf(&b, " (%s ×%.2f)", st.Seasonal, st.Factor)
	}
	if st.HasRange {
		fmt.Fprintf(&b, ", range %s–%s", fmtValue(st.Metric, st.Low), fmtValue(st.Metric, st.High))
	}
	// the rule needs both its size and, with a confidence, its test
	dir, at := "below", st.Limit
	if st.Limit > st.Expected { // a rise
		dir = "above"
		if st.HasRange {
			at = max(at, st.High)
		}
	} else if st.HasRange {
		at = min(at, st.Low)
	}
	fmt.Fprintf(&b, ", fires %s %s", dir, fmtValue(st.Metric, at))
	if st.Dispersion >= 0.05 {
		fmt.Fprintf(&b, "; day-to-day variation %.1f× sampling noise", st.Dispersion)
	}
	return b.String()
}

// stats explains the rule's judgement jd of period j (nil: judge it; the
// result is nil when it has no baseline there).
func (ev *evaluator) stats(j int, jd *judgement) *Stats {
	r := ev.r
	if jd == nil {
		jd0 := ev.judge(j)
		jd = &jd0
	}
	b, e := ev.expect(j)
	if !e.ok || b.n < minBaseline(r.Baseline) {
		return nil
	}
	st := &Stats{Metric: r.Metric, Expected: e.value, Factor: e.factor, Holds: jd.holds}
	if e.seasonal && math.Abs(e.factor-1) >= 0.005 { // ×1.00 says nothing
		st.Seasonal = e.groupName
	}
	if v, ok := ev.ps[j].Value(r.Metric, r.Button); ok && jd.evaluated {
		st.Value, st.HasValue = v, true
	}
	switch {
	case r.ByRelative && r.Condition == Drop:
		st.Limit = e.value * (1 - r.By)
	case r.ByRelative:
		st.Limit = e.value * (1 + r.By)
	case r.Condition == Drop:
		st.Limit = e.value - r.By
	default:
		st.Limit = e.value + r.By
	}
	_, den, ok := ev.ps[j].Denominator(r.Metric, r.Button)
	if !ok || b.den <= 0 || r.Confidence == 0 {
		return st
	}
	ev.spread(&e, den)
	st.Dispersion = e.dispersion
	pp := min(1, max(0, e.value))
	sd := math.Max(e.sd, math.Sqrt(pp*(1-pp)*(1/float64(den)+1/float64(b.den))))
	z := zFor(r.Confidence)
	st.Low, st.High, st.HasRange = max(0, e.value-z*sd), min(1, e.value+z*sd), true
	return st
}

// Explain returns, for every drop and rise rule that applies to the series,
// its statistics for the period starting at w.Start: what the history
// expected, the range it allowed and whether the rule held. Rule tests and
// backtest show it to say why a drop did or did not fire.
func (s *Set) Explain(series *metrics.Series, w metrics.Window) map[string]*Stats {
	if series == nil {
		return nil
	}
	ps := series.Periods
	j := -1
	for i := range ps {
		if ps[i].Start.Equal(w.Start) {
			j = i
		}
	}
	if j < 0 {
		return nil
	}
	out := map[string]*Stats{}
	var ev evaluator
	defer ev.release()
	g := series.Granularity
	if g == "" {
		g = metrics.Daily
	}
	for _, r := range s.Rules {
		if (r.Condition != Drop && r.Condition != Rise) || r.Granularity != g || !r.matches(series.Key) {
			continue
		}
		ev.r, ev.ps = r, ps
		if st := ev.stats(j, nil); st != nil {
			out[r.Name] = st
		}
	}
	return out
}
