package rules

import (
	"time"

	"github.com/cams-alert/cams-alert/function/metrics"
)

// history is how many sending periods before the evaluated one a rule needs
// before it can judge a series: half its baseline for rules that compare
// with one, the pattern's minimum for absent, none for thresholds.
func (r *Rule) history() int {
	switch {
	case r.Condition == Absent:
		return minAbsentSends
	case r.needsBaseline():
		return minBaseline(r.Baseline)
	}
	return 0
}

// Learning reports whether some rule that applies to series cannot judge it
// at w yet for lack of history, and from when every such rule can: the
// start of the first period it can judge, if the template sends every
// period from now on (an estimate; a template that sends less often takes
// longer). Until then nothing can fire for the series, and messages say so.
func (s *Set) Learning(series *metrics.Series, w metrics.Window) (learning bool, from time.Time) {
	if series == nil {
		return false, time.Time{}
	}
	g := series.Granularity
	if g == "" {
		g = metrics.Daily
	}
	have := 0
	for i := range series.Periods {
		p := &series.Periods[i]
		if p.Start.Before(w.Start) && p.Sent > 0 {
			have++
		}
	}
	for _, r := range s.Rules {
		if r.Granularity != g || !r.matches(series.Key) {
			continue
		}
		if need := r.history(); have < need {
			learning = true
			if at := w.Start.Add(time.Duration(need-have) * g.Step()); at.After(from) {
				from = at
			}
		}
	}
	return learning, from
}
